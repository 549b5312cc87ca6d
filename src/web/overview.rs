//! Overview: the organization at a glance.

use actix_web::HttpResponse;
use askama::Template;

use super::auth::OrgPage;
use super::layout::{Chrome, Nav};
use super::{render, WebError};
use crate::db;

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    chrome: Chrome,
    members: Vec<(String, String)>,
    created: String,
}

pub async fn show(page: OrgPage) -> Result<HttpResponse, WebError> {
    let org_id = page.org.id.clone();
    let members = page
        .state
        .db
        .run(move |conn| db::orgs::members(conn, &org_id).map_err(WebError::from))
        .await?;
    render(&OverviewPage {
        chrome: Chrome::new(&page, "Overview", Nav::Overview),
        members,
        created: page.org.created_at.format("%-d %b %Y").to_string(),
    })
}
