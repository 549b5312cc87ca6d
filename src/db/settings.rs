//! An organization's settings: the saved values (`org_settings`) and the default Lever user
//! (kept with the Lever connection), read together as `OrgSettings`.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::org_settings;
use super::DbConn;
use crate::domain::org_settings::{DefaultUser, OrgSettings, Values};

/// Who saved the settings last, and when.
pub struct LastSaved {
    pub by: String,
    pub at: NaiveDateTime,
}

/// The organization's settings, defaults filling what was never saved.
#[tracing::instrument(skip_all, fields(org_id = %org_id))]
pub fn for_org(conn: &mut DbConn, org_id: &str) -> QueryResult<OrgSettings> {
    let values = values(conn, org_id)?;
    Ok(OrgSettings::new(&values, default_user(conn, org_id)?))
}

/// The saved values, defaults filling the rest (the default Lever user is not among them).
pub fn values(conn: &mut DbConn, org_id: &str) -> QueryResult<Values> {
    let stored: HashMap<String, String> = org_settings::table
        .filter(org_settings::org_id.eq(org_id))
        .select((org_settings::name, org_settings::value))
        .load(conn)?
        .into_iter()
        .collect();
    Ok(Values::from_stored(&stored))
}

/// The Lever user chosen as the author of what leverbridge writes, if any.
pub fn default_user(conn: &mut DbConn, org_id: &str) -> QueryResult<Option<DefaultUser>> {
    Ok(super::lever::connection(conn, org_id)?.and_then(|c| {
        let id = c.default_user_id?;
        Some(DefaultUser {
            name: c.default_user_name.unwrap_or_else(|| id.clone()),
            id,
        })
    }))
}

pub fn last_saved(conn: &mut DbConn, org_id: &str) -> QueryResult<Option<LastSaved>> {
    org_settings::table
        .filter(org_settings::org_id.eq(org_id))
        .order(org_settings::updated_at.desc())
        .select((org_settings::updated_by, org_settings::updated_at))
        .first::<(String, NaiveDateTime)>(conn)
        .optional()
        .map(|row| row.map(|(by, at)| LastSaved { by, at }))
}

/// Saves every value of `values` (the default Lever user is saved with the connection, by
/// `db::lever::set_default_user`). An upsert, so two admins saving at once on PostgreSQL both
/// succeed, the later one winning, instead of one colliding with the other's rows.
#[tracing::instrument(skip_all, fields(org_id = %org_id))]
pub fn save(conn: &mut DbConn, org_id: &str, values: &Values, by: &str) -> QueryResult<()> {
    let now = super::now();
    for (name, value) in values.to_stored() {
        let row = (
            org_settings::org_id.eq(org_id),
            org_settings::name.eq(name),
            org_settings::value.eq(&value),
            org_settings::updated_by.eq(by),
            org_settings::updated_at.eq(now),
        );
        let change = (
            org_settings::value.eq(&value),
            org_settings::updated_by.eq(by),
            org_settings::updated_at.eq(now),
        );
        let target = (org_settings::org_id, org_settings::name);
        match conn {
            DbConn::Sqlite(c) => diesel::insert_into(org_settings::table)
                .values(row)
                .on_conflict(target)
                .do_update()
                .set(change)
                .execute(c)?,
            DbConn::Pg(c) => diesel::insert_into(org_settings::table)
                .values(row)
                .on_conflict(target)
                .do_update()
                .set(change)
                .execute(c)?,
        };
    }
    Ok(())
}

/// The `org_settings` name the sealed SMTP password is kept under (no declared setting has it,
/// so the values read back never include it).
const SMTP_PASSWORD_SEALED: &str = "smtp_password_sealed";

/// What the SMTP password is sealed to: this organization's row, so it opens nowhere else.
pub fn smtp_password_context(org_id: &str) -> String {
    format!("smtp_password:{org_id}")
}

/// The sealed SMTP password, if one was saved.
pub fn smtp_password(conn: &mut DbConn, org_id: &str) -> QueryResult<Option<String>> {
    org_settings::table
        .filter(org_settings::org_id.eq(org_id))
        .filter(org_settings::name.eq(SMTP_PASSWORD_SEALED))
        .select(org_settings::value)
        .first(conn)
        .optional()
}

/// Forgets the saved SMTP password; whether there was one.
pub fn forget_smtp_password(conn: &mut DbConn, org_id: &str) -> QueryResult<bool> {
    let deleted = diesel::delete(
        org_settings::table
            .filter(org_settings::org_id.eq(org_id))
            .filter(org_settings::name.eq(SMTP_PASSWORD_SEALED)),
    )
    .execute(conn)?;
    Ok(deleted > 0)
}

/// Keeps `sealed` (made with [`smtp_password_context`]) as the SMTP password.
pub fn set_smtp_password(
    conn: &mut DbConn,
    org_id: &str,
    sealed: &str,
    by: &str,
) -> QueryResult<()> {
    let now = super::now();
    diesel::delete(
        org_settings::table
            .filter(org_settings::org_id.eq(org_id))
            .filter(org_settings::name.eq(SMTP_PASSWORD_SEALED)),
    )
    .execute(conn)?;
    diesel::insert_into(org_settings::table)
        .values((
            org_settings::org_id.eq(org_id),
            org_settings::name.eq(SMTP_PASSWORD_SEALED),
            org_settings::value.eq(sealed),
            org_settings::updated_by.eq(by),
            org_settings::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// The organizations whose saved setting `name` is `value` (e.g. candidate emails switched on).
pub fn orgs_with(conn: &mut DbConn, name: &str, value: &str) -> QueryResult<Vec<String>> {
    org_settings::table
        .filter(org_settings::name.eq(name))
        .filter(org_settings::value.eq(value))
        .select(org_settings::org_id)
        .load(conn)
}
