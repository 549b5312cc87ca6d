//! A question's test cases and reference solution, edited on the question form: stored in
//! order, reordered and removed, refused field by field, and the reference solution run in
//! the real sandbox by *Check solution* and before a save.

use leverbridge::db::cases::TestCase;
use leverbridge::db::questions::Question;
use leverbridge::db::{self, DbError};
use leverbridge::sandbox::judge::COMPARISON_RULE;

use crate::both_backends;
use crate::helpers::{location, Backend, TestApp};

both_backends!(
    cases_are_stored_in_order_listed_reordered_and_removed,
    adding_a_row_saves_nothing_and_invalid_cases_change_nothing,
    check_solution_shows_each_case_and_saves_nothing,
    a_failing_reference_solution_is_refused_and_a_passing_one_saves,
);

/// The form's fields: `base` as given, then each case's `(field, value)` as `case_{field}_{n}`.
fn fields(base: &[(&str, &str)], cases: &[&[(&str, &str)]]) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = base
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    for (n, case) in cases.iter().enumerate() {
        for (field, value) in case.iter() {
            all.push((format!("case_{field}_{n}"), value.to_string()));
        }
    }
    all
}

/// Posts `fields` to `action` with the CSRF token of `page`.
async fn post(
    app: &TestApp,
    page: &str,
    action: &str,
    fields: &[(String, String)],
) -> reqwest::Response {
    let borrowed: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    app.post_form(page, action, &borrowed).await
}

/// The question and its cases as stored.
async fn stored(app: &TestApp, id: &str) -> (Question, Vec<TestCase>) {
    let id = id.to_owned();
    app.db
        .run(move |conn| -> Result<_, DbError> {
            let org = db::orgs::find_by_slug(conn, "acme")?.expect("acme");
            let question = db::questions::find(conn, &org.id, &id)?.expect("the question");
            let cases = db::cases::for_question(conn, &id)?;
            Ok((question, cases))
        })
        .await
        .unwrap()
}

/// Adds a Python question with `cases` through the form; returns its id.
async fn add_with_cases(app: &TestApp, title: &str, cases: &[&[(&str, &str)]]) -> String {
    let new = "/orgs/acme/questions/new";
    let base = [
        ("title", title),
        ("language", "python"),
        ("prompt", "Add them up."),
    ];
    let response = post(app, new, new, &fields(&base, cases)).await;
    assert_eq!(response.status(), 303, "question added");
    location(&response).rsplit('/').next().unwrap().to_owned()
}

/// Whether the sandbox runs code here; loudly skips (or, under CI, fails) when it cannot.
fn sandbox_ready(app: &TestApp) -> bool {
    match app.jobs.sandbox.unavailable() {
        None => true,
        Some(why) if std::env::var_os("CI").is_some() => panic!("CI needs the sandbox: {why}"),
        Some(why) => {
            eprintln!("\n!!! SKIPPED: the sandbox is unavailable here: {why}\n");
            false
        }
    }
}

/// Sums the numbers on stdin; `boom` exits with code 3 and `spin` never ends.
const SUM: &str = "import sys\nwords = sys.stdin.read().split()\nif words == ['boom']:\n    sys.exit(3)\nwhile words == ['spin']:\n    pass\nprint(sum(int(w) for w in words))\n";

