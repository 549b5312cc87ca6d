//! Assessments withdrawn because their candidate left the pipeline in Lever (archived, hired,
//! deleted), and the erasure of a deleted candidate's personal data.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::assessments::Assessment;
use super::schema::{assessment_emails, assessments, question_choices, snapshots, webhook_events};
use super::DbConn;
use crate::domain::AssessmentState;

/// When and why an assessment was withdrawn, and whether its candidate's data was erased.
#[derive(Clone, Debug, Default, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = assessments)]
pub struct Withdrawal {
    pub cancelled_at: Option<NaiveDateTime>,
    /// `archived`, `hired` or `deleted` (a [`crate::domain::LeftPipeline`]).
    pub cancel_reason: Option<String>,
    pub purged_at: Option<NaiveDateTime>,
}

/// What a delivery's body says once its candidate was deleted in Lever.
pub const ERASED_BODY: &str = "(erased: the candidate was deleted in Lever)";
/// What stands for a deleted candidate's name in the outcomes that named them.
pub const ERASED_NAME: &str = "a candidate deleted in Lever";
/// What stands for a deleted candidate's email address in the outcomes that named it.
pub const ERASED_ADDRESS: &str = "their address (erased)";

/// Every assessment of the organization for the opportunity, oldest first, with its withdrawal.
pub fn for_candidate(
    conn: &mut DbConn,
    org_id: &str,
    opportunity_id: &str,
) -> QueryResult<Vec<(Assessment, Withdrawal)>> {
    assessments::table
        .filter(assessments::org_id.eq(org_id))
        .filter(assessments::opportunity_id.eq(opportunity_id))
        .order((assessments::created_at.asc(), assessments::id.asc()))
        .select((Assessment::as_select(), Withdrawal::as_select()))
        .load(conn)
}

/// The withdrawal of assessment `id`.
pub fn of(conn: &mut DbConn, id: &str) -> QueryResult<Withdrawal> {
    assessments::table
        .find(id)
        .select(Withdrawal::as_select())
        .first(conn)
}

