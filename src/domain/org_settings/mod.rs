//! An organization's settings, the Settings page's fields: each declared once in [`SETTINGS`]
//! with its label, help text, kind, default and validation, stored as text per organization and
//! read as the typed [`OrgSettings`] (`db::settings::for_org`), defaults filling what was never
//! saved.

mod declarations;
mod values;

pub use declarations::{
    Kind, Section, Setting, DAYS_TO_START, DEFAULT_USER, MAX_TAG_PREFIX, NOTIFY_FOLLOWERS,
    PASS_MARK, PASS_STAGE, SETTINGS, TAG_PREFIX, TIME_LIMIT, WRITE_FEEDBACK, WRITE_LINK,
    WRITE_NOTE, WRITE_PROGRESS_TAGS, WRITE_REPORT,
};
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
    }
}
