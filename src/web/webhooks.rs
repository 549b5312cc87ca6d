//! Webhooks: the URL to paste into Lever, one signature token per event, delivery health.

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use askama::Template;

use super::auth::{AdminPage, OrgPage, OrgReader};
use super::confirm::{Confirmation, Confirmed};
use super::csrf::CsrfForm;
use super::layout::{Chrome, Nav};
use super::{render, render_invalid, see_other, WebError};
use crate::crypto::last_four;
use crate::db::webhooks::{token_context, EventStats};
use crate::db::{self, DbError};
use crate::domain::{webhook_event, WebhookEventKind, WEBHOOK_EVENTS};

#[derive(Template)]
#[template(path = "webhooks.html")]
struct WebhooksPage {
    chrome: Chrome,
    url: String,
    /// When Lever's Verify connection request last reached this URL, for whichever webhook.
    verified: Option<String>,
    events: Vec<EventRow>,
    /// Some webhooks were created in Lever by leverbridge (an OAuth connection).
    any_managed: bool,
}

struct EventRow {
    kind: &'static WebhookEventKind,
    token_last4: Option<String>,
    token_updated: Option<String>,
    accepted: i64,
    rejected: i64,
    last: Option<(String, bool)>,
    verified: Option<String>,
    /// No verification is tied to this webhook (by its token), but one reached the URL while
    /// this webhook had no token saved: most likely this one's, as Lever's sample names any event.
    verified_at_url: Option<String>,
    error: Option<String>,
    /// When leverbridge created this webhook in Lever itself (OAuth).
    managed_since: Option<String>,
}

fn when(t: chrono::NaiveDateTime) -> String {
    t.format("%-d %b %Y %H:%M:%S UTC").to_string()
}

async fn page(org: &OrgPage, errors: HashMap<String, String>) -> Result<WebhooksPage, WebError> {
    let org_id = org.org.id.clone();
    let (key, tokens, stats, managed) = org
        .state
        .db
        .run(move |conn| -> Result<_, DbError> {
            let key = db::webhooks::endpoint_key(conn, &org_id)?;
            let tokens = db::webhooks::tokens(conn, &org_id)?;
            let mut stats = HashMap::new();
            for kind in WEBHOOK_EVENTS {
                stats.insert(kind.name, db::webhooks::stats(conn, &org_id, kind.name)?);
            }
            let managed = db::webhooks::managed(conn, &org_id)?;
            Ok((key, tokens, stats, managed))
        })
        .await?;
    let verified_at_url = stats.values().filter_map(|s| s.last_verification).max();
    let events = WEBHOOK_EVENTS
        .iter()
        .map(|kind| {
            let token = tokens.iter().find(|t| t.event == kind.name);
            let s: EventStats = stats.get(kind.name).cloned().unwrap_or_default();
            EventRow {
                verified_at_url: match (s.last_verification, token) {
                    (None, None) => verified_at_url.map(when),
                    _ => None,
                },
                kind,
                token_last4: token.map(|t| t.token_last4.clone()),
                token_updated: token.map(|t| when(t.updated_at)),
                accepted: s.accepted,
                rejected: s.rejected,
                last: s.last.map(|(at, valid)| (when(at), valid)),
                verified: s.last_verification.map(when),
                error: errors.get(kind.name).cloned(),
                managed_since: managed
                    .iter()
                    .find(|m| m.event == kind.name)
                    .map(|m| when(m.created_at)),
            }
        })
        .collect();
    Ok(WebhooksPage {
        chrome: Chrome::new(org, "Webhooks", Nav::Webhooks),
        url: {
            // The key works as a password for deliveries: support staff see only its end.
            let shown = if org.role == crate::domain::Role::Support {
                format!("••••••••{}", crate::crypto::last_four(&key))
            } else {
                key
            };
            org.state
                .settings
                .absolute_url(&format!("/webhooks/lever/{shown}"))
        },
        verified: verified_at_url.map(when),
        any_managed: !managed.is_empty(),
        events,
    })
}

pub async fn show(org: OrgReader) -> Result<HttpResponse, WebError> {
    render(&page(&org, HashMap::new()).await?)
}

