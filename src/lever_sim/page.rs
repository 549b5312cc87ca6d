//! The `/_sim` page: the demo's stand-in for Lever's own screens. Plain server-rendered
//! HTML, no JavaScript; a form button per stage moves a candidate.

use std::fmt::Write;

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::actions;
use super::control::{with_acct, Answer, Data};
use super::error::ControlError;
use super::state::{Account, Delivery, Opportunity, Shared, World};
use super::webhooks;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("", web::get().to(all_accounts))
        .route("/", web::get().to(all_accounts))
        .route("/accounts/{acct}", web::get().to(one_account))
        .route(
            "/accounts/{acct}/opportunities/{id}/move",
            web::post().to(move_form),
        );
}

const STYLE: &str = "
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f4f5f7;color:#1f2430}
header{background:#2b3a55;color:#fff;padding:14px 28px}header h1{margin:0;font-size:20px}
header p{margin:2px 0 0;opacity:.75;font-size:13px}main{padding:20px 28px;max-width:1400px}
section.account{background:#fff;border:1px solid #dde1e8;border-radius:8px;padding:16px 20px;margin-bottom:24px}
h2{margin:0 0 4px;font-size:18px}h3{font-size:15px;margin:18px 0 8px}
.muted{color:#6b7385;font-size:12px}code{background:#eef0f4;padding:1px 4px;border-radius:3px;font-size:12px}
table{border-collapse:collapse;width:100%}th,td{text-align:left;vertical-align:top;padding:7px 8px;border-bottom:1px solid #eceef2}
th{font-size:12px;text-transform:uppercase;letter-spacing:.03em;color:#6b7385}
header code{background:rgba(255,255,255,.16);color:#fff}td.links{min-width:210px}td.links a{overflow-wrap:anywhere}td.move{min-width:300px}
.tag{white-space:nowrap;display:inline-block;background:#e6efff;color:#2450a6;border-radius:10px;padding:0 8px;margin:1px 2px;font-size:12px}
.stage{font-weight:600}.archived{color:#a33}ul.plain{margin:0;padding-left:16px}
form.move{display:flex;flex-wrap:wrap;gap:4px}
form.move button{font-size:11px;padding:3px 7px;border:1px solid #c5cbd6;background:#fff;border-radius:4px;cursor:pointer}
form.move button:hover{background:#eef3ff}form.move button:disabled{background:#2b3a55;color:#fff;border-color:#2b3a55;cursor:default}
.ok{color:#17803d;font-weight:600}.failed{color:#b42318;font-weight:600}.pending{color:#b25e09;font-weight:600}
.chips>span{margin-right:12px}
";

fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

fn layout(body: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>Lever simulator</title><style>{STYLE}</style></head><body>\
         <header><h1>Lever simulator</h1><p>A fake of Lever's API and webhooks \
         (API at <code>/v1</code>, control API at <code>/_sim/api</code>)</p></header>\
         <main>{body}</main></body></html>"
        ))
}

async fn all_accounts(state: Data) -> HttpResponse {
    let world = state.lock();
    let mut body = String::new();
    if world.accounts.is_empty() {
        body.push_str(
            "<p>No accounts yet. Create one with <code>POST /_sim/api/accounts</code>.</p>",
        );
    }
    for acct in &world.accounts {
        body.push_str(&account_section(acct, "/_sim"));
    }
    layout(&body)
}

async fn one_account(state: Data, path: web::Path<String>) -> Answer {
    let world: std::sync::MutexGuard<'_, World> = state.lock();
    let acct = world
        .account(&path)
        .ok_or_else(|| ControlError::not_found(format!("No account {}", path.as_str())))?;
    let back = format!("/_sim/accounts/{}", acct.id);
    Ok(layout(&format!(
        "<p><a href=\"/_sim\">All accounts</a></p>{}",
        account_section(acct, &back)
    )))
}

fn account_section(acct: &Account, back: &str) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<section class=\"account\" id=\"acct-{id}\"><h2><a href=\"/_sim/accounts/{id}\">{name}</a></h2>\
         <div class=\"muted chips\"><span>id <code>{id}</code></span><span>{users} users</span>\
         <span>{keys} API keys</span><span>postings: {postings}</span></div>",
        id = esc(&acct.id),
        name = esc(&acct.name),
        users = acct.users.len(),
        keys = acct.keys.iter().filter(|k| !k.revoked).count(),
        postings = acct
            .postings
            .iter()
            .map(|p| format!("<span id=\"posting-{}\">{}</span>", esc(&p.id), esc(&p.text)))
            .collect::<Vec<_>>()
            .join(", "),
    );
    let _ = write!(s, "<h3>Candidates ({})</h3>", acct.opportunities.len());
    if acct.opportunities.is_empty() {
        s.push_str("<p class=\"muted\">No candidates.</p>");
    } else {
        s.push_str(
            "<table><tr><th>Candidate</th><th>Stage</th><th>Tags</th><th>Links</th><th>Notes</th>\
             <th>Feedback</th><th>Files</th><th>Move to</th></tr>",
        );
        for opp in &acct.opportunities {
            s.push_str(&candidate_row(acct, opp, back));
        }
        s.push_str("</table>");
    }
    s.push_str("<h3>Recent webhook deliveries</h3>");
    if acct.deliveries.is_empty() {
        s.push_str("<p class=\"muted\">None yet.</p>");
    } else {
        s.push_str(
            "<table><tr><th>When</th><th>Event</th><th>URL</th><th>Status</th><th>Attempts</th>\
             <th>Last answer</th></tr>",
        );
        for d in acct.deliveries.iter().rev().take(25) {
            s.push_str(&delivery_row(d));
        }
        s.push_str("</table>");
    }
    s.push_str("</section>");
    s
}

fn list_or_dash(items: Vec<String>) -> String {
    if items.is_empty() {
        "<span class=\"muted\">–</span>".into()
    } else {
        format!("<ul class=\"plain\">{}</ul>", items.concat())
    }
}

fn candidate_row(acct: &Account, opp: &Opportunity, back: &str) -> String {
    let stage = acct
        .stage(&opp.stage_id)
        .map_or(opp.stage_id.as_str(), |s| s.text.as_str());
    let posting = opp
        .applications
        .first()
        .and_then(|a| acct.posting(&a.posting_id))
        .map_or(String::new(), |p| {
            format!("<div class=\"muted\">{}</div>", esc(&p.text))
        });
    let archived = opp.archived.as_ref().map_or(String::new(), |a| {
        format!("<div class=\"archived\">archived: {}</div>", esc(&a.reason))
    });
    let tags: String = opp
        .tags
        .iter()
        .map(|t| format!("<span class=\"tag\">{}</span>", esc(t)))
        .collect();
    let links = opp
        .links
        .iter()
        .map(|l| {
            let label = l
                .trim_start_matches("https://")
                .trim_start_matches("http://")
                .trim_start_matches("www.");
            format!(
                "<li><a href=\"{}\" rel=\"noopener\">{}</a></li>",
                esc(l),
                esc(label)
            )
        })
        .collect();
    let author = |id: &Option<String>| {
        id.as_deref()
            .and_then(|id| acct.user(id))
            .map_or(String::new(), |u| {
                format!(" <span class=\"muted\">— {}</span>", esc(&u.name))
            })
    };
    let notes = opp
        .notes
        .iter()
        .map(|n| {
            let score = n
                .score
                .map_or(String::new(), |s| format!(" <b>[{s}/4]</b>"));
            format!("<li>{}{score}{}</li>", esc(&n.value), author(&n.author_id))
        })
        .collect();
    let feedback = opp
        .feedback
        .iter()
        .map(|f| {
            let template = acct.template(&f.template_id);
            let rating = template
                .and_then(|t| t.fields.iter().find(|fl| fl["type"] == "score-system"))
                .and_then(|fl| f.field_values.iter().find(|v| v["id"] == fl["id"]))
                .and_then(|v| v["value"].as_str())
                .unwrap_or("");
            let name = template.map_or("Feedback", |t| t.text.as_str());
            format!(
                "<li>{}: <b>{}</b>{}</li>",
                esc(name),
                esc(rating),
                author(&f.author_id)
            )
        })
        .collect();
    let files = opp
        .files
        .iter()
        .map(|f| {
            format!(
                "<li>{} <span class=\"muted\">({} bytes)</span></li>",
                esc(&f.name),
                f.bytes.len()
            )
        })
        .collect();
    let buttons: String = acct
        .stages
        .iter()
        .map(|st| {
            let disabled = if st.id == opp.stage_id {
                " disabled"
            } else {
                ""
            };
            format!(
                "<button name=\"stageId\" value=\"{}\"{disabled}>{}</button>",
                esc(&st.id),
                esc(&st.text)
            )
        })
        .collect();
    format!(
        "<tr id=\"opp-{id}\"><td><b>{name}</b><div class=\"muted\">{email}</div>{posting}{archived}</td>\
         <td class=\"stage\">{stage}</td><td>{tags}</td><td class=\"links\">{links}</td><td>{notes}</td><td>{feedback}</td>\
         <td>{files}</td><td class=\"move\"><form class=\"move\" method=\"post\" action=\"/_sim/accounts/{acct}/opportunities/{id}/move\">\
         <input type=\"hidden\" name=\"back\" value=\"{back}\">{buttons}</form></td></tr>",
        id = esc(&opp.id),
        acct = esc(&acct.id),
        name = esc(&opp.name),
        email = esc(&opp.emails.join(", ")),
        stage = esc(stage),
        links = list_or_dash(links),
        notes = list_or_dash(notes),
        feedback = list_or_dash(feedback),
        files = list_or_dash(files),
        back = esc(back),
    )
}

fn delivery_row(d: &Delivery) -> String {
    let last = d
        .attempts
        .last()
        .map_or("–".to_string(), |a| match (a.status, &a.error) {
            (Some(status), _) => status.to_string(),
            (None, Some(error)) => esc(error),
            (None, None) => "–".into(),
        });
    let class = match d.status.as_str() {
        "succeeded" => "ok",
        other => other,
    };
    format!(
        "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td class=\"{class}\">{}</td><td>{}</td><td>{last}</td></tr>",
        time(d.created_at),
        esc(&d.event),
        esc(&d.url),
        d.status.as_str(),
        d.attempts.len(),
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MoveForm {
    stage_id: String,
    back: Option<String>,
}

/// A stage button: moves the candidate, sends the webhooks in the background, redirects back.
async fn move_form(
    state: Data,
    path: web::Path<(String, String)>,
    form: web::Form<MoveForm>,
) -> Answer {
    let (acct_id, id) = path.into_inner();
    let form = form.into_inner();
    let pending = with_acct(&state, &acct_id, |acct| {
        let events = actions::move_stage(acct, &id, &form.stage_id, None).map_err(|e| match e {
            actions::ActionError::NoOpportunity => {
                ControlError::not_found(format!("No opportunity {id}"))
            }
            actions::ActionError::Invalid(m) => ControlError::bad_request(m),
        })?;
        Ok(webhooks::enqueue(acct, events))
    })?;
    let shared: Shared = state.into_inner();
    webhooks::deliver_later(&shared, pending);
    let back = form
        .back
        .filter(|b| b.starts_with("/_sim") && !b.contains("//"))
        .unwrap_or_else(|| "/_sim".into());
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", format!("{back}#opp-{id}")))
        .finish())
}
