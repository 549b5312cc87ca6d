//! Confirmation before a destructive action, without JavaScript: the action's form posts without
//! `confirm=yes`, which changes nothing and answers this page naming the consequence; its own
//! form posts the same action again with `confirm=yes`.

use actix_web::HttpResponse;
use askama::Template;
use serde::Deserialize;

use super::layout::Chrome;
use super::{render, WebError};

/// The form of a destructive action: only its CSRF token and, once confirmed, `confirm=yes`.
#[derive(Deserialize)]
pub struct Confirmed {
    #[serde(default)]
    confirm: String,
}

impl Confirmed {
    pub fn is_confirmed(&self) -> bool {
        self.confirm == "yes"
    }
}

/// The question asked before a destructive action.
#[derive(Template)]
#[template(path = "confirm.html")]
pub struct Confirmation {
    pub chrome: Chrome,
    /// e.g. "Delete this configuration?"
    pub question: String,
    /// What happens, in the user's terms.
    pub consequence: String,
    /// The action's URL, posted again with `confirm=yes`.
    pub action: String,
    /// The button's label, e.g. "Delete configuration".
    pub button: String,
    /// Where *Cancel* leads.
    pub cancel: String,
}

impl Confirmation {
    pub fn answer(&self) -> Result<HttpResponse, WebError> {
        render(self)
    }
}
