//! The question library: added, edited, read and deleted on its own pages, picked by
//! configurations, copied into assessments, and filled from the inline questions of old.

use diesel::prelude::*;
use serde_json::Value;

use crate::both_backends;
use crate::helpers::{location, test_database, Backend, TestApp};
use crate::lever_world::{add_question, connected, TAG, TRIGGER};
use leverbridge::db::Db;

both_backends!(
    questions_are_added_edited_and_refused_field_by_field,
    a_prompt_is_rendered_as_markdown_without_scripts,
    reviewers_read_questions_and_only_admins_change_them,
    a_take_home_configuration_asks_a_question_of_its_own_library,
    a_question_in_use_is_kept_and_an_unused_one_is_deleted_once_confirmed,
    an_assessment_keeps_the_question_it_was_sent_with,
    the_questions_migration_moves_inline_questions_into_the_library,
);

/// The id in the first link `{prefix}{id}"` or `{prefix}{id}/edit"` of a page (not `…/new`).
fn first_id(html: &str, prefix: &str) -> String {
    html.split(prefix)
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|link| link.trim_end_matches("/edit"))
        .find(|id| !id.is_empty() && *id != "new" && !id.contains('/'))
        .unwrap_or_else(|| panic!("no {prefix}… link in {html}"))
        .to_owned()
}

async fn post_question(app: &TestApp, action: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    app.post_form("/orgs/acme/questions", action, fields).await
}

async fn questions_are_added_edited_and_refused_field_by_field(backend: Backend) {
    let app = TestApp::with_admin(backend).await;
    let list = app.get_html("/orgs/acme/questions").await;
    assert!(
        list.contains("No questions yet."),
        "the empty state: {list}"
    );
    assert!(
        list.contains("href=\"/orgs/acme/questions\" class=\"active\""),
        "Questions is in the navigation"
    );
    let nav = &list[list.find("sidenav").unwrap()..list.find("</nav>").unwrap()];
    assert!(
        nav.find("Configurations").unwrap() < nav.find("Questions").unwrap(),
        "after Configurations: {nav}"
    );

    // Every field wrong at once: each is explained beside itself, and nothing is stored.
    let long_prompt = "é".repeat(20_001);
    let long_code = "x".repeat(20_001);
    let response = post_question(
        &app,
        "/orgs/acme/questions/new",
        &[
            ("title", "   "),
            ("prompt", &long_prompt),
            ("language", "cobol"),
            ("starter_code", &long_code),
        ],
    )
    .await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    for message in [
        "Give the question a title.",
        "Keep the prompt to 20000 characters or fewer (this one has 20001).",
        "Choose one of the languages listed.",
        "Keep the starter code to 20000 characters or fewer (this one has 20001).",
    ] {
        assert!(page.contains(message), "{message}");
    }
    let title = "t".repeat(201);
    let response = post_question(
        &app,
        "/orgs/acme/questions/new",
        &[("title", &title), ("language", "python")],
    )
    .await;
    assert_eq!(response.status(), 422);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("Keep the title to 200 characters or fewer (this one has 201)."));
    assert!(app
        .get_html("/orgs/acme/questions")
        .await
        .contains("No questions yet."));

    // A valid question: trimmed title, CRLF line breaks stored as LF, the view shows it all.
    let response = post_question(
        &app,
        "/orgs/acme/questions/new",
        &[
            ("title", "  Two sum "),
            ("prompt", "Find two numbers that add up to the target.\r\n"),
            ("language", "rust"),
            ("starter_code", "fn two_sum() {\r\n    todo!()\r\n}\r\n"),
        ],
    )
    .await;
    assert_eq!(response.status(), 303);
    let view = location(&response);
    assert!(view.starts_with("/orgs/acme/questions/"), "{view}");
    let page = app.get_html(&view).await;
    assert!(page.contains("Question added to the library."));
    assert!(page.contains("<h1 class=\"question-title\">Two sum</h1>"));
    assert!(page.contains("Rust ·"));
    assert!(page.contains("<p>Find two numbers that add up to the target.</p>"));
    assert!(page.contains("fn two_sum() {\n    todo!()\n}</code>"));
    assert!(page.contains("No configuration asks this question."));
    let list = app.get_html("/orgs/acme/questions").await;
    assert!(list.contains(">Two sum</a>") && list.contains("<td>Rust</td>"));

    // A second question may not take the first one's title, on add or on edit.
    let response = post_question(
        &app,
        "/orgs/acme/questions/new",
        &[("title", "Two sum"), ("language", "python")],
    )
    .await;
    assert_eq!(response.status(), 422);
    assert!(response.text().await.unwrap().contains(
        "The library already has a question titled “Two sum”; give this one another title."
    ));
    let second = location(
        &post_question(
            &app,
            "/orgs/acme/questions/new",
            &[("title", "FizzBuzz"), ("language", "python")],
        )
        .await,
    );
    let edit = format!("{second}/edit");
    let form = app.get_html(&edit).await;
    assert!(
        form.contains("value=\"FizzBuzz\"") && form.contains("<option value=\"python\" selected>")
    );
    let response = post_question(
        &app,
        &edit,
        &[
            ("title", "Two sum"),
            ("language", "go"),
            ("starter_code", &long_code),
        ],
    )
    .await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(page.contains("already has a question titled “Two sum”"));
    assert!(
        page.contains("Keep the starter code to 20000 characters"),
        "both at once"
    );
    assert!(
        page.contains("<option value=\"go\" selected>"),
        "what was chosen is kept"
    );
    assert!(
        app.get_html(&second).await.contains("Python ·"),
        "nothing changed"
    );

    // An edit that passes: the same title is fine for the question itself.
    let response = post_question(
        &app,
        &edit,
        &[
            ("title", "FizzBuzz"),
            ("prompt", "Print 1 to 100."),
            ("language", "javascript"),
            ("starter_code", "// start here"),
        ],
    )
    .await;
    assert_eq!(response.status(), 303);
    let page = app.get_html(&second).await;
    assert!(page.contains("Question saved.") && page.contains("JavaScript ·"));
    assert!(page.contains("<p>Print 1 to 100.</p>") && page.contains("// start here"));

    // Forms without the session's CSRF token change nothing.
    let response = app
        .post_raw(
            "/orgs/acme/questions/new",
            &[("title", "No token"), ("language", "python")],
        )
        .await;
    assert_eq!(response.status(), 403);
    assert!(!app
        .get_html("/orgs/acme/questions")
        .await
        .contains("No token"));
    assert_eq!(
        app.get("/orgs/acme/questions/no-such-id").await.status(),
        404
    );
}

