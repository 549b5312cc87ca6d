//! An organization's settings, the Settings page's fields: each declared once in [`SETTINGS`]
//! with its label, help text, kind, default and validation, stored as text per organization and
//! read as the typed [`OrgSettings`] (`db::settings::for_org`), defaults filling what was never
//! saved.

use std::collections::HashMap;

/// The parts of the Settings page, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    Author,
    WriteBack,
    Assessments,
}

impl Section {
    pub const ALL: [Section; 3] = [Section::Author, Section::WriteBack, Section::Assessments];

    pub fn title(self) -> &'static str {
        match self {
            Section::Author => "Writing to Lever",
            Section::WriteBack => "Write-backs",
            Section::Assessments => "Assessments",
        }
    }

    pub fn help(self) -> &'static str {
        match self {
            Section::Author => "Who leverbridge writes to Lever as, and who hears about results.",
            Section::WriteBack => "What leverbridge puts on a candidate's Lever profile. Switching one off stops it for assessments from then on; what is already in Lever stays.",
            Section::Assessments => "How long candidates have, and what passing means.",
        }
    }
}

/// What a setting holds, its default and the bounds it is checked against.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// On or off (a checkbox).
    Toggle { default: bool },
    /// A whole number from `min` to `max`, counted in `unit`.
    Number {
        default: u32,
        min: u32,
        max: u32,
        unit: &'static str,
    },
    /// The text that starts every progress tag.
    TagPrefix { default: &'static str },
    /// One of the organization's active Lever users, cached from Lever. Kept with the Lever
    /// connection (a user of one Lever account means nothing to another), so it is not among
    /// the values stored with the other settings.
    LeverUser,
    /// One of the organization's Lever stages, cached from Lever, or none (`none_label`).
    LeverStage { none_label: &'static str },
}

/// One setting: how the page shows it and how its value is checked.
#[derive(Debug)]
pub struct Setting {
    /// The form field's name and the stored value's key.
    pub name: &'static str,
    pub section: Section,
    pub label: &'static str,
    pub help: &'static str,
    pub kind: Kind,
}

/// The longest progress-tag prefix, in characters.
pub const MAX_TAG_PREFIX: usize = 40;

pub const DEFAULT_USER: Setting = Setting {
    name: "default_user_id",
    section: Section::Author,
    label: "Default Lever user",
    help: "The author of every link, tag, note and feedback form leverbridge writes to Lever. A dedicated user such as “leverbridge Integration” makes automatic notes easy to recognise. Nothing is written to Lever until one is chosen.",
    kind: Kind::LeverUser,
};

pub const NOTIFY_FOLLOWERS: Setting = Setting {
    name: "notify_followers",
    section: Section::Author,
    label: "Notify the opportunity's followers of results",
    help: "The note with an assessment's result notifies everyone following the candidate's opportunity in Lever. Switch this off to post results quietly.",
    kind: Kind::Toggle { default: true },
};

pub const WRITE_LINK: Setting = Setting {
    name: "write_link",
    section: Section::WriteBack,
    label: "Assessment link",
    help: "Adds the candidate's assessment link to the opportunity's links, and removes it if the assessment is cancelled.",
    kind: Kind::Toggle { default: true },
};

pub const WRITE_PROGRESS_TAGS: Setting = Setting {
    name: "write_progress_tags",
    section: Section::WriteBack,
    label: "Progress tags",
    help: "Keeps one tag on the opportunity saying where the assessment stands: Candidate Invited, then Assessment in Progress, then Passed, Failed or Expired, each after the prefix below.",
    kind: Kind::Toggle { default: true },
};

pub const WRITE_NOTE: Setting = Setting {
    name: "write_note",
    section: Section::WriteBack,
    label: "Notes",
    help: "A note when the candidate is invited, with the link, and one with the result and score when the assessment is scored.",
    kind: Kind::Toggle { default: true },
};

pub const WRITE_FEEDBACK: Setting = Setting {
    name: "write_feedback",
    section: Section::WriteBack,
    label: "Feedback form",
    help: "A scored feedback form: a rating from 1 to 4 derived from the score, the score, the result, the failure reason and the report link.",
    kind: Kind::Toggle { default: true },
};

pub const WRITE_REPORT: Setting = Setting {
    name: "write_report",
    section: Section::WriteBack,
    label: "Report file",
    help: "The assessment's report, attached to the opportunity as a PDF file.",
    kind: Kind::Toggle { default: true },
};

pub const TAG_PREFIX: Setting = Setting {
    name: "progress_tag_prefix",
    section: Section::WriteBack,
    label: "Progress-tag prefix",
    help: "Starts every progress tag, as in “leverbridge: Candidate Invited”. 1 to 40 characters, without a colon or spaces at either end. Tags already on candidates keep the prefix they were written with.",
    kind: Kind::TagPrefix {
        default: "leverbridge",
    },
};

pub const TIME_LIMIT: Setting = Setting {
    name: "time_limit_minutes",
    section: Section::Assessments,
    label: "Take-home time limit",
    help: "How long a candidate has to finish a take-home test once they start it: 10 to 1440 minutes (24 hours).",
    kind: Kind::Number {
        default: 120,
        min: 10,
        max: 1440,
        unit: "minutes",
    },
};

pub const DAYS_TO_START: Setting = Setting {
    name: "days_to_start",
    section: Section::Assessments,
    label: "Days to start",
    help: "How many days after the invitation the candidate may still start; after that the assessment expires. 1 to 60 days.",
    kind: Kind::Number {
        default: 7,
        min: 1,
        max: 60,
        unit: "days",
    },
};

pub const PASS_MARK: Setting = Setting {
    name: "pass_mark",
    section: Section::Assessments,
    label: "Pass mark",
    help: "The lowest score, from 0 to 100, that passes.",
    kind: Kind::Number {
        default: 70,
        min: 0,
        max: 100,
        unit: "points",
    },
};

pub const PASS_STAGE: Setting = Setting {
    name: "pass_stage_id",
    section: Section::Assessments,
    label: "Move passing candidates to",
    help: "The Lever stage a candidate who passes is moved to. “Don't move” leaves that to your recruiters.",
    kind: Kind::LeverStage {
        none_label: "Don't move",
    },
};

/// Every setting, in the page's order.
pub const SETTINGS: &[&Setting] = &[
    &DEFAULT_USER,
    &NOTIFY_FOLLOWERS,
    &WRITE_LINK,
    &WRITE_PROGRESS_TAGS,
    &WRITE_NOTE,
    &WRITE_FEEDBACK,
    &WRITE_REPORT,
    &TAG_PREFIX,
    &TIME_LIMIT,
    &DAYS_TO_START,
    &PASS_MARK,
    &PASS_STAGE,
];

/// A setting's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Toggle(bool),
    Number(u32),
    Text(String),
    /// A Lever user or stage id, or none.
    Choice(Option<String>),
}

