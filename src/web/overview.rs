//! Overview: the organization at a glance: is the integration set up and healthy.

use crate::domain::JobState;
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
    funnel: Funnel,
    recent: Vec<Recent>,
}

/// The assessment funnel: a row per step, its bar an SVG drawn on the server (the page's
/// Content-Security-Policy admits no inline style), its words text at the page's own size.
struct Funnel {
    bars: Vec<Bar>,
    cancelled: i64,
}

struct Bar {
    label: &'static str,
    count: i64,
    /// Of the invited, in whole percent.
    percent: i64,
    /// The bar's length in percent of the track, to a tenth: at least 1 for a step anyone
    /// reached, so it shows.
    width: String,
    class: &'static str,
}

/// One of the latest assessments.
struct Recent {
    candidate: String,
    state: &'static str,
    badge: &'static str,
    when: String,
}

impl Funnel {
    /// invited → started → submitted → passed / failed / expired, from the count in each state:
    /// an assessment further on counts in every step before its own.
    fn from_counts(counts: &[(String, i64)]) -> Funnel {
        use crate::assessments::AssessmentState::*;
        let n = |state: crate::assessments::AssessmentState| {
            counts
                .iter()
                .find(|(s, _)| s == state.as_str())
                .map_or(0, |(_, n)| *n)
        };
        let (passed, failed, expired) = (n(Passed), n(Failed), n(Expired));
        let submitted = n(Submitted) + passed + failed;
        let started = n(Started) + submitted;
        let invited = counts.iter().map(|(_, n)| n).sum::<i64>();
        let steps = [
            ("Invited", invited, "bar-invited"),
            ("Started", started, "bar-started"),
            ("Submitted", submitted, "bar-submitted"),
            ("Passed", passed, "bar-passed"),
            ("Failed", failed, "bar-failed"),
            ("Expired", expired, "bar-expired"),
        ];
        let bars = steps
            .iter()
            .map(|&(label, count, class)| {
                let share = if invited == 0 {
                    0.0
                } else {
                    count as f64 / invited as f64
                };
                let width = if count > 0 {
                    (share * 100.0).max(1.0)
                } else {
                    0.0
                };
                Bar {
                    label,
                    count,
                    percent: if invited == 0 {
                        0
                    } else {
                        count * 100 / invited
                    },
                    width: format!("{width:.1}"),
                    class,
                }
            })
            .collect();
        Funnel {
            bars,
            cancelled: n(Cancelled),
        }
    }
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
    let (members, connection, token, stats, configurations, jobs, by_state, latest) = page
        .state
        .db
        .run(move |conn| -> Result<_, DbError> {
            Ok((
                db::orgs::members(conn, &org_id)?,
                db::lever::connection(conn, &org_id)?,
                db::webhooks::token(conn, &org_id, STAGE_CHANGE)?,
                db::webhooks::stats(conn, &org_id, STAGE_CHANGE)?,
                db::configurations::list(conn, &org_id)?.len(),
                crate::queue::table::unfinished_counts(conn, &org_id)?,
                db::assessments::count_by_state(conn, &org_id)?,
                db::assessments::page(conn, &org_id, None, None, 5)?,
            ))
        })
        .await?;
    let count = |state: JobState| {
        jobs.iter()
            .find(|(s, _)| *s == state)
            .map(|(_, n)| *n)
            .unwrap_or(0)
    };
    let setup = setup_checklist(
        &page,
        connection.as_ref(),
        token.is_some(),
        &stats,
        configurations,
    );
    render(&OverviewPage {
        chrome: Chrome::new(&page, "Overview", Nav::Overview),
        members,
        created: page.org.created_at.format("%-d %b %Y").to_string(),
        setup,
        show_setup: page.role != Role::Reviewer,
        assessments: by_state.iter().map(|(_, n)| n).sum(),
        jobs_waiting: count(JobState::Parked) + count(JobState::Queued) + count(JobState::Running),
        jobs_dead: count(JobState::Dead),
        funnel: Funnel::from_counts(&by_state),
        recent: latest.iter().map(recent).collect(),
    })
}

/// The setup checklist: each step, whether it is done, and what is there now.
fn setup_checklist(
    page: &OrgPage,
    connection: Option<&db::lever::LeverConnection>,
    token_saved: bool,
    stats: &db::webhooks::EventStats,
    configurations: usize,
) -> Vec<Step> {
    let connected = connection.is_some_and(|c| c.status == "connected");
    vec![
        Step {
            label: "Connect Lever",
            done: connected,
            detail: connection.map_or_else(|| "Not connected yet.".into(), connection_detail),
            href: page.url("/connection"),
        },
        Step {
            label: "Choose the default Lever user",
            done: connection.is_some_and(|c| c.default_user_id.is_some()),
            detail: connection
                .and_then(|c| c.default_user_name.clone())
                .map(|n| format!("Notes and tags are written as {n}."))
                .unwrap_or_else(|| "Nothing is written to Lever until one is chosen.".into()),
            href: page.url("/settings"),
        },
        Step {
            label: "Save the Candidate Stage Change signature token",
            done: token_saved,
            detail: match (token_saved, &stats.last) {
                (false, _) => "Deliveries are refused until it is saved.".into(),
                (true, None) => "Saved; no delivery yet.".into(),
                (true, Some((at, valid))) => format!(
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
    ]
}

/// How the organization is connected to Lever and whether that works: an API key by its last
/// four characters, or Lever's OAuth (*Add to Lever*), which has no key to show.
fn connection_detail(c: &db::lever::LeverConnection) -> String {
    let since = c.created_at.format("%-d %b %Y");
    match (c.is_oauth(), c.status.as_str()) {
        (true, _) if c.is_broken() => {
            "Broken: Lever no longer accepts leverbridge's authorization (Add to Lever).".into()
        }
        (false, _) if c.is_broken() => "Broken: Lever rejects the key.".into(),
        (true, "incomplete") => format!(
            "Connected with OAuth (Add to Lever); {} scope(s) not granted.",
            c.missing().len()
        ),
        (false, "incomplete") => format!("{} permission(s) missing.", c.missing().len()),
        (true, _) => format!(
            "Connected ({}) with OAuth (Add to Lever) by {} since {since}.",
            c.environment, c.connected_by
        ),
        (false, _) => format!(
            "Connected ({}), key ••••{}.",
            c.environment, c.api_key_last4
        ),
    }
}

/// One of the latest assessments: who, in which state, and when it was created.
fn recent(a: &db::assessments::Assessment) -> Recent {
    use crate::assessments::AssessmentState;
    let state = a.state;
    Recent {
        candidate: a.shown_name(),
        state: state.label(),
        badge: match state {
            AssessmentState::Passed => "ok",
            AssessmentState::Failed => "bad",
            s if s.is_finished() => "muted",
            _ => "info",
        },
        when: a.created_at.format("%-d %b %H:%M UTC").to_string(),
    }
}