async fn a_prompt_is_rendered_as_markdown_without_scripts(backend: Backend) {
    let app = TestApp::with_admin(backend).await;
    let prompt = "# Merge intervals\n\nGiven *intervals*, merge the overlapping ones.\n\n\
                  ```python\ndef merge(intervals):\n    return intervals\n```\n\n\
                  <script>alert('stolen')</script>\n\n\
                  <img src=\"https://example.com/a.png\" onerror=\"alert(1)\">\n\n\
                  [docs](javascript:alert(2)) and [safe](https://example.com/docs)\n";
    let id = add_question(&app, "Merge intervals", prompt).await;
    let page = app.get_html(&format!("/orgs/acme/questions/{id}")).await;
    assert!(page.contains("<h1>Merge intervals</h1>"), "{page}");
    assert!(page.contains("<em>intervals</em>"));
    assert!(page.contains("<pre><code>def merge(intervals):\n    return intervals\n</code></pre>"));
    assert!(
        page.contains("<img src=\"https://example.com/a.png\">"),
        "{page}"
    );
    assert!(page.contains("href=\"https://example.com/docs\""));
    for unsafe_part in ["<script", "alert('stolen')", "onerror", "javascript:"] {
        assert!(
            !page.contains(unsafe_part),
            "{unsafe_part} stripped: {page}"
        );
    }
    // The edit form shows the Markdown as typed, escaped.
    let form = app
        .get_html(&format!("/orgs/acme/questions/{id}/edit"))
        .await;
    assert!(form.contains("&#60;script&#62;") || form.contains("&lt;script&gt;"));

    // *Preview the prompt* on the form: rendered and cleaned the same way, nothing stored.
    assert!(form.contains("value=\"preview\" formnovalidate>Preview the prompt</button>"));
    assert!(
        form.contains("class=\"mono code-input\""),
        "Tab indents the code boxes"
    );
    assert!(form.contains("<script src=\"/static/app.js\" defer></script>"));
    let edited = format!("{prompt}\n## Constraints\n\n- n ≤ 10⁵\n");
    let response = post_question(
        &app,
        &format!("/orgs/acme/questions/{id}/edit"),
        &[
            ("title", "Merge intervals"),
            ("prompt", &edited),
            ("language", "python"),
            ("starter_code", ""),
            ("action", "preview"),
        ],
    )
    .await;
    assert_eq!(response.status(), 200);
    let previewed = response.text().await.unwrap();
    assert!(
        previewed.contains("Preview only, nothing saved"),
        "{previewed}"
    );
    assert!(previewed.contains("<h2>Constraints</h2>"), "{previewed}");
    assert!(previewed.contains("<em>intervals</em>"));
    let shown = &previewed[previewed.find("id=\"prompt-preview\"").unwrap()..];
    let shown = &shown[..shown.find("</div>\n      </div>").unwrap_or(shown.len())];
    for unsafe_part in ["<script", "onerror", "javascript:"] {
        assert!(!shown.contains(unsafe_part), "{unsafe_part}: {shown}");
    }
    let page = app.get_html(&format!("/orgs/acme/questions/{id}")).await;
    assert!(!page.contains("Constraints"), "nothing was stored: {page}");
}

