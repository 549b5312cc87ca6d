//! The simulator's in-memory world: accounts and everything they hold.
//!
//! One `Mutex<World>` guards it all; no lock is held across an `.await`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};

use rand::distributions::Alphanumeric;
use rand::Rng;
use serde_json::Value;

use super::faults::Faults;
use super::oauth::OAuth;
use super::rate_limit::TokenBucket;
use super::SimConfig;

/// Shared by every handler and every delivery task.
pub(crate) struct SimState {
    pub world: Mutex<World>,
    pub config: SimConfig,
    pub base_url: String,
    pub http: reqwest::Client,
}

pub(crate) type Shared = Arc<SimState>;

impl SimState {
    pub fn lock(&self) -> MutexGuard<'_, World> {
        self.world
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[derive(Default)]
pub(crate) struct World {
    pub accounts: Vec<Account>,
    /// OAuth apps and the grants accounts gave them (apps belong to no one account).
    pub oauth: OAuth,
}

impl World {
    pub fn account(&self, id: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.id == id)
    }

    pub fn account_mut(&mut self, id: &str) -> Option<&mut Account> {
        self.accounts.iter_mut().find(|a| a.id == id)
    }

    /// The account holding `key`, whatever the key's state.
    pub fn account_of_key_mut(&mut self, key: &str) -> Option<&mut Account> {
        self.accounts
            .iter_mut()
            .find(|a| a.keys.iter().any(|k| k.key == key))
    }
}

pub(crate) struct Account {
    pub id: String,
    pub name: String,
    pub keys: Vec<ApiKey>,
    pub users: Vec<User>,
    pub stages: Vec<Stage>,
    pub postings: Vec<Posting>,
    pub opportunities: Vec<Opportunity>,
    pub templates: Vec<FeedbackTemplate>,
    /// Webhooks a Super Admin set in Lever's settings, by event name.
    pub webhooks: BTreeMap<String, WebhookSetting>,
    /// Webhooks created through `POST /webhooks`.
    pub api_webhooks: Vec<ApiWebhook>,
    pub deliveries: Vec<Delivery>,
    pub faults: Faults,
    pub requests: Vec<RequestRecord>,
}

impl Account {
    pub fn new(name: &str) -> Self {
        Account {
            id: new_id(),
            name: name.to_string(),
            keys: Vec::new(),
            users: Vec::new(),
            stages: Vec::new(),
            postings: Vec::new(),
            opportunities: Vec::new(),
            templates: Vec::new(),
            webhooks: BTreeMap::new(),
            api_webhooks: Vec::new(),
            deliveries: Vec::new(),
            faults: Faults::default(),
            requests: Vec::new(),
        }
    }

    pub fn user(&self, id: &str) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }

    pub fn stage(&self, id: &str) -> Option<&Stage> {
        self.stages.iter().find(|s| s.id == id)
    }

    pub fn posting(&self, id: &str) -> Option<&Posting> {
        self.postings.iter().find(|p| p.id == id)
    }

    pub fn opportunity(&self, id: &str) -> Option<&Opportunity> {
        self.opportunities.iter().find(|o| o.id == id)
    }

    pub fn opportunity_mut(&mut self, id: &str) -> Option<&mut Opportunity> {
        self.opportunities.iter_mut().find(|o| o.id == id)
    }

    pub fn template(&self, id: &str) -> Option<&FeedbackTemplate> {
        self.templates.iter().find(|t| t.id == id)
    }

    pub fn key_mut(&mut self, key: &str) -> Option<&mut ApiKey> {
        self.keys.iter_mut().find(|k| k.key == key)
    }
}

pub(crate) struct ApiKey {
    pub key: String,
    pub label: Option<String>,
    /// `None` grants every permission.
    pub permissions: Option<BTreeSet<String>>,
    pub revoked: bool,
    /// Lever's "access to confidential data": without it, confidential opportunities are left
    /// out of lists and answer 403.
    pub confidential_access: bool,
    pub bucket: TokenBucket,
}

impl ApiKey {
    pub fn allows(&self, permission: &str) -> bool {
        self.permissions
            .as_ref()
            .is_none_or(|set| set.contains(permission))
    }
}

pub(crate) struct User {
    pub id: String,
    pub name: String,
    pub email: String,
    pub access_role: String,
    pub deactivated_at: Option<i64>,
    pub created_at: i64,
}

