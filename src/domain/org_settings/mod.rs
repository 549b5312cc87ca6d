//! An organization's settings, the Settings page's fields: each declared once in [`SETTINGS`]
//! with its label, help text, kind, default and validation, stored as text per organization and
//! read as the typed [`OrgSettings`] (`db::settings::for_org`), defaults filling what was never
//! saved.

mod declarations;
mod values;

pub use declarations::{
    Kind, Section, Setting, DAYS_TO_START, DEADLINE_REMINDER_MINUTES, DEFAULT_USER, EMAIL_BODY,
    EMAIL_ENABLED, EMAIL_SUBJECT, MAX_TAG_PREFIX, NOTIFY_FOLLOWERS, PASS_MARK, PASS_STAGE,
    SETTINGS, SMTP_FROM, SMTP_HOST, SMTP_PASSWORD, SMTP_PORT, SMTP_TLS, SMTP_USERNAME,
    START_REMINDER_HOURS, TAG_PREFIX, TIME_LIMIT, WITHDRAWN_BODY, WITHDRAWN_SUBJECT,
    WRITE_FEEDBACK, WRITE_LINK, WRITE_NOTE, WRITE_PROGRESS_TAGS, WRITE_REPORT,
};

use crate::domain::email_template::EmailTemplate;
pub use values::{FieldErrors, Known, Value, Values};

/// The Lever user leverbridge writes as (`perform_as`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DefaultUser {
    pub id: String,
    pub name: String,
}

/// Which write-backs to make.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteBacks {
    pub link: bool,
    pub progress_tags: bool,
    /// The invitation note and the result note.
    pub note: bool,
    pub feedback_form: bool,
    pub report_file: bool,
}

/// How the connection to the mail server is secured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain text throughout.
    None,
    /// Plain text, then STARTTLS, which the server must offer.
    StartTls,
    /// TLS from the first byte (implicit TLS, usually port 465).
    Implicit,
}

impl SmtpTls {
    fn from_stored(value: &str) -> SmtpTls {
        match value {
            "none" => SmtpTls::None,
            "tls" => SmtpTls::Implicit,
            _ => SmtpTls::StartTls,
        }
    }
}

/// The mail server candidate emails go through (its password is sealed apart:
/// `db::settings::smtp_password`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmtpServer {
    /// Empty until an admin enters one.
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    /// Empty: the server needs no sign-in.
    pub username: String,
    /// The From header, `jobs@acme.example` or `Acme <jobs@acme.example>`; empty until set.
    pub from: String,
}

/// The candidate emails: whether to send them, their text, the reminders and the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmailSettings {
    pub enabled: bool,
    pub subject: EmailTemplate,
    pub body: EmailTemplate,
    /// The email a withdrawn assessment's candidate gets.
    pub withdrawn_subject: EmailTemplate,
    pub withdrawn_body: EmailTemplate,
    /// Hours before an unstarted invitation expires to remind the candidate; 0: never.
    pub start_reminder_hours: u32,
    /// Minutes before a started test's deadline to remind the candidate; 0: never.
    pub deadline_reminder_minutes: u32,
    pub server: SmtpServer,
}

/// An organization's settings, typed; read with `db::settings::for_org`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrgSettings {
    /// `None` until an admin chooses one: nothing is written to Lever meanwhile.
    pub default_user: Option<DefaultUser>,
    /// Whether the result note notifies the opportunity's followers.
    pub notify_followers: bool,
    pub write_backs: WriteBacks,
    /// Starts every progress tag: `{prefix}: Candidate Invited`.
    pub progress_tag_prefix: String,
    pub time_limit_minutes: u32,
    pub days_to_start: u32,
    /// The lowest passing score, 0–100.
    pub pass_mark: u32,
    /// The Lever stage a passing candidate is moved to, if any.
    pub pass_stage_id: Option<String>,
    pub email: EmailSettings,
}

impl OrgSettings {
    /// The settings `values` hold, written as `default_user`.
    pub fn new(values: &Values, default_user: Option<DefaultUser>) -> OrgSettings {
        OrgSettings {
            default_user,
            notify_followers: values.toggle(&NOTIFY_FOLLOWERS),
            write_backs: WriteBacks {
                link: values.toggle(&WRITE_LINK),
                progress_tags: values.toggle(&WRITE_PROGRESS_TAGS),
                note: values.toggle(&WRITE_NOTE),
                feedback_form: values.toggle(&WRITE_FEEDBACK),
                report_file: values.toggle(&WRITE_REPORT),
            },
            progress_tag_prefix: values.text(&TAG_PREFIX),
            time_limit_minutes: values.number(&TIME_LIMIT),
            days_to_start: values.number(&DAYS_TO_START),
            pass_mark: values.number(&PASS_MARK),
            pass_stage_id: values.choice(&PASS_STAGE),
            email: EmailSettings {
                enabled: values.toggle(&EMAIL_ENABLED),
                subject: template(values, &EMAIL_SUBJECT),
                body: template(values, &EMAIL_BODY),
                withdrawn_subject: template(values, &WITHDRAWN_SUBJECT),
                withdrawn_body: template(values, &WITHDRAWN_BODY),
                start_reminder_hours: values.number(&START_REMINDER_HOURS),
                deadline_reminder_minutes: values.number(&DEADLINE_REMINDER_MINUTES),
                server: SmtpServer {
                    host: values.text(&SMTP_HOST),
                    port: u16::try_from(values.number(&SMTP_PORT)).unwrap_or(587),
                    tls: SmtpTls::from_stored(&values.text(&SMTP_TLS)),
                    username: values.text(&SMTP_USERNAME),
                    from: values.text(&SMTP_FROM),
                },
            },
        }
    }

    /// Every default, and no default Lever user.
    pub fn defaults() -> OrgSettings {
        OrgSettings::new(&Values::defaults(), None)
    }

    /// A progress tag, `{prefix}: {progress}`, e.g. `leverbridge: Candidate Invited`.
    pub fn progress_tag(&self, progress: &str) -> String {
        format!("{}: {progress}", self.progress_tag_prefix)
    }
}

/// A template setting's value; values are checked when saved and when read back, so it parses.
fn template(values: &Values, setting: &Setting) -> EmailTemplate {
    EmailTemplate::parse(&values.text(setting)).expect("template values are checked when read")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_the_documented_ones() {
        let defaults = OrgSettings::defaults();
        assert_eq!(defaults.default_user, None);
        assert!(defaults.notify_followers);
        assert_eq!(
            defaults.write_backs,
            WriteBacks {
                link: true,
                progress_tags: true,
                note: true,
                feedback_form: true,
                report_file: true
            }
        );
        assert_eq!(
            defaults.progress_tag("Candidate Invited"),
            "leverbridge: Candidate Invited"
        );
        assert_eq!(
            (
                defaults.time_limit_minutes,
                defaults.days_to_start,
                defaults.pass_mark
            ),
            (120, 7, 70)
        );
        assert_eq!(defaults.pass_stage_id, None);
        assert!(
            !defaults.email.enabled,
            "candidate emails are off until set up"
        );
        assert_eq!(
            (
                defaults.email.start_reminder_hours,
                defaults.email.deadline_reminder_minutes
            ),
            (0, 0),
            "reminders are off by default"
        );
        assert_eq!(defaults.email.server.tls, SmtpTls::StartTls);
    }
}
