//! Assessments: every assessment of the organization, newest first, with its candidate,
//! configuration, state and times; filtered by state, a page at a time from a cursor.

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::auth::OrgPage;
use super::layout::{Chrome, Nav};
use super::{render, WebError};
use crate::assessments::AssessmentState;
use crate::db::keyset::Cursor;
use crate::db::{self, DbError};
use crate::domain::pad_label;

const PER_PAGE: i64 = 50;

#[derive(Template)]
#[template(path = "assessments.html")]
struct AssessmentsPage {
    chrome: Chrome,
    rows: Vec<Row>,
    /// (query value, label, count, selected) for each filter.
    filters: Vec<(&'static str, &'static str, i64, bool)>,
    /// The state filtered on, for the next page's link.
    state: Option<&'static str>,
    /// The cursor of the next (older) page, if there is one.
    older: Option<String>,
    /// Whether this is a later page (offer the way back to the newest).
    later_page: bool,
}

struct Row {
    /// For the link to its detail page.
    id: String,
    candidate: String,
    opportunity_id: String,
    configuration: String,
    kind: &'static str,
    question: String,
    state: &'static str,
    badge: &'static str,
    invited: String,
    link: String,
}

#[derive(Deserialize)]
pub struct ListQuery {
    state: Option<String>,
    after: Option<String>,
}

/// The badge colour of a state.
pub(super) fn badge(state: AssessmentState) -> &'static str {
    match state {
        AssessmentState::Passed => "ok",
        AssessmentState::Invited | AssessmentState::Started | AssessmentState::Submitted => "info",
        AssessmentState::Failed => "bad",
        AssessmentState::Expired | AssessmentState::Cancelled => "muted",
    }
}

/// Every member of the organization (and support) may read the assessments.
pub async fn list(org: OrgPage, query: web::Query<ListQuery>) -> Result<HttpResponse, WebError> {
    let state = match query.state.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(raw) => Some(AssessmentState::parse(raw).ok_or_else(|| {
            WebError::BadRequest(format!("There is no assessment state “{raw}”."))
        })?),
    };
    let after = query
        .after
        .as_deref()
        .map(super::keyset::cursor)
        .transpose()?;
    let org_id = org.org.id.clone();
    let filter = state.map(AssessmentState::as_str);
    let cursor = after.clone();
    let (mut assessments, counts, configurations, stages) = org
        .state
        .db
        .run(move |conn| -> Result<_, DbError> {
            Ok((
                db::assessments::page(conn, &org_id, filter, cursor.as_ref(), PER_PAGE + 1)?,
                db::assessments::count_by_state(conn, &org_id)?,
                db::configurations::list(conn, &org_id)?,
                db::lever::stages(conn, &org_id)?,
            ))
        })
        .await?;
    let older = (assessments.len() as i64 > PER_PAGE).then(|| {
        assessments.truncate(PER_PAGE as usize);
        let last = assessments.last().expect("a full page");
        Cursor {
            at: last.created_at,
            id: last.id.clone(),
        }
        .to_string()
    });
    let configuration_names = configuration_names(&configurations, &stages);
    let public_url = &org.state.settings.public_url;
    let rows = assessments
        .iter()
        .map(|a| row(a, &configuration_names, public_url))
        .collect();
    let filters = filters(&counts, state);
    render(&AssessmentsPage {
        chrome: Chrome::new(&org, "Assessments", Nav::Assessments),
        rows,
        filters,
        state: filter,
        older,
        later_page: after.is_some(),
    })
}

/// Each configuration's summary, by id, naming its stages as Lever does.
fn configuration_names<'a>(
    configurations: &'a [db::configurations::Configuration],
    stages: &[db::lever::CachedStage],
) -> HashMap<&'a str, String> {
    let stage_names: HashMap<&str, &str> = stages
        .iter()
        .map(|s| (s.id.as_str(), s.text.as_str()))
        .collect();
    configurations
        .iter()
        .map(|c| {
            let name = |id: &str| stage_names.get(id).map(|s| s.to_string());
            (c.id.as_str(), c.summary(&name))
        })
        .collect()
}

fn row(
    a: &db::assessments::Assessment,
    configuration_names: &HashMap<&str, String>,
    public_url: &url::Url,
) -> Row {
    let state = a.state;
    Row {
        id: a.id.clone(),
        candidate: a.shown_name(),
        opportunity_id: a.opportunity_id.clone(),
        configuration: configuration_names
            .get(a.configuration_id.as_str())
            .cloned()
            .unwrap_or_else(|| crate::db::configurations::deleted_name(&a.tag_name)),
        kind: pad_label(&a.pad_kind),
        question: a.question_title.clone().unwrap_or_default(),
        state: state.label(),
        badge: badge(state),
        invited: a.created_at.format("%-d %b %Y %H:%M").to_string(),
        link: crate::assessments::link(public_url, &a.token),
    }
}

/// All, then each state, with how many assessments each has and which one is `selected`.
fn filters(
    counts: &[(String, i64)],
    selected: Option<AssessmentState>,
) -> Vec<(&'static str, &'static str, i64, bool)> {
    let count = |s: AssessmentState| {
        counts
            .iter()
            .find(|(name, _)| name == s.as_str())
            .map_or(0, |(_, n)| *n)
    };
    let mut filters = vec![(
        "",
        "All",
        counts.iter().map(|(_, n)| n).sum(),
        selected.is_none(),
    )];
    filters.extend(
        AssessmentState::ALL
            .into_iter()
            .map(|s| (s.as_str(), s.label(), count(s), selected == Some(s))),
    );
    filters
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_a_forged_one_is_refused() {
        let cursor = Cursor {
            at: chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
                .unwrap()
                .and_hms_micro_opt(15, 4, 5, 123_456)
                .unwrap(),
            id: "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b".into(),
        };
        assert_eq!(
            super::super::keyset::cursor(&cursor.to_string()).unwrap(),
            cursor
        );
        for forged in ["", "nonsense", "20261201T150405_", "yesterday_abc"] {
            assert!(super::super::keyset::cursor(forged).is_err(), "{forged}");
        }
    }
}