impl Kind {
    pub fn default_value(self) -> Value {
        match self {
            Kind::Toggle { default } => Value::Toggle(default),
            Kind::Number { default, .. } => Value::Number(default),
            Kind::TagPrefix { default } => Value::Text(default.to_owned()),
            Kind::LeverUser | Kind::LeverStage { .. } => Value::Choice(None),
        }
    }

    /// Whether the value is kept in the settings table (the default Lever user is not).
    pub fn is_stored(self) -> bool {
        !matches!(self, Kind::LeverUser)
    }
}

impl Value {
    /// The text stored in the database.
    pub fn to_stored(&self) -> String {
        match self {
            Value::Toggle(on) => on.to_string(),
            Value::Number(n) => n.to_string(),
            Value::Text(text) => text.clone(),
            Value::Choice(id) => id.clone().unwrap_or_default(),
        }
    }

    /// The text a form field shows for it (a ticked checkbox is `on`, an unticked one empty).
    pub fn to_form(&self) -> String {
        match self {
            Value::Toggle(true) => "on".into(),
            Value::Toggle(false) => String::new(),
            other => other.to_stored(),
        }
    }
}

/// What the organization's Lever cache offers: the ids a Lever user or stage setting accepts.
#[derive(Default)]
pub struct Known {
    pub active_users: Vec<String>,
    pub stages: Vec<String>,
}

/// The error each invalid field gets, by field name.
pub type FieldErrors = HashMap<&'static str, String>;

