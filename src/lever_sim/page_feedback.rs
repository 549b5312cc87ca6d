//! The Feedback section of a candidate's page: each form with its template's name, author
//! and completion time, and its answers as label → value rows in the template's order.

use std::fmt::Write;

use serde_json::Value;

use super::page_candidate::{linkify, user_name};
use super::page_layout::{esc, time, DASH};
use super::state::{Account, Feedback, Opportunity};

pub(crate) fn feedback_html(acct: &Account, opp: &Opportunity) -> String {
    let count = opp.feedback.len();
    let mut s = format!("<section class=\"card\" id=\"feedback\"><h3>Feedback ({count})</h3>");
    if count == 0 {
        s.push_str("<p class=\"muted empty\">No feedback yet.</p>");
    }
    let mut forms: Vec<&Feedback> = opp.feedback.iter().rev().collect();
    forms.sort_by_key(|f| std::cmp::Reverse(f.completed_at.unwrap_or(f.created_at)));
    for form in forms {
        s.push_str(&form_html(acct, form));
    }
    s.push_str("</section>");
    s
}

fn form_html(acct: &Account, form: &Feedback) -> String {
    let template = acct.template(&form.template_id);
    let title = template.map_or_else(
        || format!("Unknown template <code>{}</code>", esc(&form.template_id)),
        |t| esc(&t.text),
    );
    let completed = form.completed_at.map_or_else(
        || "<span>not completed</span>".to_string(),
        |at| format!("<span>completed {}</span>", time(at)),
    );
    let value_of = |id: &Value| {
        form.field_values
            .iter()
            .find(|v| v.get("id") == Some(id))
            .and_then(|v| v.get("value"))
    };
    let mut rows = String::new();
    match template {
        Some(t) => {
            for field in &t.fields {
                let label = field["text"].as_str().unwrap_or("(unnamed field)");
                let kind = field["type"].as_str().unwrap_or_default();
                row(&mut rows, label, kind, value_of(&field["id"]));
            }
        }
        // The template is gone: show what was sent, labelled by field id.
        None => {
            for fv in &form.field_values {
                let label = fv["id"].as_str().unwrap_or("(no id)");
                row(&mut rows, label, "", fv.get("value"));
            }
        }
    }
    format!(
        "<article class=\"feedback\" id=\"feedback-{id}\"><div class=\"meta\"><b class=\"template\">{title}</b>\
         <span>by {author}</span>{completed}</div><table class=\"fields\">{rows}</table></article>",
        id = esc(&form.id),
        author = user_name(acct, form.author_id.as_deref()),
    )
}

fn row(rows: &mut String, label: &str, kind: &str, value: Option<&Value>) {
    let _ = write!(
        rows,
        "<tr><th>{}</th><td>{}</td></tr>",
        esc(label),
        value_html(kind, value.unwrap_or(&Value::Null))
    );
}

/// One answer as a reader would say it: a score-system or dropdown value is already its
/// option text; a thumbs score reads "3 / 4"; a date is a date; nothing is a dash.
fn value_html(kind: &str, value: &Value) -> String {
    match value {
        Value::Null => DASH.into(),
        Value::String(s) if s.trim().is_empty() => DASH.into(),
        Value::String(s) if kind == "yes-no" => match s.as_str() {
            "yes" => "Yes".into(),
            "no" => "No".into(),
            other => esc(other),
        },
        Value::String(s) => linkify(s),
        Value::Number(n) => match (kind, n.as_i64()) {
            ("score", Some(n)) => format!("{n} / 4"),
            ("date", Some(ms)) => time(ms),
            _ => n.to_string(),
        },
        Value::Bool(b) => if *b { "Yes" } else { "No" }.into(),
        Value::Array(items) if items.is_empty() => DASH.into(),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => esc(s),
                // A scorecard line: {text, score}.
                Value::Object(o) => {
                    let text = o.get("text").and_then(Value::as_str).unwrap_or("");
                    let score = o
                        .get("score")
                        .map_or(DASH.into(), |s| value_html("score", s));
                    format!("{}: {score}", esc(text))
                }
                other => esc(&other.to_string()),
            })
            .collect::<Vec<_>>()
            .join("\n"),
        Value::Object(_) => esc(&value.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn answers_read_as_a_reader_would_say_them() {
        assert_eq!(value_html("score-system", &json!("3 - Hire")), "3 - Hire");
        assert_eq!(value_html("score", &json!(3)), "3 / 4");
        assert_eq!(value_html("text", &json!(87.5)), "87.5");
        assert_eq!(value_html("yes-no", &json!("no")), "No");
        assert_eq!(value_html("textarea", &json!("  ")), DASH);
        assert_eq!(value_html("text", &Value::Null), DASH);
        assert_eq!(value_html("textarea", &json!("a\n<b>")), "a\n&lt;b&gt;");
    }
}
