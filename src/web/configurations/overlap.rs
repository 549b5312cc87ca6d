//! Configurations that send the same kind of assessment at the same stages: an identical one
//! (same trigger, stage and kind) is refused, as it would send each candidate the same
//! assessment twice; deleting one of two that overlap says what the candidates still receive.

use crate::db::configurations::Configuration;
use crate::domain::{pad_label, TriggerStyle};

/// A stage's name by its id, as Lever's stages were last read.
pub type StageName<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The configuration among `existing` (other than `saving` itself) that `saving` would repeat,
/// with the field to mark and why it is refused.
pub fn identical(
    saving: &Configuration,
    existing: &[Configuration],
    stage_name: StageName<'_>,
) -> Option<(&'static str, String)> {
    let other = existing
        .iter()
        .find(|c| c.id != saving.id && c.same_trigger_and_kind(saving))?;
    let field = match saving.style() {
        TriggerStyle::Tag => "tag_name",
        TriggerStyle::Stage => "trigger_stage_id",
        TriggerStyle::StagePrefix => "stage_prefix",
    };
    let message = format!(
        "The configuration {} already sends a {} to {} {}: a second one would send each of them \
         the same assessment twice. Edit that configuration, or change the trigger, the stage or \
         the assessment.",
        other.name(stage_name),
        pad_label(&other.pad_kind).to_lowercase(),
        whom(other),
        at(other, stage_name),
    );
    Some((field, message))
}

/// Who a configuration sends to: the candidates carrying its tag, or every candidate.
fn whom(c: &Configuration) -> String {
    match (c.style(), &c.tag_name) {
        (TriggerStyle::Tag, Some(tag)) => format!("candidates tagged “{tag}”"),
        _ => "every candidate".into(),
    }
}

/// Where a configuration fires: "at “{stage}”", or at every stage its prefix begins.
pub fn at(c: &Configuration, stage_name: StageName<'_>) -> String {
    match (c.style(), &c.stage_prefix) {
        (TriggerStyle::StagePrefix, Some(prefix)) => {
            format!("at every stage whose name begins with “{prefix}”")
        }
        _ => format!("at “{}”", c.stage_label(stage_name)),
    }
}

/// The delete confirmation's sentence: what the candidates it fires for stop receiving, and
/// what the organization's other configurations (`all`) still send them there.
pub fn deletion_consequence(
    deleted: &Configuration,
    all: &[Configuration],
    stage_name: StageName<'_>,
) -> String {
    let kind = pad_label(&deleted.pad_kind).to_lowercase();
    let who = match (deleted.style(), &deleted.tag_name) {
        (TriggerStyle::Tag, Some(tag)) => format!("Candidates tagged “{tag}”"),
        _ => "Candidates".into(),
    };
    let reach = match (&deleted.trigger_stage_id, &deleted.stage_prefix) {
        (None, Some(prefix)) => format!("who reach a stage whose name begins with “{prefix}”"),
        _ => format!("who reach “{}”", deleted.stage_label(stage_name)),
    };
    let still: Vec<String> = all
        .iter()
        .filter(|o| o.id != deleted.id && o.pad_kind == deleted.pad_kind)
        .filter_map(|o| still_sends(deleted, o, stage_name))
        .collect();
    let kept = "Assessments it has already created are kept, with their links in Lever.";
    if still.is_empty() {
        format!("{who} {reach} will no longer receive a {kind} assessment. {kept}")
    } else {
        format!(
            "{who} {reach} will no longer receive this configuration's {kind} assessment, but {}. \
             {kept}",
            still.join(", and ")
        )
    }
}

/// What `other` (of the same kind) still sends where `deleted` fired: to whom, from which
/// configuration; `None` when it fires at none of those stages.
fn still_sends(
    deleted: &Configuration,
    other: &Configuration,
    stage_name: StageName<'_>,
) -> Option<String> {
    // Whether `other` fires at every stage `deleted` did, or only at some of them.
    let everywhere = match (&deleted.trigger_stage_id, &deleted.stage_prefix) {
        (Some(stage), _) => other
            .watches(stage, stage_name(stage).as_deref())
            .then_some(true)?,
        (None, Some(prefix)) => match (&other.trigger_stage_id, &other.stage_prefix) {
            (None, Some(theirs)) if prefix.starts_with(theirs.as_str()) => true,
            (None, Some(theirs)) if theirs.starts_with(prefix.as_str()) => false,
            (Some(stage), _) => stage_name(stage)
                .is_some_and(|name| name.starts_with(prefix.as_str()))
                .then_some(false)?,
            _ => return None,
        },
        (None, None) => return None,
    };
    let place = if everywhere {
        "there".to_owned()
    } else {
        at(other, stage_name)
    };
    let receive = match (other.style(), &other.tag_name) {
        (TriggerStyle::Tag, Some(_)) => "receive",
        _ => "receives",
    };
    Some(format!(
        "{} {place} still {receive} one from the configuration {}",
        whom(other),
        other.name(stage_name)
    ))
}
