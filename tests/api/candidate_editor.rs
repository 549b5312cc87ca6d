//! The editor page as a plain form (no JavaScript): it says honestly when code is saved and
//! what the countdown is, *Submit* asks first on a page that carries the code and stores
//! nothing, and only the confirmed submit hands in exactly what was typed. The page also tells
//! the editor its indentation: the starter code's, else the language's.

use leverbridge::assessments::AssessmentState;

use crate::both_backends;
use crate::candidate::{assessment, invite, page, set_question, snapshots, world};
use crate::helpers::{location, Backend, TestApp};
use crate::lever_world::{LeverAccount, TAG};

both_backends!(
    without_javascript_the_editor_says_when_code_is_saved_and_submit_asks_first,
    the_confirmed_submit_hands_in_exactly_the_code_typed,
    the_editor_indents_like_the_starter_code_or_the_language,
);

/// What a candidate might type: a tab, trailing spaces, markup, quotes, a blank first line
/// (which a textarea drops unless the page guards it) and a browser's `\r\n` breaks.
const TYPED: &str =
    "\r\ndef allow(now):\r\n\tx = '</textarea><b>' & \"q\"  \r\n\treturn True  # <mine> é\r\n";

/// The code inside the page's `<textarea name="code">`, as a browser reads it: line breaks made
/// plain, the one after the start tag dropped, character references decoded.
fn textarea_code(html: &str) -> String {
    let open = html
        .find("name=\"code\"")
        .expect("a code textarea on the page");
    let start = open + html[open..].find('>').unwrap() + 1;
    let end = start + html[start..].find("</textarea>").unwrap();
    let raw = html[start..end].replace("\r\n", "\n");
    let raw = raw.strip_prefix('\n').unwrap_or(&raw);
    raw.replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#38;", "&")
}

async fn without_javascript_the_editor_says_when_code_is_saved_and_submit_asks_first(
    backend: Backend,
) {
    let (app, lever, _clock) = world(backend).await;
    let path = invite(&app, &lever, "Ada Lovelace", &[TAG]).await;
    let candidate = app.as_new_session().await;
    let response = candidate.post_raw(&format!("{path}/start"), &[]).await;
    assert_eq!(response.status(), 303);

    // Honest words for a plain form; the autosave's words wait, hidden, for the script.
    let (status, editor) = page(&candidate, &path).await;
    assert_eq!(status, 200);
    assert!(
        editor
            .contains("Your code is saved when you press <strong>Save now</strong>, and only then"),
        "{editor}"
    );
    assert!(
        editor.contains(
            "<p class=\"help\" data-with-script hidden>Saved every few seconds while you type"
        ),
        "{editor}"
    );
    assert_eq!(editor.matches("Saved every few seconds").count(), 1);
    assert!(
        editor.contains("<span class=\"countdown-value\">Time left at page load: 2 h</span>"),
        "{editor}"
    );
    let buttons = &editor[editor
        .find("<div class=\"pad-buttons\">")
        .expect("the buttons")..];
    let buttons = &buttons[..buttons.find("</div>").unwrap()];
    assert!(
        buttons.contains(">Save now</button>") && buttons.contains(">Submit</button>"),
        "Save and Submit side by side: {buttons}"
    );

    // Submit from the plain form: a page asking first, carrying the code; nothing stored.
    let response = candidate
        .post_raw(&format!("{path}/submit"), &[("code", TYPED)])
        .await;
    assert_eq!(response.status(), 200);
    let asked = response.text().await.unwrap();
    for shown in [
        "<h1>Submit now?</h1>",
        "You cannot change your code afterwards.",
        "Time left at page load: 2 h",
        "name=\"confirmed\" value=\"yes\">Submit now</button>",
        format!("formaction=\"{path}/save\">Save and keep editing</button>").as_str(),
    ] {
        assert!(asked.contains(shown), "{shown}: {asked}");
    }
    assert_eq!(textarea_code(&asked), TYPED.replace("\r\n", "\n"));
    assert!(!asked.contains('\r'), "the code as it will be stored");
    assert!(!asked.contains("</textarea><b>"), "the code is escaped");
    let waiting = assessment(&app, &path).await;
    assert_eq!(waiting.state, AssessmentState::Started);
    assert!(waiting.submitted_at.is_none());
    assert!(
        snapshots(&app, &waiting.id).await.is_empty(),
        "nothing saved"
    );

    // Code that could not be handed in is refused at once, not confirmed first.
    let too_big = "x".repeat(200 * 1024 + 1);
    let response = candidate
        .post_raw(&format!("{path}/submit"), &[("code", &too_big)])
        .await;
    assert_eq!(response.status(), 413);
    assert!(response.text().await.unwrap().contains("at most 200 KB"));
    assert_eq!(
        assessment(&app, &path).await.state,
        AssessmentState::Started
    );
}

