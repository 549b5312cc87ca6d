//! What can happen to an account, whoever asks (API, control API, page, seed).
//! Each change that Lever announces by webhook returns the events to deliver.

use serde_json::{json, Value};

use super::state::{
    new_id, now_ms, Account, Application, Archived, Opportunity, Posting, Stage, StageChange, User,
    ACCESS_ROLES,
};

/// The archive reason that means "hired" (fires `candidateHired` as well).
pub(crate) const HIRED_REASON: &str = "Hired";

/// A webhook event waiting to be delivered.
pub(crate) struct Event {
    pub name: &'static str,
    pub data: Value,
}

#[derive(Debug)]
pub(crate) enum ActionError {
    NoOpportunity,
    Invalid(String),
}

fn ids(opp: &Opportunity) -> Value {
    json!({ "opportunityId": opp.id, "candidateId": opp.id, "contactId": opp.contact_id })
}

fn event(name: &'static str, opp: &Opportunity, extra: Value) -> Event {
    let mut data = ids(opp);
    if let (Some(data), Value::Object(extra)) = (data.as_object_mut(), extra) {
        data.extend(extra);
    }
    Event { name, data }
}

pub(crate) fn create_user(
    acct: &mut Account,
    name: &str,
    email: &str,
    access_role: &str,
    deactivated: bool,
) -> Result<String, String> {
    if name.trim().is_empty() || email.trim().is_empty() {
        return Err("name and email are required".into());
    }
    if !ACCESS_ROLES.contains(&access_role) {
        return Err(format!(
            "accessRole must be one of: {}",
            ACCESS_ROLES.join(", ")
        ));
    }
    let now = now_ms();
    let id = new_id();
    acct.users.push(User {
        id: id.clone(),
        name: name.to_string(),
        email: email.to_string(),
        access_role: access_role.to_string(),
        deactivated_at: deactivated.then_some(now),
        created_at: now,
    });
    Ok(id)
}

pub(crate) fn create_stage(
    acct: &mut Account,
    text: &str,
    id: Option<&str>,
    hired: bool,
) -> Result<String, String> {
    if text.trim().is_empty() {
        return Err("text is required".into());
    }
    let id = match id {
        Some(id) if id.trim().is_empty() => return Err("id must not be empty".into()),
        Some(id) => id.to_string(),
        None => new_id(),
    };
    if acct.stage(&id).is_some() {
        return Err(format!("stage {id} already exists"));
    }
    acct.stages.push(Stage {
        id: id.clone(),
        text: text.to_string(),
        hired,
    });
    Ok(id)
}

pub(crate) fn create_posting(
    acct: &mut Account,
    text: &str,
    tags: Vec<String>,
) -> Result<String, String> {
    if text.trim().is_empty() {
        return Err("text is required".into());
    }
    let id = new_id();
    acct.postings.push(Posting {
        id: id.clone(),
        text: text.to_string(),
        tags: dedup(tags),
        created_at: now_ms(),
    });
    Ok(id)
}

pub(crate) struct NewCandidate {
    pub name: String,
    pub email: String,
    pub posting_id: Option<String>,
    pub tags: Vec<String>,
    pub stage_id: Option<String>,
    pub owner_id: Option<String>,
    pub links: Vec<String>,
    pub sources: Vec<String>,
    pub confidential: bool,
}

/// Checks a new candidate against the account: the stage it starts at (the first stage when
/// none is named) and the tags its posting gives it; unknown stages, postings and owners are
/// refused.
fn starting_stage_and_posting_tags(
    acct: &Account,
    new: &NewCandidate,
) -> Result<(String, Vec<String>), String> {
    if new.name.trim().is_empty() {
        return Err("name is required".into());
    }
    let stage_id = match &new.stage_id {
        Some(id) if acct.stage(id).is_none() => return Err(format!("unknown stage {id}")),
        Some(id) => id.clone(),
        None => acct
            .stages
            .first()
            .map(|s| s.id.clone())
            .ok_or("the account has no stages yet; create one first")?,
    };
    let mut tags = Vec::new();
    if let Some(posting_id) = &new.posting_id {
        let posting = acct
            .posting(posting_id)
            .ok_or_else(|| format!("unknown posting {posting_id}"))?;
        tags.extend(posting.tags.iter().cloned());
    }
    if let Some(owner) = &new.owner_id {
        if acct.user(owner).is_none() {
            return Err(format!("unknown owner {owner}"));
        }
    }
    Ok((stage_id, tags))
}

