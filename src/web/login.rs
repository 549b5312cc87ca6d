//! Sign in and sign out. Attempts are bounded by [`LoginGuard`], which counts a browser that
//! signed in before (its device cookie) apart from the rest; a session lives in the `sessions`
//! table and the cookie only names it.

use crate::web::client_address::ClientAddress;
use actix_session::Session;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::csrf::{CsrfForm, NoFields};
use super::device_cookie::DeviceCookies;
use super::login_guard::{account_key, Attempt, LoginGuard, PasswordCheck};
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
    state: web::Data<AppState>,
    session: Session,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, WebError> {
    if super::auth::current_user(&state, &session).await?.is_some() {
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
    req: HttpRequest,
    state: web::Data<AppState>,
    guard: web::Data<LoginGuard>,
    session: Session,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> Result<HttpResponse, WebError> {
    let next = safe_next(form.next.as_deref());
    let refused = |status: StatusCode, retry_after: Option<u64>, error: String| {
        refusal(&session, &form, &next, status, retry_after, error)
    };
    let account = account_key(&form.email);
    let devices = DeviceCookies::new(&state.settings.secret_key, state.settings.https());
    let device = devices.presented_for(&req, &account);
    let from = match &device {
        Some(nonce) => Attempt::KnownBrowser(nonce),
        None => Attempt::UnknownBrowser(state.settings.tuning.trusted_proxies.client_of(&req)),
    };
    let admitted = match guard.admit(&form.email, from) {
        Ok(admitted) => admitted,
        Err(wait) => {
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            tracing::warn!(retry_after = secs, "sign-in attempts throttled");
            return refused(
                StatusCode::TOO_MANY_REQUESTS,
                Some(secs),
                format!("Too many attempts, try again in {secs} s."),
            );
        }
    };
    let user = find_user(&state, &form.email).await?;
    // An unknown address is checked against a dummy hash: it costs what a wrong password costs.
    let check = guard
        .check_password(
            form.password.clone(),
            user.as_ref().map(|u| u.password_hash.clone()),
        )
        .await?;
    let user = match (check, user) {
        (PasswordCheck::Matches, Some(user)) => {
            guard.succeeded(admitted);
            user
        }
        (PasswordCheck::Busy, _) => {
            tracing::warn!("sign-in refused: every password check is busy");
            return refused(
                StatusCode::SERVICE_UNAVAILABLE,
                Some(5),
                "Too many sign-ins are being checked right now. Nothing is wrong with your \
                 account: try again in a few seconds."
                    .into(),
            );
        }
        _ => {
            return refused(
                StatusCode::UNAUTHORIZED,
                None,
                "Incorrect e-mail address or password.".into(),
            )
        }
    };
    let token = start_session(&state, &user).await?;
    session::sign_in(&session, &token)?;
    tracing::info!(user = %user.email, "signed in");
    let mut response = see_other(&next);
    // This browser is now known for the account: strangers' failures will not lock it out.
    response
        .add_cookie(&devices.issue(&account))
        .map_err(|e| WebError::Unexpected(anyhow::anyhow!("the device cookie: {e}")))?;
    Ok(response)
}

/// The form again with what went wrong, and when to retry if waiting helps.
fn refusal(
    session: &Session,
    form: &LoginForm,
    next: &str,
    status: StatusCode,
    retry_after: Option<u64>,
    error: String,
) -> Result<HttpResponse, WebError> {
    let page = LoginPage {
        csrf: session::csrf_token(session),
        email: form.email.trim().to_owned(),
        next: next.to_owned(),
        error: Some(error),
    };
    let mut response = HttpResponse::build(status);
    if let Some(secs) = retry_after {
        response.insert_header((header::RETRY_AFTER, secs.to_string()));
    }
    Ok(response
        .content_type("text/html; charset=utf-8")
        .body(page.render()?))
}

/// The user with the typed address, if it is an address and someone has it.
async fn find_user(state: &AppState, typed: &str) -> Result<Option<db::users::User>, WebError> {
    let Ok(email) = Email::parse(typed) else {
        return Ok(None);
    };
    state
        .db
        .run(move |conn| db::users::find_by_email(conn, email.as_str()).map_err(WebError::from))
        .await
}

/// Records the sign-in and starts a session: its token, for the cookie.
async fn start_session(state: &AppState, user: &db::users::User) -> Result<String, WebError> {
    let limits = state.settings.tuning.session_limits();
    let user_id = user.id.clone();
    state
        .db
        .run(move |conn| -> Result<String, WebError> {
            db::users::record_login(conn, &user_id)?;
            Ok(db::sessions::start(conn, &user_id, limits)?)
        })
        .await
}

/// Signs this browser out: its session ends (a copy of its cookie stops working too), and the
/// user's sessions on other devices go on.
pub async fn logout(
    state: web::Data<AppState>,
    session: Session,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<HttpResponse, WebError> {
    if let Some(token) = session::token(&session) {
        state
            .db
            .run(move |conn| -> Result<bool, WebError> { Ok(db::sessions::end(conn, &token)?) })
            .await?;
    }
    session::forget(&session);
    Ok(see_other("/login"))
}

/// Signs the user out everywhere: every session of theirs ends, so a copy of this cookie (or
/// one on another device) stops working too. Only a live session can do this: an old cookie
/// that someone kept cannot sign its user out of the sessions they have now.
pub async fn logout_everywhere(
    state: web::Data<AppState>,
    session: Session,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<HttpResponse, WebError> {
    if let Some(token) = session::token(&session) {
        let limits = state.settings.tuning.session_limits();
        state
            .db
            .run(move |conn| -> Result<(), WebError> {
                if let Some(user) = db::sessions::user_of(conn, &token, limits)? {
                    db::users::end_all_sessions(conn, &user.id)?;
                }
                Ok(())
            })
            .await?;
    }
    session::forget(&session);
    Ok(see_other("/login"))
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
