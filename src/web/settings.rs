//! Settings: the organization's settings, one field per declaration in
//! `domain::org_settings`. Admins change them; support staff read them; reviewers are refused.

use std::collections::HashMap;

use actix_web::HttpResponse;
use askama::Template;

use super::auth::{AdminPage, OrgPage, OrgReader};
use super::csrf::CsrfForm;
use super::layout::{Chrome, Nav};
use super::{render, render_invalid, see_other, WebError};
use crate::db::connection::write_transaction;
use crate::db::lever::{CachedStage, CachedUser};
use crate::db::{self, DbConn, DbError};
use crate::domain::org_settings::{
    FieldErrors, Kind, Known, Section, Setting, Value, Values, DEFAULT_USER, MAX_TAG_PREFIX,
    SETTINGS,
};
use crate::jobs::queue;

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    chrome: Chrome,
    sections: Vec<SectionView>,
    /// Set when a submission was refused.
    invalid: bool,
    last_saved: Option<String>,
}

struct SectionView {
    title: &'static str,
    help: &'static str,
    fields: Vec<FieldView>,
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

/// What the page reads besides the values: Lever's users and stages, and the current author.
struct Lever {
    connected: bool,
    users: Vec<CachedUser>,
    stages: Vec<CachedStage>,
    default_user_name: Option<String>,
}

fn read_lever(conn: &mut DbConn, org_id: &str) -> Result<Lever, DbError> {
    let connection = db::lever::connection(conn, org_id)?;
    Ok(Lever {
        connected: connection.is_some(),
        default_user_name: connection.and_then(|c| c.default_user_name),
        users: db::lever::active_users(conn, org_id)?,
        stages: db::lever::stages(conn, org_id)?,
    })
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
        })
        .collect();
    SettingsPage {
        chrome: Chrome::new(org, "Settings", Nav::Settings),
        sections,
        invalid: !errors.is_empty(),
        last_saved,
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
        Kind::LeverUser => {
            let listed = lever.users.iter().any(|u| u.id == value);
            note = if !lever.connected || lever.users.is_empty() {
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
            Control::Select {
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
            }
        }
        Kind::LeverStage { none_label } => {
            if !value.is_empty() && !lever.stages.iter().any(|s| s.id == value) {
                note = Some(Note {
                    text: "The stage chosen before is no longer among Lever's stages: choose another, or save to stop moving candidates.".into(),
                    link: None,
                });
            }
            Control::Select {
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
            }
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
    render(&page(&org, &lever, &shown, &FieldErrors::new(), last_saved))
}

enum Saved {
    /// Saved; the default Lever user's name and the jobs resumed, when it changed.
    Done(Option<(String, usize)>),
    Invalid(FieldErrors, Lever),
}

/// Checks every field against its declaration and Lever's cached users and stages; saves all
/// of them, or nothing and says what is wrong with each field.
pub async fn save(
    org: AdminPage,
    CsrfForm(form): CsrfForm<HashMap<String, String>>,
) -> Result<HttpResponse, WebError> {
    let (org_id, by, submitted) = (org.org.id.clone(), org.user.email.clone(), form.clone());
    let saved = org
        .state
        .db
        .run(move |conn| {
            write_transaction(conn, |conn| -> Result<Saved, DbError> {
                let lever = read_lever(conn, &org_id)?;
                let values = match Values::from_form(&submitted, &lever.known()) {
                    Ok(values) => values,
                    Err(errors) => return Ok(Saved::Invalid(errors, lever)),
                };
                db::settings::save(conn, &org_id, &values, &by)?;
                let Value::Choice(Some(user_id)) = values.get(&DEFAULT_USER) else {
                    return Ok(Saved::Done(None));
                };
                let current = db::settings::default_user(conn, &org_id)?;
                if current.is_some_and(|u| &u.id == user_id) {
                    return Ok(Saved::Done(None));
                }
                let user = lever
                    .users
                    .iter()
                    .find(|u| &u.id == user_id)
                    .expect("the form's user was checked against this list");
                db::lever::set_default_user(conn, &org_id, &user.id, &user.name)?;
                let resumed = queue::unpark(conn, &org_id)?;
                Ok(Saved::Done(Some((user.name.clone(), resumed))))
            })
        })
        .await?;
    match saved {
        Saved::Done(None) => {
            org.flash("success", "Settings saved.");
            Ok(see_other(&org.url("/settings")))
        }
        Saved::Done(Some((name, resumed))) => {
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
        Saved::Invalid(errors, lever) => render_invalid(&page(&org, &lever, &form, &errors, None)),
    }
}