async fn cases_are_stored_in_order_listed_reordered_and_removed(backend: Backend) {
    let app = TestApp::with_admin(backend).await;
    let form = app.get_html("/orgs/acme/questions/new").await;
    assert!(form.contains("name=\"case_input_0\""), "one empty row");
    assert!(!form.contains("name=\"case_input_1\""), "only one");
    assert!(form.contains("value=\"add_case\">Add another case</button>"));
    assert!(form.contains("value=\"check\">Check solution</button>"));
    assert!(
        form.contains(COMPARISON_RULE),
        "the comparison rule is shown"
    );
    assert!(form.contains("Hidden from the candidate"));

    // Three cases and an empty row: the empty row is ignored, the rest kept in order.
    let id = add_with_cases(
        &app,
        "Sum",
        &[
            &[("input", "1 2"), ("expected", "3\r\n"), ("weight", "2")],
            &[
                ("input", ""),
                ("expected", "0"),
                ("hidden", "on"),
                ("time_limit", "1.5"),
            ],
            &[("input", ""), ("expected", ""), ("weight", "1")],
            &[("input", "  \r\n5\r\n"), ("expected", ""), ("weight", "")],
        ],
    )
    .await;
    let (question, cases) = stored(&app, &id).await;
    assert_eq!(question.reference_solution, "");
    let expected = vec![
        TestCase {
            position: 1,
            input: "1 2\n".into(),
            expected: "3\n".into(),
            weight: 2,
            hidden: false,
            time_limit_ms: None,
        },
        TestCase {
            position: 2,
            input: "".into(),
            expected: "0".into(),
            weight: 1,
            hidden: true,
            time_limit_ms: Some(1500),
        },
        TestCase {
            position: 3,
            input: "  \n5\n".into(),
            expected: "".into(),
            weight: 1,
            hidden: false,
            time_limit_ms: None,
        },
    ];
    assert_eq!(cases, expected);

    // The question's page lists them; the list counts them.
    let page = app.get_html(&format!("/orgs/acme/questions/{id}")).await;
    assert!(
        page.contains("<pre class=\"case-output\">1 2\n</pre>"),
        "{page}"
    );
    assert!(page.contains("<pre class=\"case-output\">3\n</pre>"));
    assert!(page.contains(">Hidden</span>") && page.contains(">Visible</span>"));
    assert!(page.contains("1.5 s") && page.contains("Default (5 s)"));
    assert!(!page.contains("No test cases"));
    let list = app.get_html("/orgs/acme/questions").await;
    assert!(list.contains("<th class=\"num\">Cases</th>"));
    assert!(list.contains("<td class=\"num\">3</td>"), "{list}");

    // The edit form shows the three and one empty row, each field as stored.
    let edit = format!("/orgs/acme/questions/{id}/edit");
    let form = app.get_html(&edit).await;
    assert!(form.contains("name=\"case_input_3\"") && !form.contains("name=\"case_input_4\""));
    assert!(form.contains(
        "name=\"case_input_2\" class=\"mono\" rows=\"4\" spellcheck=\"false\">\n  \n5\n</textarea>"
    ));
    assert!(form
        .contains("name=\"case_time_limit_1\" type=\"text\" inputmode=\"decimal\" value=\"1.5\""));
    assert!(form.contains("name=\"case_hidden_1\" value=\"on\" checked"));

    // Reordered by the order field, the second removed: the third comes first.
    let base = [
        ("title", "Sum"),
        ("language", "python"),
        ("reference_solution", ""),
    ];
    let rows: [&[(&str, &str)]; 4] = [
        &[("position", "3"), ("input", "1 2"), ("expected", "3")],
        &[
            ("position", "2"),
            ("input", ""),
            ("expected", "0"),
            ("remove", "on"),
        ],
        &[("position", "1"), ("input", "5"), ("expected", "")],
        &[("position", "4"), ("input", ""), ("expected", "")],
    ];
    let response = post(&app, &edit, &edit, &fields(&base, &rows)).await;
    assert_eq!(response.status(), 303);
    let (_, cases) = stored(&app, &id).await;
    let inputs: Vec<(i32, &str)> = cases
        .iter()
        .map(|c| (c.position, c.input.as_str()))
        .collect();
    assert_eq!(inputs, [(1, "5\n"), (2, "1 2\n")]);

    // Every case removed: the page says a reviewer scores the answers.
    let rows: [&[(&str, &str)]; 2] = [
        &[("input", "5"), ("expected", ""), ("remove", "on")],
        &[("input", "1 2"), ("expected", "3"), ("remove", "on")],
    ];
    let response = post(&app, &edit, &edit, &fields(&base, &rows)).await;
    assert_eq!(response.status(), 303);
    assert!(stored(&app, &id).await.1.is_empty());
    let page = app.get_html(&format!("/orgs/acme/questions/{id}")).await;
    assert!(page.contains("No test cases: answers to this question are scored by a reviewer."));
    let list = app.get_html("/orgs/acme/questions").await;
    assert!(list.contains("<td class=\"num\"><span class=\"muted\">None</span></td>"));
}

