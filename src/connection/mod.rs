//! Everything about reaching an organization's Lever account: which host, the API key or the
//! OAuth grant (and renewing its token), the rate-limit buckets, and the record of the calls
//! made. It sits above `lever/` (the HTTP protocol, which knows no database) and beside
//! `jobs/`, which it never calls: saving a working connection tells the caller that parked
//! work may resume ([`ResumeParked`]), and the caller brings the queue.
//!
//! - `access.rs`: [`LeverAccess`], the shared HTTP client, hosts and environments, clients
//!   made from a key or a token
//! - `client.rs`: [`LeverAccess::client_for`], a client from the stored connection
//! - `buckets.rs`: Lever's limit kept in the database for every replica (PostgreSQL)
//! - `calls.rs`: [`record_calls`], the record of the calls a client made
//! - `sealed.rs`: the contexts the stored key and tokens are sealed under
//! - `account.rs`: the Lever account behind a connection (its users and stages as cached; one
//!   account, one organization)
//! - `resume.rs`: [`ResumeParked`], how saving a connection lets parked work run again
//! - `api_key.rs`: [`connect_key`], testing and saving an API key
//! - `oauth.rs`: "Add to Lever", connecting through Lever's OAuth ([`oauth::start`],
//!   [`oauth::claim`], [`oauth::complete`])
//! - `renewal.rs`: keeping an OAuth access token fresh
//! - `webhooks.rs`: the webhooks leverbridge registers in Lever, and what disconnecting undoes
//! - `stages.rs`: [`refresh_stages`], the one way Lever's stages are read into the cache
//! - `broken.rs`: [`mark_broken`], the one way a 401 marks the connection broken
//!
//! Naming: `lever::oauth` is Lever's OAuth *protocol* (the authorize URL, the token requests,
//! the claims), with no database; `connection::oauth` is the *connection* made with it (the
//! authorization state, the tokens sealed and stored). The tables are `db::lever_oauth`.

mod access;
mod account;
mod api_key;
mod broken;
mod buckets;
mod calls;
mod client;
pub mod oauth;
mod renewal;
mod resume;
mod sealed;
mod stages;
mod webhooks;

pub use access::{environment, parse_environment, LeverAccess, ENVIRONMENTS};
pub use api_key::{connect_key, ConnectError, Connected, NewKey, Replacement};
pub use broken::mark_broken;
pub use calls::record_calls;
pub use client::ClientError;
pub use resume::ResumeParked;
pub use stages::{refresh_stages, StagesError};
pub use webhooks::{register_webhooks, undo_in_lever, Registration, Undone};
