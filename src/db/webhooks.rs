//! The webhook endpoint key, signature tokens, and every delivery received.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{seen_tokens, webhook_endpoints, webhook_events, webhook_tokens};
use super::DbConn;

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

pub fn clear_token(conn: &mut DbConn, org_id: &str, event: &str) -> QueryResult<usize> {
    diesel::delete(webhook_tokens::table.find((org_id, event))).execute(conn)
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_events)]
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
    /// `rejected`, `verification`, `duplicate`, `queued`, `recorded`, `fired`, `ignored`,
    /// `waiting` or `failed`.
    pub status: String,
    /// What happened, in words.
    pub outcome: String,
    pub configuration_id: Option<String>,
    pub body: String,
}

/// Inserts many events in one statement.
pub fn insert_events(conn: &mut DbConn, events: &[WebhookEvent]) -> QueryResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    match conn {
        DbConn::Sqlite(c) => diesel::insert_into(webhook_events::table)
            .values(events)
            .execute(c)?,
        DbConn::Pg(c) => diesel::insert_into(webhook_events::table)
            .values(events)
            .execute(c)?,
    };
    Ok(())
}

#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = seen_tokens)]
pub struct SeenToken {
    pub org_id: String,
    pub token: String,
    /// The event that first brought this token.
    pub event_id: String,
}

/// Which of these delivery tokens an organization accepted before, with the first event of each.
/// (Filtered by organization first, so the lookup uses the `(org_id, token)` key.)
pub fn seen(conn: &mut DbConn, org_id: &str, tokens: &[String]) -> QueryResult<Vec<SeenToken>> {
    if tokens.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(String, String)> = seen_tokens::table
        .filter(seen_tokens::org_id.eq(org_id))
        .filter(seen_tokens::token.eq_any(tokens))
        .select((seen_tokens::token, seen_tokens::event_id))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(token, event_id)| SeenToken {
            org_id: org_id.to_owned(),
            token,
            event_id,
        })
        .collect())
}

/// Claims delivery tokens for these events; returns the ones claimed here. A token claimed
/// before, or by a concurrent transaction (PostgreSQL waits for it to finish), is not returned:
/// its delivery is a duplicate.
pub fn claim_tokens(
    conn: &mut DbConn,
    rows: &[SeenToken],
) -> QueryResult<HashSet<(String, String)>> {
    if rows.is_empty() {
        return Ok(HashSet::new());
    }
    match conn {
        DbConn::Pg(c) => Ok(diesel::insert_into(seen_tokens::table)
            .values(rows)
            .on_conflict_do_nothing()
            .returning((seen_tokens::org_id, seen_tokens::token))
            .get_results::<(String, String)>(c)?
            .into_iter()
            .collect()),
        // One writer per SQLite database (see `intake`): what is not there yet is ours.
        DbConn::Sqlite(_) => {
            let mut fresh: Vec<SeenToken> = Vec::new();
            let mut by_org: HashMap<&str, Vec<String>> = HashMap::new();
            for row in rows {
                by_org
                    .entry(row.org_id.as_str())
                    .or_default()
                    .push(row.token.clone());
            }
            let mut taken = HashSet::new();
            for (org_id, tokens) in by_org {
                taken.extend(
                    seen(conn, org_id, &tokens)?
                        .into_iter()
                        .map(|s| (s.org_id, s.token)),
                );
            }
            fresh.extend(
                rows.iter()
                    .filter(|r| !taken.contains(&(r.org_id.clone(), r.token.clone())))
                    .cloned(),
            );
            let DbConn::Sqlite(c) = conn else {
                unreachable!()
            };
            diesel::insert_into(seen_tokens::table)
                .values(&fresh)
                .execute(c)?;
            Ok(fresh.into_iter().map(|r| (r.org_id, r.token)).collect())
        }
    }
}

pub fn set_outcome(
    conn: &mut DbConn,
    event_id: &str,
    status: &str,
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

pub fn event(conn: &mut DbConn, org_id: &str, id: &str) -> QueryResult<Option<WebhookEvent>> {
    webhook_events::table
        .filter(webhook_events::org_id.eq(org_id))
        .filter(webhook_events::id.eq(id))
        .select(WebhookEvent::as_select())
        .first(conn)
        .optional()
}

/// A page of events, newest first.
pub fn events_page(
    conn: &mut DbConn,
    org_id: &str,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<WebhookEvent>> {
    webhook_events::table
        .filter(webhook_events::org_id.eq(org_id))
        .order((
            webhook_events::received_at.desc(),
            webhook_events::id.desc(),
        ))
        .offset(offset)
        .limit(limit)
        .select(WebhookEvent::as_select())
        .load(conn)
}

/// Per event name: what the Webhooks page shows.
#[derive(Clone, Debug, Default)]
pub struct EventStats {
    pub accepted: i64,
    pub rejected: i64,
    pub last: Option<(NaiveDateTime, bool)>,
    pub last_verification: Option<NaiveDateTime>,
}

pub fn stats(conn: &mut DbConn, org_id: &str, event: &str) -> QueryResult<EventStats> {
    let base = || {
        webhook_events::table
            .filter(webhook_events::org_id.eq(org_id))
            .filter(webhook_events::event.eq(event))
    };
    let rejected = base()
        .filter(webhook_events::status.eq("rejected"))
        .count()
        .get_result(conn)?;
    let total: i64 = base().count().get_result(conn)?;
    let last = base()
        .order(webhook_events::received_at.desc())
        .select((webhook_events::received_at, webhook_events::signature_valid))
        .first(conn)
        .optional()?;
    let last_verification = base()
        .filter(webhook_events::status.eq("verification"))
        .order(webhook_events::received_at.desc())
        .select(webhook_events::received_at)
        .first(conn)
        .optional()?;
    Ok(EventStats {
        accepted: total - rejected,
        rejected,
        last,
        last_verification,
    })
}
