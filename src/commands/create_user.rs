//! `leverbridge create-user`: adds (or resets) a user and their membership.

use anyhow::{bail, Context};

use crate::config::DatabaseUrl;
use crate::db::{self, Db};
use crate::domain::{Email, MemberRole, NewPassword, OrgSlug};

pub struct NewUser {
    pub email: String,
    /// The organization's short name; created when it does not exist yet.
    pub org: Option<String>,
    pub org_name: Option<String>,
    pub role: String,
    pub password: String,
}

/// Checks everything first, then writes user and membership in one transaction. An existing
/// user's password is reset, which ends every session they have (so a role change takes effect
/// on a fresh sign-in too).
pub fn create_user(database_url: &DatabaseUrl, new: NewUser) -> anyhow::Result<String> {
    let email = Email::parse(&new.email).map_err(anyhow::Error::msg)?;
    let password = NewPassword::parse(&new.password, &[email.as_str()])
        .map_err(|e| anyhow::anyhow!("{e}; nothing was changed"))?;
    let role = new.role.trim();
    let membership = match (role, new.org.as_deref()) {
        ("support", None) => None,
        ("support", Some(_)) => bail!("support staff belong to no organization: drop --org"),
        (_, None) => bail!("--org is required for the {role} role"),
        (_, Some(org)) => {
            let role = MemberRole::parse(role).map_err(anyhow::Error::msg)?;
            let slug = OrgSlug::parse(org).map_err(anyhow::Error::msg)?;
            Some((slug, role))
        }
    };
    let hash = crate::crypto::hash_password(password.as_str())?;
    let db = Db::connect(database_url)?;
    db.migrate()?;
    let mut conn = db.get()?;
    db::connection::write_transaction(&mut conn, |conn| -> anyhow::Result<String> {
        let user = db::users::upsert(conn, email.as_str(), &hash, membership.is_none())
            .context("failed to save the user")?;
        Ok(match &membership {
            None => format!("support user {} is ready", user.email),
            Some((slug, role)) => {
                let name = new
                    .org_name
                    .clone()
                    .unwrap_or_else(|| slug.as_str().to_owned());
                let org = db::orgs::find_or_create(conn, slug.as_str(), &name)?;
                db::orgs::set_membership(conn, &user.id, &org.id, role.as_str())?;
                format!(
                    "{} is {} of {} (/orgs/{})",
                    user.email,
                    role.as_str(),
                    org.name,
                    org.slug
                )
            }
        })
    })
}
