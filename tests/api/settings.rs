//! The Settings page: defaults, field-by-field validation, who may read and change it, and the
//! stage-change write-back doing what it says (author, progress-tag prefix, switched-off steps).

use leverbridge::domain::org_settings::{DefaultUser, WriteBacks};
use leverbridge::domain::OrgSettings;
use serde_json::Value;

use crate::both_backends;
use crate::helpers::{csrf_in, Backend, TestApp};
use crate::lever_view::strings;
use crate::lever_world::{app_for, connected, save_settings, LeverAccount, TAG, TRIGGER};

both_backends!(
    a_new_organization_sees_the_defaults,
    settings_are_saved_and_read_back,
    each_invalid_field_is_explained_and_nothing_changes,
    support_reads_settings_read_only_and_reviewers_are_kept_out,
    the_default_user_and_prefix_chosen_on_settings_are_what_lever_gets,
    switched_off_write_backs_are_not_made,
    work_waiting_for_a_default_user_resumes_when_one_is_chosen,
    saves_at_the_same_moment_all_succeed,
    a_new_mail_server_or_login_clears_the_saved_smtp_password,
);

/// `acme`'s settings as the stage-change job reads them.
async fn stored(app: &TestApp) -> OrgSettings {
    app.db
        .run(|conn| -> Result<_, leverbridge::db::DbError> {
            let org = leverbridge::db::orgs::find_by_slug(conn, "acme")?.expect("acme exists");
            Ok(leverbridge::db::settings::for_org(conn, &org.id)?)
        })
        .await
        .unwrap()
}

/// The value of the `<option>` whose label starts with `label`.
fn option_value(html: &str, label: &str) -> String {
    let at = html
        .find(&format!("\">{label}"))
        .unwrap_or_else(|| panic!("an option “{label}”"));
    let start = html[..at].rfind("value=\"").unwrap() + "value=\"".len();
    html[start..at].to_owned()
}

/// The `<div class="field …">` of setting `name`, up to the next field.
fn field<'a>(html: &'a str, name: &str) -> &'a str {
    let id = html
        .find(&format!("id=\"setting-{name}\""))
        .unwrap_or_else(|| panic!("a field for {name}"));
    let start = html[..id].rfind("<div").unwrap();
    let end = html[id + 1..]
        .find("id=\"setting-")
        .and_then(|next| html[..id + 1 + next].rfind("<div"))
        .unwrap_or(html.len());
    &html[start..end]
}