pub(crate) struct Stage {
    pub id: String,
    pub text: String,
    /// Reaching this stage means the candidate is hired (fires `candidateHired`).
    pub hired: bool,
}

pub(crate) struct Posting {
    pub id: String,
    pub text: String,
    pub tags: Vec<String>,
    pub created_at: i64,
}

pub(crate) struct Opportunity {
    pub id: String,
    pub contact_id: String,
    pub name: String,
    pub emails: Vec<String>,
    pub tags: Vec<String>,
    pub links: Vec<String>,
    pub sources: Vec<String>,
    pub stage_id: String,
    pub stage_changes: Vec<StageChange>,
    pub applications: Vec<Application>,
    pub owner: Option<String>,
    pub followers: Vec<String>,
    pub archived: Option<Archived>,
    pub confidentiality: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub notes: Vec<Note>,
    pub files: Vec<StoredFile>,
    pub feedback: Vec<Feedback>,
}

impl Opportunity {
    pub fn is_confidential(&self) -> bool {
        self.confidentiality == "confidential"
    }
}

pub(crate) struct StageChange {
    pub to_stage_id: String,
    pub to_stage_index: usize,
    pub user_id: Option<String>,
    pub updated_at: i64,
}

pub(crate) struct Application {
    pub id: String,
    pub posting_id: String,
    pub created_at: i64,
}

#[derive(Clone)]
pub(crate) struct Archived {
    pub archived_at: i64,
    pub reason: String,
}

pub(crate) struct Note {
    pub id: String,
    pub value: String,
    pub author_id: Option<String>,
    pub score: Option<u8>,
    pub secret: bool,
    pub notify_followers: bool,
    pub created_at: i64,
}

pub(crate) struct StoredFile {
    pub id: String,
    pub name: String,
    pub content_type: String,
    pub author_id: Option<String>,
    pub uploaded_at: i64,
    pub bytes: Vec<u8>,
}

pub(crate) struct FeedbackTemplate {
    pub id: String,
    pub text: String,
    pub instructions: String,
    pub group: Option<String>,
    /// Each field as Lever shows it: `{id, type, text, description, required, options?}`.
    pub fields: Vec<Value>,
    pub created_at: i64,
}

pub(crate) struct Feedback {
    pub id: String,
    pub template_id: String,
    pub field_values: Vec<Value>,
    pub author_id: Option<String>,
    pub created_at: i64,
    pub completed_at: Option<i64>,
}

pub(crate) struct WebhookSetting {
    pub url: String,
    pub enabled: bool,
    pub signature_token: String,
}

pub(crate) struct ApiWebhook {
    pub id: String,
    pub event: String,
    pub url: String,
    pub signature_token: String,
    pub created_at: i64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeliveryStatus {
    Pending,
    Succeeded,
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Succeeded => "succeeded",
            DeliveryStatus::Failed => "failed",
        }
    }
}

pub(crate) struct Delivery {
    pub id: String,
    pub event: String,
    pub url: String,
    pub body: Value,
    pub attempts: Vec<Attempt>,
    pub status: DeliveryStatus,
    pub created_at: i64,
    pub rerun_of: Option<String>,
}

pub(crate) struct Attempt {
    pub at: i64,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub response_body: String,
}

#[derive(Clone)]
pub(crate) struct RequestRecord {
    pub method: String,
    pub path: String,
    pub query: String,
    /// `None` while a request is held by the timeout fault.
    pub status: Option<u16>,
    /// The key's last four characters; for a Bearer request, the grant id's.
    pub api_key_last4: String,
    /// The OAuth grant behind a Bearer request.
    pub oauth_grant_id: Option<String>,
    pub perform_as: Option<String>,
    /// When the request arrived (Unix milliseconds), for per-second rates read from the log.
    pub at_ms: i64,
}

/// Lever's webhook events; the first five are the ones the simulator delivers.
pub(crate) const WEBHOOK_EVENTS: &[&str] = &[
    "candidateStageChange",
    "applicationCreated",
    "candidateArchiveChange",
    "candidateHired",
    "candidateDeleted",
    "interviewCreated",
    "interviewUpdated",
    "interviewDeleted",
    "contactCreated",
    "contactUpdated",
];

/// The access roles Lever knows.
pub(crate) const ACCESS_ROLES: &[&str] = &[
    "super admin",
    "admin",
    "team member",
    "limited team member",
    "interviewer",
];

pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

pub(crate) fn random_alphanumeric(len: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}