impl Setting {
    /// Checks the form's text for this setting (`None` when the field was not sent, as for an
    /// unticked checkbox).
    pub fn parse(&self, raw: Option<&str>, known: &Known) -> Result<Value, String> {
        let raw = raw.unwrap_or("");
        match self.kind {
            Kind::Toggle { .. } => match raw {
                "on" | "true" => Ok(Value::Toggle(true)),
                "" | "false" => Ok(Value::Toggle(false)),
                _ => Err(format!("“{}” is on or off.", self.label)),
            },
            Kind::Number { min, max, unit, .. } => {
                let bounds = format!("from {min} to {max} {unit}");
                match raw.trim().parse::<u32>() {
                    Ok(n) if (min..=max).contains(&n) => Ok(Value::Number(n)),
                    Ok(_) => Err(format!("Choose a value {bounds}.")),
                    Err(_) => Err(format!("Enter a whole number {bounds}.")),
                }
            }
            Kind::TagPrefix { .. } => parse_tag_prefix(raw).map(Value::Text),
            Kind::LeverUser if raw.is_empty() && known.active_users.is_empty() => {
                Ok(Value::Choice(None))
            }
            Kind::LeverUser if known.active_users.iter().any(|id| id == raw) => {
                Ok(Value::Choice(Some(raw.to_owned())))
            }
            Kind::LeverUser => Err(
                "Choose one of the active Lever users listed: leverbridge writes to Lever as them."
                    .into(),
            ),
            Kind::LeverStage { .. } if raw.is_empty() => Ok(Value::Choice(None)),
            Kind::LeverStage { .. } if known.stages.iter().any(|id| id == raw) => {
                Ok(Value::Choice(Some(raw.to_owned())))
            }
            Kind::LeverStage { none_label } => Err(format!(
                "Choose one of the Lever stages listed, or “{none_label}”."
            )),
        }
    }
}

fn parse_tag_prefix(raw: &str) -> Result<String, String> {
    let length = raw.chars().count();
    if raw.trim().is_empty() {
        return Err("Enter a prefix for the progress tags, such as “leverbridge”.".into());
    }
    if length > MAX_TAG_PREFIX {
        return Err(format!(
            "Keep the prefix to {MAX_TAG_PREFIX} characters or fewer (this one has {length})."
        ));
    }
    if raw.trim() != raw {
        return Err("Remove the spaces at the start or end of the prefix.".into());
    }
    if raw.contains(':') {
        return Err(
            "Leave the colon out: leverbridge puts “: ” between the prefix and the progress."
                .into(),
        );
    }
    if raw.chars().any(char::is_control) {
        return Err("A prefix cannot contain line breaks or control characters.".into());
    }
    Ok(raw.to_owned())
}

/// A value for every setting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Values(HashMap<&'static str, Value>);

impl Values {
    pub fn defaults() -> Values {
        Values(
            SETTINGS
                .iter()
                .map(|s| (s.name, s.kind.default_value()))
                .collect(),
        )
    }

    /// The values stored for an organization, by name; a setting never saved, or whose stored
    /// text no longer passes its checks, has its default.
    pub fn from_stored(stored: &HashMap<String, String>) -> Values {
        let mut values = Values::defaults();
        for setting in SETTINGS.iter().filter(|s| s.kind.is_stored()) {
            let Some(text) = stored.get(setting.name) else {
                continue;
            };
            // Stages are checked against Lever's list when saved; here any stored id stands.
            let known = Known {
                stages: vec![text.clone()],
                ..Known::default()
            };
            match setting.parse(Some(text), &known) {
                Ok(value) => values.set(setting, value),
                Err(problem) => tracing::warn!(
                    setting = setting.name,
                    problem,
                    "a stored setting is invalid; its default applies"
                ),
            }
        }
        values
    }

    /// Checks a submitted form: every setting's value, or every field's error.
    pub fn from_form(form: &HashMap<String, String>, known: &Known) -> Result<Values, FieldErrors> {
        let mut values = Values::defaults();
        let mut errors = FieldErrors::new();
        for setting in SETTINGS {
            match setting.parse(form.get(setting.name).map(String::as_str), known) {
                Ok(value) => values.set(setting, value),
                Err(error) => {
                    errors.insert(setting.name, error);
                }
            }
        }
        if errors.is_empty() {
            Ok(values)
        } else {
            Err(errors)
        }
    }

    pub fn get(&self, setting: &Setting) -> &Value {
        &self.0[setting.name]
    }

    pub fn set(&mut self, setting: &Setting, value: Value) {
        self.0.insert(setting.name, value);
    }

    /// What the settings table keeps: every value but the default Lever user's.
    pub fn to_stored(&self) -> Vec<(&'static str, String)> {
        SETTINGS
            .iter()
            .filter(|s| s.kind.is_stored())
            .map(|s| (s.name, self.get(s).to_stored()))
            .collect()
    }

