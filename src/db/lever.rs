//! The organization's Lever connection and the users and stages cached from Lever.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{lever_connections, lever_feedback_templates, lever_stages, lever_users};
use super::DbConn;

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = lever_connections)]
pub struct LeverConnection {
    pub org_id: String,
    pub environment: String,
    pub api_key_sealed: String,
    pub api_key_last4: String,
    /// `connected`, `incomplete` (permissions missing) or `broken` (Lever answered 401).
    pub status: String,
    pub status_message: Option<String>,
    pub missing_permissions: String,
    pub default_user_id: Option<String>,
    pub default_user_name: Option<String>,
    pub connected_by: String,
    pub checked_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    /// `api_key` or `oauth` ("Add to Lever").
    pub auth_kind: String,
    pub access_token_sealed: Option<String>,
    pub refresh_token_sealed: Option<String>,
    pub token_expires_at: Option<NaiveDateTime>,
    pub token_refreshed_at: Option<NaiveDateTime>,
    /// The Lever account an OAuth token is for (from its claims); unknown for an API key.
    pub lever_account_id: Option<String>,
    /// Who authorized an OAuth connection in Lever.
    pub lever_user_id: Option<String>,
    /// Space-separated, as Lever granted them.
    pub granted_scopes: String,
}

impl LeverConnection {
    pub fn is_oauth(&self) -> bool {
        self.auth_kind == "oauth"
    }

    pub fn missing(&self) -> Vec<String> {
        self.missing_permissions
            .split('\n')
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect()
    }

    pub fn is_broken(&self) -> bool {
        self.status == "broken"
    }
}

/// What a successful key test, or a completed authorization, saves.
pub struct NewConnection<'a> {
    pub org_id: &'a str,
    pub environment: &'a str,
    pub auth: NewAuth,
    pub missing: Vec<String>,
    pub connected_by: &'a str,
}

/// How the new connection authenticates, sealed.
pub enum NewAuth {
    ApiKey {
        sealed: String,
        last4: String,
    },
    OAuth {
        access_sealed: String,
        refresh_sealed: Option<String>,
        expires_at: Option<NaiveDateTime>,
        account_id: String,
        user_id: Option<String>,
        scopes: String,
    },
}

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = lever_users)]
pub struct CachedUser {
    pub id: String,
    pub name: String,
    pub email: String,
    pub access_role: String,
    pub active: bool,
}

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = lever_stages)]
pub struct CachedStage {
    pub id: String,
    pub text: String,
    pub position: i32,
    pub refreshed_at: NaiveDateTime,
}

pub fn connection(conn: &mut DbConn, org_id: &str) -> QueryResult<Option<LeverConnection>> {
    lever_connections::table
        .find(org_id)
        .select(LeverConnection::as_select())
        .first(conn)
        .optional()
}

/// Saves a tested key, replacing any earlier one. The default Lever user is kept when that user
/// is still active in the account just listed.
pub fn save_connection(conn: &mut DbConn, new: NewConnection) -> QueryResult<()> {
    let now = super::now();
    let previous = connection(conn, new.org_id)?;
    diesel::delete(lever_connections::table.find(new.org_id)).execute(conn)?;
    // The new key may reach another Lever account, which has not got the template.
    forget_feedback_template(conn, new.org_id)?;
    let default_user = default_user_after_reconnect(conn, new.org_id, previous, &new.auth)?;
    insert_connection(conn, &new, default_user, now)?;
    store_oauth_grant(conn, new.org_id, new.auth, now)
}

/// The default Lever user (id, name) the new connection starts with: the previous one while
/// still active in the account, else the user who authorized an OAuth grant when active.
fn default_user_after_reconnect(
    conn: &mut DbConn,
    org_id: &str,
    previous: Option<LeverConnection>,
    auth: &NewAuth,
) -> QueryResult<Option<(String, String)>> {
    let keep_default = previous
        .and_then(|p| p.default_user_id.zip(p.default_user_name))
        .filter(|(id, _)| {
            lever_users::table
                .filter(lever_users::org_id.eq(org_id))
                .filter(lever_users::id.eq(id))
                .filter(lever_users::active.eq(true))
                .count()
                .get_result::<i64>(conn)
                .map(|n| n > 0)
                .unwrap_or(false)
        });
    // An OAuth grant offers the user who authorized as the default Lever user.
    let offered = match auth {
        NewAuth::OAuth {
            user_id: Some(id), ..
        } if keep_default.is_none() => lever_users::table
            .filter(lever_users::org_id.eq(org_id))
            .filter(lever_users::id.eq(id))
            .filter(lever_users::active.eq(true))
            .select((lever_users::id, lever_users::name))
            .first::<(String, String)>(conn)
            .optional()?,
        _ => None,
    };
    Ok(keep_default.or(offered))
}

