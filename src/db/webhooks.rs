//! The webhook endpoint key, signature tokens, and every delivery received.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::keyset::Cursor;
use super::schema::{
    managed_webhooks, seen_tokens, webhook_endpoints, webhook_event_stats, webhook_events,
    webhook_tokens,
};
use super::DbConn;
use crate::domain::DeliveryStatus;

/// The context a webhook's signature token is sealed under: its organization and event.
pub fn token_context(org_id: &str, event: &str) -> String {
    format!("webhook-token:{org_id}:{event}")
}

/// The organization's endpoint key, created on first use (two first visits at once agree on one).
pub fn endpoint_key(conn: &mut DbConn, org_id: &str) -> QueryResult<String> {
    let existing = webhook_endpoints::table
        .find(org_id)
        .select(webhook_endpoints::endpoint_key)
        .first::<String>(conn)
        .optional()?;
    if let Some(key) = existing {
        return Ok(key);
    }
    let values = (
        webhook_endpoints::org_id.eq(org_id),
        webhook_endpoints::endpoint_key.eq(crate::crypto::random_token(32)),
        webhook_endpoints::rotated_at.eq(super::now()),
    );
    match conn {
        DbConn::Sqlite(c) => diesel::insert_into(webhook_endpoints::table)
            .values(values)
            .on_conflict_do_nothing()
            .execute(c)?,
        DbConn::Pg(c) => diesel::insert_into(webhook_endpoints::table)
            .values(values)
            .on_conflict_do_nothing()
            .execute(c)?,
    };
    webhook_endpoints::table
        .find(org_id)
        .select(webhook_endpoints::endpoint_key)
        .first(conn)
}

/// Issues a new endpoint key; the old URL stops working at once.
pub fn rotate_endpoint_key(conn: &mut DbConn, org_id: &str) -> QueryResult<String> {
    endpoint_key(conn, org_id)?;
    let key = crate::crypto::random_token(32);
    diesel::update(webhook_endpoints::table.find(org_id))
        .set((
            webhook_endpoints::endpoint_key.eq(&key),
            webhook_endpoints::rotated_at.eq(super::now()),
        ))
        .execute(conn)?;
    Ok(key)
}

/// The organization behind an endpoint key, with its sealed tokens.
pub fn org_and_tokens(
    conn: &mut DbConn,
    key: &str,
) -> QueryResult<Option<(String, Vec<SealedToken>)>> {
    let org_id: Option<String> = webhook_endpoints::table
        .filter(webhook_endpoints::endpoint_key.eq(key))
        .select(webhook_endpoints::org_id)
        .first(conn)
        .optional()?;
    match org_id {
        Some(org_id) => {
            let tokens = tokens(conn, &org_id)?;
            Ok(Some((org_id, tokens)))
        }
        None => Ok(None),
    }
}

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = webhook_tokens)]
pub struct SealedToken {
    pub event: String,
    pub token_sealed: String,
    pub token_last4: String,
    pub updated_at: NaiveDateTime,
}

pub fn tokens(conn: &mut DbConn, org_id: &str) -> QueryResult<Vec<SealedToken>> {
    webhook_tokens::table
        .filter(webhook_tokens::org_id.eq(org_id))
        .select(SealedToken::as_select())
        .load(conn)
}

pub fn token(conn: &mut DbConn, org_id: &str, event: &str) -> QueryResult<Option<SealedToken>> {
    webhook_tokens::table
        .find((org_id, event))
        .select(SealedToken::as_select())
        .first(conn)
        .optional()
}