/// Creates an opportunity (inheriting its posting's tags); `applicationCreated` when it has a posting.
pub(crate) fn create_candidate(
    acct: &mut Account,
    new: NewCandidate,
) -> Result<(String, String, Vec<Event>), String> {
    let (stage_id, mut tags) = starting_stage_and_posting_tags(acct, &new)?;
    tags.extend(new.tags);
    let now = now_ms();
    let stage_index = acct
        .stages
        .iter()
        .position(|s| s.id == stage_id)
        .unwrap_or(0);
    let opp = Opportunity {
        id: new_id(),
        contact_id: new_id(),
        name: new.name,
        emails: if new.email.is_empty() {
            vec![]
        } else {
            vec![new.email]
        },
        tags: dedup(tags),
        links: dedup(new.links),
        sources: dedup(new.sources),
        stage_changes: vec![StageChange {
            to_stage_id: stage_id.clone(),
            to_stage_index: stage_index,
            user_id: None,
            updated_at: now,
        }],
        stage_id,
        applications: new
            .posting_id
            .map(|posting_id| Application {
                id: new_id(),
                posting_id,
                created_at: now,
            })
            .into_iter()
            .collect(),
        followers: new.owner_id.iter().cloned().collect(),
        owner: new.owner_id,
        archived: None,
        confidentiality: if new.confidential {
            "confidential"
        } else {
            "non-confidential"
        }
        .into(),
        created_at: now,
        updated_at: now,
        notes: Vec::new(),
        files: Vec::new(),
        feedback: Vec::new(),
    };
    let events = opp
        .applications
        .first()
        .map(|app| {
            event(
                "applicationCreated",
                &opp,
                json!({ "applicationId": app.id, "postingId": app.posting_id }),
            )
        })
        .into_iter()
        .collect();
    let ids = (opp.id.clone(), opp.contact_id.clone());
    acct.opportunities.push(opp);
    Ok((ids.0, ids.1, events))
}

/// Moves an opportunity: `candidateStageChange`, plus `candidateHired` for a hired stage.
/// Moving to the stage it is already at changes nothing and announces nothing.
pub(crate) fn move_stage(
    acct: &mut Account,
    opp_id: &str,
    stage_id: &str,
    user_id: Option<&str>,
) -> Result<Vec<Event>, ActionError> {
    let Some(stage_index) = acct.stages.iter().position(|s| s.id == stage_id) else {
        return Err(ActionError::Invalid(format!("Invalid stage: {stage_id}")));
    };
    let hired = acct.stages[stage_index].hired;
    let opp = acct
        .opportunity_mut(opp_id)
        .ok_or(ActionError::NoOpportunity)?;
    if opp.stage_id == stage_id {
        return Ok(Vec::new());
    }
    let now = now_ms();
    let from = std::mem::replace(&mut opp.stage_id, stage_id.to_string());
    opp.stage_changes.push(StageChange {
        to_stage_id: stage_id.to_string(),
        to_stage_index: stage_index,
        user_id: user_id.map(str::to_string),
        updated_at: now,
    });
    opp.updated_at = now;
    let mut events = vec![event(
        "candidateStageChange",
        opp,
        json!({ "toStageId": stage_id, "fromStageId": from }),
    )];
    if hired {
        events.push(event("candidateHired", opp, json!({})));
    }
    Ok(events)
}

/// Archives (`Some(reason)`) or unarchives (`None`): `candidateArchiveChange`, plus
/// `candidateHired` when archived as hired.
pub(crate) fn set_archived(
    acct: &mut Account,
    opp_id: &str,
    reason: Option<&str>,
) -> Result<Vec<Event>, ActionError> {
    let opp = acct
        .opportunity_mut(opp_id)
        .ok_or(ActionError::NoOpportunity)?;
    let now = now_ms();
    let to = reason.map(|reason| Archived {
        archived_at: now,
        reason: reason.to_string(),
    });
    if opp.archived.is_none() && to.is_none() {
        return Ok(Vec::new());
    }
    let from = std::mem::replace(&mut opp.archived, to.clone());
    opp.updated_at = now;
    let as_json = |a: &Option<Archived>| {
        a.as_ref().map_or(
            Value::Null,
            |a| json!({ "archivedAt": a.archived_at, "reason": a.reason }),
        )
    };
    let mut events = vec![event(
        "candidateArchiveChange",
        opp,
        json!({ "fromArchived": as_json(&from), "toArchived": as_json(&to) }),
    )];
    if reason == Some(HIRED_REASON) {
        events.push(event("candidateHired", opp, json!({})));
    }
    Ok(events)
}

pub(crate) fn delete_opportunity(
    acct: &mut Account,
    opp_id: &str,
) -> Result<Vec<Event>, ActionError> {
    let index = acct
        .opportunities
        .iter()
        .position(|o| o.id == opp_id)
        .ok_or(ActionError::NoOpportunity)?;
    let opp = acct.opportunities.remove(index);
    Ok(vec![event(
        "candidateDeleted",
        &opp,
        json!({ "deletedBy": null }),
    )])
}

/// Adds then removes; existing entries are not duplicated; comparison is case-sensitive.
pub(crate) fn edit_list(list: &mut Vec<String>, add: &[String], remove: &[String]) {
    for item in add {
        if !list.contains(item) {
            list.push(item.clone());
        }
    }
    list.retain(|item| !remove.contains(item));
}

fn dedup(items: Vec<String>) -> Vec<String> {
    let mut out = Vec::new();
    edit_list(&mut out, &items, &[]);
    out
}
