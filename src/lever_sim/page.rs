//! The `/_sim` pages: the demo's stand-in for Lever's own screens. Plain server-rendered
//! HTML, no JavaScript. The account page lists candidates compactly, with a form button per
//! stage; each candidate's notes, feedback and files are on its own page (`page_candidate`);
//! the apps connected through OAuth close it (`page_oauth`).

use std::fmt::Write;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::actions;
use super::control::{with_acct, Answer, Data};
use super::error::ControlError;
use super::page_candidate;
use super::page_layout::{esc, not_found, page, time, DASH};
use super::page_mailbox;
use super::page_oauth;
use super::state::{Account, Delivery, Opportunity, Shared, World};
use super::webhooks;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("", web::get().to(all_accounts))
        .route("/", web::get().to(all_accounts))
        .route("/accounts/{acct}", web::get().to(one_account))
        .route("/mailbox", web::get().to(page_mailbox::show))
        .route(
            "/accounts/{acct}/opportunities/{id}",
            web::get().to(page_candidate::show),
        )
        .route(
            "/accounts/{acct}/opportunities/{id}/move",
            web::post().to(move_form),
        )
        .route(
            "/accounts/{acct}/opportunities/{id}/tags",
            web::post().to(page_candidate::edit_tags),
        )
        .route("/accounts/{acct}/stages", web::post().to(add_stage))
        .route(
            "/accounts/{acct}/opportunities/{id}/files/{file_id}",
            web::get().to(page_candidate::file),
        )
        .configure(super::page_lifecycle::routes)
        .configure(page_oauth::routes);
}

const TITLE: &str = "Lever simulator";

/// Where a candidate's own page is.
pub(crate) fn candidate_url(acct: &Account, opp: &Opportunity) -> String {
    format!("/_sim/accounts/{}/opportunities/{}", acct.id, opp.id)
}

async fn all_accounts(state: Data) -> HttpResponse {
    let world = state.lock();
    let mut body = page_mailbox::link(&state);
    if world.accounts.is_empty() {
        body.push_str(
            "<p>No accounts yet. Create one with <code>POST /_sim/api/accounts</code>.</p>",
        );
    }
    for acct in &world.accounts {
        body.push_str(&account_section(&world, acct, "/_sim"));
    }
    page(StatusCode::OK, TITLE, &body)
}

async fn one_account(state: Data, path: web::Path<String>) -> HttpResponse {
    let world = state.lock();
    let Some(acct) = world.account(&path) else {
        return not_found(&format!("There is no account {}.", path.as_str()));
    };
    let back = format!("/_sim/accounts/{}", acct.id);
    page(
        StatusCode::OK,
        TITLE,
        &format!(
            "<p class=\"crumbs\"><a href=\"/_sim\">All accounts</a></p>{}{}",
            page_mailbox::link(&state),
            account_section(&world, acct, &back)
        ),
    )
}

fn account_section(world: &World, acct: &Account, back: &str) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<section class=\"account\" id=\"acct-{id}\"><h2><a href=\"/_sim/accounts/{id}\">{name}</a></h2>\
         <div class=\"muted chips\"><span>id <code>{id}</code></span><span>{users} users</span>\
         <span>{keys} API keys</span><span><a href=\"/_sim/accounts/{id}#connected-apps\">{apps}</a></span>\
         <span>postings: {postings}</span></div>",
        id = esc(&acct.id),
        name = esc(&acct.name),
        users = acct.users.len(),
        keys = acct.keys.iter().filter(|k| !k.revoked).count(),
        apps = page_oauth::connected_count(&world.oauth, acct),
        postings = acct
            .postings
            .iter()
            .map(|p| format!("<span id=\"posting-{}\">{}</span>", esc(&p.id), esc(&p.text)))
            .collect::<Vec<_>>()
            .join(", "),
    );
    let _ = write!(
        s,
        "<form class=\"stage-add\" method=\"post\" action=\"/_sim/accounts/{id}/stages\">\
         <input type=\"hidden\" name=\"back\" value=\"{back}\">\
         <label>Add a pipeline stage <input name=\"text\" type=\"text\" maxlength=\"100\" required \
         placeholder=\"e.g. CodeScreen Assessment\"></label> <button>Add stage</button></form>",
        id = esc(&acct.id),
        back = esc(back),
    );
    let _ = write!(s, "<h3>Candidates ({})</h3>", acct.opportunities.len());
    if acct.opportunities.is_empty() {
        s.push_str("<p class=\"muted\">No candidates.</p>");
    } else {
        s.push_str(
            "<div class=\"scroll\"><table class=\"candidates stack\"><thead><tr><th>Candidate</th><th>Stage</th><th>Tags</th>\
             <th>Links</th><th>Activity</th><th>Move to</th></tr></thead><tbody>",
        );
        for opp in &acct.opportunities {
            s.push_str(&candidate_row(acct, opp, back));
        }
        s.push_str("</tbody></table></div>");
    }
    s.push_str("<h3>Recent webhook deliveries</h3>");
    if acct.deliveries.is_empty() {
        s.push_str("<p class=\"muted\">None yet.</p>");
    } else {
        s.push_str(
            "<div class=\"scroll\"><table class=\"deliveries stack\"><thead><tr><th>When</th><th>Event</th><th>Status</th>\
             <th>Attempts</th><th>URL</th><th>Last answer</th></tr></thead><tbody>",
        );
        for d in acct.deliveries.iter().rev().take(25) {
            s.push_str(&delivery_row(d));
        }
        s.push_str("</tbody></table></div>");
    }
    s.push_str(&page_oauth::connected_apps_html(&world.oauth, acct));
    s.push_str("</section>");
    s
}

