//! Values that are parsed once at the edge and valid from then on.

mod assessment_state;
mod database_url;
mod delivery_status;
mod email;
pub mod email_template;
pub mod event_outcome;
mod indent_unit;
mod job_state;
mod left_pipeline;
mod new_password;
pub mod org_settings;
mod org_slug;
mod pad_kind;
mod role;
mod stored_text;
mod tag_name;
mod trigger;
pub mod trusted_proxies;
mod webhook_event;
mod write_back_step;

pub use assessment_state::{AssessmentState, InvalidTransition};
pub use database_url::DatabaseUrl;
pub use delivery_status::DeliveryStatus;
pub use email::Email;
pub use indent_unit::IndentUnit;
pub use job_state::{JobState, Lane};
pub use left_pipeline::LeftPipeline;
pub use new_password::{NewPassword, MIN_PASSWORD_LEN};
pub use org_settings::OrgSettings;
pub use org_slug::OrgSlug;
pub use pad_kind::{pad_label, PadKind};
pub use role::{MemberRole, Role};
pub use stored_text::UnknownStored;
pub use tag_name::TagName;
pub use trigger::{parse_prefix, QuestionSource, TriggerStyle};
pub use trusted_proxies::TrustedProxies;
pub use webhook_event::{
    webhook_event, WebhookEventKind, ARCHIVE_CHANGE, DELETED, HIRED, REPLAY_WINDOW_DAYS,
    STAGE_CHANGE, WEBHOOK_EVENTS,
};
pub use write_back_step::WriteBackStep;