pub fn set_token(
    conn: &mut DbConn,
    org_id: &str,
    event: &str,
    sealed: &str,
    last4: &str,
) -> QueryResult<()> {
    diesel::delete(webhook_tokens::table.find((org_id, event))).execute(conn)?;
    diesel::insert_into(webhook_tokens::table)
        .values((
            webhook_tokens::org_id.eq(org_id),
            webhook_tokens::event.eq(event),
            webhook_tokens::token_sealed.eq(sealed),
            webhook_tokens::token_last4.eq(last4),
            webhook_tokens::updated_at.eq(super::now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// A webhook leverbridge created in Lever (OAuth).
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = managed_webhooks)]
pub struct ManagedWebhook {
    pub event: String,
    pub lever_webhook_id: String,
    pub url: String,
    pub created_at: NaiveDateTime,
}

pub fn managed(conn: &mut DbConn, org_id: &str) -> QueryResult<Vec<ManagedWebhook>> {
    managed_webhooks::table
        .filter(managed_webhooks::org_id.eq(org_id))
        .select(ManagedWebhook::as_select())
        .load(conn)
}

/// Records that leverbridge created `event`'s webhook in Lever as `lever_webhook_id`.
pub fn set_managed(
    conn: &mut DbConn,
    org_id: &str,
    event: &str,
    lever_webhook_id: &str,
    url: &str,
) -> QueryResult<()> {
    diesel::delete(managed_webhooks::table.find((org_id, event))).execute(conn)?;
    diesel::insert_into(managed_webhooks::table)
        .values((
            managed_webhooks::org_id.eq(org_id),
            managed_webhooks::event.eq(event),
            managed_webhooks::lever_webhook_id.eq(lever_webhook_id),
            managed_webhooks::url.eq(url),
            managed_webhooks::created_at.eq(super::now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Forgets the webhooks leverbridge created, and their signature tokens (after deleting them
/// in Lever).
pub fn forget_managed(conn: &mut DbConn, org_id: &str) -> QueryResult<usize> {
    let events: Vec<String> = managed_webhooks::table
        .filter(managed_webhooks::org_id.eq(org_id))
        .select(managed_webhooks::event)
        .load(conn)?;
    diesel::delete(
        webhook_tokens::table
            .filter(webhook_tokens::org_id.eq(org_id))
            .filter(webhook_tokens::event.eq_any(&events)),
    )
    .execute(conn)?;
    diesel::delete(managed_webhooks::table.filter(managed_webhooks::org_id.eq(org_id)))
        .execute(conn)
}

pub fn clear_token(conn: &mut DbConn, org_id: &str, event: &str) -> QueryResult<usize> {
    diesel::delete(webhook_tokens::table.find((org_id, event))).execute(conn)
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_events, treat_none_as_default_value = false)]
pub struct WebhookEvent {
    pub id: String,
    pub org_id: String,
    pub received_at: NaiveDateTime,
    pub event: String,
    pub token: Option<String>,
    pub triggered_at: Option<i64>,
    pub opportunity_id: Option<String>,
    pub to_stage_id: Option<String>,
    pub signature_valid: bool,
    pub status: DeliveryStatus,
    /// What happened, in words.
    pub outcome: String,
    pub configuration_id: Option<String>,
    pub body: String,
    /// The candidate's name as Lever showed it when the delivery's job read the opportunity.
    pub candidate_name: Option<String>,
}

#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = seen_tokens)]
pub struct SeenToken {
    pub org_id: String,
    /// The delivery's `triggeredAt`: signed with the token, so every copy carries both.
    pub triggered_at: i64,
    pub token: String,
    /// The event that first brought this token.
    pub event_id: String,
}

/// When the delivery that first brought this token was received.
pub fn first_received(conn: &mut DbConn, seen: &SeenToken) -> QueryResult<Option<NaiveDateTime>> {
    seen_tokens::table
        .inner_join(webhook_events::table.on(webhook_events::id.eq(seen_tokens::event_id)))
        .filter(seen_tokens::org_id.eq(&seen.org_id))
        .filter(seen_tokens::triggered_at.eq(seen.triggered_at))
        .filter(seen_tokens::token.eq(&seen.token))
        .select(webhook_events::received_at)
        .first(conn)
        .optional()
}

/// Records what became of an event. Never to `rejected` or `verification`: the Webhooks page's
/// tallies (`webhook_event_stats`) count those as the intake stores them.
pub fn set_outcome(
    conn: &mut DbConn,
    event_id: &str,
    status: DeliveryStatus,
    outcome: &str,
    configuration_id: Option<&str>,
) -> QueryResult<()> {
    diesel::update(webhook_events::table.find(event_id))
        .set((
            webhook_events::status.eq(status),
            webhook_events::outcome.eq(outcome),
            webhook_events::configuration_id.eq(configuration_id),
        ))
        .execute(conn)?;
    Ok(())
}

/// Records what became of an event, its status and sentence both from the typed outcome.
pub fn record_outcome(
    conn: &mut DbConn,
    event_id: &str,
    outcome: &crate::domain::event_outcome::EventOutcome,
) -> QueryResult<()> {
    set_outcome(
        conn,
        event_id,
        outcome.status(),
        &outcome.to_string(),
        outcome.configuration_id(),
    )
}

/// Records the candidate's name, read from Lever, for the Events page.
pub fn set_candidate_name(conn: &mut DbConn, event_id: &str, name: &str) -> QueryResult<()> {
    diesel::update(webhook_events::table.find(event_id))
        .set(webhook_events::candidate_name.eq(name))
        .execute(conn)?;
    Ok(())
}

pub fn event(conn: &mut DbConn, org_id: &str, id: &str) -> QueryResult<Option<WebhookEvent>> {
    webhook_events::table
        .filter(webhook_events::org_id.eq(org_id))
        .filter(webhook_events::id.eq(id))
        .select(WebhookEvent::as_select())
        .first(conn)
        .optional()
}

/// Where a page of the Events list starts.
#[derive(Clone, Debug)]
pub enum EventsFrom {
    Newest,
    /// The events received before this one.
    OlderThan(Cursor),
    /// The events received after this one.
    NewerThan(Cursor),
}

/// Up to `limit` of the organization's events, each page read from the index on
/// (org_id, received_at, id) however far back it is. Newest first, except from
/// [`EventsFrom::NewerThan`]: oldest first, starting beside the cursor.
pub fn events_page(
    conn: &mut DbConn,
    org_id: &str,
    from: &EventsFrom,
    limit: i64,
) -> QueryResult<Vec<WebhookEvent>> {
    use webhook_events::{id, received_at};
    let query = webhook_events::table
        .filter(webhook_events::org_id.eq(org_id))
        .select(WebhookEvent::as_select())
        .limit(limit)
        .into_boxed();
    // The bound on `received_at` gives the index range; the rest only drops the ties.
    match from {
        EventsFrom::Newest => query.order((received_at.desc(), id.desc())),
        EventsFrom::OlderThan(c) => query
            .filter(received_at.le(c.at))
            .filter(received_at.lt(c.at).or(id.lt(c.id.clone())))
            .order((received_at.desc(), id.desc())),
        EventsFrom::NewerThan(c) => query
            .filter(received_at.ge(c.at))
            .filter(received_at.gt(c.at).or(id.gt(c.id.clone())))
            .order((received_at.asc(), id.asc())),
    }
    .load(conn)
}

/// The place of the organization's `n`-th newest event (from 0), for an old `?page=N` link:
/// read from the index alone, without the events' rows.
pub fn nth_newest_event(conn: &mut DbConn, org_id: &str, n: i64) -> QueryResult<Option<Cursor>> {
    let place: Option<(NaiveDateTime, String)> = webhook_events::table
        .filter(webhook_events::org_id.eq(org_id))
        .order((
            webhook_events::received_at.desc(),
            webhook_events::id.desc(),
        ))
        .select((webhook_events::received_at, webhook_events::id))
        .offset(n)
        .limit(1)
        .first(conn)
        .optional()?;
    Ok(place.map(|(at, id)| Cursor { at, id }))
}

/// Per event name: what the Webhooks page shows.
#[derive(Clone, Debug, Default)]
pub struct EventStats {
    pub accepted: i64,
    pub rejected: i64,
    pub last: Option<(NaiveDateTime, bool)>,
    pub last_verification: Option<NaiveDateTime>,
}

/// Per organization and event: what one intake writer's batches added to the figures (a row of
/// `webhook_event_stats`, whose rows the Webhooks page adds up).
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_event_stats, treat_none_as_default_value = false)]
pub struct EventTally {
    pub org_id: String,
    pub event: String,
    pub writer: i32,
    pub accepted: i64,
    pub rejected: i64,
    pub last_received_at: NaiveDateTime,
    pub last_signature_valid: bool,
    pub last_verification_at: Option<NaiveDateTime>,
}

impl EventTally {
    /// Counts one more stored event (rejected or not) in this tally.
    pub fn add(
        &mut self,
        received_at: NaiveDateTime,
        signature_valid: bool,
        status: DeliveryStatus,
    ) {
        if status == DeliveryStatus::Rejected {
            self.rejected += 1;
        } else {
            self.accepted += 1;
        }
        if received_at >= self.last_received_at {
            self.last_received_at = received_at;
            self.last_signature_valid = signature_valid;
        }
        if status == DeliveryStatus::Verification {
            self.last_verification_at = self.last_verification_at.max(Some(received_at));
        }
    }
}

/// What the Webhooks page shows for an event: its writers' tallies added up (a few rows, however
/// many deliveries arrived).
pub fn stats(conn: &mut DbConn, org_id: &str, event: &str) -> QueryResult<EventStats> {
    let tallies = webhook_event_stats::table
        .filter(webhook_event_stats::org_id.eq(org_id))
        .filter(webhook_event_stats::event.eq(event))
        .select(EventTally::as_select())
        .load(conn)?;
    let mut stats = EventStats::default();
    for tally in tallies {
        stats.accepted += tally.accepted;
        stats.rejected += tally.rejected;
        if stats.last.is_none_or(|(at, _)| tally.last_received_at > at) {
            stats.last = Some((tally.last_received_at, tally.last_signature_valid));
        }
        stats.last_verification = stats.last_verification.max(tally.last_verification_at);
    }
    Ok(stats)
}
