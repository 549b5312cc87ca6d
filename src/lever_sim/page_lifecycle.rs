//! The candidate page's pipeline buttons: archive (or restore), mark hired, delete (after a
//! confirmation page, since nothing brings a deleted candidate back). Each sends Lever's webhooks
//! in the background, as the stage buttons do.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::actions::{self, ActionError, HIRED_REASON};
use super::control::{with_acct, Answer, Data};
use super::error::ControlError;
use super::page::candidate_url;
use super::page_layout::{esc, not_found, page};
use super::state::{Account, Opportunity, Shared};
use super::webhooks;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/accounts/{acct}/opportunities/{id}/archive",
        web::post().to(archive),
    )
    .route(
        "/accounts/{acct}/opportunities/{id}/hire",
        web::post().to(hire),
    )
    .route(
        "/accounts/{acct}/opportunities/{id}/delete",
        web::get().to(confirm_delete),
    )
    .route(
        "/accounts/{acct}/opportunities/{id}/delete",
        web::post().to(delete),
    );
}

/// The buttons, for the candidate's page.
pub(crate) fn buttons_html(acct: &Account, opp: &Opportunity) -> String {
    let url = esc(&candidate_url(acct, opp));
    let archive = match &opp.archived {
        Some(_) => "<button name=\"archived\" value=\"false\">Restore (unarchive)</button>",
        None => "<button name=\"archived\" value=\"true\">Archive</button>",
    };
    let hired = opp
        .archived
        .as_ref()
        .is_some_and(|a| a.reason == HIRED_REASON);
    let hire = if hired {
        "<button disabled>Hired</button>"
    } else {
        "<button>Mark hired</button>"
    };
    format!(
        "<div class=\"lifecycle\"><form class=\"move\" method=\"post\" action=\"{url}/archive\">{archive}</form>\
         <form class=\"move\" method=\"post\" action=\"{url}/hire\">{hire}</form>\
         <form class=\"move\" method=\"get\" action=\"{url}/delete\"><button class=\"danger\">Delete…</button></form></div>"
    )
}

fn action_error(e: ActionError, id: &str) -> ControlError {
    match e {
        ActionError::NoOpportunity => ControlError::not_found(format!("No opportunity {id}")),
        ActionError::Invalid(m) => ControlError::bad_request(m),
    }
}

/// Applies `action`, sends its webhooks in the background and redirects to `to`.
fn act(
    state: Data,
    acct_id: &str,
    id: &str,
    to: String,
    action: impl FnOnce(&mut Account) -> Result<Vec<actions::Event>, ActionError>,
) -> Answer {
    let pending = with_acct(&state, acct_id, |acct| {
        let events = action(acct).map_err(|e| action_error(e, id))?;
        Ok(webhooks::enqueue(acct, events))
    })?;
    let shared: Shared = state.into_inner();
    webhooks::deliver_later(&shared, pending);
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", to))
        .finish())
}

fn back_to(acct_id: &str, id: &str) -> String {
    format!("/_sim/accounts/{acct_id}/opportunities/{id}")
}

#[derive(Deserialize)]
struct ArchiveForm {
    archived: bool,
}

async fn archive(
    state: Data,
    path: web::Path<(String, String)>,
    form: web::Form<ArchiveForm>,
) -> Answer {
    let (acct_id, id) = path.into_inner();
    let reason = form
        .archived
        .then_some("Archived from the simulator's page");
    act(state, &acct_id, &id, back_to(&acct_id, &id), |acct| {
        actions::set_archived(acct, &id, reason)
    })
}

async fn hire(state: Data, path: web::Path<(String, String)>) -> Answer {
    let (acct_id, id) = path.into_inner();
    act(state, &acct_id, &id, back_to(&acct_id, &id), |acct| {
        actions::set_archived(acct, &id, Some(HIRED_REASON))
    })
}

async fn confirm_delete(state: Data, path: web::Path<(String, String)>) -> HttpResponse {
    let (acct_id, id) = path.into_inner();
    let world = state.lock();
    let Some(acct) = world.account(&acct_id) else {
        return not_found(&format!("There is no account {acct_id}."));
    };
    let Some(opp) = acct.opportunity(&id) else {
        return not_found(&format!(
            "The account {} has no opportunity {id}.",
            acct.name
        ));
    };
    let url = esc(&candidate_url(acct, opp));
    let body = format!(
        "<div class=\"candidate-page\"><section class=\"card\"><h2>Delete {name}?</h2>\
         <p>The candidate, their notes, feedback and files are removed from this Lever account for \
         good, and Lever sends <code>candidateDeleted</code> to the webhook. Nothing brings them back.</p>\
         <form class=\"move\" method=\"post\" action=\"{url}/delete\">\
         <button class=\"danger\">Delete {name}</button> <a href=\"{url}\">Cancel</a></form></section></div>",
        name = esc(&opp.name),
    );
    page(
        StatusCode::OK,
        &format!("Delete {} – Lever simulator", opp.name),
        &body,
    )
}

async fn delete(state: Data, path: web::Path<(String, String)>) -> Answer {
    let (acct_id, id) = path.into_inner();
    let to = format!("/_sim/accounts/{acct_id}");
    act(state, &acct_id, &id, to, |acct| {
        actions::delete_opportunity(acct, &id)
    })
}
