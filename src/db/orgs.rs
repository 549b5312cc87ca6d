//! Organizations and their members.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{memberships, organizations};
use super::DbConn;

#[derive(Clone, Debug, Queryable, Selectable, Identifiable)]
#[diesel(table_name = organizations)]
pub struct Organization {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub created_at: NaiveDateTime,
}

/// Finds an organization by slug, or creates it with this display name.
pub fn find_or_create(conn: &mut DbConn, slug: &str, name: &str) -> QueryResult<Organization> {
    if let Some(org) = find_by_slug(conn, slug)? {
        return Ok(org);
    }
    let org = Organization {
        id: super::new_id(),
        slug: slug.to_owned(),
        name: name.to_owned(),
        created_at: super::now(),
    };
    diesel::insert_into(organizations::table)
        .values((
            organizations::id.eq(&org.id),
            organizations::slug.eq(&org.slug),
            organizations::name.eq(&org.name),
            organizations::created_at.eq(org.created_at),
        ))
        .execute(conn)?;
    Ok(org)
}

pub fn find_by_slug(conn: &mut DbConn, slug: &str) -> QueryResult<Option<Organization>> {
    organizations::table
        .filter(organizations::slug.eq(slug))
        .select(Organization::as_select())
        .first(conn)
        .optional()
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<Organization>> {
    organizations::table
        .find(id)
        .select(Organization::as_select())
        .first(conn)
        .optional()
}

pub fn all(conn: &mut DbConn) -> QueryResult<Vec<Organization>> {
    organizations::table
        .order(organizations::name.asc())
        .select(Organization::as_select())
        .load(conn)
}

/// The organizations a user belongs to, with the role in each.
pub fn of_user(conn: &mut DbConn, user_id: &str) -> QueryResult<Vec<(Organization, String)>> {
    memberships::table
        .inner_join(organizations::table)
        .filter(memberships::user_id.eq(user_id))
        .order(organizations::name.asc())
        .select((Organization::as_select(), memberships::role))
        .load(conn)
}

/// The role a user holds in an organization, if any.
pub fn role_of(conn: &mut DbConn, user_id: &str, org_id: &str) -> QueryResult<Option<String>> {
    memberships::table
        .filter(memberships::user_id.eq(user_id))
        .filter(memberships::org_id.eq(org_id))
        .select(memberships::role)
        .first(conn)
        .optional()
}

/// Adds a member, or changes the role of an existing one.
pub fn set_membership(
    conn: &mut DbConn,
    user_id: &str,
    org_id: &str,
    role: &str,
) -> QueryResult<()> {
    let updated = diesel::update(memberships::table.find((user_id, org_id)))
        .set(memberships::role.eq(role))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(memberships::table)
            .values((
                memberships::user_id.eq(user_id),
                memberships::org_id.eq(org_id),
                memberships::role.eq(role),
                memberships::created_at.eq(super::now()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Removes a member from the organization and ends their sessions, so a page they have open
/// stops working now rather than at their next sign-in. Returns whether they were a member.
pub fn remove_membership(conn: &mut DbConn, user_id: &str, org_id: &str) -> QueryResult<bool> {
    let removed = diesel::delete(memberships::table.find((user_id, org_id))).execute(conn)?;
    if removed > 0 {
        super::users::end_all_sessions(conn, user_id)?;
    }
    Ok(removed > 0)
}

/// Members of an organization: (email, role), for the overview.
pub fn members(conn: &mut DbConn, org_id: &str) -> QueryResult<Vec<(String, String)>> {
    use super::schema::users;
    memberships::table
        .inner_join(users::table)
        .filter(memberships::org_id.eq(org_id))
        .order(users::email.asc())
        .select((users::email, memberships::role))
        .load(conn)
}