/// The connection's row as a key test leaves it: status from the missing permissions, the API
/// key (empty for OAuth, whose tokens [`store_oauth_grant`] adds) and the default Lever user.
fn insert_connection(
    conn: &mut DbConn,
    new: &NewConnection,
    default_user: Option<(String, String)>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let status = if new.missing.is_empty() {
        "connected"
    } else {
        "incomplete"
    };
    let (api_key_sealed, api_key_last4) = match &new.auth {
        NewAuth::ApiKey { sealed, last4 } => (sealed.clone(), last4.clone()),
        NewAuth::OAuth { .. } => (String::new(), String::new()),
    };
    diesel::insert_into(lever_connections::table)
        .values((
            lever_connections::org_id.eq(new.org_id),
            lever_connections::environment.eq(new.environment),
            lever_connections::api_key_sealed.eq(&api_key_sealed),
            lever_connections::api_key_last4.eq(&api_key_last4),
            lever_connections::status.eq(status),
            lever_connections::status_message.eq(None::<String>),
            lever_connections::missing_permissions.eq(new.missing.join("\n")),
            lever_connections::default_user_id.eq(default_user.as_ref().map(|(id, _)| id.clone())),
            lever_connections::default_user_name.eq(default_user.map(|(_, name)| name)),
            lever_connections::connected_by.eq(new.connected_by),
            lever_connections::checked_at.eq(now),
            lever_connections::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// An OAuth connection's sealed tokens, account, authorizing user and scopes; nothing for a key.
fn store_oauth_grant(
    conn: &mut DbConn,
    org_id: &str,
    auth: NewAuth,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let NewAuth::OAuth {
        access_sealed,
        refresh_sealed,
        expires_at,
        account_id,
        user_id,
        scopes,
    } = auth
    else {
        return Ok(());
    };
    diesel::update(lever_connections::table.find(org_id))
        .set((
            lever_connections::auth_kind.eq("oauth"),
            lever_connections::access_token_sealed.eq(Some(access_sealed)),
            lever_connections::refresh_token_sealed.eq(refresh_sealed),
            lever_connections::token_expires_at.eq(expires_at),
            lever_connections::token_refreshed_at.eq(Some(now)),
            lever_connections::lever_account_id.eq(Some(account_id)),
            lever_connections::lever_user_id.eq(user_id),
            lever_connections::granted_scopes.eq(scopes),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn set_default_user(
    conn: &mut DbConn,
    org_id: &str,
    user_id: &str,
    name: &str,
) -> QueryResult<usize> {
    diesel::update(lever_connections::table.find(org_id))
        .set((
            lever_connections::default_user_id.eq(user_id),
            lever_connections::default_user_name.eq(name),
        ))
        .execute(conn)
}

/// Lever answered 401 to `connection`'s credentials: they no longer work. Work waits until an
/// admin fixes it. (A late answer for a connection already replaced marks nothing.)
pub fn mark_broken(
    conn: &mut DbConn,
    connection: &LeverConnection,
    reason: &str,
) -> QueryResult<()> {
    diesel::update(
        lever_connections::table
            .filter(lever_connections::org_id.eq(&connection.org_id))
            .filter(lever_connections::created_at.eq(connection.created_at))
            .filter(lever_connections::api_key_sealed.eq(&connection.api_key_sealed)),
    )
    .set((
        lever_connections::status.eq("broken"),
        lever_connections::status_message.eq(reason),
        lever_connections::checked_at.eq(super::now()),
    ))
    .execute(conn)?;
    Ok(())
}

/// Disconnect: forget the key, the cached Lever users and the feedback template (stages stay
/// for the configurations).
pub fn delete_connection(conn: &mut DbConn, org_id: &str) -> QueryResult<usize> {
    diesel::delete(lever_users::table.filter(lever_users::org_id.eq(org_id))).execute(conn)?;
    forget_feedback_template(conn, org_id)?;
    diesel::delete(lever_connections::table.find(org_id)).execute(conn)
}

pub fn replace_users(conn: &mut DbConn, org_id: &str, users: &[CachedUser]) -> QueryResult<()> {
    diesel::delete(lever_users::table.filter(lever_users::org_id.eq(org_id))).execute(conn)?;
    for user in users {
        diesel::insert_into(lever_users::table)
            .values((
                lever_users::org_id.eq(org_id),
                lever_users::id.eq(&user.id),
                lever_users::name.eq(&user.name),
                lever_users::email.eq(&user.email),
                lever_users::access_role.eq(&user.access_role),
                lever_users::active.eq(user.active),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The organization (other than `org_id`) connected to the Lever account whose users are
/// `user_ids`: a Lever user belongs to one account, so a connection caching any of them is on
/// that account, whether it connected with an API key or through OAuth.
pub fn org_on_same_account(
    conn: &mut DbConn,
    user_ids: &[String],
    org_id: &str,
) -> QueryResult<Option<String>> {
    // In chunks: a bound list stays well under both backends' parameter limits.
    for ids in user_ids.chunks(500) {
        let found = lever_users::table
            .filter(lever_users::id.eq_any(ids))
            .filter(lever_users::org_id.ne(org_id))
            .filter(
                lever_users::org_id
                    .eq_any(lever_connections::table.select(lever_connections::org_id)),
            )
            .select(lever_users::org_id)
            .first::<String>(conn)
            .optional()?;
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

/// Active Lever users, by name: the choices for the default Lever user.
pub fn active_users(conn: &mut DbConn, org_id: &str) -> QueryResult<Vec<CachedUser>> {
    lever_users::table
        .filter(lever_users::org_id.eq(org_id))
        .filter(lever_users::active.eq(true))
        .order(lever_users::name.asc())
        .select(CachedUser::as_select())
        .load(conn)
}

pub fn active_user(conn: &mut DbConn, org_id: &str, id: &str) -> QueryResult<Option<CachedUser>> {
    lever_users::table
        .filter(lever_users::org_id.eq(org_id))
        .filter(lever_users::id.eq(id))
        .filter(lever_users::active.eq(true))
        .select(CachedUser::as_select())
        .first(conn)
        .optional()
}

/// Replaces the cached stages with Lever's list, in Lever's order.
pub fn replace_stages(
    conn: &mut DbConn,
    org_id: &str,
    stages: &[(String, String)],
) -> QueryResult<()> {
    let now = super::now();
    diesel::delete(lever_stages::table.filter(lever_stages::org_id.eq(org_id))).execute(conn)?;
    for (position, (id, text)) in stages.iter().enumerate() {
        diesel::insert_into(lever_stages::table)
            .values((
                lever_stages::org_id.eq(org_id),
                lever_stages::id.eq(id),
                lever_stages::text.eq(text),
                lever_stages::position.eq(position as i32),
                lever_stages::refreshed_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn stages(conn: &mut DbConn, org_id: &str) -> QueryResult<Vec<CachedStage>> {
    lever_stages::table
        .filter(lever_stages::org_id.eq(org_id))
        .order(lever_stages::position.asc())
        .select(CachedStage::as_select())
        .load(conn)
}

/// The feedback template leverbridge created in the organization's Lever account: its id and
/// its fields (JSON, as `assessments::feedback_template` writes them).
pub fn feedback_template(conn: &mut DbConn, org_id: &str) -> QueryResult<Option<(String, String)>> {
    lever_feedback_templates::table
        .find(org_id)
        .select((
            lever_feedback_templates::template_id,
            lever_feedback_templates::fields,
        ))
        .first(conn)
        .optional()
}

pub fn save_feedback_template(
    conn: &mut DbConn,
    org_id: &str,
    template_id: &str,
    fields: &str,
) -> QueryResult<()> {
    super::connection::write_transaction(conn, |conn| {
        forget_feedback_template(conn, org_id)?;
        diesel::insert_into(lever_feedback_templates::table)
            .values((
                lever_feedback_templates::org_id.eq(org_id),
                lever_feedback_templates::template_id.eq(template_id),
                lever_feedback_templates::fields.eq(fields),
                lever_feedback_templates::created_at.eq(super::now()),
            ))
            .execute(conn)?;
        Ok(())
    })
}

pub fn forget_feedback_template(conn: &mut DbConn, org_id: &str) -> QueryResult<usize> {
    diesel::delete(lever_feedback_templates::table.find(org_id)).execute(conn)
}