async fn the_confirmed_submit_hands_in_exactly_the_code_typed(backend: Backend) {
    let (app, lever, _clock) = world(backend).await;
    let path = invite(&app, &lever, "Ada Lovelace", &[TAG]).await;
    let candidate = app.as_new_session().await;
    let response = candidate.post_raw(&format!("{path}/start"), &[]).await;
    assert_eq!(response.status(), 303);
    let typed = TYPED.replace("\r\n", "\n");

    // "Save and keep editing" keeps the carried code and reopens the editor on it.
    let response = candidate
        .post_raw(&format!("{path}/submit"), &[("code", TYPED)])
        .await;
    let carried = textarea_code(&response.text().await.unwrap());
    let response = candidate
        .post_raw(&format!("{path}/save"), &[("code", &carried)])
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), path);
    let (_, editor) = page(&candidate, &path).await;
    assert_eq!(textarea_code(&editor), typed);
    let started = assessment(&app, &path).await;
    assert_eq!(started.state, AssessmentState::Started);

    // Submit again, then Submit now: the code the confirmation carried is the submission.
    let response = candidate
        .post_raw(
            &format!("{path}/submit"),
            &[("code", &textarea_code(&editor))],
        )
        .await;
    let carried = textarea_code(&response.text().await.unwrap());
    let response = candidate
        .post_raw(
            &format!("{path}/submit"),
            &[("code", &carried), ("confirmed", "yes")],
        )
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), path);
    let submitted = assessment(&app, &path).await;
    assert_eq!(submitted.state, AssessmentState::Submitted);
    assert!(!submitted.time_ran_out);
    let kept = snapshots(&app, &submitted.id).await;
    assert_eq!(kept.last().map(|s| s.code.as_str()), Some(typed.as_str()));
    let (_, done) = page(&candidate, &path).await;
    assert!(done.contains("can no longer be changed"), "{done}");

    // Asking again once it is in: the page says so, and asks nothing.
    let response = candidate
        .post_raw(&format!("{path}/submit"), &[("code", "more")])
        .await;
    assert_eq!(response.status(), 409);
    let body = response.text().await.unwrap();
    assert!(
        body.contains("Already submitted") && !body.contains("Submit now?"),
        "{body}"
    );
}

/// The `data-indent-unit` the editor page of a new invitation carries.
async fn indent_unit_shown(app: &TestApp, lever: &LeverAccount, name: &str) -> String {
    let path = invite(app, lever, name, &[TAG]).await;
    let candidate = app.as_new_session().await;
    let response = candidate.post_raw(&format!("{path}/start"), &[]).await;
    assert_eq!(response.status(), 303);
    assert_eq!(app.drain().await, 1, "the start's progress tag");
    let (_, editor) = page(&candidate, &path).await;
    let marker = "data-indent-unit=\"";
    let start = editor.find(marker).expect("the indent unit") + marker.len();
    editor[start..start + editor[start..].find('"').unwrap()].to_owned()
}

async fn the_editor_indents_like_the_starter_code_or_the_language(backend: Backend) {
    let (app, lever, _clock) = world(backend).await;
    // The world's Python starter code indents by four spaces.
    assert_eq!(indent_unit_shown(&app, &lever, "Ada Lovelace").await, "4");
    let cases = [
        ("python", "def f():\n  if x:\n    return 1\n", "2"),
        ("go", "func main() {\n\tprintln(1)\n}\n", "tab"),
        (
            "java",
            "/**\n * Counts.\n */\nclass A {\n  int n;\n}\n",
            "2",
        ),
        // Starter code that indents nothing: the language's own style.
        ("python", "import sys\n", "4"),
        ("javascript", "", "2"),
        ("cpp", "#include <iostream>\n", "4"),
        ("go", "", "tab"),
    ];
    for (i, (language, starter, unit)) in cases.into_iter().enumerate() {
        set_question(&app, "Rate limiter", language, starter).await;
        let shown = indent_unit_shown(&app, &lever, &format!("Candidate {i}")).await;
        assert_eq!(shown, unit, "{language}: {starter:?}");
    }
}
