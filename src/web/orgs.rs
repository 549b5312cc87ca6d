//! `/`: where a signed-in user lands; `/orgs`: the organizations they can open.

use actix_web::HttpResponse;
use askama::Template;

use super::auth::SignedIn;
use super::{render, see_other, session, WebError};
use crate::db;

pub struct OrgRow {
    pub slug: String,
    pub name: String,
    pub role: String,
}

#[derive(Template)]
#[template(path = "orgs.html")]
struct OrgsPage {
    user_email: String,
    is_support: bool,
    csrf: String,
    orgs: Vec<OrgRow>,
}

async fn visible_orgs(who: &SignedIn) -> Result<Vec<OrgRow>, WebError> {
    let (user_id, is_support) = (who.user.id.clone(), who.user.is_support);
    who.state
        .db
        .run(move |conn| -> Result<_, WebError> {
            let mine = db::orgs::of_user(conn, &user_id)?;
            let mut rows: Vec<OrgRow> = mine
                .into_iter()
                .map(|(org, role)| OrgRow {
                    slug: org.slug,
                    name: org.name,
                    role,
                })
                .collect();
            if is_support {
                for org in db::orgs::all(conn)? {
                    if !rows.iter().any(|r| r.slug == org.slug) {
                        rows.push(OrgRow {
                            slug: org.slug,
                            name: org.name,
                            role: "support".into(),
                        });
                    }
                }
                rows.sort_by_key(|r| r.name.to_lowercase());
            }
            Ok(rows)
        })
        .await
}

/// One organization: straight to it. Several (or support): the list.
pub async fn home(who: SignedIn) -> Result<HttpResponse, WebError> {
    let orgs = visible_orgs(&who).await?;
    match orgs.as_slice() {
        [only] if !who.user.is_support => Ok(see_other(&format!("/orgs/{}", only.slug))),
        _ => Ok(see_other("/orgs")),
    }
}

pub async fn index(who: SignedIn) -> Result<HttpResponse, WebError> {
    let orgs = visible_orgs(&who).await?;
    render(&OrgsPage {
        user_email: who.user.email.clone(),
        is_support: who.user.is_support,
        csrf: session::csrf_token(&who.session),
        orgs,
    })
}
