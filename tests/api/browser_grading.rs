//! In a real headless Chromium: a candidate runs their code on their own input and on the
//! question's visible test cases from the editor's run panel, fixes what the cases caught, and
//! submits; the submission is graded on every case, hidden ones included, and the result
//! reaches Lever without any reviewer. Skipped, loudly, when Chromium or ChromeDriver is
//! missing (`.ci/run` installs both).

use std::time::{Duration, Instant};

use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use leverbridge::db::cases::TestCase;
use serde_json::Value;

use crate::browser::{
    alert_text, browser, click, text_of, wait_for_element_text, wait_for_text, wait_for_the_editor,
};
use crate::helpers::{Backend, TestApp};
use crate::lever_view::{note_texts, tags};
use crate::lever_world::{connected_with, LeverAccount, TAG, TRIGGER};

/// The question's starter code: the candidate types the program after it.
const STARTER: &str = "# Print the sum of the numbers on stdin.";

/// A program with a bug: one too many when there are exactly three numbers.
const BUGGY: [&str; 3] = [
    "import sys",
    "nums = [int(x) for x in sys.stdin.read().split()]",
    "print(sum(nums) + (1 if len(nums) == 3 else 0))",
];

/// The same program, fixed.
const FIXED: [&str; 3] = [
    "import sys",
    "nums = [int(x) for x in sys.stdin.read().split()]",
    "print(sum(nums))",
];

/// The question's cases: two visible, one hidden (which the candidate never sees).
fn cases() -> Vec<TestCase> {
    let case = |input: &str, expected: &str, hidden: bool| TestCase {
        position: 0,
        input: input.to_owned(),
        expected: expected.to_owned(),
        weight: 1,
        hidden,
        time_limit_ms: None,
    };
    vec![
        case("1 2\n", "3\n", false),
        case("1 2 3\n", "6\n", false),
        case("40 50 60 70\n", "220\n", true),
    ]
}

/// Ada invited to a python question with [`cases`]: the cases are stored on the question
/// before she is moved into the stage, so her assessment copies them. Runs may follow each
/// other at once (the gap between runs is not what this test is about).
async fn invited_to_a_question_with_cases() -> (TestApp, LeverAccount, String, String) {
    let (app, lever) = connected_with(Backend::Sqlite, |settings| {
        settings.tuning.runs.gap = Duration::ZERO;
    })
    .await;
    let question = the_question(&app).await;
    let edit = format!("/orgs/acme/questions/{question}/edit");
    let response = app
        .post_form(
            &edit,
            &edit,
            &[
                ("title", "Sum of numbers"),
                (
                    "prompt",
                    "Read whitespace-separated integers from stdin and print their sum.",
                ),
                ("language", "python"),
                ("starter_code", STARTER),
            ],
        )
        .await;
    assert_eq!(response.status(), 303, "the question is saved");
    app.db
        .run(move |conn| {
            leverbridge::db::cases::replace_for_question(conn, &question, &cases())
                .map_err(leverbridge::db::DbError::from)
        })
        .await
        .unwrap();
    let ada = lever.candidate("Ada Lovelace", &[TAG]).await;
    lever.move_to(&ada, TRIGGER).await;
    assert_eq!(app.drain().await, 1);
    let link = lever.opportunity(&ada).await["links"][0]
        .as_str()
        .expect("the link in Lever")
        .to_owned();
    (app, lever, ada, link)
}

/// The id of `acme`'s one question, the one the configuration uses.
async fn the_question(app: &TestApp) -> String {
    let ids = app
        .db
        .run(|conn| {
            use diesel::prelude::*;
            use leverbridge::db::schema::questions;
            questions::table
                .select(questions::id)
                .load::<String>(conn)
                .map_err(leverbridge::db::DbError::from)
        })
        .await
        .unwrap();
    let [id] = ids.as_slice() else {
        panic!("one question: {ids:?}");
    };
    id.clone()
}

/// Types `lines` into the editor, each on a line of its own, leaving any completion list
/// first; with `replace`, over everything in it, else after what it holds.
async fn type_code(client: &Client, lines: &[&str], replace: bool) {
    let editor = client.find(Locator::Css(".cm-content")).await.unwrap();
    let start = if replace {
        format!("{}a{}", Key::Control, Key::Null)
    } else {
        format!(
            "{}{}{}{}{}",
            Key::Control,
            Key::End,
            Key::Null,
            Key::Escape,
            Key::Enter
        )
    };
    editor.send_keys(&start).await.unwrap();
    for (n, line) in lines.iter().enumerate() {
        let end = if n + 1 < lines.len() {
            format!("{}{}", Key::Escape, Key::Enter)
        } else {
            Key::Escape.to_string()
        };
        editor.send_keys(&format!("{line}{end}")).await.unwrap();
    }
}