async fn reviewers_read_questions_and_only_admins_change_them(backend: Backend) {
    let app = TestApp::with_admin(backend).await;
    let id = add_question(&app, "Two sum", "Add two numbers.").await;
    app.create_user("reviewer@acme.test", Some("acme"), "reviewer")
        .await;
    app.create_user("help@vendor.test", None, "support").await;
    app.create_user("admin@globex.test", Some("globex"), "admin")
        .await;
    let view = format!("/orgs/acme/questions/{id}");

    let reviewer = app.as_new_session().await;
    reviewer.login("reviewer@acme.test").await;
    let list = reviewer.get_html("/orgs/acme/questions").await;
    assert!(list.contains(">Two sum</a>"));
    assert!(
        !list.contains("/questions/new"),
        "no Add button for a reviewer"
    );
    assert!(reviewer
        .get_html(&view)
        .await
        .contains("<p>Add two numbers.</p>"));
    assert!(reviewer
        .get_html("/orgs/acme")
        .await
        .contains("href=\"/orgs/acme/questions\""));
    assert_eq!(reviewer.get("/orgs/acme/questions/new").await.status(), 403);
    assert_eq!(reviewer.get(&format!("{view}/edit")).await.status(), 403);
    let response = reviewer
        .post_form(
            &view,
            &format!("{view}/edit"),
            &[("title", "Renamed"), ("language", "python")],
        )
        .await;
    assert_eq!(response.status(), 403);
    let response = reviewer
        .post_form(&view, &format!("{view}/delete"), &[("confirm", "yes")])
        .await;
    assert_eq!(response.status(), 403);

    let support = app.as_new_session().await;
    support.login("help@vendor.test").await;
    let page = support.get_html(&view).await;
    assert!(page.contains("Two sum") && !page.contains("Delete question"));
    let response = support
        .post_form(&view, &format!("{view}/delete"), &[("confirm", "yes")])
        .await;
    assert_eq!(response.status(), 403);
    assert!(response.text().await.unwrap().contains("read-only"));

    // Another organization's admin sees neither the question nor the library.
    let other = app.as_new_session().await;
    other.login("admin@globex.test").await;
    assert_eq!(other.get(&view).await.status(), 404);
    assert_eq!(other.get("/orgs/acme/questions").await.status(), 404);
    assert_eq!(
        other
            .get(&format!("/orgs/globex/questions/{id}"))
            .await
            .status(),
        404
    );

    let page = app.get_html(&view).await;
    assert!(
        page.contains("Two sum") && page.contains("Add two numbers."),
        "unchanged"
    );
}