/// Saves the tokens typed; a blank field keeps the saved token.
pub async fn save_tokens(
    org: AdminPage,
    CsrfForm(form): CsrfForm<HashMap<String, String>>,
) -> Result<HttpResponse, WebError> {
    let mut errors = HashMap::new();
    let mut updates = Vec::new();
    for kind in WEBHOOK_EVENTS {
        let Some(raw) = form.get(&format!("token_{}", kind.name)) else {
            continue;
        };
        let token = raw.trim();
        if token.is_empty() {
            continue;
        }
        if token.len() < 8
            || token.len() > 256
            || token.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            errors.insert(
                kind.name.to_owned(),
                "That does not look like a signature token: copy the whole value of Lever's “Signature token” field.".to_owned(),
            );
            continue;
        }
        let sealed = org
            .state
            .settings
            .secret_key
            .seal(&token_context(&org.org.id, kind.name), token);
        updates.push((kind, sealed, last_four(token)));
    }
    if !errors.is_empty() {
        let page = page(&org, errors).await?;
        return render_invalid(&page);
    }
    if updates.is_empty() {
        org.flash("info", "No token was entered; nothing was changed.");
        return Ok(see_other(&org.url("/webhooks")));
    }
    let org_id = org.org.id.clone();
    let labels: Vec<&str> = updates.iter().map(|(kind, _, _)| kind.label).collect();
    org.state
        .db
        .run(move |conn| {
            db::connection::write_transaction(conn, |conn| -> Result<(), DbError> {
                for (kind, sealed, last4) in &updates {
                    db::webhooks::set_token(conn, &org_id, kind.name, sealed, last4)?;
                }
                Ok(())
            })
        })
        .await?;
    org.state.webhook_keys.forget_org(&org.org.id);
    org.flash(
        "success",
        format!("Signature token saved for {}.", labels.join(", ")),
    );
    Ok(see_other(&org.url("/webhooks")))
}

pub async fn clear_token(
    org: AdminPage,
    event: web::Path<(String, String)>,
    CsrfForm(form): CsrfForm<Confirmed>,
) -> Result<HttpResponse, WebError> {
    let kind = webhook_event(&event.1).ok_or(WebError::NotFound)?;
    if !form.is_confirmed() {
        return Confirmation {
            chrome: Chrome::new(&org, "Remove signature token", Nav::Webhooks),
            question: format!("Remove the {} signature token?", kind.label),
            consequence: format!(
                "leverbridge will refuse every {} delivery from Lever (they cannot be verified) \
                 until you paste the webhook's token again.",
                kind.label
            ),
            action: org.url(&format!("/webhooks/tokens/{}/clear", kind.name)),
            button: "Remove token".into(),
            cancel: org.url("/webhooks"),
        }
        .answer();
    }
    let org_id = org.org.id.clone();
    org.state
        .db
        .run(move |conn| {
            db::webhooks::clear_token(conn, &org_id, kind.name).map_err(WebError::from)
        })
        .await?;
    org.state.webhook_keys.forget_org(&org.org.id);
    org.flash(
        "success",
        format!(
            "Signature token removed for {}: its deliveries are now refused.",
            kind.label
        ),
    );
    Ok(see_other(&org.url("/webhooks")))
}

pub async fn rotate(
    org: AdminPage,
    CsrfForm(form): CsrfForm<Confirmed>,
) -> Result<HttpResponse, WebError> {
    if !form.is_confirmed() {
        return Confirmation {
            chrome: Chrome::new(&org, "Rotate webhook URL", Nav::Webhooks),
            question: "Issue a new webhook URL?".into(),
            consequence: "The current URL stops working at once: Lever's webhooks fail (and \
                 candidates get no assessment) until you paste the new URL into each webhook in \
                 Lever. Use this if the URL has leaked."
                .into(),
            action: org.url("/webhooks/rotate"),
            button: "Rotate URL".into(),
            cancel: org.url("/webhooks"),
        }
        .answer();
    }
    let org_id = org.org.id.clone();
    let (managed, connection) = org
        .state
        .db
        .run(move |conn| -> Result<_, WebError> {
            db::webhooks::rotate_endpoint_key(conn, &org_id)?;
            Ok((
                db::webhooks::managed(conn, &org_id)?,
                db::lever::connection(conn, &org_id)?,
            ))
        })
        .await?;
    org.state.webhook_keys.forget_org(&org.org.id);
    if managed.is_empty() || !connection.is_some_and(|c| c.is_oauth()) {
        org.flash("success", "A new webhook URL was issued; the old one stopped working. Paste the new URL into each webhook in Lever.");
        return Ok(see_other(&org.url("/webhooks")));
    }
    // leverbridge's own webhooks follow the new URL: the old ones are replaced in Lever.
    let base = org.state.settings.absolute_url("/webhooks/lever/");
    let registration =
        crate::connection::register_webhooks(&org.state.db, &org.state.lever, &org.org.id, &base)
            .await;
    org.state.webhook_keys.forget_org(&org.org.id);
    match registration.failed {
        None => org.flash("success", format!("A new webhook URL was issued and leverbridge's {} webhooks in Lever now use it; the old URL stopped working.", registration.created.len() + registration.existing.len())),
        Some(why) => org.flash("error", format!("A new webhook URL was issued, but leverbridge could not move its webhooks in Lever to it ({why}). Connect again with Add to Lever, or set the URL in Lever by hand.")),
    }
    Ok(see_other(&org.url("/webhooks")))
}
