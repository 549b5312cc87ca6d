//! A Lever client for an organization's stored connection, whichever way it was made.

use super::access::LeverAccess;
use super::renewal::{current_access_token, renewal};
use super::sealed::api_key_context;
use crate::db::{self, Db};
use crate::lever::{LeverClient, LeverError};

/// Why a client for a stored connection could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("the stored Lever API key cannot be read: {0}")]
    Unsealed(anyhow::Error),
    #[error(transparent)]
    Lever(#[from] LeverError),
}

impl LeverAccess {
    /// A client from the stored connection. An OAuth connection's access token is renewed
    /// first when it is about to expire, and again whenever Lever answers 401 to it.
    pub async fn client_for(
        &self,
        database: &Db,
        connection: &db::lever::LeverConnection,
    ) -> Result<LeverClient, ClientError> {
        let org_id = &connection.org_id;
        if !connection.is_oauth() {
            let api_key = self
                .secret_key()
                .open(&api_key_context(org_id), &connection.api_key_sealed)
                .map_err(ClientError::Unsealed)?;
            return Ok(self.client(org_id, &connection.environment, &api_key));
        }
        let token = current_access_token(database, self, connection).await?;
        let renew = renewal(database, self, org_id);
        Ok(self.renewing_client(org_id, &connection.environment, token, renew))
    }
}
