//! Every setting, declared once: the page's section, label and help text, the kind of value
//! with its default and bounds. The Settings page draws one field per declaration, in order.

/// The parts of the Settings page, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    Author,
    WriteBack,
    Assessments,
    Email,
    MailServer,
}

impl Section {
    pub const ALL: [Section; 5] = [
        Section::Author,
        Section::WriteBack,
        Section::Assessments,
        Section::Email,
        Section::MailServer,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Section::Author => "Writing to Lever",
            Section::WriteBack => "Write-backs",
            Section::Assessments => "Assessments",
            Section::Email => "Candidate emails",
            Section::MailServer => "Mail server (SMTP)",
        }
    }

    pub fn help(self) -> &'static str {
        match self {
            Section::Author => "Who leverbridge writes to Lever as, and who hears about results.",
            Section::WriteBack => "What leverbridge puts on a candidate's Lever profile. Switching one off stops it for assessments from then on; what is already in Lever stays.",
            Section::Assessments => "How long candidates have, and what passing means.",
            Section::Email => "leverbridge can email a take-home test's link to the candidate (the first email address Lever lists for them), and remind them before it runs out. Live interview pads are not emailed: they are opened in the interview.",
            Section::MailServer => "The server leverbridge sends candidate emails through, such as your provider's SMTP relay.",
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
    /// An email template with placeholders (`domain::email_template`); `multiline` for a body.
    Template {
        default: &'static str,
        multiline: bool,
    },
    /// One of `options`, each `(stored value, label)`.
    Choice {
        default: &'static str,
        options: &'static [(&'static str, &'static str)],
    },
    /// A host name or IP address, or nothing.
    Host,
    /// One line of text of at most `max` characters, or nothing.
    Line { max: usize },
    /// An email address, optionally with a name (`Acme Recruiting <jobs@acme.example>`), or
    /// nothing.
    Address,
    /// A password: sealed with the process key and kept apart from the other values; the form
    /// never shows it, and an empty field keeps the saved one.
    Secret,
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
    help: "Keeps one tag on the opportunity saying where the assessment stands: Candidate Invited, then Assessment in Progress, then Submitted (awaiting its grade or a reviewer), then Passed, Failed or Expired, each after the prefix below.",
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

pub const EMAIL_ENABLED: Setting = Setting {
    name: "email_enabled",
    section: Section::Email,
    label: "Email candidates their invitation",
    help: "Sends the email below when a take-home test is created. A candidate with no email address in Lever gets none: the assessment, Events and Lever (a note, and the progress tag “Invite Failed” after the prefix) say so. Needs the mail server below.",
    kind: Kind::Toggle { default: false },
};

pub const EMAIL_SUBJECT: Setting = Setting {
    name: "email_subject",
    section: Section::Email,
    label: "Subject",
    help: "Placeholders: {candidate_name}, {assessment_link}, {time_limit}, {start_by} and {company} (the organization's name). Reminders put “Reminder: ” before it.",
    kind: Kind::Template {
        default: "Your coding assessment from {company}",
        multiline: false,
    },
};

pub const EMAIL_BODY: Setting = Setting {
    name: "email_body",
    section: Section::Email,
    label: "Message",
    help: "Plain text, with the same placeholders. Include {assessment_link}: it is how the candidate reaches the test.",
    kind: Kind::Template {
        default: "Hello {candidate_name},\n\nThank you for your interest in {company}. As the next step, we would like you to complete a short coding assessment:\n\n{assessment_link}\n\nOnce you start, you have {time_limit} to finish. Please start by {start_by}.\n\nGood luck!\nThe {company} hiring team",
        multiline: true,
    },
};

pub const WITHDRAWN_SUBJECT: Setting = Setting {
    name: "withdrawn_subject",
    section: Section::Email,
    label: "Subject when an assessment is withdrawn",
    help: "Sent when a candidate who was emailed an invitation is archived, hired or deleted in Lever before handing the test in (a deleted candidate's address is erased, so they get none). The same placeholders.",
    kind: Kind::Template {
        default: "Your coding assessment from {company} has been withdrawn",
        multiline: false,
    },
};

pub const WITHDRAWN_BODY: Setting = Setting {
    name: "withdrawn_body",
    section: Section::Email,
    label: "Message when an assessment is withdrawn",
    help: "Plain text, with the same placeholders. The link no longer works, so there is no need to include it.",
    kind: Kind::Template {
        default: "Hello {candidate_name},\n\nThe coding assessment {company} sent you has been withdrawn, so its link no longer works and there is nothing more for you to do.\n\nThank you for your time.\nThe {company} hiring team",
        multiline: true,
    },
};

pub const START_REMINDER_HOURS: Setting = Setting {
    name: "start_reminder_hours",
    section: Section::Email,
    label: "Remind candidates who have not started",
    help: "Emails a reminder this many hours before an invitation that was not started expires, once per assessment. 0 sends none.",
    kind: Kind::Number {
        default: 0,
        min: 0,
        max: 720,
        unit: "hours before the link expires",
    },
};

pub const DEADLINE_REMINDER_MINUTES: Setting = Setting {
    name: "deadline_reminder_minutes",
    section: Section::Email,
    label: "Remind candidates before their time runs out",
    help: "Emails a reminder this many minutes before a started test's time runs out if it is not yet submitted, once per assessment. 0 sends none.",
    kind: Kind::Number {
        default: 0,
        min: 0,
        max: 1440,
        unit: "minutes before the deadline",
    },
};

pub const SMTP_HOST: Setting = Setting {
    name: "smtp_host",
    section: Section::MailServer,
    label: "Host",
    help: "The SMTP server's host name or IP address, such as smtp.example.com.",
    kind: Kind::Host,
};

pub const SMTP_PORT: Setting = Setting {
    name: "smtp_port",
    section: Section::MailServer,
    label: "Port",
    help: "Usually 587 with STARTTLS, 465 with TLS from the start, 25 without encryption.",
    kind: Kind::Number {
        default: 587,
        min: 1,
        max: 65535,
        unit: "",
    },
};

/// How the connection to the mail server is secured.
pub const SMTP_TLS_OPTIONS: &[(&str, &str)] = &[
    ("starttls", "STARTTLS (required)"),
    ("tls", "TLS from the start (implicit TLS)"),
    (
        "none",
        "None: plain text, for a relay on a trusted network only",
    ),
];

pub const SMTP_TLS: Setting = Setting {
    name: "smtp_tls",
    section: Section::MailServer,
    label: "Encryption",
    help: "STARTTLS and TLS check the server's certificate against the public authorities; the connection fails rather than fall back to plain text.",
    kind: Kind::Choice {
        default: "starttls",
        options: SMTP_TLS_OPTIONS,
    },
};

pub const SMTP_USERNAME: Setting = Setting {
    name: "smtp_username",
    section: Section::MailServer,
    label: "Username",
    help: "Leave empty for a server that needs no sign-in.",
    kind: Kind::Line { max: 200 },
};

pub const SMTP_PASSWORD: Setting = Setting {
    name: "smtp_password",
    section: Section::MailServer,
    label: "Password",
    help: "Stored encrypted and never shown again; leave the field empty to keep the saved one.",
    kind: Kind::Secret,
};

pub const SMTP_FROM: Setting = Setting {
    name: "smtp_from",
    section: Section::MailServer,
    label: "From",
    help: "The sender candidates see, an address the server may send as, optionally with a name: Acme Recruiting <jobs@acme.example>.",
    kind: Kind::Address,
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
    &EMAIL_ENABLED,
    &EMAIL_SUBJECT,
    &EMAIL_BODY,
    &WITHDRAWN_SUBJECT,
    &WITHDRAWN_BODY,
    &START_REMINDER_HOURS,
    &DEADLINE_REMINDER_MINUTES,
    &SMTP_HOST,
    &SMTP_PORT,
    &SMTP_TLS,
    &SMTP_USERNAME,
    &SMTP_PASSWORD,
    &SMTP_FROM,
];

#[cfg(test)]
mod tests {
    use super::SETTINGS;

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
}
