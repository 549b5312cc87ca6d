//! The webhooks leverbridge creates in Lever through the Webhooks API (an OAuth connection), so
//! that an admin copies no URL and no token; and what disconnecting undoes in Lever.

use super::access::{environment, LeverAccess};
use super::calls::record_calls;
use super::sealed::refresh_context;
use crate::db::lever::LeverConnection;
use crate::db::{self, Db, DbError};
use crate::domain::WEBHOOK_EVENTS;
use crate::lever::oauth;
use crate::lever::{LeverClient, LeverError};

/// What registering leverbridge's webhooks in Lever did.
#[derive(Default)]
pub struct Registration {
    /// Events whose webhook was created now.
    pub created: Vec<&'static str>,
    /// Events whose webhook leverbridge had created before.
    pub existing: Vec<&'static str>,
    /// Events whose webhook Lever returned no signature token for: paste it on Webhooks.
    pub without_token: Vec<&'static str>,
    /// Why registering stopped, if it did.
    pub failed: Option<String>,
    /// Each webhook found or created: event, Lever's id, signature token.
    made: Vec<(&'static str, String, Option<String>)>,
}

/// Creates leverbridge's webhooks in Lever (each event it handles), listing first so it never
/// creates one twice, and stores each signature token Lever returns. Webhooks this app made
/// for an earlier URL of the organization (the URL was rotated) are deleted. `webhook_base` is
/// the public URL of `/webhooks/lever/`.
#[tracing::instrument(skip_all, fields(org_id = %org_id))]
pub async fn register_webhooks(
    database: &Db,
    lever: &LeverAccess,
    org_id: &str,
    webhook_base: &str,
) -> Registration {
    let mut registration = Registration::default();
    let outcome = register(database, lever, org_id, webhook_base, &mut registration).await;
    if let Err(e) = outcome {
        registration.failed = Some(e);
    }
    registration
}

async fn register(
    database: &Db,
    lever: &LeverAccess,
    org_id: &str,
    webhook_base: &str,
    registration: &mut Registration,
) -> Result<(), String> {
    let org = org_id.to_owned();
    let (connection, endpoint_key) = database
        .run(move |conn| -> Result<_, DbError> {
            Ok((
                db::lever::connection(conn, &org)?,
                db::webhooks::endpoint_key(conn, &org)?,
            ))
        })
        .await
        .map_err(|e| e.to_string())?;
    let connection = connection.ok_or("Lever is not connected")?;
    let client = lever
        .client_for(database, &connection)
        .await
        .map_err(|e| e.to_string())?;
    let url = format!("{webhook_base}{endpoint_key}");
    let result = sync_webhooks(&client, &url, webhook_base, registration).await;
    let calls = client.take_calls();
    let org = org_id.to_owned();
    let secret = lever.secret_key().clone();
    let made = std::mem::take(&mut registration.made);
    let saved = database
        .run(move |conn| {
            record_calls(conn, &org, None, calls)?;
            db::connection::write_transaction(conn, |conn| -> Result<(), DbError> {
                for (event, id, token) in &made {
                    db::webhooks::set_managed(conn, &org, event, id, &url)?;
                    if let Some(token) = token {
                        let sealed = secret.seal(&db::webhooks::token_context(&org, event), token);
                        let last4 = crate::crypto::last_four(token);
                        db::webhooks::set_token(conn, &org, event, &sealed, &last4)?;
                    }
                }
                Ok(())
            })
        })
        .await;
    saved.map_err(|e| e.to_string())?;
    result.map_err(|e| e.to_string())
}

async fn sync_webhooks(
    client: &LeverClient,
    url: &str,
    ours: &str,
    registration: &mut Registration,
) -> Result<(), LeverError> {
    let listed = client.list_webhooks().await?;
    for stale in listed
        .iter()
        .filter(|w| w.url.starts_with(ours) && w.url != url)
    {
        client.delete_webhook(&stale.id).await?;
    }
    for kind in WEBHOOK_EVENTS {
        let found = listed.iter().find(|w| w.url == url && w.event == kind.name);
        let webhook = match found {
            Some(webhook) => {
                registration.existing.push(kind.name);
                webhook.clone()
            }
            None => {
                let webhook = client.create_webhook(url, kind.name).await?;
                registration.created.push(kind.name);
                webhook
            }
        };
        if webhook.signature_token.is_none() {
            registration.without_token.push(kind.name);
        }
        registration.made.push((
            kind.name,
            webhook.id.clone(),
            webhook.signature_token.clone(),
        ));
    }
    Ok(())
}

/// What disconnecting an OAuth connection managed to undo in Lever.
#[derive(Default)]
pub struct Undone {
    pub webhooks_deleted: usize,
    pub revoked: bool,
    /// What could not be undone in Lever (the tokens are forgotten all the same).
    pub problems: Vec<String>,
}

/// Deletes leverbridge's webhooks in Lever and revokes the grant where Lever allows; the caller
/// then forgets the connection.
pub async fn undo_in_lever(
    database: &Db,
    lever: &LeverAccess,
    connection: &LeverConnection,
) -> Undone {
    let mut undone = Undone::default();
    let org = connection.org_id.clone();
    let managed = match database
        .run(move |conn| db::webhooks::managed(conn, &org).map_err(DbError::from))
        .await
    {
        Ok(managed) => managed,
        Err(e) => {
            undone.problems.push(e.to_string());
            Vec::new()
        }
    };
    if !managed.is_empty() && !connection.is_broken() {
        match lever.client_for(database, connection).await {
            Ok(client) => {
                for webhook in &managed {
                    match client.delete_webhook(&webhook.lever_webhook_id).await {
                        Ok(()) | Err(LeverError::NotFound { .. }) => undone.webhooks_deleted += 1,
                        Err(e) => undone.problems.push(format!(
                            "the {} webhook could not be deleted ({e}); delete it in Lever",
                            webhook.event
                        )),
                    }
                }
                let (calls, org) = (client.take_calls(), connection.org_id.clone());
                let _ = database
                    .run(move |conn| record_calls(conn, &org, None, calls).map_err(DbError::from))
                    .await;
            }
            Err(e) => undone.problems.push(e.to_string()),
        }
    }
    // The refresh token as stored now (a renewal above may have rotated it).
    let org = connection.org_id.clone();
    let current = database
        .run(move |conn| db::lever::connection(conn, &org).map_err(DbError::from))
        .await
        .ok()
        .flatten();
    let refresh = current
        .as_ref()
        .and_then(|c| c.refresh_token_sealed.as_ref())
        .and_then(|sealed| {
            lever
                .secret_key()
                .open(&refresh_context(&connection.org_id), sealed)
                .ok()
        });
    if let (Some(app), Some(refresh)) = (lever.app(), refresh) {
        let endpoints = lever.oauth_endpoints(environment(&connection.environment));
        match oauth::revoke(lever.oauth_http(), app, &endpoints, &refresh).await {
            Ok(revoked) => undone.revoked = revoked,
            Err(e) => undone.problems.push(format!(
                "{e}; revoke leverbridge's access in Lever (Settings › Integrations and API)"
            )),
        }
    }
    undone
}
