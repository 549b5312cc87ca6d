//! Settings: the organization's settings, one field per declaration in
//! `domain::org_settings`. Admins change them; support staff read them; reviewers are refused.

use std::collections::HashMap;

use actix_web::HttpResponse;
use askama::Template;

use super::auth::{AdminPage, OrgPage, OrgReader};
use super::csrf::{CsrfForm, NoFields};
use super::layout::{Chrome, Nav};
use super::{render, render_invalid, see_other, WebError};
use crate::db::connection::write_transaction;
use crate::db::lever::{CachedStage, CachedUser};
use crate::db::{self, DbConn, DbError};
use crate::domain::email_template::{EmailTemplate, PLACEHOLDERS};
use crate::domain::org_settings::{
    FieldErrors, Kind, Known, Section, Setting, Value, Values, DEFAULT_USER, EMAIL_BODY,
    EMAIL_SUBJECT, MAX_TAG_PREFIX, SETTINGS, SMTP_PASSWORD,
};
use crate::domain::OrgSettings;
use crate::queue::table as queue;

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    chrome: Chrome,
    sections: Vec<SectionView>,
    /// Set when a submission was refused.
    invalid: bool,
    /// The refused fields, name and label, for the banner's links to each.
    invalid_fields: Vec<(&'static str, &'static str)>,
    /// Set when the admin asked for a preview: nothing was saved.
    previewed: bool,
    last_saved: Option<String>,
    /// Whether candidates' code can run on this server, and in what.
    running: RunningView,
}

