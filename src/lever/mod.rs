//! Everything about Lever and nothing else: the API client (authentication, rate limiting,
//! retries, a record of every call), lenient wire types, the permission probe behind the
//! connection test, OAuth (authorize, tokens, claims), and webhook payloads with their
//! signature check.
//!
//! Nothing here touches the database or the web layer; the job worker and the webhook handler
//! call in.

pub mod call_metrics;
mod client;
mod endpoints;
mod error;
mod lenient;
pub mod oauth;
mod permission_table;
mod permissions;
mod rate_limit;
mod request;
mod types;
mod webhook;

#[cfg(test)]
mod tests;

pub use client::{
    http_client, ClientConfig, Credentials, LeverCall, LeverClient, RenewToken, MAX_RETRY_WAIT,
};
pub use endpoints::MAX_FILE_BYTES;
pub use error::LeverError;
pub use permission_table::{
    permission_for, NIL_OPPORTUNITY_ID, REQUIRED_PERMISSIONS, UNTESTED_PERMISSIONS,
};
pub use permissions::PermissionReport;
pub use rate_limit::{RateLimiters, SharedLimit, TokenBucket, LEVER_BURST, LEVER_RATE_PER_SEC};
pub use types::{
    CreatedFeedback, CreatedNote, Feedback, FeedbackField, FeedbackTemplate, FieldOption,
    NewFeedbackTemplate, NewNote, NewTemplateField, Note, Opportunity, OpportunityUrls, Posting,
    Stage, Tag, TemplateField, UploadedFile, User, Webhook,
};
pub use webhook::{sign, signature_is_valid, StageChange, WebhookDelivery, WebhookParseError};