/// A Lever user's id, deactivated ones included, as Lever lists them.
async fn lever_user_id(lever: &LeverAccount, name: &str) -> String {
    let users: Value = lever
        .http
        .get(format!("{}/v1/users", lever.sim.base_url()))
        .query(&[("includeDeactivated", "true")])
        .basic_auth(&lever.key, Some(""))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    users["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == name)
        .unwrap_or_else(|| panic!("Lever has {name}: {users}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn a_new_organization_sees_the_defaults(backend: Backend) {
    let app = TestApp::with_admin(backend).await;
    let page = app.get_html("/orgs/acme/settings").await;
    for label in [
        "Default Lever user",
        "Notify the opportunity&#39;s followers of results",
        "Assessment link",
        "Progress tags",
        "Notes",
        "Feedback form",
        "Report file",
        "Progress-tag prefix",
        "Take-home time limit",
        "Days to start",
        "Pass mark",
        "Move passing candidates to",
    ] {
        assert!(page.contains(label), "{label} shown: {page}");
    }
    for toggle in [
        "notify_followers",
        "write_link",
        "write_progress_tags",
        "write_note",
        "write_feedback",
        "write_report",
    ] {
        assert!(
            field(&page, toggle).contains(" checked"),
            "{toggle} is on by default"
        );
    }
    assert!(field(&page, "progress_tag_prefix").contains("value=\"leverbridge\""));
    assert!(field(&page, "time_limit_minutes").contains("value=\"120\""));
    assert!(field(&page, "time_limit_minutes").contains("minutes"));
    assert!(field(&page, "days_to_start").contains("value=\"7\""));
    assert!(field(&page, "pass_mark").contains("value=\"70\""));
    assert!(field(&page, "pass_stage_id").contains("<option value=\"\">Don&#39;t move</option>"));
    // Help texts, declared with each setting, are shown beside it.
    assert!(field(&page, "progress_tag_prefix")
        .contains("1 to 40 characters, without a colon or spaces at either end."));
    assert!(
        field(&page, "default_user_id").contains("connect an API key first"),
        "no Lever users to choose from before connecting"
    );
    assert!(page.contains("<fieldset>"), "an admin's form is enabled");
    assert_eq!(stored(&app).await, OrgSettings::defaults());

    // The navigation lists Settings after Questions.
    let (questions, settings, events) = (
        page.find("href=\"/orgs/acme/questions\"").unwrap(),
        page.find("href=\"/orgs/acme/settings\" class=\"active\"")
            .unwrap(),
        page.find("href=\"/orgs/acme/events\"").unwrap(),
    );
    assert!(questions < settings && settings < events);

    // Before Lever is connected, the other settings can still be saved.
    let response = save_settings(&app, &[("pass_mark", "80")]).await;
    assert_eq!(response.status(), 303);
    assert_eq!(stored(&app).await.pass_mark, 80);
}

async fn settings_are_saved_and_read_back(backend: Backend) {
    let (app, lever) = connected(backend).await;
    let page = app.get_html("/orgs/acme/settings").await;
    assert!(
        field(&page, "default_user_id").contains("selected>Integration Bot — bot@initech.example"),
        "the user chosen when connecting: {page}"
    );
    assert!(
        !page.contains("Gone Person"),
        "deactivated users are not offered"
    );
    assert!(page.contains("Last saved by admin@acme.test"));
    let rita = option_value(&page, "Rita Recruiter");
    let onsite = lever.stage("On-site interview");

    let response = save_settings(
        &app,
        &[
            ("default_user_id", &rita),
            ("notify_followers", ""),
            ("write_feedback", ""),
            ("write_report", ""),
            ("progress_tag_prefix", "Acme Hiring"),
            ("time_limit_minutes", "90"),
            ("days_to_start", "14"),
            ("pass_mark", "65"),
            ("pass_stage_id", &onsite),
        ],
    )
    .await;
    assert_eq!(response.status(), 303);
    let page = app.get_html("/orgs/acme/settings").await;
    assert!(
        page.contains("Settings saved: Rita Recruiter is now the default Lever user"),
        "{page}"
    );
    assert!(field(&page, "default_user_id").contains("selected>Rita Recruiter"));
    assert!(!field(&page, "notify_followers").contains(" checked"));
    assert!(field(&page, "write_link").contains(" checked"));
    assert!(!field(&page, "write_report").contains(" checked"));
    assert!(field(&page, "progress_tag_prefix").contains("value=\"Acme Hiring\""));
    assert!(field(&page, "time_limit_minutes").contains("value=\"90\""));
    assert!(field(&page, "pass_stage_id").contains("selected>On-site interview</option>"));

    assert_eq!(
        stored(&app).await,
        OrgSettings {
            default_user: Some(DefaultUser {
                id: rita.clone(),
                name: "Rita Recruiter".into(),
            }),
            notify_followers: false,
            write_backs: WriteBacks {
                link: true,
                progress_tags: true,
                note: true,
                feedback_form: false,
                report_file: false,
            },
            progress_tag_prefix: "Acme Hiring".into(),
            time_limit_minutes: 90,
            days_to_start: 14,
            pass_mark: 65,
            pass_stage_id: Some(onsite),
            email: OrgSettings::defaults().email,
        }
    );
    let connection = app.get_html("/orgs/acme/connection").await;
    assert!(
        connection.contains("Rita Recruiter") && connection.contains("/orgs/acme/settings"),
        "the Connection page names the default user and links to Settings"
    );
    assert!(
        !connection.contains("name=\"user_id\""),
        "no second form sets the default user"
    );

    // Saved again unchanged: the same settings, and the same author.
    let response = save_settings(
        &app,
        &[
            ("default_user_id", &rita),
            ("notify_followers", ""),
            ("write_feedback", ""),
            ("write_report", ""),
            ("progress_tag_prefix", "Acme Hiring"),
            ("time_limit_minutes", "90"),
            ("days_to_start", "14"),
            ("pass_mark", "65"),
            ("pass_stage_id", ""),
        ],
    )
    .await;
    assert_eq!(response.status(), 303);
    let page = app.get_html("/orgs/acme/settings").await;
    assert!(page.contains("Settings saved."));
    assert_eq!(stored(&app).await.pass_stage_id, None, "“Don't move” again");
}

async fn each_invalid_field_is_explained_and_nothing_changes(backend: Backend) {
    let (app, lever) = connected(backend).await;
    let before = stored(&app).await;
    let gone = lever_user_id(&lever, "Gone Person").await;
    let bot = lever.default_user.clone();
    let long = "x".repeat(41);
    let cases: Vec<(&str, &str, &str)> = vec![
        (
            "default_user_id",
            "",
            "Choose one of the active Lever users listed",
        ),
        (
            "default_user_id",
            "no-such-user",
            "Choose one of the active Lever users listed",
        ),
        (
            "default_user_id",
            &gone,
            "Choose one of the active Lever users listed",
        ),
        ("notify_followers", "maybe", "is on or off."),
        ("write_link", "yes please", "is on or off."),
        (
            "progress_tag_prefix",
            "",
            "Enter a prefix for the progress tags",
        ),
        (
            "progress_tag_prefix",
            "   ",
            "Enter a prefix for the progress tags",
        ),
        (
            "progress_tag_prefix",
            &long,
            "Keep the prefix to 40 characters or fewer (this one has 41).",
        ),
        (
            "progress_tag_prefix",
            " Acme",
            "Remove the spaces at the start or end of the prefix.",
        ),
        (
            "progress_tag_prefix",
            "Acme ",
            "Remove the spaces at the start or end of the prefix.",
        ),
        ("progress_tag_prefix", "Acme: Hiring", "Leave the colon out"),
        (
            "time_limit_minutes",
            "9",
            "Choose a value from 10 to 1440 minutes.",
        ),
        (
            "time_limit_minutes",
            "1441",
            "Choose a value from 10 to 1440 minutes.",
        ),
        (
            "time_limit_minutes",
            "two hours",
            "Enter a whole number from 10 to 1440 minutes.",
        ),
        (
            "time_limit_minutes",
            "",
            "Enter a whole number from 10 to 1440 minutes.",
        ),
        ("days_to_start", "0", "Choose a value from 1 to 60 days."),
        ("days_to_start", "61", "Choose a value from 1 to 60 days."),
        (
            "days_to_start",
            "7.5",
            "Enter a whole number from 1 to 60 days.",
        ),
        ("pass_mark", "101", "Choose a value from 0 to 100 points."),
        (
            "pass_mark",
            "-1",
            "Enter a whole number from 0 to 100 points.",
        ),
        (
            "pass_stage_id",
            "no-such-stage",
            "Choose one of the Lever stages listed, or “Don&#39;t move”.",
        ),
    ];
    for (name, value, message) in cases {
        let fields = if name == "default_user_id" {
            vec![(name, value)]
        } else {
            vec![("default_user_id", bot.as_str()), (name, value)]
        };
        let response = save_settings(&app, &fields).await;
        assert_eq!(response.status(), 422, "{name} = {value:?}");
        let page = response.text().await.unwrap();
        assert!(page.contains("Nothing was saved: correct the fields marked below ("));
        // The banner links to the field it refused.
        assert!(
            page.contains(&format!("<a href=\"#setting-{name}\">")),
            "{name}: {page}"
        );
        let shown = field(&page, name);
        assert!(
            shown.contains("field-invalid") && shown.contains(message),
            "{name} = {value:?} explained with “{message}”: {shown}"
        );
        let others_invalid = page
            .matches("class=\"field setting field-invalid\"")
            .count();
        assert_eq!(others_invalid, 1, "only {name} is marked");
        if name == "progress_tag_prefix" && !value.trim().is_empty() {
            assert!(
                shown.contains(&format!("value=\"{value}\"")),
                "what was typed is shown again to correct"
            );
        }
    }

    // Several at once: each is explained.
    let response = save_settings(
        &app,
        &[
            ("default_user_id", &bot),
            ("progress_tag_prefix", "a:b"),
            ("pass_mark", "1000"),
            ("days_to_start", "none"),
        ],
    )
    .await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert_eq!(page.matches("class=\"field-error\"").count(), 3);

    assert_eq!(stored(&app).await, before, "nothing changed");
    let page = app.get_html("/orgs/acme/settings").await;
    assert!(field(&page, "default_user_id").contains("selected>Integration Bot"));
}

async fn support_reads_settings_read_only_and_reviewers_are_kept_out(backend: Backend) {
    let (app, lever) = connected(backend).await;
    app.create_user("reviewer@acme.test", Some("acme"), "reviewer")
        .await;
    app.create_user("help@vendor.test", None, "support").await;
    app.create_user("admin@globex.test", Some("globex"), "admin")
        .await;
    let before = stored(&app).await;
    let change = [
        ("default_user_id", lever.default_user.as_str()),
        ("progress_tag_prefix", "Hijacked"),
        ("time_limit_minutes", "120"),
        ("days_to_start", "7"),
        ("pass_mark", "0"),
    ];

    // Support reads every value in a disabled form, and cannot save.
    let support = app.as_new_session().await;
    support.login("help@vendor.test").await;
    let page = support.get_html("/orgs/acme/settings").await;
    assert!(page.contains("<fieldset disabled>"), "{page}");
    assert!(field(&page, "default_user_id").contains("selected>Integration Bot"));
    assert!(field(&page, "progress_tag_prefix").contains("value=\"leverbridge\""));
    let response = support
        .post_form("/orgs/acme/settings", "/orgs/acme/settings", &change)
        .await;
    assert_eq!(response.status(), 403);
    assert!(response.text().await.unwrap().contains("read-only"));

    // A reviewer neither sees nor changes it.
    let reviewer = app.as_new_session().await;
    reviewer.login("reviewer@acme.test").await;
    assert_eq!(reviewer.get("/orgs/acme/settings").await.status(), 403);
    let overview = reviewer.get_html("/orgs/acme").await;
    assert!(
        !overview.contains("/orgs/acme/settings\""),
        "no Settings in the reviewer's navigation"
    );
    let token = csrf_in(&overview);
    let mut fields = vec![("csrf_token", token.as_str())];
    fields.extend_from_slice(&change);
    let response = reviewer.post_raw("/orgs/acme/settings", &fields).await;
    assert_eq!(response.status(), 403);

    // Another organization's admin: 404.
    let stranger = app.as_new_session().await;
    stranger.login("admin@globex.test").await;
    assert_eq!(stranger.get("/orgs/acme/settings").await.status(), 404);
    let token = csrf_in(&stranger.get_html("/orgs/globex").await);
    let mut fields = vec![("csrf_token", token.as_str())];
    fields.extend_from_slice(&change);
    let response = stranger.post_raw("/orgs/acme/settings", &fields).await;
    assert_eq!(response.status(), 404);

    // The admin without the form's CSRF token: refused.
    let response = app.post_raw("/orgs/acme/settings", &change).await;
    assert_eq!(response.status(), 403);

    assert_eq!(stored(&app).await, before, "nothing changed");
}

async fn the_default_user_and_prefix_chosen_on_settings_are_what_lever_gets(backend: Backend) {
    let (app, lever) = connected(backend).await;
    let rita = option_value(&app.get_html("/orgs/acme/settings").await, "Rita Recruiter");
    let response = save_settings(
        &app,
        &[
            ("default_user_id", &rita),
            ("progress_tag_prefix", "Acme Hiring"),
        ],
    )
    .await;
    assert_eq!(response.status(), 303);
    lever
        .http
        .delete(lever.control("/requests"))
        .send()
        .await
        .unwrap();

    let ada = lever.candidate("Ada Lovelace", &[TAG]).await;
    lever.move_to(&ada, TRIGGER).await;
    assert_eq!(app.drain().await, 1);
    let held = lever.opportunity(&ada).await;
    let tags = strings(&held, "tags");
    assert!(
        tags.contains(&"Acme Hiring: Candidate Invited".to_owned()),
        "{tags:?}"
    );
    assert!(
        !tags.iter().any(|t| t.starts_with("leverbridge")),
        "{tags:?}"
    );
    assert_eq!(strings(&held, "links").len(), 1);
    let notes = held["notes"].as_array().unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0]["authorId"], rita.as_str(), "the note is Rita's");

    // Every write leverbridge made was performed as Rita.
    let log: Value = lever
        .http
        .get(lever.control("/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let writes: Vec<&Value> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["method"] == "POST" && r["path"].as_str().unwrap().contains(&ada))
        .collect();
    assert_eq!(writes.len(), 3, "link, tag and note: {log}");
    for write in writes {
        assert_eq!(write["performAs"], rita.as_str(), "{write}");
    }

    let events = app.get_html("/orgs/acme/events").await;
    assert!(
        events.contains("link, progress tag and note written to Lever as Rita Recruiter."),
        "{events}"
    );
}

async fn switched_off_write_backs_are_not_made(backend: Backend) {
    let (app, lever) = connected(backend).await;
    let bot = lever.default_user.clone();

    // Progress tags off: the link and the note, no tag.
    let response = save_settings(
        &app,
        &[("default_user_id", &bot), ("write_progress_tags", "")],
    )
    .await;
    assert_eq!(response.status(), 303);
    let ada = lever.candidate("Ada Lovelace", &[TAG]).await;
    lever.move_to(&ada, TRIGGER).await;
    assert_eq!(app.drain().await, 1);
    let held = lever.opportunity(&ada).await;
    assert_eq!(strings(&held, "tags"), [TAG], "no progress tag: {held}");
    assert_eq!(strings(&held, "links").len(), 1, "{held}");
    assert_eq!(held["notes"].as_array().unwrap().len(), 1, "{held}");

    // The link off: the tag and the note, no link.
    let response = save_settings(&app, &[("default_user_id", &bot), ("write_link", "")]).await;
    assert_eq!(response.status(), 303);
    let bo = lever.candidate("Bo Linkless", &[TAG]).await;
    lever.move_to(&bo, TRIGGER).await;
    assert_eq!(app.drain().await, 1);
    let held = lever.opportunity(&bo).await;
    assert!(strings(&held, "links").is_empty(), "no link: {held}");
    assert!(strings(&held, "tags").contains(&"leverbridge: Candidate Invited".to_owned()));
    assert_eq!(held["notes"].as_array().unwrap().len(), 1, "{held}");

    // Notes off as well as the link: only the tag.
    let response = save_settings(
        &app,
        &[
            ("default_user_id", &bot),
            ("write_link", ""),
            ("write_note", ""),
        ],
    )
    .await;
    assert_eq!(response.status(), 303);
    let cy = lever.candidate("Cy Quiet", &[TAG]).await;
    lever.move_to(&cy, TRIGGER).await;
    assert_eq!(app.drain().await, 1);
    let held = lever.opportunity(&cy).await;
    assert!(strings(&held, "links").is_empty() && held["notes"].as_array().unwrap().is_empty());
    assert!(strings(&held, "tags").contains(&"leverbridge: Candidate Invited".to_owned()));

    // Events says what was written for each.
    let events = app.get_html("/orgs/acme/events").await;
    for expected in [
        "for Ada Lovelace: link and note written to Lever as Integration Bot.",
        "for Bo Linkless: progress tag and note written to Lever as Integration Bot.",
        "for Cy Quiet: progress tag written to Lever as Integration Bot.",
    ] {
        assert!(events.contains(expected), "Events lacks “{expected}”");
    }
}

/// Before a default Lever user is chosen, the pages that warn about it send the admin to
/// Settings.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_missing_default_user_warnings_point_to_settings() {
    let lever = LeverAccount::new().await;
    let app = app_for(&lever, Backend::Sqlite).await;
    app.login("admin@acme.test").await;
    let response = app
        .post_form(
            "/orgs/acme/connection",
            "/orgs/acme/connection",
            &[("api_key", &lever.key), ("environment", "production")],
        )
        .await;
    assert_eq!(response.status(), 303);
    let link = "href=\"/orgs/acme/settings#setting-default_user_id\"";
    let connection = app.get_html("/orgs/acme/connection").await;
    assert!(connection.contains("Not chosen") && connection.contains(link));
    let events = app.get_html("/orgs/acme/events").await;
    assert!(
        events.contains(link) && events.contains("Choose one on the Settings page."),
        "{events}"
    );
    let overview = app.get_html("/orgs/acme").await;
    assert!(overview.contains("href=\"/orgs/acme/settings\">Choose the default Lever user"));
    let page = app.get_html("/orgs/acme/settings").await;
    assert!(field(&page, "default_user_id").contains("Not chosen yet"));
    assert!(field(&page, "default_user_id").contains("<option value=\"\">Choose a user…</option>"));
}

async fn work_waiting_for_a_default_user_resumes_when_one_is_chosen(backend: Backend) {
    use diesel::prelude::*;
    use leverbridge::db::schema::lever_connections;

    let (app, lever) = connected(backend).await;
    // As if no default user had been chosen yet.
    app.db
        .run(|conn| {
            diesel::update(lever_connections::table)
                .set((
                    lever_connections::default_user_id.eq(None::<String>),
                    lever_connections::default_user_name.eq(None::<String>),
                ))
                .execute(conn)
                .map_err(leverbridge::db::DbError::from)
        })
        .await
        .unwrap();
    let ada = lever.candidate("Ada Lovelace", &[TAG]).await;
    lever.move_to(&ada, TRIGGER).await;
    app.drain().await;
    assert!(strings(&lever.opportunity(&ada).await, "links").is_empty());
    let events = app.get_html("/orgs/acme/events").await;
    assert!(
        events.contains("Choose one on the Settings page.")
            && events.contains("pick one on the Settings page"),
        "{events}"
    );

    let response = save_settings(&app, &[("default_user_id", &lever.default_user)]).await;
    assert_eq!(response.status(), 303);
    let page = app.get_html("/orgs/acme/settings").await;
    assert!(page.contains("Integration Bot is now the default Lever user"));
    assert!(page.contains("1 waiting job(s) resumed."), "{page}");
    assert_eq!(app.drain().await, 1);
    let held = lever.opportunity(&ada).await;
    assert_eq!(strings(&held, "links").len(), 1, "{held}");
    assert_eq!(held["notes"][0]["authorId"], lever.default_user.as_str());
}

async fn saves_at_the_same_moment_all_succeed(backend: Backend) {
    let (app, lever) = connected(backend).await;
    let html = app.get_html("/orgs/acme/settings").await;
    let token = csrf_in(&html);
    let marks = ["51", "52", "53", "54", "55", "56"];
    let saves = marks.iter().map(|mark| {
        let mut fields = crate::lever_world::settings_form(&[
            ("default_user_id", &lever.default_user),
            ("pass_mark", mark),
        ]);
        fields.push(("csrf_token", &token));
        let app = &app;
        async move { app.post_raw("/orgs/acme/settings", &fields).await.status() }
    });
    for status in futures_util::future::join_all(saves).await {
        assert_eq!(status, 303);
    }
    let saved = stored(&app).await.pass_mark.to_string();
    assert!(marks.contains(&saved.as_str()), "{saved}");
}

/// Whether `acme` has a sealed SMTP password saved.
async fn smtp_password_saved(app: &TestApp) -> bool {
    app.db
        .run(|conn| -> Result<_, leverbridge::db::DbError> {
            let org = leverbridge::db::orgs::find_by_slug(conn, "acme")?.expect("acme exists");
            Ok(leverbridge::db::settings::smtp_password(conn, &org.id)?.is_some())
        })
        .await
        .unwrap()
}

async fn a_new_mail_server_or_login_clears_the_saved_smtp_password(backend: Backend) {
    let (app, lever) = connected(backend).await;
    let user = lever.default_user.clone();
    let server = [
        ("default_user_id", user.as_str()),
        ("smtp_host", "mail.acme.test"),
        ("smtp_port", "587"),
        ("smtp_tls", "starttls"),
        ("smtp_username", "hiring@acme.test"),
    ];
    let with = |changes: &[(&'static str, &'static str)]| -> Vec<(&str, &str)> {
        let mut fields = server.to_vec();
        fields.extend_from_slice(changes);
        fields
    };
    let cleared = "the saved SMTP password was cleared";
    let response = save_settings(&app, &with(&[("smtp_password", "s3cret")])).await;
    assert_eq!(response.status(), 303, "{}", response.text().await.unwrap());
    assert!(smtp_password_saved(&app).await);

    // The same server, the password left empty: it is kept, and nothing is said about it.
    let response = save_settings(&app, &with(&[("smtp_from", "jobs@acme.test")])).await;
    assert_eq!(response.status(), 303);
    assert!(smtp_password_saved(&app).await);
    assert!(!app.get_html("/orgs/acme/settings").await.contains(cleared));

    // Each of host, port, encryption and username is another server or login: the password
    // is forgotten and the admin is asked for it again.
    for change in [
        ("smtp_host", "mail.elsewhere.example"),
        ("smtp_port", "2525"),
        ("smtp_tls", "none"),
        ("smtp_username", "someone@elsewhere.example"),
    ] {
        let response = save_settings(&app, &with(&[("smtp_password", "s3cret")])).await;
        assert_eq!(response.status(), 303);
        let response = save_settings(&app, &with(&[change])).await;
        assert_eq!(response.status(), 303, "{change:?}");
        assert!(!smtp_password_saved(&app).await, "{change:?}");
        let page = app.get_html("/orgs/acme/settings").await;
        assert!(page.contains(cleared), "{change:?}: {page}");
        assert!(page.contains("Enter the password again."), "{page}");
        assert!(
            field(&page, "smtp_password").contains("None saved"),
            "{page}"
        );
    }

    // A new server with its password in the same submit keeps the new password, unremarked.
    let response = save_settings(
        &app,
        &[
            ("default_user_id", user.as_str()),
            ("smtp_host", "mail.elsewhere.example"),
            ("smtp_password", "another"),
        ],
    )
    .await;
    assert_eq!(response.status(), 303);
    assert!(smtp_password_saved(&app).await);
    assert!(!app.get_html("/orgs/acme/settings").await.contains(cleared));
}
