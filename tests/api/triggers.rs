//! Every trigger style against the simulated Lever: each firing, and not firing with its reason
//! on Events; a candidate moved back into the trigger before and after starting; *Send now*;
//! the configuration form's choices and refusals.

use serde_json::json;

use crate::both_backends;
use crate::helpers::{location, Backend, Browser, TestApp};
use crate::lever_view::{note_texts, strings};
use crate::lever_world::{
    add_configuration, add_question, connected, post, LeverAccount, TAG, TRIGGER,
};

both_backends!(
    a_prefix_configuration_fires_at_every_matching_stage_even_one_added_later,
    the_postings_tag_picks_the_question_and_without_one_nothing_fires,
    recruiters_choice_invites_only_once_a_member_picks_the_question,
    an_interview_trigger_stage_gives_the_interviewer_the_pads_link,
    moved_back_before_starting_is_invited_again_and_after_starting_is_not,
    send_now_creates_the_assessment_for_a_candidate_tagged_after_the_move,
    the_configuration_form_refuses_fields_its_trigger_does_not_read,
);

const INVITED: &str = "leverbridge: Candidate Invited";

/// A stage added to Lever's pipeline after leverbridge read the stages.
async fn add_stage(lever: &LeverAccount, text: &str) -> String {
    post(
        &lever.http,
        &lever.control("/stages"),
        json!({"text": text}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn move_to_id(lever: &LeverAccount, opportunity: &str, stage_id: &str) {
    post(
        &lever.http,
        &lever.control(&format!("/opportunities/{opportunity}/stage")),
        json!({"stageId": stage_id}),
    )
    .await;
}

async fn posting(lever: &LeverAccount, text: &str, tags: &[&str]) -> String {
    post(
        &lever.http,
        &lever.control("/postings"),
        json!({"text": text, "tags": tags}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn applicant(lever: &LeverAccount, name: &str, posting_id: &str) -> String {
    post(
        &lever.http,
        &lever.control("/candidates"),
        json!({"name": name, "email": "x@example.com", "postingId": posting_id, "stageId": lever.stage("New lead")}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn events(app: &TestApp) -> String {
    app.get_html("/orgs/acme/events").await
}

/// Asserts that the Events page says each of `expected`.
async fn events_say(app: &TestApp, expected: &[&str]) {
    let events = events(app).await;
    for expected in expected {
        assert!(
            events.contains(expected),
            "Events lacks “{expected}”: {events}"
        );
    }
}

/// Adds a take-home configuration at “On-site interview” for every candidate, its question the
/// recruiter's choice.
pub async fn add_recruiters_choice(app: &TestApp, lever: &LeverAccount) {
    let stage = lever.stage("On-site interview");
    let response = add_configuration(
        app,
        &[
            ("trigger_style", "stage"),
            ("trigger_stage_id", &stage),
            ("pad_kind", "take_home"),
            ("question_source", "recruiter"),
        ],
    )
    .await;
    assert_eq!(
        response.status(),
        303,
        "the recruiter's-choice configuration is saved"
    );
}

/// A candidate `name` moved to “On-site interview” (see `add_recruiters_choice`): returns their
/// opportunity and the path of the page where the question is chosen, the link Lever holds.
pub async fn waiting_for_a_choice(
    app: &TestApp,
    lever: &LeverAccount,
    name: &str,
) -> (String, String) {
    let opportunity = lever.candidate(name, &[]).await;
    lever.move_to(&opportunity, "On-site interview").await;
    app.drain().await;
    let links = strings(&lever.opportunity(&opportunity).await, "links");
    assert_eq!(links.len(), 1, "only the choice link: {links:?}");
    let path = links[0].trim_start_matches(&app.address).to_owned();
    assert!(path.starts_with("/orgs/acme/choose/"), "{path}");
    (opportunity, path)
}

/// The first question the choice page at `path` offers, as `member` sees it.
pub async fn first_question_on(member: &Browser, path: &str) -> String {
    member
        .get_html(path)
        .await
        .split("name=\"question_id\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a question is offered")
        .to_owned()
}

/// `member` chooses the first question the choice page at `path` offers.
pub async fn choose_first_question(member: &Browser, path: &str) -> reqwest::Response {
    let question = first_question_on(member, path).await;
    member
        .post_form(path, path, &[("question_id", &question)])
        .await
}

async fn a_prefix_configuration_fires_at_every_matching_stage_even_one_added_later(
    backend: Backend,
) {
    let (app, lever) = connected(backend).await;
    let question = add_question(&app, "LRU cache", "Write an LRU cache.").await;
    let response = add_configuration(
        &app,
        &[
            ("trigger_style", "stage_prefix"),
            ("stage_prefix", "CodeScreen"),
            ("pad_kind", "take_home"),
            ("question_id", &question),
        ],
    )
    .await;
    assert_eq!(response.status(), 303, "the prefix configuration is saved");
    let list = app.get_html("/orgs/acme/configurations").await;
    assert!(list.contains("Stages named “CodeScreen…”"), "{list}");

    // A stage added in Lever after leverbridge read the stages: its id is unknown, so the
    // stages are read again, and its name begins with the prefix. No tag needed.
    let added = add_stage(&lever, "CodeScreen Assessment").await;
    let grace = lever.candidate("Grace Hopper", &[]).await;
    move_to_id(&lever, &grace, &added).await;
    app.drain().await;
    let held = lever.opportunity(&grace).await;
    assert_eq!(strings(&held, "links").len(), 1, "{held}");
    assert!(strings(&held, "tags").contains(&INVITED.to_owned()));
    assert!(note_texts(&held)[0].contains("LRU cache"));
    let page = app.get_html("/orgs/acme/configurations").await;
    assert!(
        page.contains("5 stages"),
        "the stage cache was refreshed: {page}"
    );

    // Another stage with the prefix, a stage without it, and the prefix in another case.
    let later = add_stage(&lever, "CodeScreen Final").await;
    let lower = add_stage(&lever, "codescreen lowercase").await;
    let (linus, ken) = (
        lever.candidate("Linus T", &[]).await,
        lever.candidate("Ken T", &[]).await,
    );
    move_to_id(&lever, &linus, &later).await;
    move_to_id(&lever, &ken, &lower).await;
    app.drain().await;
    assert_eq!(strings(&lever.opportunity(&linus).await, "links").len(), 1);
    assert!(strings(&lever.opportunity(&ken).await, "links").is_empty());
    events_say(&app, &[
        "Configuration for stages “CodeScreen…” fired (Take-home test at “CodeScreen Assessment”) for Grace Hopper",
        "fired (Take-home test at “CodeScreen Final”) for Linus T",
        "Stage “codescreen lowercase” is not the trigger stage of any configuration.",
    ])
    .await;
}

async fn the_postings_tag_picks_the_question_and_without_one_nothing_fires(backend: Backend) {
    let (app, lever) = connected(backend).await;
    add_question(&app, "LRU cache", "Write an LRU cache.").await;
    let stage = lever.stage("On-site interview");
    let response = add_configuration(
        &app,
        &[
            ("trigger_style", "stage"),
            ("trigger_stage_id", &stage),
            ("pad_kind", "take_home"),
            ("question_source", "posting_tag"),
            ("question_tag_prefix", "CodeScreen"),
        ],
    )
    .await;
    assert_eq!(response.status(), 303);

    let backend_role = posting(&lever, "Backend Engineer", &["CodeScreen LRU cache"]).await;
    let design_role = posting(&lever, "Product Designer", &["Design"]).await;
    let ada = applicant(&lever, "Ada Applicant", &backend_role).await;
    let dora = applicant(&lever, "Dora Designer", &design_role).await;
    // A sourced lead applied to no posting.
    let lee = lever.candidate("Lee Sourced", &[]).await;
    for id in [&ada, &dora, &lee] {
        lever.move_to(id, "On-site interview").await;
    }
    app.drain().await;

    let held = lever.opportunity(&ada).await;
    assert_eq!(strings(&held, "links").len(), 1, "{held}");
    assert!(
        note_texts(&held)[0].contains("on “LRU cache”"),
        "the posting's tag picked the question: {held}"
    );
    for id in [&dora, &lee] {
        let held = lever.opportunity(id).await;
        assert!(
            strings(&held, "links").is_empty() && note_texts(&held).is_empty(),
            "{held}"
        );
    }
    // The candidate's own tags are the posting's copy; the posting was read for the question.
    assert!(lever
        .requests()
        .await
        .iter()
        .any(|r| r["path"] == format!("/v1/postings/{backend_role}")));
    events_say(&app, &[
        "fired (Take-home test at “On-site interview”, question “LRU cache” named by the posting&#39;s tag) for Ada Applicant",
        "the posting “Product Designer” has no tag “CodeScreen {question title}” naming a question of the library; nothing was created.",
        "the candidate applied to no posting, so no posting tag can name the question; nothing was created.",
    ])
    .await;
}

async fn recruiters_choice_invites_only_once_a_member_picks_the_question(backend: Backend) {
    let (app, lever) = connected(backend).await;
    add_recruiters_choice(&app, &lever).await;
    let (alan, path) = waiting_for_a_choice(&app, &lever, "Alan Turing").await;

    // Only the link to the choice is in Lever, with a note saying what it is for: nobody is
    // invited yet.
    let held = lever.opportunity(&alan).await;
    assert!(!strings(&held, "tags").contains(&INVITED.to_owned()));
    let notes = note_texts(&held);
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].starts_with("leverbridge: choose the assessment for Alan Turing.")
            && notes[0].contains(&format!("open {}{path}", app.address))
            && notes[0].contains("leverbridge choice ref "),
        "{notes:?}"
    );
    assert!(events(&app)
        .await
        .contains("the link to choose the question is on the candidate in Lever"));

    // The link needs a member: a stranger is sent to sign in.
    let stranger = app.as_new_session().await;
    let response = stranger.get(&path).await;
    assert_eq!(response.status(), 303);
    assert!(
        location(&response).starts_with("/login"),
        "{}",
        location(&response)
    );

    // A member (a reviewer here) picks the question; the candidate is invited and the link
    // replaced.
    app.create_user("reviewer@acme.test", Some("acme"), "reviewer")
        .await;
    let reviewer = app.as_new_session().await;
    reviewer.login("reviewer@acme.test").await;
    let page = reviewer.get_html(&path).await;
    assert!(page.contains("Choose the question for Alan Turing") && page.contains("Rate limiter"));
    let refused = reviewer
        .post_form(&path, &path, &[("question_id", "")])
        .await;
    assert_eq!(refused.status(), 422);
    let question = first_question_on(&reviewer, &path).await;
    let response = reviewer
        .post_form(&path, &path, &[("question_id", &question)])
        .await;
    assert_eq!(response.status(), 303);
    let detail = location(&response);
    assert!(detail.starts_with("/orgs/acme/assessments/"), "{detail}");
    app.drain().await;
    let held = lever.opportunity(&alan).await;
    let links = strings(&held, "links");
    assert_eq!(links.len(), 1, "{held}");
    assert!(
        links[0].starts_with(&format!("{}/a/", app.address)),
        "{links:?}"
    );
    assert!(strings(&held, "tags").contains(&INVITED.to_owned()));
    assert!(
        note_texts(&held).iter().any(|n| n.contains("Rate limiter")),
        "the invitation note: {held}"
    );
    let detail_page = app.get_html(&detail).await;
    assert!(
        detail_page.contains(
            "Question “Rate limiter” chosen by reviewer@acme.test (recruiter&#39;s choice)"
        ),
        "{detail_page}"
    );
    assert!(events(&app)
        .await
        .contains("Question “Rate limiter” chosen by reviewer@acme.test for Alan Turing"));

    // Choosing again changes nothing.
    let again = app
        .post_form(&path, &path, &[("question_id", &question)])
        .await;
    assert_eq!(again.status(), 303);
    assert_eq!(location(&again), path);
    assert_eq!(app.drain().await, 0);
    assert!(app.get_html(&path).await.contains("chose the question on"));
}

async fn an_interview_trigger_stage_gives_the_interviewer_the_pads_link(backend: Backend) {
    let (app, lever) = connected(backend).await;
    let stage = lever.stage("On-site interview");
    let response = add_configuration(
        &app,
        &[("trigger_style", "stage"), ("trigger_stage_id", &stage)],
    )
    .await;
    assert_eq!(response.status(), 303);
    let barbara = lever.candidate("Barbara Liskov", &[]).await;
    lever.move_to(&barbara, "On-site interview").await;
    app.drain().await;
    let held = lever.opportunity(&barbara).await;
    let links = strings(&held, "links");
    assert_eq!(links.len(), 1, "{held}");
    let note = &note_texts(&held)[0];
    assert!(
        note.starts_with(
            "Interview note: leverbridge created a live interview pad for Barbara Liskov."
        ),
        "{note}"
    );
    assert!(note.contains(&format!("Pad: {}", links[0])), "{note}");
    assert!(events(&app)
        .await
        .contains("Configuration for everyone at “On-site interview” fired (Live interview at “On-site interview”) for Barbara Liskov"));
}

async fn moved_back_before_starting_is_invited_again_and_after_starting_is_not(backend: Backend) {
    let (app, lever) = connected(backend).await;
    let ada = lever.candidate("Ada Lovelace", &[TAG]).await;
    lever.move_to(&ada, TRIGGER).await;
    app.drain().await;
    let link = strings(&lever.opportunity(&ada).await, "links")[0].clone();

    // A recruiter removed the progress tag; the candidate goes back to the trigger stage.
    post(
        &lever.http,
        &lever.control(&format!("/opportunities/{ada}/tags")),
        json!({"remove": [INVITED]}),
    )
    .await;
    lever.move_to(&ada, "On-site interview").await;
    lever.move_to(&ada, TRIGGER).await;
    app.drain().await;
    let held = lever.opportunity(&ada).await;
    assert_eq!(
        strings(&held, "links"),
        vec![link.clone()],
        "no second assessment"
    );
    assert!(
        strings(&held, "tags").contains(&INVITED.to_owned()),
        "the tag is back: {held}"
    );
    assert_eq!(note_texts(&held).len(), 1, "the note is not written twice");
    let events = events(&app).await;
    assert!(events.contains("reinvited"), "{events}");
    assert!(
        events.contains("and Ada Lovelace has not started it: invited again (its link, progress tag and note are on the candidate in Lever again); no second assessment."),
        "{events}"
    );
    let assessments = app.get_html("/orgs/acme/assessments").await;
    assert_eq!(
        assessments
            .matches("aria-label=\"Open the assessment of")
            .count(),
        1,
        "one assessment"
    );
    let id = assessments
        .split("/orgs/acme/assessments/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let detail = app.get_html(&format!("/orgs/acme/assessments/{id}")).await;
    assert!(
        detail.contains("Invited again: moved back into “Phone interview” before starting"),
        "{detail}"
    );

    // The candidate starts; moved back again, nothing is sent and Events says why.
    let candidate = app.as_new_session().await;
    let path = link.trim_start_matches(&app.address).to_owned();
    let started = candidate.post_raw(&format!("{path}/start"), &[]).await;
    assert_eq!(started.status(), 303);
    app.drain().await;
    let before = lever.opportunity(&ada).await;
    lever.move_to(&ada, "On-site interview").await;
    lever.move_to(&ada, TRIGGER).await;
    app.drain().await;
    let after = lever.opportunity(&ada).await;
    assert_eq!(strings(&after, "links"), strings(&before, "links"));
    assert_eq!(strings(&after, "tags"), strings(&before, "tags"));
    assert_eq!(note_texts(&after).len(), note_texts(&before).len());
    let events = crate::triggers::events(&app).await;
    assert!(
        events.contains("Ada Lovelace started it on")
            && events.contains("and it is in progress, so the invitation was not sent again."),
        "{events}"
    );
}

async fn send_now_creates_the_assessment_for_a_candidate_tagged_after_the_move(backend: Backend) {
    let (app, lever) = connected(backend).await;
    app.create_user("reviewer@acme.test", Some("acme"), "reviewer")
        .await;
    let bob = lever.candidate("Bob Late", &[]).await;
    lever.move_to(&bob, TRIGGER).await;
    app.drain().await;
    let page = events(&app).await;
    assert!(page.contains(
        "The candidate lacks the tag “coding-test” that stage “Phone interview” requires"
    ));
    assert!(
        page.contains("no tag") && page.contains("Send now"),
        "{page}"
    );
    let action = page
        .split("action=\"")
        .find(|a| a.contains("/send-now"))
        .and_then(|a| a.split('"').next())
        .unwrap()
        .to_owned();
    let configuration = page
        .split("name=\"configuration_id\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();

    // A reviewer neither sees Events nor may press the button.
    let reviewer = app.as_new_session().await;
    reviewer.login("reviewer@acme.test").await;
    assert_eq!(reviewer.get("/orgs/acme/events").await.status(), 403);
    let refused = reviewer
        .post_form(
            "/orgs/acme/assessments",
            &action,
            &[("configuration_id", &configuration)],
        )
        .await;
    assert_eq!(refused.status(), 403);

    // The recruiter tags the candidate on the simulator's page, then the admin sends it now.
    let candidate_page = format!("/_sim/accounts/{}/opportunities/{bob}", lever.id);
    let sim_page = lever
        .http
        .get(format!("{}{candidate_page}", lever.sim.base_url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(sim_page.contains("Add tag"), "{sim_page}");
    let tagged = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{}{candidate_page}/tags", lever.sim.base_url()))
        .form(&[("add", TAG)])
        .send()
        .await
        .unwrap();
    assert_eq!(tagged.status(), 303);
    assert!(strings(&lever.opportunity(&bob).await, "tags").contains(&TAG.to_owned()));

    let response = app
        .post_form(
            "/orgs/acme/events",
            &action,
            &[("configuration_id", &configuration)],
        )
        .await;
    assert_eq!(response.status(), 303);
    app.drain().await;
    let held = lever.opportunity(&bob).await;
    assert_eq!(strings(&held, "links").len(), 1, "{held}");
    assert!(strings(&held, "tags").contains(&INVITED.to_owned()));
    assert_eq!(note_texts(&held).len(), 1);
    let page = events(&app).await;
    assert!(
        page.contains("Sent now by admin@acme.test (the candidate lacked the tag at the move). Configuration “coding-test” fired (Take-home test at “Phone interview”) for Bob Late"),
        "{page}"
    );
    assert!(!page.contains(">Send now<"), "the button is gone: {page}");
    let assessments = app.get_html("/orgs/acme/assessments").await;
    let id = assessments
        .split("/orgs/acme/assessments/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let detail = app.get_html(&format!("/orgs/acme/assessments/{id}")).await;
    assert!(
        detail.contains("Sent now by admin@acme.test on Events"),
        "{detail}"
    );

    // Pressing it again sends nothing more; removing the tag (exemption) is the candidate's own.
    let again = app
        .post_form(
            "/orgs/acme/events",
            &action,
            &[("configuration_id", &configuration)],
        )
        .await;
    assert_eq!(again.status(), 303);
    assert_eq!(app.drain().await, 0);
    assert_eq!(strings(&lever.opportunity(&bob).await, "links").len(), 1);
}

async fn the_configuration_form_refuses_fields_its_trigger_does_not_read(backend: Backend) {
    let (app, lever) = connected(backend).await;
    let form = app.get_html("/orgs/acme/configurations/new").await;
    for style in [
        "Tagged candidates at a trigger stage",
        "Every candidate at a trigger stage",
        "Every stage whose name begins with a prefix",
        "Recruiter&#39;s choice",
        "Named by a tag on the candidate&#39;s posting",
    ] {
        assert!(form.contains(style), "{style}");
    }
    let stage = lever.stage("On-site interview");
    let question = add_question(&app, "LRU cache", "Write an LRU cache.").await;
    let refused = add_configuration(
        &app,
        &[
            ("trigger_style", "stage_prefix"),
            ("trigger_stage_id", &stage),
            ("stage_prefix", ""),
            ("tag_name", "typed-anyway"),
            ("pad_kind", "take_home"),
            ("question_source", "recruiter"),
            ("question_id", &question),
        ],
    )
    .await;
    assert_eq!(refused.status(), 422);
    let page = refused.text().await.unwrap();
    for error in [
        "Enter the stage-name prefix.",
        "A prefix configuration fires at every stage whose name begins with the prefix: leave the trigger stage empty.",
        "Only the tag trigger reads a tag: clear it, or choose “Tagged candidates at a trigger stage”.",
        "With “Recruiter&#39;s choice” the question is picked per candidate: leave Question empty",
    ] {
        assert!(page.contains(error), "lacks “{error}”");
    }
    assert!(
        page.contains("value=\"typed-anyway\""),
        "the form is kept as typed"
    );
    let refused = add_configuration(
        &app,
        &[
            ("trigger_style", "tag"),
            ("trigger_stage_id", &stage),
            ("tag_name", ""),
            ("pad_kind", "take_home"),
            ("question_source", "posting_tag"),
            ("question_tag_prefix", " "),
        ],
    )
    .await;
    assert_eq!(refused.status(), 422);
    let page = refused.text().await.unwrap();
    assert!(page.contains("Enter the tag candidates must carry."));
    assert!(page.contains("Enter the posting-tag prefix."));
    let list = app.get_html("/orgs/acme/configurations").await;
    assert_eq!(list.matches("/edit\"").count(), 1, "nothing new was saved");

    // An existing configuration keeps today's behaviour: the tag at one stage.
    let edit = list
        .split("href=\"")
        .find(|h| h.contains("/configurations/") && h.contains("/edit"))
        .and_then(|h| h.split('"').next())
        .unwrap()
        .to_owned();
    let page = app.get_html(&edit).await;
    assert!(page.contains("value=\"tag\" checked"), "{page}");
    assert!(page.contains("value=\"library\" checked"));
}
