//! `/v1/opportunities`: read, list, move between stages, tags and links.

use actix_web::HttpResponse;
use serde_json::Value;

use super::actions::{edit_list, move_stage, ActionError};
use super::api::{ok_data, string_list, with_account, Ctx};
use super::auth::check_perform_as;
use super::error::ApiError;
use super::paging::page;
use super::state::{Account, Opportunity, Shared};
use super::webhooks;
use super::wire::{application_json, opportunity_json, Expand};

pub(crate) fn find<'a>(acct: &'a Account, id: &str) -> Result<&'a Opportunity, ApiError> {
    acct.opportunity(id)
        .ok_or_else(|| ApiError::not_found("Opportunity", id))
}

pub(crate) fn find_mut<'a>(
    acct: &'a mut Account,
    id: &str,
) -> Result<&'a mut Opportunity, ApiError> {
    acct.opportunity_mut(id)
        .ok_or_else(|| ApiError::not_found("Opportunity", id))
}

fn expand(ctx: &Ctx) -> Expand {
    Expand::parse(&ctx.query.all("expand"))
}

pub(crate) fn get(state: &Shared, ctx: &Ctx, id: &str) -> Result<HttpResponse, ApiError> {
    with_account(state, ctx, |acct| {
        let opp = find(acct, id)?;
        Ok(ok_data(opportunity_json(
            acct,
            opp,
            expand(ctx),
            &state.base_url,
        )))
    })
}

pub(crate) fn list(state: &Shared, ctx: &Ctx) -> Result<HttpResponse, ApiError> {
    let q = &ctx.query;
    let archived = match q.first("archived") {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Invalid archived: {other} (true or false)"
            )))
        }
    };
    let tags = q.raw_all("tag");
    let stages = q.raw_all("stage_id");
    let postings = q.raw_all("posting_id");
    let emails = q.raw_all("email");
    let contacts = q.raw_all("contact_id");
    let matches = |o: &Opportunity| {
        (tags.is_empty() || o.tags.iter().any(|t| tags.contains(&t.as_str())))
            && (stages.is_empty() || stages.contains(&o.stage_id.as_str()))
            && (postings.is_empty()
                || o.applications
                    .iter()
                    .any(|a| postings.contains(&a.posting_id.as_str())))
            && (emails.is_empty() || o.emails.iter().any(|e| emails.contains(&e.as_str())))
            && (contacts.is_empty() || contacts.contains(&o.contact_id.as_str()))
            && archived.is_none_or(|want| want == o.archived.is_some())
    };
    with_account(state, ctx, |acct| {
        let items = acct
            .opportunities
            .iter()
            .filter(|o| matches(o))
            .filter(|o| ctx.confidential_access || !o.is_confidential())
            .map(|o| opportunity_json(acct, o, expand(ctx), &state.base_url))
            .collect();
        Ok(HttpResponse::Ok().json(page(items, q)?))
    })
}

pub(crate) fn applications(state: &Shared, ctx: &Ctx, id: &str) -> Result<HttpResponse, ApiError> {
    with_account(state, ctx, |acct| {
        let opp = find(acct, id)?;
        let items = opp
            .applications
            .iter()
            .map(|app| application_json(opp, app))
            .collect();
        Ok(HttpResponse::Ok().json(page(items, &ctx.query)?))
    })
}

/// `PUT /opportunities/:id/stage {"stage": ID}`; the webhook goes out in the background.
pub(crate) fn put_stage(
    state: &Shared,
    ctx: &Ctx,
    id: &str,
    body: Value,
) -> Result<HttpResponse, ApiError> {
    let (response, pending) = with_account(state, ctx, |acct| {
        find(acct, id)?;
        let user = check_perform_as(acct, ctx.perform_as(), false)?;
        let stage = body
            .get("stage")
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::bad_request("Missing required field: stage"))?;
        let events = move_stage(acct, id, stage, user.as_deref()).map_err(|e| match e {
            ActionError::NoOpportunity => ApiError::not_found("Opportunity", id),
            ActionError::Invalid(message) => ApiError::bad_request(message),
        })?;
        let pending = webhooks::enqueue(acct, events);
        let opp = find(acct, id)?;
        Ok((
            ok_data(opportunity_json(
                acct,
                opp,
                Expand::default(),
                &state.base_url,
            )),
            pending,
        ))
    })?;
    webhooks::deliver_later(state, pending);
    Ok(response)
}

/// `addTags`, `removeTags`, `addLinks`, `removeLinks`: `{"tags"|"links": [...]}` → the opportunity.
pub(crate) fn edit_tags_or_links(
    state: &Shared,
    ctx: &Ctx,
    id: &str,
    action: &str,
    body: Value,
) -> Result<HttpResponse, ApiError> {
    with_account(state, ctx, |acct| {
        find(acct, id)?;
        check_perform_as(acct, ctx.perform_as(), false)?;
        let field = if action.ends_with("Tags") {
            "tags"
        } else {
            "links"
        };
        let items = string_list(&body, field)?;
        if items.iter().any(|i| i.trim().is_empty()) {
            return Err(ApiError::bad_request(format!(
                "{field} must not contain empty strings"
            )));
        }
        let opp = find_mut(acct, id)?;
        let list = if field == "tags" {
            &mut opp.tags
        } else {
            &mut opp.links
        };
        if action.starts_with("add") {
            edit_list(list, &items, &[]);
        } else {
            edit_list(list, &[], &items);
        }
        opp.updated_at = super::state::now_ms();
        let opp = find(acct, id)?;
        Ok(ok_data(opportunity_json(
            acct,
            opp,
            Expand::default(),
            &state.base_url,
        )))
    })
}
