//! Sign in and sign out.

use actix_session::Session;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::csrf::{CsrfForm, NoFields};
use super::{see_other, session, AppState, WebError};
use crate::db;
use crate::domain::Email;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    csrf: String,
    email: String,
    next: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
}

/// Only local paths may follow a login, so the form cannot redirect elsewhere. Browsers drop
/// tabs and line breaks and read `\` as `/`, so `/\t/evil.example` would leave the site: any
/// such character, or a second leading slash, falls back to `/`.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n
                    .chars()
                    .any(|c| c.is_control() || c.is_whitespace() || c == '\\') =>
        {
            n.to_owned()
        }
        _ => "/".to_owned(),
    }
}

pub async fn show(
    session: Session,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, WebError> {
    if session::user_id(&session).is_some() {
        return Ok(see_other(&safe_next(query.next.as_deref())));
    }
    let page = LoginPage {
        csrf: session::csrf_token(&session),
        email: String::new(),
        next: safe_next(query.next.as_deref()),
        error: None,
    };
    super::render(&page)
}

pub async fn submit(
    state: web::Data<AppState>,
    session: Session,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> Result<HttpResponse, WebError> {
    let next = safe_next(form.next.as_deref());
    let email = Email::parse(&form.email).ok();
    let password = form.password.clone();
    let user = state
        .db
        .run(move |conn| -> Result<_, WebError> {
            let user = match &email {
                Some(email) => db::users::find_by_email(conn, email.as_str())?,
                None => None,
            };
            // Always verify a hash, so an unknown address takes as long as a wrong password.
            let ok = crate::crypto::verify_password(
                &password,
                user.as_ref().map(|u| u.password_hash.as_str()),
            );
            match user {
                Some(user) if ok => {
                    db::users::record_login(conn, &user.id)?;
                    Ok(Some(user))
                }
                _ => Ok(None),
            }
        })
        .await?;
    let Some(user) = user else {
        let page = LoginPage {
            csrf: session::csrf_token(&session),
            email: form.email.trim().to_owned(),
            next,
            error: Some("Incorrect e-mail address or password.".into()),
        };
        return Ok(HttpResponse::Unauthorized()
            .content_type("text/html; charset=utf-8")
            .body(page.render()?));
    };
    session::sign_in(&session, &user.id)?;
    tracing::info!(user = %user.email, "signed in");
    Ok(see_other(&next))
}

pub async fn logout(session: Session, CsrfForm(_): CsrfForm<NoFields>) -> HttpResponse {
    session::sign_out(&session);
    see_other("/login")
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_follow_a_login() {
        assert_eq!(safe_next(Some("/orgs/acme?page=2")), "/orgs/acme?page=2");
        assert_eq!(safe_next(Some("/")), "/");
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "https://evil.example",
            "evil",
            "/ /x",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
