//! Settings' values: checked from a submitted form against their declarations, stored as text
//! and read back, defaults filling what was never saved.

use std::collections::HashMap;

use super::declarations::{
    Kind, Setting, EMAIL_ENABLED, MAX_TAG_PREFIX, SETTINGS, SMTP_FROM, SMTP_HOST, SMTP_PORT,
    SMTP_TLS, SMTP_USERNAME,
};
use crate::domain::email_template::EmailTemplate;

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
            Kind::Template { default, .. } | Kind::Choice { default, .. } => {
                Value::Text(default.to_owned())
            }
            Kind::Host | Kind::Line { .. } | Kind::Address | Kind::Secret => {
                Value::Text(String::new())
            }
        }
    }

    /// Whether the value is kept in the settings table (the default Lever user is kept with
    /// the connection, a secret sealed apart: `db::settings::set_smtp_password`).
    pub fn is_stored(self) -> bool {
        !matches!(self, Kind::LeverUser | Kind::Secret)
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
                let bounds = format!("from {min} to {max} {unit}").trim_end().to_owned();
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
            Kind::Template { multiline, .. } => parse_template(raw, multiline).map(Value::Text),
            Kind::Choice { options, .. } => match options.iter().find(|(v, _)| *v == raw) {
                Some((value, _)) => Ok(Value::Text((*value).to_owned())),
                None => Err(format!(
                    "Choose one of: {}.",
                    options
                        .iter()
                        .map(|(_, label)| *label)
                        .collect::<Vec<_>>()
                        .join("; ")
                )),
            },
            Kind::Host => parse_host(raw.trim()).map(Value::Text),
            Kind::Line { max } => parse_line(raw.trim(), max).map(Value::Text),
            Kind::Address => parse_address(raw.trim()).map(Value::Text),
            Kind::Secret if raw.chars().any(char::is_control) => {
                Err("A password cannot contain line breaks or control characters.".into())
            }
            Kind::Secret if raw.chars().count() > 500 => {
                Err("Keep the password to 500 characters or fewer.".into())
            }
            Kind::Secret => Ok(Value::Text(raw.to_owned())),
        }
    }
}

/// The longest template, in characters.
const MAX_TEMPLATE: usize = 10_000;

fn parse_template(raw: &str, multiline: bool) -> Result<String, String> {
    // Browsers send a textarea's line breaks as CRLF; the template keeps plain ones.
    let text = raw.replace("\r\n", "\n");
    let text = if multiline {
        text
    } else {
        text.trim().to_owned()
    };
    if text.trim().is_empty() {
        return Err("Write the text; the default is a good start.".into());
    }
    let length = text.chars().count();
    if length > MAX_TEMPLATE {
        return Err(format!(
            "Keep it to {MAX_TEMPLATE} characters or fewer (this has {length})."
        ));
    }
    if !multiline && text.contains(['\r', '\n']) {
        return Err("A subject is one line.".into());
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err("Remove the control characters.".into());
    }
    EmailTemplate::parse(&text)?;
    Ok(text)
}

fn parse_host(raw: &str) -> Result<String, String> {
    let fine = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']');
    if raw.len() > 253 || !raw.chars().all(fine) {
        return Err(
            "Enter a host name such as smtp.example.com, or an IP address, without a port (the port has its own field).".into(),
        );
    }
    Ok(raw.to_owned())
}

fn parse_line(raw: &str, max: usize) -> Result<String, String> {
    if raw.chars().count() > max {
        return Err(format!("Keep it to {max} characters or fewer."));
    }
    if raw.chars().any(char::is_control) {
        return Err("Remove the line breaks and control characters.".into());
    }
    Ok(raw.to_owned())
}

