//! Connecting an organization with a Lever API key: tested live, saved sealed only when Lever
//! accepts it, and never silently replacing a working key with a weaker one.

use super::access::LeverAccess;
use super::account::{account_taken, cached_user, org_on_same_account, stage_pairs};
use super::calls::record_calls;
use super::resume::ResumeParked;
use super::stages::keep_stages;
use crate::db::lever::{CachedUser, NewAuth, NewConnection};
use crate::db::{self, DbConn};
use crate::lever::LeverError;

/// A key an admin offers for an organization.
pub struct NewKey<'a> {
    pub org_id: &'a str,
    pub environment: &'static str,
    pub api_key: &'a str,
    /// The admin's email.
    pub connected_by: &'a str,
    pub replacement: Replacement,
}

/// What connecting a key found.
pub struct Connected {
    pub users: usize,
    pub stages: usize,
    /// Permissions the key lacks, by Lever's names.
    pub missing: Vec<String>,
    /// Parked jobs that were waiting for a working connection and now run.
    pub resumed: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("Lever rejected this key: {0}")]
    Rejected(String),
    #[error("could not test the key with Lever: {0}")]
    Lever(LeverError),
    /// The key's Lever account is connected to another organization (named). Nothing was saved.
    #[error("{}", account_taken(.0))]
    AccountTaken(String),
    /// The working key was kept: the new one lacks permissions it has, and replacing it was
    /// not confirmed. Nothing was saved.
    #[error("the new key lacks permissions the working key has: {}", .lost.join(", "))]
    WouldLosePermissions {
        /// Permissions the working key has and the new one lacks.
        lost: Vec<String>,
        /// Everything the new key lacks.
        missing: Vec<String>,
        /// The last four characters of the working key, which stays in use.
        current_last4: String,
    },
    #[error(transparent)]
    Db(#[from] db::DbError),
}

/// Whether a new key may replace one that works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replacement {
    /// Keep a working key (one Lever has not refused) when the new key lacks a permission it
    /// has: [`ConnectError::WouldLosePermissions`].
    KeepWorkingKey,
    /// The admin confirmed: the new key replaces the current one whatever it lacks.
    Confirmed,
}

/// Tests a key live (users, stages, tags, each write permission) and, when Lever accepts it,
/// saves it sealed with the users and stages read, and lets parked work resume through
/// `resume_parked` in the same transaction (see `resume.rs`). Every call made is recorded.
/// Nothing is saved when Lever refuses the key, nor, unless the key's `replacement` is
/// [`Replacement::Confirmed`], when it would replace a working key that has permissions the
/// new one lacks.
#[tracing::instrument(skip_all, fields(org_id = %new.org_id))]
pub async fn connect_key(
    database: &db::Db,
    lever: &LeverAccess,
    new: NewKey<'_>,
    resume_parked: ResumeParked,
) -> Result<Connected, ConnectError> {
    let client = lever.client(new.org_id, new.environment, new.api_key);
    let report = client.probe_permissions().await;
    let calls = client.take_calls();
    let org = new.org_id.to_owned();
    database
        .run(move |conn| record_calls(conn, &org, None, calls).map_err(db::DbError::from))
        .await?;
    let report = match report {
        Ok(report) => report,
        Err(LeverError::Unauthorized { message }) => return Err(ConnectError::Rejected(message)),
        Err(e) => return Err(ConnectError::Lever(e)),
    };
    let missing = report.missing.clone();
    let key = TestedKey {
        org_id: new.org_id.to_owned(),
        environment: new.environment,
        sealed: lever.seal_api_key(new.org_id, new.api_key),
        last4: crate::crypto::last_four(new.api_key),
        connected_by: new.connected_by.to_owned(),
        users: report.users.iter().map(cached_user).collect(),
        stages: stage_pairs(&report),
        missing: report.missing,
    };
    let (user_count, stage_count) = (key.users.len(), key.stages.len());
    let replacement = new.replacement;
    let saved = database
        .run(move |conn| {
            db::connection::write_transaction(conn, |conn| {
                save_key(conn, key, replacement, resume_parked)
            })
        })
        .await?;
    match saved {
        Saved::Replaced { resumed } => Ok(Connected {
            users: user_count,
            stages: stage_count,
            missing,
            resumed,
        }),
        Saved::Kept {
            lost,
            current_last4,
        } => Err(ConnectError::WouldLosePermissions {
            lost,
            missing,
            current_last4,
        }),
        Saved::Taken(other) => Err(ConnectError::AccountTaken(other)),
    }
}

/// A key Lever accepted, with what its test read, ready to be saved.
struct TestedKey {
    org_id: String,
    environment: &'static str,
    sealed: String,
    last4: String,
    connected_by: String,
    users: Vec<CachedUser>,
    stages: Vec<(String, String)>,
    missing: Vec<String>,
}

enum Saved {
    /// Another organization is on this Lever account.
    Taken(String),
    Replaced {
        resumed: usize,
    },
    Kept {
        lost: Vec<String>,
        current_last4: String,
    },
}