async fn adding_a_row_saves_nothing_and_invalid_cases_change_nothing(backend: Backend) {
    let app = TestApp::with_admin(backend).await;
    let id = add_with_cases(&app, "Sum", &[&[("input", "1 2"), ("expected", "3")]]).await;
    let before = stored(&app, &id).await;
    let edit = format!("/orgs/acme/questions/{id}/edit");

    // "Add another case": the form again, as typed, with one more empty row; nothing stored.
    let base = [
        ("title", "Sum renamed"),
        ("language", "python"),
        ("reference_solution", "print(3)"),
        ("action", "add_case"),
    ];
    let rows: [&[(&str, &str)]; 2] = [
        &[("input", "1 2"), ("expected", "3")],
        &[("input", "7 8"), ("expected", "15"), ("hidden", "on")],
    ];
    let response = post(&app, &edit, &edit, &fields(&base, &rows)).await;
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    assert!(page.contains("value=\"Sum renamed\""));
    assert!(
        page.contains(">\n7 8</textarea>")
            && page.contains("name=\"case_hidden_1\" value=\"on\" checked")
    );
    assert!(page.contains("name=\"case_input_2\"") && !page.contains("name=\"case_input_3\""));
    assert!(page.contains(">print(3)</textarea>"));
    assert_eq!(stored(&app, &id).await.1, before.1);
    assert_eq!(stored(&app, &id).await.0.title, "Sum");

    // Each bad field explained beside itself; nothing stored.
    let big = "x".repeat(64 * 1024 + 1);
    let base = [
        ("title", "Sum renamed"),
        ("language", "python"),
        ("reference_solution", ""),
    ];
    let rows: [&[(&str, &str)]; 4] = [
        &[("input", "1"), ("expected", "1"), ("weight", "heavy")],
        &[
            ("input", "2"),
            ("expected", "2"),
            ("weight", "101"),
            ("time_limit", "31"),
        ],
        &[
            ("input", "3"),
            ("expected", "3"),
            ("position", "first"),
            ("time_limit", "0.05"),
        ],
        &[("input", &big), ("expected", "4")],
    ];
    let response = post(&app, &edit, &edit, &fields(&base, &rows)).await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    for message in [
        "The weight is a whole number from 1 to 100; “heavy” is not.",
        "The weight is a whole number from 1 to 100; “101” is not.",
        "The time limit is a number of seconds from 0.1 to 30 (e.g. 2 or 0.5)",
        "“31” is not.",
        "“0.05” is not.",
        "The order is a whole number (1 comes first); “first” is not.",
        "Keep the input to 64 KB or less (this one is 65 KB).",
        "Nothing was saved: correct the fields marked below.",
    ] {
        assert!(page.contains(message), "{message}");
    }
    // Beside its own field: the weight's message follows the second row's weight input.
    let second = &page[page.find("name=\"case_weight_1\"").unwrap()..];
    assert!(
        second.find("“101”").unwrap() < second.find("name=\"case_input_2\"").unwrap(),
        "the second case's errors are in its own row"
    );
    let after = stored(&app, &id).await;
    assert_eq!((after.0.title.as_str(), &after.1), ("Sum", &before.1));

    // At most 50 cases.
    let many: Vec<Vec<(&str, &str)>> = (0..51)
        .map(|_| vec![("input", "1"), ("expected", "1")])
        .collect();
    let many: Vec<&[(&str, &str)]> = many.iter().map(Vec::as_slice).collect();
    let response = post(&app, &edit, &edit, &fields(&base, &many)).await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(page.contains("A question has at most 50 test cases; this one has 51: remove some."));

    // A language that cannot run here: its note on the form, its cases refused, the question
    // saved once they are gone.
    let go = [
        ("title", "Sum"),
        ("language", "go"),
        ("reference_solution", ""),
    ];
    let one: [&[(&str, &str)]; 1] = [&[("input", "1"), ("expected", "1")]];
    let response = post(&app, &edit, &edit, &fields(&go, &one)).await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(
        page.contains(
            "Test cases need a runnable language: Go programs cannot be run by leverbridge"
        ),
        "{page}"
    );
    assert_eq!(stored(&app, &id).await.1, before.1);
    let response = post(
        &app,
        &edit,
        &edit,
        &fields(&go, &[&[("input", ""), ("expected", "")]]),
    )
    .await;
    assert_eq!(response.status(), 303);
    let (question, cases) = stored(&app, &id).await;
    assert_eq!((question.language.as_str(), cases.len()), ("go", 0));
    assert!(app
        .get_html(&edit)
        .await
        .contains("Test cases need a runnable language: Go programs"));
}