/// The sandbox as this server has it (read-only: it is the server's, not the organization's).
struct RunningView {
    /// Why no code can run, when none can.
    unavailable: Option<String>,
    /// bubblewrap's version.
    bubblewrap: String,
    slots: usize,
    /// Languages found: name and version.
    languages: Vec<(&'static str, String)>,
    /// Languages declared but not installed: name and why.
    missing: Vec<(&'static str, String)>,
}

impl RunningView {
    fn of(sandbox: &crate::sandbox::Sandbox) -> RunningView {
        RunningView {
            unavailable: sandbox.unavailable().map(str::to_owned),
            bubblewrap: sandbox.bwrap_version().unwrap_or_default().to_owned(),
            slots: sandbox.tuning().slots,
            languages: sandbox
                .runtimes()
                .iter()
                .map(|r| (r.spec.name, r.version.clone()))
                .collect(),
            missing: sandbox
                .missing()
                .iter()
                .map(|(spec, why)| (spec.name, why.clone()))
                .collect(),
        }
    }
}

struct SectionView {
    title: &'static str,
    help: &'static str,
    fields: Vec<FieldView>,
    /// The candidate email's preview, drawn after the email section's fields.
    preview: Option<EmailPreview>,
}

/// The invitation as a sample candidate would get it, or why it cannot be shown.
struct EmailPreview {
    rendered: Result<(String, String), String>,
    placeholders: Vec<(String, &'static str)>,
}

struct FieldView {
    name: &'static str,
    label: &'static str,
    help: &'static str,
    control: Control,
    /// Something the admin should know about the current choice, with where to act on it.
    note: Option<Note>,
    error: Option<String>,
}

enum Control {
    Checkbox {
        checked: bool,
    },
    Number {
        value: String,
        min: u32,
        max: u32,
        unit: &'static str,
    },
    Text {
        value: String,
        maxlength: usize,
    },
    TextArea {
        value: String,
        rows: usize,
    },
    /// Never shows the saved secret; says whether one is saved.
    Password {
        saved: bool,
    },
    Select {
        /// The first option, with the empty value, when there is one.
        empty: Option<&'static str>,
        options: Vec<SelectOption>,
    },
}

struct SelectOption {
    value: String,
    label: String,
    selected: bool,
}

struct Note {
    text: String,
    link: Option<(String, &'static str)>,
}

/// What the page reads besides the values: Lever's users and stages, the current author, and
/// what the email preview needs.
struct Lever {
    connected: bool,
    users: Vec<CachedUser>,
    stages: Vec<CachedStage>,
    default_user_name: Option<String>,
    /// Whether an SMTP password is saved.
    smtp_password_saved: bool,
    /// The organization's name, `{company}` in the preview.
    company: String,
    /// The saved settings, which the preview fills in what the form does not change.
    saved: OrgSettings,
}

fn read_lever(conn: &mut DbConn, org_id: &str) -> Result<Lever, DbError> {
    let connection = db::lever::connection(conn, org_id)?;
    Ok(Lever {
        connected: connection.is_some(),
        default_user_name: connection.and_then(|c| c.default_user_name),
        users: db::lever::active_users(conn, org_id)?,
        stages: db::lever::stages(conn, org_id)?,
        smtp_password_saved: db::settings::smtp_password(conn, org_id)?.is_some(),
        company: db::orgs::find(conn, org_id)?
            .map(|o| o.name)
            .unwrap_or_default(),
        saved: db::settings::for_org(conn, org_id)?,
    })
}

/// The invitation for a sample candidate, from the templates `shown` (the saved ones, or those
/// just submitted), or the first template error.
fn preview(
    lever: &Lever,
    shown: &HashMap<String, String>,
    now: chrono::NaiveDateTime,
) -> EmailPreview {
    let template = |setting: &Setting| -> Result<EmailTemplate, String> {
        let raw = shown.get(setting.name).map(String::as_str);
        match setting.parse(raw, &Known::default()) {
            Ok(Value::Text(text)) => EmailTemplate::parse(&text),
            Ok(_) => unreachable!("a template setting holds text"),
            Err(e) => Err(format!("{}: {e}", setting.label)),
        }
    };
    let rendered = template(&EMAIL_SUBJECT).and_then(|subject| {
        let body = template(&EMAIL_BODY)?;
        let mut settings = lever.saved.clone();
        settings.email.subject = subject;
        settings.email.body = body;
        Ok(crate::assessments::emails::preview(
            &settings,
            &lever.company,
            now,
        ))
    });
    EmailPreview {
        rendered,
        placeholders: PLACEHOLDERS
            .iter()
            .map(|(name, meaning)| (format!("{{{name}}}"), *meaning))
            .collect(),
    }
}

impl Lever {
    /// The ids the form may name: active users only while connected (the user is saved with
    /// the connection).
    fn known(&self) -> Known {
        Known {
            active_users: if self.connected {
                self.users.iter().map(|u| u.id.clone()).collect()
            } else {
                Vec::new()
            },
            stages: self.stages.iter().map(|s| s.id.clone()).collect(),
        }
    }
}

/// The page showing `shown` (each field's text, by name) and `errors`.
fn page(
    org: &OrgPage,
    lever: &Lever,
    shown: &HashMap<String, String>,
    errors: &FieldErrors,
    last_saved: Option<String>,
    now: chrono::NaiveDateTime,
) -> SettingsPage {
    let sections = Section::ALL
        .iter()
        .map(|section| SectionView {
            title: section.title(),
            help: section.help(),
            fields: SETTINGS
                .iter()
                .filter(|s| s.section == *section)
                .map(|setting| {
                    let value = shown.get(setting.name).map(String::as_str).unwrap_or("");
                    field(
                        org,
                        lever,
                        setting,
                        value,
                        errors.get(setting.name).cloned(),
                    )
                })
                .collect(),
            preview: (*section == Section::Email).then(|| preview(lever, shown, now)),
        })
        .collect();
    SettingsPage {
        chrome: Chrome::new(org, "Settings", Nav::Settings),
        sections,
        invalid: !errors.is_empty(),
        invalid_fields: SETTINGS
            .iter()
            .filter(|s| errors.contains_key(s.name))
            .map(|s| (s.name, s.label))
            .collect(),
        previewed: false,
        last_saved,
        running: RunningView::of(&org.state.jobs.sandbox),
    }
}

fn field(
    org: &OrgPage,
    lever: &Lever,
    setting: &'static Setting,
    value: &str,
    error: Option<String>,
) -> FieldView {
    let mut note = None;
    let control = match setting.kind {
        Kind::Toggle { .. } => Control::Checkbox {
            checked: value == "on" || value == "true",
        },
        Kind::Number { min, max, unit, .. } => Control::Number {
            value: value.to_owned(),
            min,
            max,
            unit,
        },
        Kind::TagPrefix { .. } => Control::Text {
            value: value.to_owned(),
            maxlength: MAX_TAG_PREFIX,
        },
        Kind::Template {
            multiline: true, ..
        } => Control::TextArea {
            value: value.to_owned(),
            rows: value.lines().count().clamp(6, 24) + 1,
        },
        Kind::Template { .. } | Kind::Address => Control::Text {
            value: value.to_owned(),
            maxlength: 998,
        },
        Kind::Host => Control::Text {
            value: value.to_owned(),
            maxlength: 253,
        },
        Kind::Line { max } => Control::Text {
            value: value.to_owned(),
            maxlength: max,
        },
        Kind::Secret => Control::Password {
            saved: lever.smtp_password_saved,
        },
        Kind::Choice { options, .. } => Control::Select {
            empty: None,
            options: options
                .iter()
                .map(|(stored, label)| SelectOption {
                    value: (*stored).to_owned(),
                    label: (*label).to_owned(),
                    selected: *stored == value,
                })
                .collect(),
        },
        Kind::LeverUser => {
            let (control, user_note) = lever_user_select(org, lever, value);
            note = user_note;
            control
        }
        Kind::LeverStage { none_label } => {
            let (control, stage_note) = lever_stage_select(lever, value, none_label);
            note = stage_note;
            control
        }
    };
    FieldView {
        // An error says what to do; a note about the stored choice would only distract.
        note: if error.is_some() { None } else { note },
        name: setting.name,
        label: setting.label,
        help: setting.help,
        control,
        error,
    }
}

/// The default Lever user's choice among Lever's active users, with a note when there is none
/// to choose from, none chosen yet, or the chosen one is no longer active.
fn lever_user_select(org: &OrgPage, lever: &Lever, value: &str) -> (Control, Option<Note>) {
    let listed = lever.users.iter().any(|u| u.id == value);
    let note = if !lever.connected || lever.users.is_empty() {
        Some(Note {
            text: "Lever lists no active users yet: connect an API key first.".into(),
            link: Some((org.url("/connection"), "Open Connection")),
        })
    } else if value.is_empty() {
        Some(Note {
            text: "Not chosen yet: nothing is written to Lever until one is.".into(),
            link: None,
        })
    } else if !listed {
        Some(Note {
            text: format!(
                "{}, chosen before, is no longer an active Lever user: choose another.",
                lever.default_user_name.as_deref().unwrap_or("The user")
            ),
            link: None,
        })
    } else {
        None
    };
    let control = Control::Select {
        empty: (!listed).then_some("Choose a user…"),
        options: lever
            .users
            .iter()
            .map(|u| SelectOption {
                selected: u.id == value,
                label: format!("{} — {} ({})", u.name, u.email, u.access_role),
                value: u.id.clone(),
            })
            .collect(),
    };
    (control, note)
}

/// A choice among Lever's stages (or none), with a note when the stage chosen before is gone.
fn lever_stage_select(
    lever: &Lever,
    value: &str,
    none_label: &'static str,
) -> (Control, Option<Note>) {
    let note = (!value.is_empty() && !lever.stages.iter().any(|s| s.id == value)).then(|| Note {
        text: "The stage chosen before is no longer among Lever's stages: choose another, or save to stop moving candidates.".into(),
        link: None,
    });
    let control = Control::Select {
        empty: Some(none_label),
        options: lever
            .stages
            .iter()
            .map(|s| SelectOption {
                selected: s.id == value,
                label: s.text.clone(),
                value: s.id.clone(),
            })
            .collect(),
    };
    (control, note)
}

pub async fn show(org: OrgReader) -> Result<HttpResponse, WebError> {
    let org_id = org.org.id.clone();
    let (values, default_user, lever, last_saved) = org
        .state
        .db
        .run(move |conn| -> Result<_, DbError> {
            Ok((
                db::settings::values(conn, &org_id)?,
                db::settings::default_user(conn, &org_id)?,
                read_lever(conn, &org_id)?,
                db::settings::last_saved(conn, &org_id)?,
            ))
        })
        .await?;
    let mut shown: HashMap<String, String> = values
        .to_form()
        .into_iter()
        .map(|(name, text)| (name.to_owned(), text))
        .collect();
    shown.insert(
        DEFAULT_USER.name.to_owned(),
        default_user.map(|u| u.id).unwrap_or_default(),
    );
    let last_saved = last_saved.map(|saved| {
        format!(
            "Last saved by {} on {}.",
            saved.by,
            saved.at.format("%-d %b %Y at %H:%M UTC")
        )
    });
    let now = org.state.settings.tuning.clock.now();
    render(&page(
        &org,
        &lever,
        &shown,
        &FieldErrors::new(),
        last_saved,
        now,
    ))
}

enum Saved {
    /// Saved; the default Lever user's name and the jobs resumed, when it changed.
    Done {
        default_user: Option<(String, usize)>,
        /// The mail server or login changed without a new password: the saved one was
        /// forgotten, so it is never sent to a server it was not given for.
        password_forgotten: bool,
    },
    Invalid(FieldErrors, Lever),
    /// The admin asked for the email's preview: nothing was saved.
    Previewed(FieldErrors, Lever),
}

/// Checks every field against its declaration and Lever's cached users and stages; saves all
/// of them, or nothing and says what is wrong with each field.
pub async fn save(
    org: AdminPage,
    CsrfForm(form): CsrfForm<HashMap<String, String>>,
) -> Result<HttpResponse, WebError> {
    let (org_id, by, submitted) = (org.org.id.clone(), org.user.email.clone(), form.clone());
    let key = org.state.settings.secret_key.clone();
    let previewing = form.contains_key("preview");
    let saved = org
        .state
        .db
        .run(move |conn| {
            write_transaction(conn, |conn| -> Result<Saved, DbError> {
                let lever = read_lever(conn, &org_id)?;
                let checked = Values::from_form(&submitted, &lever.known());
                if previewing {
                    return Ok(Saved::Previewed(checked.err().unwrap_or_default(), lever));
                }
                let values = match checked {
                    Ok(values) => values,
                    Err(errors) => return Ok(Saved::Invalid(errors, lever)),
                };
                let before = db::settings::values(conn, &org_id)?;
                db::settings::save(conn, &org_id, &values, &by)?;
                let password_forgotten =
                    save_or_forget_password(conn, &org_id, &values, &before, &key, &by)?;
                Ok(Saved::Done {
                    default_user: change_default_user(conn, &org_id, &values, &lever)?,
                    password_forgotten,
                })
            })
        })
        .await?;
    let password_forgotten = matches!(
        saved,
        Saved::Done {
            password_forgotten: true,
            ..
        }
    );
    let result = answer(&org, &form, saved);
    if password_forgotten {
        // After "Settings saved.", so it reads as what to do next.
        org.flash(
            "info",
            "The mail server, its encryption or the username changed, so the saved SMTP \
             password was cleared: it is sent only to the server it was given for. Enter the \
             password again.",
        );
    }
    result
}

/// *Send a test email*: an email to the signed-in admin through the saved mail server, and a
/// message saying whether it went (and, if not, why).
pub async fn test_email(
    org: AdminPage,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<HttpResponse, WebError> {
    let to = org.user.email.clone();
    let sent =
        crate::assessments::emails::send_test(&org.state.db, &org.state.settings, &org.org.id, &to)
            .await?;
    match sent {
        Ok(server) => org.flash(
            "success",
            format!("Test email sent to {to} through {server}: check that it arrived."),
        ),
        Err(why) => org.flash("error", format!("The test email was not sent: {why}.")),
    }
    Ok(see_other(&org.url("/settings#setting-smtp_host")))
}

/// Seals a typed SMTP password; an empty password field keeps the saved password, for the same
/// server only. Returns whether the saved password was forgotten.
fn save_or_forget_password(
    conn: &mut DbConn,
    org_id: &str,
    values: &Values,
    before: &Values,
    key: &crate::crypto::SecretKey,
    by: &str,
) -> Result<bool, DbError> {
    match values.get(&SMTP_PASSWORD) {
        Value::Text(password) if !password.is_empty() => {
            let context = db::settings::smtp_password_context(org_id);
            let sealed = key.seal(&context, password);
            db::settings::set_smtp_password(conn, org_id, &sealed, by)?;
            Ok(false)
        }
        _ if values.smtp_server_differs(before) => {
            Ok(db::settings::forget_smtp_password(conn, org_id)?)
        }
        _ => Ok(false),
    }
}

/// Makes the chosen user the default Lever user when that changes, resuming the jobs that
/// waited for one: their name and how many resumed.
fn change_default_user(
    conn: &mut DbConn,
    org_id: &str,
    values: &Values,
    lever: &Lever,
) -> Result<Option<(String, usize)>, DbError> {
    let Value::Choice(Some(user_id)) = values.get(&DEFAULT_USER) else {
        return Ok(None);
    };
    let current = db::settings::default_user(conn, org_id)?;
    if current.is_some_and(|u| &u.id == user_id) {
        return Ok(None);
    }
    let user = lever
        .users
        .iter()
        .find(|u| &u.id == user_id)
        .expect("the form's user was checked against this list");
    db::lever::set_default_user(conn, org_id, &user.id, &user.name)?;
    let resumed = queue::unpark(conn, org_id)?;
    Ok(Some((user.name.clone(), resumed)))
}

/// What the admin sees after saving: back to the page with what changed, or the form again
/// with its errors or the email's preview.
fn answer(
    org: &AdminPage,
    form: &HashMap<String, String>,
    saved: Saved,
) -> Result<HttpResponse, WebError> {
    match saved {
        Saved::Done {
            default_user: None, ..
        } => {
            org.flash("success", "Settings saved.");
            Ok(see_other(&org.url("/settings")))
        }
        Saved::Done {
            default_user: Some((name, resumed)),
            ..
        } => {
            org.flash(
                "success",
                format!("Settings saved: {name} is now the default Lever user; links, tags and notes are written as them."),
            );
            if resumed > 0 {
                org.state.jobs.wake();
                org.flash("info", format!("{resumed} waiting job(s) resumed."));
            }
            Ok(see_other(&org.url("/settings")))
        }
        Saved::Invalid(errors, lever) => {
            let now = org.state.settings.tuning.clock.now();
            render_invalid(&page(org, &lever, form, &errors, None, now))
        }
        Saved::Previewed(errors, lever) => {
            let now = org.state.settings.tuning.clock.now();
            let mut shown = page(org, &lever, form, &errors, None, now);
            shown.previewed = true;
            shown.invalid = false;
            render(&shown)
        }
    }
}