async fn a_take_home_configuration_asks_a_question_of_its_own_library(backend: Backend) {
    let (app, lever) = connected(backend).await;
    app.create_user("admin@globex.test", Some("globex"), "admin")
        .await;
    let other = app.as_new_session().await;
    other.login("admin@globex.test").await;
    let response = other
        .post_form(
            "/orgs/globex/questions",
            "/orgs/globex/questions/new",
            &[("title", "Globex secret"), ("language", "python")],
        )
        .await;
    assert_eq!(response.status(), 303);
    let foreign = location(&response).rsplit('/').next().unwrap().to_owned();

    let form = app.get_html("/orgs/acme/configurations/new").await;
    assert!(
        form.contains(">Rate limiter</option>"),
        "the library is offered"
    );
    assert!(
        !form.contains("Globex secret"),
        "only this organization's questions"
    );

    let stage = lever.stage("On-site interview");
    let submit = |question: String| {
        let (app, stage) = (&app, stage.clone());
        async move {
            app.post_form(
                "/orgs/acme/configurations/new",
                "/orgs/acme/configurations/new",
                &[
                    ("trigger_stage_id", stage.as_str()),
                    ("pad_kind", "take_home"),
                    ("question_id", question.as_str()),
                    ("tag_name", "take-home-2"),
                ],
            )
            .await
        }
    };
    let response = submit(String::new()).await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(page.contains("A take-home test needs a question: choose one from your library."));
    assert!(
        page.contains("value=\"take-home-2\""),
        "what was typed is kept"
    );
    for refused in [foreign.clone(), "no-such-question".into()] {
        let response = submit(refused).await;
        assert_eq!(response.status(), 422);
        assert!(response
            .text()
            .await
            .unwrap()
            .contains("Choose one of the questions in your library."));
    }
    let list = app.get_html("/orgs/acme/configurations").await;
    assert!(!list.contains("take-home-2"), "nothing was saved");

    // A live interview may go without a question; the list says so.
    let response = app
        .post_form(
            "/orgs/acme/configurations/new",
            "/orgs/acme/configurations/new",
            &[
                ("trigger_stage_id", stage.as_str()),
                ("pad_kind", "live"),
                ("question_id", ""),
                ("tag_name", "live-pad"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    let list = app.get_html("/orgs/acme/configurations").await;
    assert!(list.contains("<td>Rate limiter</td>"));
    assert!(list.contains("None (the interviewer brings one)"));
    assert!(!list.contains(&foreign));
}

async fn a_question_in_use_is_kept_and_an_unused_one_is_deleted_once_confirmed(backend: Backend) {
    let (app, lever) = connected(backend).await;
    let list = app.get_html("/orgs/acme/questions").await;
    let view = format!(
        "/orgs/acme/questions/{}",
        first_id(&list, "/orgs/acme/questions/")
    );
    assert!(list.contains("1 configuration"));

    // The page names the configuration by stage and tag, and offers no delete.
    let page = app.get_html(&view).await;
    assert!(
        page.contains(&format!("<td>{TRIGGER}</td>"))
            && page.contains(&format!("<code>{TAG}</code>"))
    );
    assert!(!page.contains(&lever.stage(TRIGGER)), "no raw stage id");
    assert!(!page.contains("Delete question"));

    // Posting the delete anyway, confirmed or not, is refused with the reason.
    for fields in [vec![], vec![("confirm", "yes")]] {
        let response = app
            .post_form(&view, &format!("{view}/delete"), &fields)
            .await;
        assert_eq!(response.status(), 409);
        let page = response.text().await.unwrap();
        assert!(
            page.contains(&format!(
                "This question is asked by the configuration at “{TRIGGER}” (tag “{TAG}”), so it was not deleted."
            )),
            "{page}"
        );
    }
    assert_eq!(app.get(&view).await.status(), 200, "still there");

    // An unused question: the button asks first, and only the confirmed post deletes it.
    let unused = add_question(&app, "Spare question", "Not asked yet.").await;
    let spare = format!("/orgs/acme/questions/{unused}");
    let response = app.post_form(&spare, &format!("{spare}/delete"), &[]).await;
    assert_eq!(response.status(), 200);
    let confirm = response.text().await.unwrap();
    assert!(confirm.contains("Delete the question “Spare question”?"));
    assert!(confirm.contains(r#"name="confirm" value="yes""#));
    assert!(confirm.contains(&format!(r#"action="{spare}/delete""#)));
    assert_eq!(app.get(&spare).await.status(), 200, "not deleted yet");
    let response = app
        .post_form(&spare, &format!("{spare}/delete"), &[("confirm", "yes")])
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/orgs/acme/questions");
    let list = app.get_html("/orgs/acme/questions").await;
    assert!(list.contains("Question “Spare question” deleted."));
    assert!(!list.contains(&unused));
    assert_eq!(app.get(&spare).await.status(), 404);

    // Once no configuration asks it, the first question can go too.
    let configuration = first_id(
        &app.get_html("/orgs/acme/configurations").await,
        "/orgs/acme/configurations/",
    );
    let response = app
        .post_form(
            "/orgs/acme/configurations",
            &format!("/orgs/acme/configurations/{configuration}/delete"),
            &[("confirm", "yes")],
        )
        .await;
    assert_eq!(response.status(), 303);
    let response = app
        .post_form(&view, &format!("{view}/delete"), &[("confirm", "yes")])
        .await;
    assert_eq!(response.status(), 303);
}

async fn an_assessment_keeps_the_question_it_was_sent_with(backend: Backend) {
    let (app, lever) = connected(backend).await;
    let ada = lever.candidate("Ada Lovelace", &[TAG]).await;
    lever.move_to(&ada, TRIGGER).await;
    assert_eq!(app.drain().await, 1);
    let held = lever.opportunity(&ada).await;
    let link = held["links"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .find(|l| l.contains("/a/"))
        .expect("the assessment link is on the candidate")
        .to_owned();
    let note = held["notes"][0]["value"].as_str().unwrap();
    assert!(note.contains("Rate limiter"), "{note}");
    // Started, the candidate's page shows the question beside the editor.
    let started = app
        .client
        .post(format!("{link}/start"))
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), 303);
    let page = app
        .client
        .get(&link)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Rate limiter") && page.contains("Write a token bucket."));

    // The library question changes; the assessment already sent does not.
    let list = app.get_html("/orgs/acme/questions").await;
    let view = format!(
        "/orgs/acme/questions/{}",
        first_id(&list, "/orgs/acme/questions/")
    );
    let response = app
        .post_form(
            &view,
            &format!("{view}/edit"),
            &[
                ("title", "Sliding window limiter"),
                ("prompt", "Write a sliding window limiter instead."),
                ("language", "go"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    let page = app
        .client
        .get(&link)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Rate limiter") && page.contains("Write a token bucket."));
    assert!(!page.contains("sliding window"));

    // The next candidate gets the question as it is now.
    let bob = lever.candidate("Bob Builder", &[TAG]).await;
    lever.move_to(&bob, TRIGGER).await;
    // Bob's invitation, and the In Progress tag for Ada, who started her test above.
    assert_eq!(app.drain().await, 2);
    use leverbridge::db::schema::assessments;
    let mut conn = app.db.get().unwrap();
    let mut titles: Vec<(String, Option<String>)> = assessments::table
        .select((assessments::candidate_name, assessments::question_title))
        .load(&mut *conn)
        .unwrap();
    titles.sort();
    assert_eq!(
        titles,
        vec![
            ("Ada Lovelace".into(), Some("Rate limiter".into())),
            ("Bob Builder".into(), Some("Sliding window limiter".into())),
        ]
    );
}

/// Migration 13 turns each configuration's inline question into a library question; run it on a
/// database that holds configurations written before it.
async fn the_questions_migration_moves_inline_questions_into_the_library(backend: Backend) {
    use diesel::connection::SimpleConnection;
    use leverbridge::db::configurations;
    use leverbridge::db::questions;

    let database = test_database(&backend);
    let url = database.url.clone();
    let dialect = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres(_) => "postgres",
    };
    tokio::task::spawn_blocking(move || {
        let db = Db::connect(&url).unwrap();
        db.migrate().unwrap();
        let mut conn = db.get().unwrap();
        let acme = leverbridge::db::orgs::find_or_create(&mut conn, "acme", "Acme").unwrap();
        let globex = leverbridge::db::orgs::find_or_create(&mut conn, "globex", "Globex").unwrap();
        let dir = format!(
            "{}/migrations/{dialect}/2026-12-01-000013_questions",
            env!("CARGO_MANIFEST_DIR")
        );
        let step = |name: &str| std::fs::read_to_string(format!("{dir}/{name}")).unwrap();
        // Migrations after 13 that rebuild `configurations` are undone first, and done again
        // after it.
        let later = format!(
            "{}/migrations/{dialect}/2026-12-01-000020_triggers",
            env!("CARGO_MANIFEST_DIR")
        );
        let later_step = |name: &str| std::fs::read_to_string(format!("{later}/{name}")).unwrap();
        // So is migration 30, which adds the questions' reference solutions and test cases
        // (SQLite's migration 13 rebuilds `questions` without them).
        let cases = format!(
            "{}/migrations/{dialect}/2026-12-07-000030_test_cases",
            env!("CARGO_MANIFEST_DIR")
        );
        let cases_step = |name: &str| std::fs::read_to_string(format!("{cases}/{name}")).unwrap();
        conn.batch_execute(&cases_step("down.sql")).unwrap();
        conn.batch_execute(&later_step("down.sql")).unwrap();
        // Back to the schema before migration 13, with inline questions in it.
        conn.batch_execute(&step("down.sql")).unwrap();
        let rows = [
            (
                "c1",
                &acme.id,
                "take_home",
                Some(("Two sum", "Solve it.")),
                "a",
                "10:00:00",
            ),
            (
                "c2",
                &acme.id,
                "live",
                Some(("Two sum", "Solve it.")),
                "b",
                "10:00:01",
            ),
            (
                "c3",
                &acme.id,
                "take_home",
                Some(("Two sum", "Another prompt.")),
                "c",
                "10:00:02",
            ),
            ("c4", &acme.id, "live", None, "d", "10:00:03"),
            (
                "c5",
                &globex.id,
                "take_home",
                Some(("Two sum", "Globex prompt.")),
                "a",
                "10:00:04",
            ),
        ];
        for (id, org, kind, question, tag, time) in rows {
            let (title, prompt) = match question {
                Some((t, p)) => (format!("'{t}'"), format!("'{p}'")),
                None => ("NULL".into(), "NULL".into()),
            };
            conn.batch_execute(&format!(
                "INSERT INTO configurations (id, org_id, trigger_stage_id, pad_kind, \
                 question_title, question_prompt, tag_name, created_at, updated_at) VALUES \
                 ('{id}', '{org}', 'stage', '{kind}', {title}, {prompt}, '{tag}', \
                 '2026-11-20 {time}', '2026-11-20 {time}')"
            ))
            .unwrap();
        }
        conn.batch_execute(&step("up.sql")).unwrap();
        conn.batch_execute(&later_step("up.sql")).unwrap();
        conn.batch_execute(&cases_step("up.sql")).unwrap();

        let library = questions::list(&mut conn, &acme.id).unwrap();
        let summary: Vec<(&str, &str, &str, &str)> = library
            .iter()
            .map(|q| {
                (
                    q.title.as_str(),
                    q.prompt.as_str(),
                    q.language.as_str(),
                    q.starter_code.as_str(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("Two sum", "Solve it.", "plaintext", ""),
                ("Two sum (c)", "Another prompt.", "plaintext", ""),
            ],
            "one question per distinct inline question; the later namesake is told apart by its tag"
        );
        let globex_library = questions::list(&mut conn, &globex.id).unwrap();
        assert_eq!(globex_library.len(), 1);
        assert_eq!(globex_library[0].prompt, "Globex prompt.");

        let asked = |conn: &mut leverbridge::db::DbConn, org: &str, id: &str| {
            configurations::find(conn, org, id)
                .unwrap()
                .unwrap()
                .question_id
        };
        let (first, second) = (Some(library[0].id.clone()), Some(library[1].id.clone()));
        assert_eq!(asked(&mut conn, &acme.id, "c1"), first);
        assert_eq!(asked(&mut conn, &acme.id, "c2"), first);
        assert_eq!(asked(&mut conn, &acme.id, "c3"), second);
        assert_eq!(asked(&mut conn, &acme.id, "c4"), None);
        assert_eq!(
            asked(&mut conn, &globex.id, "c5"),
            Some(globex_library[0].id.clone())
        );

        // The inline columns are gone, and a question in use cannot be deleted underneath.
        let old_column = conn.batch_execute("SELECT question_title FROM configurations");
        assert!(old_column.is_err(), "question_title was dropped");
        assert!(questions::delete(&mut conn, &acme.id, &library[0].id).is_err());
    })
    .await
    .unwrap();
}
