//! Who is asking, and what they may see: `SignedIn` sends anonymous users to the login page;
//! `OrgPage` resolves `/orgs/{org}/…` and answers 404 to anyone who is not a member (or support).

use actix_session::{Session, SessionExt};
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;

use super::{session, AppState, WebError};
use crate::db::{self, orgs::Organization, users::User};
use crate::domain::{MemberRole, Role};

/// A signed-in user.
pub struct SignedIn {
    pub user: User,
    pub session: Session,
    pub state: web::Data<AppState>,
}

impl FromRequest for SignedIn {
    type Error = WebError;
    type Future = LocalBoxFuture<'static, Result<Self, WebError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { signed_in(&req).await })
    }
}

async fn signed_in(req: &HttpRequest) -> Result<SignedIn, WebError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .expect("AppState registered")
        .clone();
    let session = req.get_session();
    let next = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "/".into());
    match current_user(&state, &session).await? {
        Some(user) => Ok(SignedIn {
            user,
            session,
            state,
        }),
        None => Err(WebError::LoginRequired { next }),
    }
}

/// The user of this cookie's session while it is live; a revoked or expired one is forgotten.
pub async fn current_user(
    state: &web::Data<AppState>,
    session: &Session,
) -> Result<Option<User>, WebError> {
    let Some(token) = session::token(session) else {
        return Ok(None);
    };
    let limits = state.settings.tuning.session_limits();
    let user = state
        .db
        .run(move |conn| db::sessions::user_of(conn, &token, limits).map_err(WebError::from))
        .await?;
    if user.is_none() {
        session::drop_token(session);
    }
    Ok(user)
}

/// A signed-in user looking at one organization they may see.
pub struct OrgPage {
    pub user: User,
    pub org: Organization,
    pub role: Role,
    /// Set when Lever answered 401: shown in every page's header until the key is fixed.
    pub connection_problem: Option<String>,
    pub session: Session,
    pub state: web::Data<AppState>,
}

impl FromRequest for OrgPage {
    type Error = WebError;
    type Future = LocalBoxFuture<'static, Result<Self, WebError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { org_page(&req).await })
    }
}

async fn org_page(req: &HttpRequest) -> Result<OrgPage, WebError> {
    let SignedIn {
        user,
        session,
        state,
    } = signed_in(req).await?;
    let slug = req
        .match_info()
        .get("org")
        .ok_or(WebError::NotFound)?
        .to_owned();
    let (user_id, is_support) = (user.id.clone(), user.is_support);
    let found = state
        .db
        .run(move |conn| -> Result<_, WebError> {
            let Some(org) = db::orgs::find_by_slug(conn, &slug)? else {
                return Ok(None);
            };
            let role = db::orgs::role_of(conn, &user_id, &org.id)?;
            let problem = db::lever::connection(conn, &org.id)?
                .filter(|c| c.is_broken())
                .map(|c| match c.status_message {
                    Some(message) if c.is_oauth() => format!(
                        "Lever needs to be re-authorized: {}. Work is waiting until an admin reconnects with Add to Lever.",
                        message
                            .strip_prefix(db::lever_oauth::NEEDS_REAUTHORIZATION)
                            .map_or(message.as_str(), |m| m.trim_start_matches(": "))
                    ),
                    message => format!(
                        "The Lever connection is broken: {}. Work is waiting until it is fixed.",
                        message.unwrap_or_else(|| "Lever rejected the API key".into())
                    ),
                });
            Ok(Some((org, role, problem)))
        })
        .await?;
    let Some((org, member_role, connection_problem)) = found else {
        return Err(WebError::NotFound);
    };
    let role = match member_role.as_deref().map(MemberRole::parse) {
        Some(Ok(role)) => Role::from(role),
        _ if is_support => Role::Support,
        _ => return Err(WebError::NotFound),
    };
    Ok(OrgPage {
        user,
        org,
        role,
        connection_problem,
        session,
        state,
    })
}

/// An organization's integration pages: its admins, and support staff read-only. Reviewers are
/// refused (403) before the handler runs.
pub struct OrgReader(pub OrgPage);

/// A change to an organization's integration: its admins only. Support staff and reviewers are
/// refused (403, nothing changed) before the handler runs.
pub struct AdminPage(pub OrgPage);

impl FromRequest for OrgReader {
    type Error = WebError;
    type Future = LocalBoxFuture<'static, Result<Self, WebError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let page = org_page(&req).await?;
            match page.role {
                Role::Admin | Role::Support => Ok(OrgReader(page)),
                Role::Reviewer => Err(WebError::Forbidden(
                    "Only administrators of this organization can open this page. Ask one of them if you need a change here.".into(),
                )),
            }
        })
    }
}

impl FromRequest for AdminPage {
    type Error = WebError;
    type Future = LocalBoxFuture<'static, Result<Self, WebError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let page = org_page(&req).await?;
            match page.role {
                Role::Admin => Ok(AdminPage(page)),
                Role::Support => Err(WebError::Forbidden(
                    "Support staff have read-only access to organizations: nothing was changed."
                        .into(),
                )),
                Role::Reviewer => Err(WebError::Forbidden(
                    "Only administrators of this organization can change this. Nothing was changed."
                        .into(),
                )),
            }
        })
    }
}

impl std::ops::Deref for OrgReader {
    type Target = OrgPage;
    fn deref(&self) -> &OrgPage {
        &self.0
    }
}

impl std::ops::Deref for AdminPage {
    type Target = OrgPage;
    fn deref(&self) -> &OrgPage {
        &self.0
    }
}

impl OrgPage {
    /// `/orgs/{slug}{rest}`.
    pub fn url(&self, rest: &str) -> String {
        format!("/orgs/{}{}", self.org.slug, rest)
    }

    pub fn flash(&self, kind: &str, message: impl Into<String>) {
        session::flash(&self.session, kind, message);
    }
}
