//! What the demo keeps when it starts again on its database: the organizations, the question
//! and the configurations it (or an admin) made the first time, so the assessments created
//! before still name their configuration. Only the simulated Lever is new on every start, and
//! with it the ids of its stages: the configurations follow their stages by name.

use crate::db::configurations::Configuration;
use crate::db::{self, DbConn, DbError};
use crate::domain::{PadKind, QuestionSource, TriggerStyle};

/// Points the organization's configurations at the new simulated Lever's `stages` (`(id,
/// text)`, in pipeline order): a configuration whose trigger stage was read from the previous
/// simulator by name takes the stage of that name now, keeping its id and everything else;
/// then the stages are cached as a stage refresh would. A first start has nothing to carry.
pub fn carry_configurations(
    conn: &mut DbConn,
    org_id: &str,
    stages: &[(String, String)],
) -> Result<(), DbError> {
    let before = db::lever::stages(conn, org_id)?;
    for mut configuration in db::configurations::list(conn, org_id)? {
        let Some(old) = configuration.trigger_stage_id.clone() else {
            continue;
        };
        if stages.iter().any(|(id, _)| *id == old) {
            continue;
        }
        let renamed = before
            .iter()
            .find(|s| s.id == old)
            .and_then(|cached| stages.iter().find(|(_, text)| *text == cached.text));
        if let Some((id, _)) = renamed {
            configuration.trigger_stage_id = Some(id.clone());
            db::configurations::update(conn, &configuration)?;
        }
    }
    db::lever::replace_stages(conn, org_id, stages)?;
    Ok(())
}

/// The demo's configuration: the one carrying `tag` when an earlier start made it (as an admin
/// may have changed it since; its trigger stage back on `stage_id` only if it fires at none of
/// today's `stages`), else a new one sending the take-home question `question_id` to
/// candidates tagged `tag` at `stage_id`. Returns its id.
pub fn keep_demo_configuration(
    conn: &mut DbConn,
    org_id: &str,
    tag: &str,
    stage_id: &str,
    question_id: &str,
) -> Result<String, DbError> {
    if let Some(mut kept) = db::configurations::with_tag(conn, org_id, tag)? {
        let lost = kept.style() != TriggerStyle::StagePrefix
            && !db::lever::stages(conn, org_id)?
                .iter()
                .any(|s| Some(&s.id) == kept.trigger_stage_id.as_ref());
        if lost {
            kept.trigger_stage_id = Some(stage_id.to_owned());
            db::configurations::update(conn, &kept)?;
        }
        return Ok(kept.id);
    }
    let now = db::now();
    let configuration = Configuration {
        id: db::new_id(),
        org_id: org_id.to_owned(),
        trigger_stage_id: Some(stage_id.to_owned()),
        pad_kind: PadKind::TakeHome.as_str().into(),
        question_id: Some(question_id.to_owned()),
        tag_name: Some(tag.to_owned()),
        created_at: now,
        updated_at: now,
        trigger_style: TriggerStyle::Tag.as_str().into(),
        stage_prefix: None,
        question_source: QuestionSource::Library.as_str().into(),
        question_tag_prefix: None,
    };
    db::configurations::insert(conn, &configuration)?;
    Ok(configuration.id)
}
