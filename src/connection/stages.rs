//! Lever's pipeline stages, cached for the configurations' trigger stages and for naming a
//! stage on Events: read when connecting, and again on the Configurations page's button or when
//! a stage change names a stage the cache lacks.

use crate::db::{self, Db, DbConn, DbError};
use crate::lever::{LeverClient, LeverError};

/// Why the stages could not be read again.
#[derive(Debug, thiserror::Error)]
pub enum StagesError {
    #[error(transparent)]
    Lever(LeverError),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Reads Lever's stages with `client` into the organization's stage cache, and returns them as
/// kept, (id, text) in Lever's order. Lever listing none keeps the stages already known (and
/// returns none). The calls stay on `client` for its owner to record; a refused call (a 401
/// included) is the caller's to handle, as for any other call to Lever.
#[tracing::instrument(skip_all, fields(org_id = %org_id))]
pub async fn refresh_stages(
    database: &Db,
    client: &LeverClient,
    org_id: &str,
) -> Result<Vec<(String, String)>, StagesError> {
    let stages = client.list_stages().await.map_err(StagesError::Lever)?;
    let pairs: Vec<(String, String)> = stages.into_iter().map(|s| (s.id, s.text)).collect();
    if pairs.is_empty() {
        return Ok(pairs);
    }
    let (org, kept) = (org_id.to_owned(), pairs.clone());
    database
        .run(move |conn| {
            db::connection::write_transaction(conn, |conn| keep_stages(conn, &org, &kept))
                .map_err(DbError::from)
        })
        .await?;
    Ok(pairs)
}

/// Replaces the organization's stage cache with `stages`, unless Lever listed none: an empty
/// list is never a reason to forget the stages the configurations name.
pub(super) fn keep_stages(
    conn: &mut DbConn,
    org_id: &str,
    stages: &[(String, String)],
) -> diesel::QueryResult<()> {
    if stages.is_empty() {
        return Ok(());
    }
    db::lever::replace_stages(conn, org_id, stages)
}
