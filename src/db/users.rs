//! Users who sign in to the dashboard.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{sessions, users};
use super::DbConn;

#[derive(Clone, Debug, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: String,
    pub email: String,
    pub password_hash: String,
    pub is_support: bool,
    pub created_at: NaiveDateTime,
    pub last_login_at: Option<NaiveDateTime>,
}

pub fn find_by_email(conn: &mut DbConn, email: &str) -> QueryResult<Option<User>> {
    users::table
        .filter(users::email.eq(email))
        .select(User::as_select())
        .first(conn)
        .optional()
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<User>> {
    users::table
        .find(id)
        .select(User::as_select())
        .first(conn)
        .optional()
}

/// Creates the user, or resets the password (and support flag) of an existing one, which ends
/// every session they have.
pub fn upsert(
    conn: &mut DbConn,
    email: &str,
    password_hash: &str,
    is_support: bool,
) -> QueryResult<User> {
    if let Some(user) = find_by_email(conn, email)? {
        diesel::update(users::table.find(&user.id))
            .set((
                users::password_hash.eq(password_hash),
                users::is_support.eq(is_support),
            ))
            .execute(conn)?;
        end_all_sessions(conn, &user.id)?;
        return find(conn, &user.id).map(|u| u.expect("user just updated"));
    }
    let id = super::new_id();
    diesel::insert_into(users::table)
        .values((
            users::id.eq(&id),
            users::email.eq(email),
            users::password_hash.eq(password_hash),
            users::is_support.eq(is_support),
            users::created_at.eq(super::now()),
        ))
        .execute(conn)?;
    find(conn, &id).map(|u| u.expect("user just inserted"))
}

pub fn record_login(conn: &mut DbConn, id: &str) -> QueryResult<()> {
    diesel::update(users::table.find(id))
        .set(users::last_login_at.eq(Some(super::now())))
        .execute(conn)?;
    Ok(())
}

/// Ends every session of the user: on sign-out, a password change or reset, and when a
/// membership is removed. Returns how many were live. It lives with the user rather than in
/// `sessions` (which reads the user of a session), so neither module needs the other both ways.
#[tracing::instrument(skip_all)]
pub fn end_all_sessions(conn: &mut DbConn, user_id: &str) -> QueryResult<usize> {
    diesel::update(
        sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(Some(super::now())))
    .execute(conn)
}