    /// The text each form field shows, by name.
    pub fn to_form(&self) -> HashMap<&'static str, String> {
        SETTINGS
            .iter()
            .map(|s| (s.name, self.get(s).to_form()))
            .collect()
    }

    fn toggle(&self, setting: &Setting) -> bool {
        match self.get(setting) {
            Value::Toggle(on) => *on,
            other => unreachable!("{} holds {other:?}, not a toggle", setting.name),
        }
    }

    fn number(&self, setting: &Setting) -> u32 {
        match self.get(setting) {
            Value::Number(n) => *n,
            other => unreachable!("{} holds {other:?}, not a number", setting.name),
        }
    }

    fn text(&self, setting: &Setting) -> String {
        match self.get(setting) {
            Value::Text(text) => text.clone(),
            other => unreachable!("{} holds {other:?}, not text", setting.name),
        }
    }

    fn choice(&self, setting: &Setting) -> Option<String> {
        match self.get(setting) {
            Value::Choice(id) => id.clone(),
            other => unreachable!("{} holds {other:?}, not a choice", setting.name),
        }
    }
}

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

    fn form(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

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

    #[test]
    fn names_are_unique_and_every_setting_has_help() {
        let mut names: Vec<&str> = SETTINGS.iter().map(|s| s.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), SETTINGS.len());
        assert!(SETTINGS
            .iter()
            .all(|s| !s.label.is_empty() && s.help.ends_with('.')));
    }

    #[test]
    fn prefixes_are_checked() {
        assert_eq!(parse_tag_prefix("Acme Hiring").unwrap(), "Acme Hiring");
        assert_eq!(parse_tag_prefix(&"x".repeat(40)).unwrap().len(), 40);
        for bad in ["", "   ", " lead", "trail ", "a:b", "a\tb"] {
            assert!(parse_tag_prefix(bad).is_err(), "{bad:?}");
        }
        assert!(parse_tag_prefix(&"é".repeat(41)).is_err());
    }

    #[test]
    fn a_form_is_read_whole_or_refused_field_by_field() {
        let known = Known {
            active_users: vec!["u1".into()],
            stages: vec!["s1".into()],
        };
        let good = form(&[
            ("default_user_id", "u1"),
            ("write_link", "on"),
            ("progress_tag_prefix", "Acme"),
            ("time_limit_minutes", " 90 "),
            ("days_to_start", "60"),
            ("pass_mark", "0"),
            ("pass_stage_id", "s1"),
        ]);
        let settings = OrgSettings::new(&Values::from_form(&good, &known).unwrap(), None);
        assert!(settings.write_backs.link && !settings.write_backs.note);
        assert!(!settings.notify_followers, "an unticked box is off");
        assert_eq!(settings.progress_tag("Passed"), "Acme: Passed");
        assert_eq!(
            (
                settings.time_limit_minutes,
                settings.days_to_start,
                settings.pass_mark
            ),
            (90, 60, 0)
        );
        assert_eq!(settings.pass_stage_id.as_deref(), Some("s1"));

        let bad = form(&[
            ("default_user_id", "u2"),
            ("write_link", "maybe"),
            ("progress_tag_prefix", "a:b"),
            ("time_limit_minutes", "9"),
            ("days_to_start", "seven"),
            ("pass_mark", "101"),
            ("pass_stage_id", "s2"),
        ]);
        let errors = Values::from_form(&bad, &known).unwrap_err();
        let mut fields: Vec<&str> = errors.keys().copied().collect();
        fields.sort_unstable();
        assert_eq!(
            fields,
            [
                "days_to_start",
                "default_user_id",
                "pass_mark",
                "pass_stage_id",
                "progress_tag_prefix",
                "time_limit_minutes",
                "write_link"
            ]
        );
        assert_eq!(
            errors["time_limit_minutes"],
            "Choose a value from 10 to 1440 minutes."
        );
        assert_eq!(
            errors["days_to_start"],
            "Enter a whole number from 1 to 60 days."
        );
    }

    #[test]
    fn no_user_is_needed_while_lever_lists_none() {
        let values = Values::from_form(
            &form(&[
                ("progress_tag_prefix", "x"),
                ("time_limit_minutes", "10"),
                ("days_to_start", "1"),
                ("pass_mark", "70"),
            ]),
            &Known::default(),
        )
        .unwrap();
        assert_eq!(values.get(&DEFAULT_USER), &Value::Choice(None));
    }

    #[test]
    fn stored_values_round_trip_and_bad_ones_fall_back_to_defaults() {
        let mut values = Values::defaults();
        values.set(&PASS_MARK, Value::Number(55));
        values.set(&WRITE_REPORT, Value::Toggle(false));
        values.set(&PASS_STAGE, Value::Choice(Some("s9".into())));
        let stored: HashMap<String, String> = values
            .to_stored()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        assert!(!stored.contains_key(DEFAULT_USER.name));
        assert_eq!(Values::from_stored(&stored), values);

        let broken: HashMap<String, String> = [("pass_mark".to_owned(), "lots".to_owned())].into();
        assert_eq!(Values::from_stored(&broken), Values::defaults());
    }
}
