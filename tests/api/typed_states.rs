//! Typed states: a delivery's status and a write-back step are enums stored as their names on
//! both backends. Every name this version writes reads back as itself; a name it does not know
//! (written by a newer version, say) makes the row unreadable with a message that names it,
//! never a silent fallback to some other value.

use chrono::Duration;
use diesel::prelude::*;
use leverbridge::db::schema::{assessment_steps, assessments, webhook_events};
use leverbridge::db::{self, DbConn, DbError};
use leverbridge::domain::{DeliveryStatus, WriteBackStep};

use crate::both_backends;
use crate::helpers::{Backend, TestApp};
use crate::lever_world::{connected, TAG, TRIGGER};

both_backends!(
    every_delivery_status_reads_back_and_an_unknown_one_is_an_error,
    every_write_back_step_reads_back_and_an_unknown_one_is_an_error,
);

/// An organization with one stage-change delivery whose job has run: one event, one assessment
/// with its invitation's steps.
async fn one_invitation(backend: Backend) -> TestApp {
    let (app, lever) = connected(backend).await;
    let ada = lever.candidate("Ada Lovelace", &[TAG]).await;
    lever.move_to(&ada, TRIGGER).await;
    app.drain().await;
    app
}

/// The delivery stored as `status`, read back through the Events page's query.
fn stored_as(conn: &mut DbConn, status: &str) -> Result<DeliveryStatus, DbError> {
    diesel::update(webhook_events::table)
        .set(webhook_events::status.eq(status))
        .execute(conn)?;
    let (org_id, id): (String, String) = webhook_events::table
        .select((webhook_events::org_id, webhook_events::id))
        .first(conn)?;
    let event = db::webhooks::event(conn, &org_id, &id)?.expect("the delivery");
    Ok(event.status)
}

async fn every_delivery_status_reads_back_and_an_unknown_one_is_an_error(backend: Backend) {
    let app = one_invitation(backend).await;
    let (read, unknown) = app
        .db
        .run(|conn| {
            let read = DeliveryStatus::ALL
                .into_iter()
                .map(|status| stored_as(conn, status.as_str()))
                .collect::<Result<Vec<_>, _>>()?;
            Ok::<_, DbError>((read, stored_as(conn, "bounced").unwrap_err()))
        })
        .await
        .unwrap();
    assert_eq!(read, DeliveryStatus::ALL);
    assert!(
        matches!(unknown, DbError::Unreadable(_))
            && unknown
                .to_string()
                .contains("the database holds an unknown delivery status `bounced`"),
        "{unknown}"
    );
}

async fn every_write_back_step_reads_back_and_an_unknown_one_is_an_error(backend: Backend) {
    let app = one_invitation(backend).await;
    let (read, unknown) = app
        .db
        .run(|conn| {
            let id: String = assessments::table.select(assessments::id).first(conn)?;
            diesel::delete(assessment_steps::table).execute(conn)?;
            let start = db::now();
            for (i, step) in WriteBackStep::ALL.into_iter().enumerate() {
                db::assessments::record_step(conn, &id, step)?;
                // One second apart, so the listing's order is the order written.
                diesel::update(assessment_steps::table.find((&id, step)))
                    .set(assessment_steps::done_at.eq(start + Duration::seconds(i as i64)))
                    .execute(conn)?;
            }
            let read: Vec<WriteBackStep> = db::assessments::steps(conn, &id)?
                .into_iter()
                .map(|(step, _)| step)
                .collect();
            diesel::insert_into(assessment_steps::table)
                .values((
                    assessment_steps::assessment_id.eq(&id),
                    assessment_steps::step.eq("teleport"),
                    assessment_steps::done_at.eq(start),
                ))
                .execute(conn)?;
            let unknown = DbError::from(db::assessments::steps(conn, &id).unwrap_err());
            Ok::<_, DbError>((read, unknown))
        })
        .await
        .unwrap();
    assert_eq!(read, WriteBackStep::ALL);
    assert!(
        matches!(unknown, DbError::Unreadable(_))
            && unknown
                .to_string()
                .contains("the database holds an unknown write-back step `teleport`"),
        "{unknown}"
    );
}