/// The stage's name, or its id when the stage is gone.
pub(crate) fn stage_text<'a>(acct: &'a Account, opp: &'a Opportunity) -> &'a str {
    acct.stage(&opp.stage_id)
        .map_or(opp.stage_id.as_str(), |s| s.text.as_str())
}

/// The candidate's first posting, if it applied to one.
pub(crate) fn posting_text<'a>(acct: &'a Account, opp: &Opportunity) -> Option<&'a str> {
    opp.applications
        .first()
        .and_then(|a| acct.posting(&a.posting_id))
        .map(|p| p.text.as_str())
}

/// Tags as chips, or a dash.
pub(crate) fn tags_html(opp: &Opportunity) -> String {
    if opp.tags.is_empty() {
        return DASH.into();
    }
    opp.tags
        .iter()
        .map(|t| format!("<span class=\"tag\">{}</span>", esc(t)))
        .collect()
}

/// Links as a list that wraps however long a URL is, or a dash.
pub(crate) fn links_html(opp: &Opportunity) -> String {
    if opp.links.is_empty() {
        return DASH.into();
    }
    let items: String = opp
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
    format!("<ul class=\"plain\">{items}</ul>")
}

/// The stage buttons; the move returns to `back`.
pub(crate) fn move_form_html(acct: &Account, opp: &Opportunity, back: &str) -> String {
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
        "<form class=\"move\" method=\"post\" action=\"/_sim/accounts/{acct}/opportunities/{id}/move\">\
         <input type=\"hidden\" name=\"back\" value=\"{back}\">{buttons}</form>",
        acct = esc(&acct.id),
        id = esc(&opp.id),
        back = esc(back),
    )
}

/// "2 notes · 1 feedback · 1 file", each part linking to its section of the candidate page.
fn activity_html(acct: &Account, opp: &Opportunity) -> String {
    let url = esc(&candidate_url(acct, opp));
    let plural = |n: usize, one: &str, many: &str| if n == 1 { one } else { many }.to_string();
    let parts: Vec<String> = [
        (
            opp.notes.len(),
            "notes",
            plural(opp.notes.len(), "note", "notes"),
        ),
        (opp.feedback.len(), "feedback", "feedback".to_string()),
        (
            opp.files.len(),
            "files",
            plural(opp.files.len(), "file", "files"),
        ),
    ]
    .into_iter()
    .filter(|(n, _, _)| *n > 0)
    .map(|(n, anchor, noun)| format!("<a href=\"{url}#{anchor}\">{n} {noun}</a>"))
    .collect();
    if parts.is_empty() {
        DASH.into()
    } else {
        parts.join(" · ")
    }
}

fn candidate_row(acct: &Account, opp: &Opportunity, back: &str) -> String {
    let posting = posting_text(acct, opp).map_or(String::new(), |p| {
        format!("<div class=\"muted\">{}</div>", esc(p))
    });
    let archived = opp.archived.as_ref().map_or(String::new(), |a| {
        format!("<div class=\"archived\">archived: {}</div>", esc(&a.reason))
    });
    format!(
        "<tr id=\"opp-{id}\"><td class=\"candidate wide\"><a class=\"name\" href=\"{url}\">{name}</a>\
         <div class=\"muted\">{email}</div>{posting}{archived}</td>\
         <td class=\"stage\" data-label=\"Stage\">{stage}</td><td class=\"tags\" data-label=\"Tags\">{tags}</td>\
         <td class=\"links\" data-label=\"Links\">{links}</td><td class=\"activity\" data-label=\"Activity\">{activity}</td>\
         <td class=\"move wide\" data-label=\"Move to\">{form}</td></tr>",
        id = esc(&opp.id),
        url = esc(&candidate_url(acct, opp)),
        name = esc(&opp.name),
        email = esc(&opp.emails.join(", ")),
        stage = esc(stage_text(acct, opp)),
        tags = tags_html(opp),
        links = links_html(opp),
        activity = activity_html(acct, opp),
        form = move_form_html(acct, opp, back),
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
        "<tr><td data-label=\"When\">{}</td><td data-label=\"Event\">{}</td>\
         <td class=\"{class}\" data-label=\"Status\">{}</td><td data-label=\"Attempts\">{}</td>\
         <td class=\"url wide\" data-label=\"URL\"><code>{}</code></td>\
         <td class=\"answer wide\" data-label=\"Last answer\">{last}</td></tr>",
        time(d.created_at),
        esc(&d.event),
        d.status.as_str(),
        d.attempts.len(),
        esc(&d.url),
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

#[derive(Deserialize)]
struct StageForm {
    text: String,
    back: Option<String>,
}

/// *Add stage*: a stage added to the pipeline at run time, as an admin does in Lever's
/// settings; it gets a stage button beside every candidate at once.
async fn add_stage(state: Data, path: web::Path<String>, form: web::Form<StageForm>) -> Answer {
    let acct_id = path.into_inner();
    let form = form.into_inner();
    with_acct(&state, &acct_id, |acct| {
        actions::create_stage(acct, form.text.trim(), None, false)
            .map_err(ControlError::bad_request)
    })?;
    let back = form
        .back
        .filter(|b| b.starts_with("/_sim") && !b.contains("//"))
        .unwrap_or_else(|| "/_sim".into());
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", back))
        .finish())
}