/// Withdraws assessment `id` if it is still `from` (a candidate's start or submission racing the
/// withdrawal wins or loses as a whole); returns whether it was withdrawn.
pub fn withdraw(
    conn: &mut DbConn,
    id: &str,
    from: AssessmentState,
    reason: &str,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    let to = from
        .advance(AssessmentState::Cancelled)
        .map_err(|e| diesel::result::Error::QueryBuilderError(e.into()))?;
    let changed = diesel::update(
        assessments::table
            .find(id)
            .filter(assessments::state.eq(from)),
    )
    .set((
        assessments::state.eq(to),
        assessments::cancelled_at.eq(Some(at)),
        assessments::cancel_reason.eq(Some(reason)),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// The organization's deliveries about the opportunity: those it was parsed from, and any other
/// whose body names it (a rejected one is stored before its fields are read).
fn deliveries_about(
    conn: &mut DbConn,
    org_id: &str,
    opportunity_id: &str,
) -> QueryResult<Vec<(String, Option<String>, String)>> {
    let pattern = format!("%{}%", like_escaped(opportunity_id));
    webhook_events::table
        .filter(webhook_events::org_id.eq(org_id))
        .filter(
            webhook_events::opportunity_id
                .eq(opportunity_id)
                .or(webhook_events::body.like(pattern).escape('\\')),
        )
        .select((
            webhook_events::id,
            webhook_events::candidate_name,
            webhook_events::outcome,
        ))
        .load(conn)
}

/// Whether leverbridge holds anything about the opportunity apart from the delivery `except`.
pub fn knows_candidate(
    conn: &mut DbConn,
    org_id: &str,
    opportunity_id: &str,
    except: &str,
) -> QueryResult<bool> {
    if !for_candidate(conn, org_id, opportunity_id)?.is_empty() {
        return Ok(true);
    }
    Ok(deliveries_about(conn, org_id, opportunity_id)?
        .iter()
        .any(|(id, _, _)| id != except))
}

pub use crate::domain::event_outcome::Erased;

/// Every address the assessments' emails went to, longest first, for the outcomes that name it
/// ("invitation email to …").
fn addresses_of(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<String>> {
    let mut addresses: Vec<String> = assessment_emails::table
        .filter(assessment_emails::assessment_id.eq_any(ids))
        .filter(assessment_emails::recipient.is_not_null())
        .select(assessment_emails::recipient.assume_not_null())
        .distinct()
        .load(conn)?;
    addresses.retain(|address| !address.trim().is_empty());
    addresses.sort_by_key(|address| std::cmp::Reverse(address.len()));
    Ok(addresses)
}

/// Erases what leverbridge holds of a deleted candidate: on their assessments the name, the
/// score and its reason (the rows keep their ids, states and times, so the funnel still counts
/// them), every save of their code, where their emails went, and on the deliveries about them
/// the body, the name, and the name and email address in the outcome. Call it in a write
/// transaction.
pub fn erase_candidate(
    conn: &mut DbConn,
    org_id: &str,
    opportunity_id: &str,
    at: NaiveDateTime,
) -> QueryResult<Erased> {
    let held = for_candidate(conn, org_id, opportunity_id)?;
    let deliveries = deliveries_about(conn, org_id, opportunity_id)?;
    // Every name the candidate was known by here, longest first (a name inside another).
    let chooses = question_choices::table
        .filter(question_choices::org_id.eq(org_id))
        .filter(question_choices::opportunity_id.eq(opportunity_id));
    let choice_names: Vec<String> = chooses
        .select(question_choices::candidate_name)
        .load(conn)?;
    let mut names: Vec<String> = held
        .iter()
        .map(|(a, _)| a.candidate_name.clone())
        .chain(deliveries.iter().filter_map(|(_, name, _)| name.clone()))
        .chain(choice_names)
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .collect();
    names.sort_by_key(|name| std::cmp::Reverse(name.len()));
    names.dedup();

    let ids: Vec<String> = held.iter().map(|(a, _)| a.id.clone()).collect();
    let addresses = addresses_of(conn, &ids)?;
    let saves = diesel::delete(snapshots::table.filter(snapshots::assessment_id.eq_any(&ids)))
        .execute(conn)?;
    // Their runs, and what their programs printed when graded.
    super::cases::erase_work(conn, &ids)?;
    diesel::update(assessments::table.filter(assessments::id.eq_any(&ids)))
        .set((
            assessments::candidate_name.eq(""),
            assessments::score.eq(None::<i32>),
            assessments::failure_reason.eq(None::<String>),
            assessments::purged_at.eq(Some(at)),
        ))
        .execute(conn)?;
    // Their invitation and reminder emails keep what was sent and when, not where to.
    diesel::update(assessment_emails::table.filter(assessment_emails::assessment_id.eq_any(&ids)))
        .set((
            assessment_emails::recipient.eq(None::<String>),
            assessment_emails::detail.eq(None::<String>),
        ))
        .execute(conn)?;
    // A recruiter's choice waiting for (or past) its question names the candidate too.
    let choices = diesel::update(chooses)
        .set(question_choices::candidate_name.eq(""))
        .execute(conn)?;
    for (id, _, outcome) in &deliveries {
        // Addresses first: a name can be part of one (ada@… holds "ada").
        let outcome = addresses.iter().fold(outcome.clone(), |text, address| {
            text.replace(address, ERASED_ADDRESS)
        });
        let outcome = names
            .iter()
            .fold(outcome, |text, name| text.replace(name, ERASED_NAME));
        diesel::update(webhook_events::table.find(id))
            .set((
                webhook_events::body.eq(ERASED_BODY),
                webhook_events::candidate_name.eq(None::<String>),
                webhook_events::outcome.eq(outcome),
            ))
            .execute(conn)?;
    }
    Ok(Erased {
        assessments: ids.len(),
        saves,
        deliveries: deliveries.len(),
        choices,
    })
}

/// `text` matched literally by `LIKE … ESCAPE '\'`.
fn like_escaped(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_patterns_match_the_id_literally() {
        assert_eq!(super::like_escaped("a_b%c\\d"), "a\\_b\\%c\\\\d");
    }
}