/// Waits (bounded) until the run panel shows a result (not "Queued…" or "Running…"), and
/// returns its status line.
async fn wait_for_a_result(client: &Client, kind: &str) -> String {
    let css = format!("#run-output [data-result='{kind}'] .pad-run-summary");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        // Read before looking for the result, so a result shown in between is found.
        let shown = text_of(client, "#run-output").await;
        if let Ok(summary) = client.find(Locator::Css(&css)).await {
            if let Ok(text) = summary.text().await {
                return text;
            }
        }
        let waiting = ["", "Queued…", "Running…"].contains(&shown.as_str());
        assert!(
            waiting && Instant::now() < deadline,
            "no {kind} result in the run panel: “{shown}”"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Whether the run buttons can be clicked.
async fn run_buttons_enabled(client: &Client) -> Vec<bool> {
    let states = client
        .execute(
            "return [...document.querySelectorAll('#pad-run button')].map((b) => !b.disabled);",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(states).unwrap()
}

/// The cases the run panel shows: each one's verdict and text.
async fn cases_shown(client: &Client) -> Vec<(String, String)> {
    let cases = client
        .execute(
            "return [...document.querySelectorAll('#run-output .pad-case')]
                 .map((c) => [c.dataset.verdict, c.innerText]);",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(cases).unwrap()
}

/// Everything of the opportunity's notes and feedback forms that could carry the result.
fn written_results(held: &Value) -> String {
    let mut all = note_texts(held).join("\n");
    all.push('\n');
    all.push_str(&held["feedback"].to_string());
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_candidate_runs_their_code_and_the_tests_and_the_submission_is_graded_in_a_browser() {
    let Some((_driver, client)) = browser().await else {
        return;
    };
    let (app, lever, ada, link) = invited_to_a_question_with_cases().await;

    // Ada starts; the run panel sits under the editor, with Run tests naming the visible cases.
    client.goto(&link).await.unwrap();
    wait_for_text(&client, "Start the test").await;
    click(&client, "form.candidate-start button").await;
    wait_for_text(&client, "print their sum").await;
    wait_for_the_editor(&client).await;
    assert_eq!(text_of(&client, ".cm-content").await, STARTER);
    assert_eq!(text_of(&client, "#pad-run [data-run-button]").await, "Run");
    assert_eq!(
        text_of(&client, "#pad-run [data-run-tests-button]").await,
        "Run tests (2 visible cases)"
    );
    assert_eq!(run_buttons_enabled(&client).await, [true, true]);
    let source = client.source().await.unwrap();
    assert!(
        source.contains("Running your code needs JavaScript"),
        "without JavaScript the panel says so: {source}"
    );
    let stdin = client.find(Locator::Css("#run-input")).await.unwrap();
    assert_eq!(
        stdin.attr("placeholder").await.unwrap().as_deref(),
        Some("Input given to your program on stdin")
    );

    // She types a program with a bug and runs it on her own input: its output shows.
    type_code(&client, &BUGGY, false).await;
    assert_eq!(
        text_of(&client, ".cm-content").await,
        format!("{STARTER}\n{}", BUGGY.join("\n"))
    );
    stdin.send_keys("10 20 30 40").await.unwrap();
    click(&client, "#pad-run [data-run-button]").await;
    let summary = wait_for_a_result(&client, "run").await;
    assert!(
        summary.starts_with("Exited with code 0 in ") && summary.ends_with(" s"),
        "{summary}"
    );
    assert_eq!(
        text_of(&client, "#run-output .pad-run-stream-stdout pre").await,
        "100"
    );
    assert!(client
        .find(Locator::Css("#run-output .pad-run-truncated"))
        .await
        .is_err());
    assert_eq!(run_buttons_enabled(&client).await, [true, true]);

    // Run tests: the visible cases, one of which her bug fails, expected beside what she got.
    click(&client, "#pad-run [data-run-tests-button]").await;
    assert_eq!(
        wait_for_a_result(&client, "tests").await,
        "1 of 2 visible cases passed"
    );
    let shown = cases_shown(&client).await;
    assert_eq!(shown.len(), 2, "the visible cases only: {shown:?}");
    assert_eq!(shown[0].0, "passed", "{shown:?}");
    assert_eq!(shown[1].0, "wrong_answer", "{shown:?}");
    let failed = &shown[1].1;
    assert!(
        failed.contains("Case 2") && failed.contains("Wrong answer"),
        "{failed}"
    );
    let compared: Vec<(String, String)> = serde_json::from_value(
        client
            .execute(
                "return [...document.querySelectorAll('#run-output .pad-case-wrong_answer .pad-case-part')]
                     .map((p) => [p.querySelector('h4').textContent, p.querySelector('pre').innerText.trimEnd()]);",
                vec![],
            )
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        compared,
        [
            ("Input".to_owned(), "1 2 3".to_owned()),
            ("Expected".to_owned(), "6".to_owned()),
            ("Got".to_owned(), "7".to_owned()),
        ],
        "the failed case: its input, then expected beside got"
    );
    let panel = text_of(&client, "#run-output").await;
    assert!(!panel.contains("40 50 60 70"), "no hidden case: {panel}");

    // She fixes the code; every visible case passes.
    type_code(&client, &FIXED, true).await;
    assert_eq!(text_of(&client, ".cm-content").await, FIXED.join("\n"));
    click(&client, "#pad-run [data-run-tests-button]").await;
    wait_for_element_text(
        &client,
        "#run-output [data-result='tests'] .pad-run-summary",
        "2 of 2 visible cases passed",
    )
    .await;
    let shown = cases_shown(&client).await;
    assert!(
        shown.len() == 2 && shown.iter().all(|(verdict, _)| verdict == "passed"),
        "{shown:?}"
    );

    // She submits.
    click(&client, "#pad-form button[formaction$='/submit']").await;
    let question = alert_text(&client).await;
    assert!(
        question.contains("You cannot change it afterwards"),
        "{question}"
    );
    client.accept_alert().await.unwrap();
    wait_for_text(&client, "Your solution has been submitted").await;

    // Graded on all three cases, the hidden one too, with no reviewer: Lever holds the
    // Passed tag and the result.
    assert!(app.drain().await >= 1, "the grading and its write-back ran");
    let held = lever.opportunity(&ada).await;
    assert!(
        tags(&held).contains(&"leverbridge: Passed".to_owned()),
        "{held}"
    );
    let written = written_results(&held).to_lowercase();
    assert!(
        written.contains("passed 3 of 3"),
        "the result in Lever says how many cases passed: {held}"
    );
    client.close().await.unwrap();
}

/// Runs faster than the server allows: the panel says how long to wait, and Run waits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_too_soon_after_another_waits_its_turn_in_a_browser() {
    let Some((_driver, client)) = browser().await else {
        return;
    };
    let (app, lever) = connected_with(Backend::Sqlite, |settings| {
        settings.tuning.runs.gap = Duration::from_secs(600);
    })
    .await;
    let ada = lever.candidate("Ada Lovelace", &[TAG]).await;
    lever.move_to(&ada, TRIGGER).await;
    assert_eq!(app.drain().await, 1);
    let link = lever.opportunity(&ada).await["links"][0]
        .as_str()
        .expect("the link in Lever")
        .to_owned();
    client.goto(&link).await.unwrap();
    wait_for_text(&client, "Start the test").await;
    click(&client, "form.candidate-start button").await;
    wait_for_the_editor(&client).await;
    let help = text_of(&client, "#pad-run .help").await;
    assert!(help.contains("at most one every 600 s"), "{help}");

    type_code(&client, &["print(6 * 7)"], true).await;
    click(&client, "#pad-run [data-run-button]").await;
    wait_for_a_result(&client, "run").await;
    assert_eq!(
        text_of(&client, "#run-output .pad-run-stream-stdout pre").await,
        "42"
    );

    click(&client, "#pad-run [data-run-button]").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let wait = loop {
        let shown = text_of(&client, "#run-output").await;
        if shown.contains("You can run again in ") {
            break shown;
        }
        assert!(Instant::now() < deadline, "no wait shown: “{shown}”");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let seconds: u64 = wait
        .rsplit_once("You can run again in ")
        .and_then(|(_, rest)| rest.strip_suffix(" s."))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the wait in seconds: {wait}"));
    assert!((590..=600).contains(&seconds), "{wait}");
    let buttons = run_buttons_enabled(&client).await;
    assert!(
        !buttons.is_empty() && buttons.iter().all(|on| !on),
        "Run waits: {buttons:?}"
    );
    client.close().await.unwrap();
}
