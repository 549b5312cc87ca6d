//! In a real headless Chromium: the candidate's editor indents by the starter code's unit,
//! Tab indents and Escape then Tab leaves the editor for the next control; on a phone (390 px
//! wide) the countdown stays in view as the page scrolls and Submit sits beside Save.

use std::time::Duration;

use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use serde_json::Value;

use crate::browser::{
    browser, click, invited_with_starter_code, wait_for_text, wait_for_the_editor,
};

/// Starter code indented by two spaces, which the editor then indents by, and long enough for
/// the page to scroll on a phone.
fn starter() -> String {
    format!(
        "def allow(now):\n  return True\n{}",
        "# a line to scroll past\n".repeat(60)
    )
}

/// Runs `script` in the page and returns what it returns.
async fn evaluate(client: &Client, script: &str) -> Value {
    client.execute(script, vec![]).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_editor_indents_like_the_starter_code_and_keeps_the_countdown_and_submit_in_reach_on_a_phone(
) {
    let Some((_driver, client)) = browser().await else {
        return;
    };
    let (_app, _, _, link) = invited_with_starter_code(&starter()).await;
    client.set_window_size(390, 844).await.unwrap();
    client.goto(&link).await.unwrap();
    wait_for_text(&client, "Start the test").await;
    click(&client, "form.candidate-start button").await;
    wait_for_the_editor(&client).await;
    let hint = evaluate(
        &client,
        "return document.querySelector('.pad-label [data-with-script]').hidden",
    )
    .await;
    assert_eq!(
        hint,
        Value::Bool(false),
        "the keyboard hint shows with the editor"
    );

    // Tab on the first line indents it by the starter code's two spaces.
    let editor = client.find(Locator::Css(".cm-content")).await.unwrap();
    let keys = format!("{}{}{}{}", Key::Control, Key::Home, Key::Null, Key::Tab);
    editor.send_keys(&keys).await.unwrap();
    let first_line = "return document.querySelector('.cm-line').textContent";
    assert_eq!(evaluate(&client, first_line).await, "  def allow(now):");

    // Escape, then Tab: focus leaves the editor, and the code is unchanged.
    let keys = format!("{}{}", Key::Escape, Key::Tab);
    editor.send_keys(&keys).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let left = evaluate(
        &client,
        "return document.activeElement !== document.body && !document.activeElement.closest('.cm-editor')",
    )
    .await;
    assert_eq!(left, Value::Bool(true), "focus moved past the editor");
    assert_eq!(evaluate(&client, first_line).await, "  def allow(now):");

    // At 390 px: Save and Submit on one line; scrolled far down, the countdown is still in view.
    let buttons = evaluate(
        &client,
        "const [save, submit] = [...document.querySelectorAll('.pad-buttons .btn')]
             .map((b) => b.getBoundingClientRect());
         return [Math.abs(save.top - submit.top) < 1, submit.left >= save.right, submit.right <= innerWidth];",
    )
    .await;
    assert_eq!(
        buttons,
        serde_json::json!([true, true, true]),
        "Save | Submit"
    );
    let countdown = evaluate(
        &client,
        "window.scrollTo(0, document.body.scrollHeight);
         const box = document.getElementById('countdown').getBoundingClientRect();
         return [scrollY > 600, box.top >= 0 && box.bottom <= innerHeight];",
    )
    .await;
    assert_eq!(
        countdown,
        serde_json::json!([true, true]),
        "the countdown in view"
    );
    client.close().await.unwrap();
}