fn parse_address(raw: &str) -> Result<String, String> {
    if raw.is_empty() {
        return Ok(String::new());
    }
    raw.parse::<lettre::message::Mailbox>()
        .map(|_| raw.to_owned())
        .map_err(|_| {
            format!("“{raw}” is not an email address: write jobs@acme.example, or Acme Recruiting <jobs@acme.example>.")
        })
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
        // Sending needs somewhere to send from; say so on the fields to fill in.
        if values.get(&EMAIL_ENABLED) == &Value::Toggle(true) {
            for (setting, what) in [
                (&SMTP_HOST, "the mail server's host"),
                (&SMTP_FROM, "the address candidates' emails come from"),
            ] {
                if values.get(setting) == &Value::Text(String::new()) {
                    errors.entry(setting.name).or_insert_with(|| {
                        format!("Candidate emails are switched on: enter {what}.")
                    });
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

    /// Whether these values name another mail server or login than `before`: host, port,
    /// encryption or username. A saved password belongs to the server and login it was saved for.
    pub fn smtp_server_differs(&self, before: &Values) -> bool {
        [&SMTP_HOST, &SMTP_PORT, &SMTP_TLS, &SMTP_USERNAME]
            .into_iter()
            .any(|s| self.get(s) != before.get(s))
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

    pub(super) fn toggle(&self, setting: &Setting) -> bool {
        match self.get(setting) {
            Value::Toggle(on) => *on,
            other => unreachable!("{} holds {other:?}, not a toggle", setting.name),
        }
    }

    pub(super) fn number(&self, setting: &Setting) -> u32 {
        match self.get(setting) {
            Value::Number(n) => *n,
            other => unreachable!("{} holds {other:?}, not a number", setting.name),
        }
    }

    pub(super) fn text(&self, setting: &Setting) -> String {
        match self.get(setting) {
            Value::Text(text) => text.clone(),
            other => unreachable!("{} holds {other:?}, not text", setting.name),
        }
    }

    pub(super) fn choice(&self, setting: &Setting) -> Option<String> {
        match self.get(setting) {
            Value::Choice(id) => id.clone(),
            other => unreachable!("{} holds {other:?}, not a choice", setting.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::org_settings::{
        OrgSettings, Section, DEFAULT_USER, PASS_MARK, PASS_STAGE, WRITE_REPORT,
    };

    /// A form with `pairs`; the candidate-email fields, which these tests leave alone, as the
    /// page first shows them.
    fn form(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        let mut form: HashMap<String, String> = SETTINGS
            .iter()
            .filter(|s| matches!(s.section, Section::Email | Section::MailServer))
            .map(|s| (s.name.to_owned(), s.kind.default_value().to_form()))
            .collect();
        form.extend(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        form
    }

    #[test]
    fn templates_and_the_mail_server_are_checked() {
        let known = Known::default();
        let with = |changes: &[(&str, &str)]| {
            let mut pairs = vec![
                ("progress_tag_prefix", "x"),
                ("time_limit_minutes", "10"),
                ("days_to_start", "1"),
                ("pass_mark", "70"),
            ];
            pairs.extend_from_slice(changes);
            Values::from_form(&form(&pairs), &known)
        };
        let errors = with(&[("email_subject", "Hi {name}"), ("smtp_tls", "ssl")]).unwrap_err();
        assert!(errors["email_subject"].starts_with("Unknown placeholder {name}: use "));
        assert!(errors["smtp_tls"].starts_with("Choose one of: STARTTLS"));
        let errors = with(&[("email_enabled", "on")]).unwrap_err();
        assert_eq!(
            errors["smtp_host"],
            "Candidate emails are switched on: enter the mail server's host."
        );
        assert!(errors.contains_key("smtp_from"));
        let errors = with(&[("smtp_from", "not an address"), ("smtp_host", "a b")]).unwrap_err();
        assert!(errors["smtp_from"].contains("is not an email address"));
        assert!(errors["smtp_host"].starts_with("Enter a host name"));
        assert!(with(&[("email_subject", "Two\nlines")]).is_err());
        let values = with(&[
            ("email_enabled", "on"),
            ("smtp_host", "smtp.example.com"),
            ("smtp_from", "Acme <jobs@acme.example>"),
            ("email_body", "Hi {candidate_name}\r\n{assessment_link}"),
        ])
        .unwrap();
        let settings = OrgSettings::new(&values, None);
        assert!(settings.email.enabled);
        assert_eq!(
            settings.email.body.as_str(),
            "Hi {candidate_name}\n{assessment_link}"
        );
        assert!(
            !values
                .to_stored()
                .iter()
                .any(|(name, _)| *name == "smtp_password"),
            "the password is sealed apart"
        );
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