/// [`connect_key`]'s transaction: the account check, the working key kept or replaced, and the
/// parked work resumed once the key is saved.
fn save_key(
    conn: &mut DbConn,
    key: TestedKey,
    replacement: Replacement,
    resume_parked: ResumeParked,
) -> Result<Saved, db::DbError> {
    let org = key.org_id.as_str();
    if let Some(other) = org_on_same_account(conn, &key.users, org)? {
        return Ok(Saved::Taken(other));
    }
    if replacement == Replacement::KeepWorkingKey {
        if let Some(kept) = kept_working_key(conn, org, &key.missing)? {
            return Ok(kept);
        }
    }
    db::lever::replace_users(conn, org, &key.users)?;
    keep_stages(conn, org, &key.stages)?;
    db::lever::save_connection(
        conn,
        NewConnection {
            org_id: org,
            environment: key.environment,
            auth: NewAuth::ApiKey {
                sealed: key.sealed,
                last4: key.last4,
            },
            missing: key.missing,
            connected_by: &key.connected_by,
        },
    )?;
    Ok(Saved::Replaced {
        resumed: resume_parked(conn, org)?,
    })
}

/// The working key stays when the new one lacks a permission it has. A broken key (Lever
/// answered 401) is no loss.
fn kept_working_key(
    conn: &mut DbConn,
    org_id: &str,
    new_missing: &[String],
) -> Result<Option<Saved>, db::DbError> {
    let Some(current) = db::lever::connection(conn, org_id)? else {
        return Ok(None);
    };
    if current.is_broken() {
        return Ok(None);
    }
    let had_missing = current.missing();
    let lost: Vec<String> = new_missing
        .iter()
        .filter(|permission| !had_missing.contains(permission))
        .cloned()
        .collect();
    Ok((!lost.is_empty()).then_some(Saved::Kept {
        lost,
        current_last4: current.api_key_last4,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DatabaseUrl;

    /// A fresh SQLite database holding one organization.
    fn org_in(dir: &tempfile::TempDir) -> (db::Db, String) {
        let database = db::Db::connect(&DatabaseUrl::Sqlite(dir.path().join("c.db"))).unwrap();
        database.migrate().unwrap();
        let org = db::orgs::find_or_create(&mut database.get().unwrap(), "acme", "Acme")
            .unwrap()
            .id;
        (database, org)
    }

    fn tested(org_id: &str, last4: &str, missing: &[&str]) -> TestedKey {
        TestedKey {
            org_id: org_id.to_owned(),
            environment: "production",
            sealed: format!("sealed-{last4}"),
            last4: last4.to_owned(),
            connected_by: "admin@example.com".into(),
            users: Vec::new(),
            stages: vec![("s1".into(), "New lead".into())],
            missing: missing.iter().map(|m| (*m).to_owned()).collect(),
        }
    }

    fn save(
        conn: &mut DbConn,
        key: TestedKey,
        replacement: Replacement,
        resume_parked: ResumeParked,
    ) -> Result<Saved, db::DbError> {
        db::connection::write_transaction(conn, |conn| {
            save_key(conn, key, replacement, resume_parked)
        })
    }

    #[test]
    fn a_saved_key_says_parked_work_may_resume_and_reports_how_much_did() {
        let dir = tempfile::tempdir().unwrap();
        let (database, org) = org_in(&dir);
        let mut conn = database.get().unwrap();
        let saved = save(
            &mut conn,
            tested(&org, "aaaa", &[]),
            Replacement::KeepWorkingKey,
            |_, _| Ok(3),
        );
        assert!(matches!(saved, Ok(Saved::Replaced { resumed: 3 })));
        let stored = db::lever::connection(&mut conn, &org).unwrap().unwrap();
        assert_eq!(stored.api_key_last4, "aaaa");
    }

    #[test]
    fn a_key_is_not_saved_when_its_parked_work_cannot_resume() {
        let dir = tempfile::tempdir().unwrap();
        let (database, org) = org_in(&dir);
        let mut conn = database.get().unwrap();
        let saved = save(
            &mut conn,
            tested(&org, "aaaa", &[]),
            Replacement::KeepWorkingKey,
            |_, _| Err(diesel::result::Error::RollbackTransaction),
        );
        assert!(saved.is_err());
        assert!(db::lever::connection(&mut conn, &org).unwrap().is_none());
        assert!(db::lever::stages(&mut conn, &org).unwrap().is_empty());
    }

    #[test]
    fn a_kept_working_key_resumes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (database, org) = org_in(&dir);
        let mut conn = database.get().unwrap();
        let first = save(
            &mut conn,
            tested(&org, "aaaa", &[]),
            Replacement::KeepWorkingKey,
            |_, _| Ok(0),
        );
        assert!(matches!(first, Ok(Saved::Replaced { resumed: 0 })));
        let weaker = save(
            &mut conn,
            tested(&org, "bbbb", &["list tags"]),
            Replacement::KeepWorkingKey,
            |_, _| panic!("nothing was saved, so nothing may resume"),
        );
        assert!(matches!(weaker, Ok(Saved::Kept { .. })));
        let stored = db::lever::connection(&mut conn, &org).unwrap().unwrap();
        assert_eq!(stored.api_key_last4, "aaaa");
    }
}
