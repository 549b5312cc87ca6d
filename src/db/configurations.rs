//! Configurations: which trigger stage and tag create which kind of assessment.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::configurations;
use super::DbConn;

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = configurations)]
pub struct Configuration {
    pub id: String,
    pub org_id: String,
    pub trigger_stage_id: String,
    /// `live` or `take_home`.
    pub pad_kind: String,
    pub tag_name: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The library question it asks: required for a take-home test, optional for a live one.
    pub question_id: Option<String>,
}

pub fn list(conn: &mut DbConn, org_id: &str) -> QueryResult<Vec<Configuration>> {
    configurations::table
        .filter(configurations::org_id.eq(org_id))
        .order((configurations::created_at.asc(), configurations::id.asc()))
        .select(Configuration::as_select())
        .load(conn)
}

pub fn find(conn: &mut DbConn, org_id: &str, id: &str) -> QueryResult<Option<Configuration>> {
    configurations::table
        .filter(configurations::org_id.eq(org_id))
        .filter(configurations::id.eq(id))
        .select(Configuration::as_select())
        .first(conn)
        .optional()
}

/// The configuration using this tag, if any (tags are unique in an organization).
pub fn with_tag(conn: &mut DbConn, org_id: &str, tag: &str) -> QueryResult<Option<Configuration>> {
    configurations::table
        .filter(configurations::org_id.eq(org_id))
        .filter(configurations::tag_name.eq(tag))
        .select(Configuration::as_select())
        .first(conn)
        .optional()
}

pub fn for_stage(
    conn: &mut DbConn,
    org_id: &str,
    stage_id: &str,
) -> QueryResult<Vec<Configuration>> {
    configurations::table
        .filter(configurations::org_id.eq(org_id))
        .filter(configurations::trigger_stage_id.eq(stage_id))
        .order(configurations::created_at.asc())
        .select(Configuration::as_select())
        .load(conn)
}

pub fn insert(conn: &mut DbConn, configuration: &Configuration) -> QueryResult<()> {
    diesel::insert_into(configurations::table)
        .values(configuration)
        .execute(conn)?;
    Ok(())
}

pub fn update(conn: &mut DbConn, configuration: &Configuration) -> QueryResult<usize> {
    diesel::update(
        configurations::table
            .filter(configurations::org_id.eq(&configuration.org_id))
            .filter(configurations::id.eq(&configuration.id)),
    )
    .set((
        configurations::trigger_stage_id.eq(&configuration.trigger_stage_id),
        configurations::pad_kind.eq(&configuration.pad_kind),
        configurations::question_id.eq(&configuration.question_id),
        configurations::tag_name.eq(&configuration.tag_name),
        configurations::updated_at.eq(super::now()),
    ))
    .execute(conn)
}

pub fn delete(conn: &mut DbConn, org_id: &str, id: &str) -> QueryResult<usize> {
    diesel::delete(
        configurations::table
            .filter(configurations::org_id.eq(org_id))
            .filter(configurations::id.eq(id)),
    )
    .execute(conn)
}