async fn check_solution_shows_each_case_and_saves_nothing(backend: Backend) {
    let app = TestApp::with_admin(backend).await;
    if !sandbox_ready(&app) {
        return;
    }
    let id = add_with_cases(&app, "Sum", &[&[("input", "1 2"), ("expected", "3")]]).await;
    let before = stored(&app, &id).await;
    let edit = format!("/orgs/acme/questions/{id}/edit");
    let base = [
        ("title", "Sum"),
        ("language", "python"),
        ("reference_solution", SUM),
        ("action", "check"),
    ];
    let rows: [&[(&str, &str)]; 5] = [
        &[("input", "1 2"), ("expected", "3")],
        &[("input", "4 5"), ("expected", "10")],
        &[("input", "boom"), ("expected", "0")],
        &[("input", "spin"), ("expected", "0"), ("time_limit", "0.2")],
        &[("input", ""), ("expected", "")],
    ];
    let response = post(&app, &edit, &edit, &fields(&base, &rows)).await;
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    assert!(page.contains("Reference solution: 1 of 4 passed"), "{page}");
    let table = &page[page.find("check-table").unwrap()..page.find("</table>").unwrap()];
    let rows: Vec<&str> = table.split("<tr>").skip(2).collect();
    assert_eq!(rows.len(), 4, "{table}");
    assert!(rows[0].contains("Passed"));
    assert!(rows[1].contains("Wrong answer"));
    assert!(
        rows[1].contains("Expected</span><pre class=\"case-output\">10</pre>"),
        "{}",
        rows[1]
    );
    assert!(rows[1].contains("Got</span><pre class=\"case-output\">9</pre>"));
    assert!(rows[2].contains("Runtime error") && rows[2].contains("exited with code 3"));
    assert!(rows[3].contains("Time limit exceeded"), "{}", rows[3]);
    // Nothing stored: not the solution, not the cases.
    assert_eq!(stored(&app, &id).await.0.reference_solution, "");
    assert_eq!(stored(&app, &id).await.1, before.1);

    // A solution that does not compile fails every case with the compiler's words.
    let cpp = [
        ("title", "Sum"),
        ("language", "cpp"),
        ("reference_solution", "int main( {"),
        ("action", "check"),
    ];
    let response = post(
        &app,
        &edit,
        &edit,
        &fields(&cpp, &[&[("input", "1"), ("expected", "1")]]),
    )
    .await;
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("It did not compile, so every case fails."),
        "{page}"
    );
    assert!(page.contains("Compile error") && page.contains("0 of 1 passed"));

    // Nothing to check: the form says what is missing.
    let empty = [
        ("title", ""),
        ("language", "python"),
        ("reference_solution", ""),
        ("action", "check"),
    ];
    let response = post(
        &app,
        &edit,
        &edit,
        &fields(&empty, &[&[("input", ""), ("expected", "")]]),
    )
    .await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(page.contains("Write a reference solution to check it against the cases."));
    assert!(
        page.contains("Add a case (its input and expected output) to check the solution against.")
    );
    assert!(
        !page.contains("Give the question a title."),
        "a title is not needed to check"
    );
    assert_eq!(stored(&app, &id).await.0.title, "Sum");
}

async fn a_failing_reference_solution_is_refused_and_a_passing_one_saves(backend: Backend) {
    let app = TestApp::with_admin(backend).await;
    if !sandbox_ready(&app) {
        return;
    }
    let id = add_with_cases(&app, "Sum", &[&[("input", "1 2"), ("expected", "3")]]).await;
    let before = stored(&app, &id).await;
    let edit = format!("/orgs/acme/questions/{id}/edit");
    let rows: [&[(&str, &str)]; 2] = [
        &[("input", "1 2"), ("expected", "3")],
        &[("input", "4 5"), ("expected", "9"), ("hidden", "on")],
    ];

    // Saving with a solution that fails a case: refused, the table says why, nothing changes.
    let wrong = "print(3)\n";
    let base = [
        ("title", "Sum of two"),
        ("language", "python"),
        ("reference_solution", wrong),
    ];
    let response = post(&app, &edit, &edit, &fields(&base, &rows)).await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("Not saved: the reference solution fails 1 of the 2 cases"),
        "{page}"
    );
    assert!(page.contains("Reference solution: 1 of 2 passed") && page.contains("Wrong answer"));
    assert_eq!(stored(&app, &id).await.0.title, "Sum");
    assert_eq!(stored(&app, &id).await.0.reference_solution, "");
    assert_eq!(stored(&app, &id).await.1, before.1);

    // A passing one: saved with the cases, and the page says it passed.
    let base = [
        ("title", "Sum of two"),
        ("language", "python"),
        ("reference_solution", SUM),
    ];
    let response = post(&app, &edit, &edit, &fields(&base, &rows)).await;
    assert_eq!(response.status(), 303);
    let page = app.get_html(&location(&response)).await;
    assert!(
        page.contains("Question saved. The reference solution passes all 2 cases."),
        "{page}"
    );
    let (question, cases) = stored(&app, &id).await;
    assert_eq!(question.title, "Sum of two");
    assert_eq!(question.reference_solution, SUM.trim_end());
    assert_eq!(cases.len(), 2);
    assert!(cases[1].hidden);
    // The edit form gives the solution back to its authors.
    assert!(app
        .get_html(&edit)
        .await
        .contains("print(sum(int(w) for w in words))"));
}
