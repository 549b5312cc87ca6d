//! Overview: the organization at a glance: is the integration set up and healthy.

use actix_web::HttpResponse;
use askama::Template;

use super::auth::OrgPage;
use super::layout::{Chrome, Nav};
use super::{render, WebError};
use crate::db::{self, DbError};
use crate::domain::{Role, STAGE_CHANGE};

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    chrome: Chrome,
    members: Vec<(String, String)>,
    created: String,
    setup: Vec<Step>,
    show_setup: bool,
    assessments: i64,
    jobs_waiting: i64,
    jobs_dead: i64,
}

/// One line of the setup checklist.
struct Step {
    label: &'static str,
    done: bool,
    detail: String,
    href: String,
}

pub async fn show(page: OrgPage) -> Result<HttpResponse, WebError> {
    let org_id = page.org.id.clone();
    let (members, connection, token, stats, configurations, assessments, jobs) = page
        .state
        .db
        .run(move |conn| -> Result<_, DbError> {
            Ok((
                db::orgs::members(conn, &org_id)?,
                db::lever::connection(conn, &org_id)?,
                db::webhooks::token(conn, &org_id, STAGE_CHANGE)?,
                db::webhooks::stats(conn, &org_id, STAGE_CHANGE)?,
                db::configurations::list(conn, &org_id)?.len(),
                db::assessments::count(conn, &org_id)?,
                crate::jobs::queue::counts(conn, &org_id)?,
            ))
        })
        .await?;
    let count = |state: &str| {
        jobs.iter()
            .find(|(s, _)| s == state)
            .map(|(_, n)| *n)
            .unwrap_or(0)
    };
    let connected = connection.as_ref().is_some_and(|c| c.status == "connected");
    let setup = vec![
        Step {
            label: "Connect Lever",
            done: connected,
            detail: match &connection {
                None => "No API key yet.".into(),
                Some(c) if c.is_broken() => "Broken: Lever rejects the key.".into(),
                Some(c) if c.status == "incomplete" => {
                    format!("{} permission(s) missing.", c.missing().len())
                }
                Some(c) => format!(
                    "Connected ({}), key ••••{}.",
                    c.environment, c.api_key_last4
                ),
            },
            href: page.url("/connection"),
        },
        Step {
            label: "Choose the default Lever user",
            done: connection
                .as_ref()
                .is_some_and(|c| c.default_user_id.is_some()),
            detail: connection
                .as_ref()
                .and_then(|c| c.default_user_name.clone())
                .map(|n| format!("Notes and tags are written as {n}."))
                .unwrap_or_else(|| "Nothing is written to Lever until one is chosen.".into()),
            href: page.url("/settings"),
        },
        Step {
            label: "Save the Candidate Stage Change signature token",
            done: token.is_some(),
            detail: match (&token, &stats.last) {
                (None, _) => "Deliveries are refused until it is saved.".into(),
                (Some(_), None) => "Saved; no delivery yet.".into(),
                (Some(_), Some((at, valid))) => format!(
                    "Last delivery {} ({}).",
                    at.format("%-d %b %H:%M UTC"),
                    if *valid {
                        "signature valid"
                    } else {
                        "signature invalid"
                    }
                ),
            },
            href: page.url("/webhooks"),
        },
        Step {
            label: "Add a configuration",
            done: configurations > 0,
            detail: match configurations {
                0 => "No trigger stage and tag yet.".into(),
                1 => "1 configuration.".into(),
                n => format!("{n} configurations."),
            },
            href: page.url("/configurations"),
        },
    ];
    render(&OverviewPage {
        chrome: Chrome::new(&page, "Overview", Nav::Overview),
        members,
        created: page.org.created_at.format("%-d %b %Y").to_string(),
        setup,
        show_setup: page.role != Role::Reviewer,
        assessments,
        jobs_waiting: count("parked") + count("queued") + count("running"),
        jobs_dead: count("dead"),
    })
}
