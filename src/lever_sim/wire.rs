//! Lever's JSON shapes, written for the simulator alone (the real client has its own).

use serde_json::{json, Value};

use super::state::{
    Account, Application, Feedback, FeedbackTemplate, Note, Opportunity, Posting, Stage,
    StoredFile, User,
};

/// Which references of an opportunity `expand=` inlines.
#[derive(Default, Clone, Copy)]
pub(crate) struct Expand {
    pub stage: bool,
    pub applications: bool,
    pub contact: bool,
    pub owner: bool,
    pub followers: bool,
}

impl Expand {
    pub fn parse(values: &[&str]) -> Self {
        let has = |name: &str| values.contains(&name);
        Expand {
            stage: has("stage"),
            applications: has("applications"),
            contact: has("contact"),
            owner: has("owner"),
            followers: has("followers"),
        }
    }
}

pub(crate) fn user_json(user: &User) -> Value {
    let username = user.email.split('@').next().unwrap_or_default();
    json!({
        "id": user.id,
        "name": user.name,
        "username": username,
        "email": user.email,
        "accessRole": user.access_role,
        "photo": null,
        "createdAt": user.created_at,
        "deactivatedAt": user.deactivated_at,
        "externalDirectoryId": null,
        "linkedContactIds": null,
        "jobTitle": null,
        "managerId": null,
    })
}

pub(crate) fn stage_json(stage: &Stage) -> Value {
    json!({ "id": stage.id, "text": stage.text })
}

pub(crate) fn posting_json(posting: &Posting, base_url: &str) -> Value {
    json!({
        "id": posting.id,
        "text": posting.text,
        "createdAt": posting.created_at,
        "updatedAt": posting.created_at,
        "user": null,
        "owner": null,
        "hiringManager": null,
        "confidentiality": "non-confidential",
        "categories": { "team": null, "department": null, "location": null, "commitment": null, "level": null },
        "content": { "description": "", "descriptionHtml": "", "lists": [], "closing": "", "closingHtml": "" },
        "country": null,
        "followers": [],
        "tags": posting.tags,
        "state": "published",
        "distributionChannels": ["public"],
        "reqCode": null,
        "requisitionCodes": [],
        "urls": {
            "list": format!("{base_url}/_sim"),
            "show": format!("{base_url}/_sim#posting-{}", posting.id),
            "apply": format!("{base_url}/_sim#posting-{}", posting.id),
        },
        "workplaceType": "unspecified",
    })
}

pub(crate) fn application_json(opp: &Opportunity, app: &Application) -> Value {
    json!({
        "id": app.id,
        "type": "posting",
        "candidateId": opp.id,
        "opportunityId": opp.id,
        "posting": app.posting_id,
        "postingHiringManager": null,
        "postingOwner": null,
        "name": opp.name,
        "company": null,
        "phone": null,
        "email": opp.emails.first(),
        "links": opp.links,
        "comments": null,
        "user": null,
        "customQuestions": [],
        "createdAt": app.created_at,
        "archived": null,
        "requisitionForHire": null,
    })
}

fn user_ref(acct: &Account, id: &str, expand: bool) -> Value {
    match (expand, acct.user(id)) {
        (true, Some(user)) => user_json(user),
        _ => Value::String(id.to_string()),
    }
}

pub(crate) fn opportunity_json(
    acct: &Account,
    opp: &Opportunity,
    expand: Expand,
    base_url: &str,
) -> Value {
    let stage = match (expand.stage, acct.stage(&opp.stage_id)) {
        (true, Some(stage)) => stage_json(stage),
        _ => Value::String(opp.stage_id.clone()),
    };
    let applications: Vec<Value> = opp
        .applications
        .iter()
        .map(|app| {
            if expand.applications {
                application_json(opp, app)
            } else {
                Value::String(app.id.clone())
            }
        })
        .collect();
    let owner = opp
        .owner
        .as_deref()
        .map_or(Value::Null, |id| user_ref(acct, id, expand.owner));
    let followers: Vec<Value> = opp
        .followers
        .iter()
        .map(|id| user_ref(acct, id, expand.followers))
        .collect();
    let archived = opp.archived.as_ref().map_or(
        Value::Null,
        |a| json!({ "archivedAt": a.archived_at, "reason": a.reason }),
    );
    let last_advanced = opp
        .stage_changes
        .last()
        .map_or(opp.created_at, |c| c.updated_at);
    json!({
        "id": opp.id,
        "name": opp.name,
        "headline": "",
        "contact": contact_json(opp, expand.contact),
        "emails": opp.emails,
        "phones": [],
        "confidentiality": opp.confidentiality,
        "location": "",
        "links": opp.links,
        "archived": archived,
        "tags": opp.tags,
        "sources": opp.sources,
        "stage": stage,
        "stageChanges": stage_changes_json(opp),
        "origin": if opp.applications.is_empty() { "sourced" } else { "applied" },
        "sourcedBy": null,
        "owner": owner,
        "followers": followers,
        "applications": applications,
        "createdAt": opp.created_at,
        "updatedAt": opp.updated_at,
        "lastInteractionAt": opp.updated_at,
        "lastAdvancedAt": last_advanced,
        "snoozedUntil": null,
        "urls": {
            "list": format!("{base_url}/_sim/accounts/{}", acct.id),
            "show": format!("{base_url}/_sim/accounts/{}#opp-{}", acct.id, opp.id),
        },
        "isAnonymized": false,
        "dataProtection": null,
    })
}

/// The opportunity's contact: the person, expanded, or their id.
fn contact_json(opp: &Opportunity, expand: bool) -> Value {
    if !expand {
        return Value::String(opp.contact_id.clone());
    }
    json!({
        "id": opp.contact_id,
        "name": opp.name,
        "headline": "",
        "isAnonymized": false,
        "location": null,
        "emails": opp.emails,
        "phones": [],
    })
}

/// Every stage the opportunity moved to, oldest first.
fn stage_changes_json(opp: &Opportunity) -> Vec<Value> {
    opp.stage_changes
        .iter()
        .map(|c| {
            json!({
                "toStageId": c.to_stage_id,
                "toStageIndex": c.to_stage_index,
                "userId": c.user_id,
                "updatedAt": c.updated_at,
            })
        })
        .collect()
}

pub(crate) fn note_json(note: &Note) -> Value {
    json!({
        "id": note.id,
        "text": note.value,
        "fields": [{ "type": "note", "text": "note", "value": note.value }],
        "user": note.author_id,
        "secret": note.secret,
        "score": note.score,
        "completedAt": note.created_at,
        "createdAt": note.created_at,
        "deletedAt": null,
    })
}

pub(crate) fn file_ext(name: &str) -> String {
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && !ext.is_empty() => format!(".{ext}"),
        _ => String::new(),
    }
}

pub(crate) fn file_json(file: &StoredFile, opp_id: &str, base_url: &str) -> Value {
    json!({
        "id": file.id,
        "name": file.name,
        "ext": file_ext(&file.name),
        "downloadUrl": format!("{base_url}/v1/opportunities/{opp_id}/files/{}/download", file.id),
        "uploadedAt": file.uploaded_at,
        "status": "processed",
        "size": file.bytes.len(),
    })
}

pub(crate) fn template_json(template: &FeedbackTemplate) -> Value {
    json!({
        "id": template.id,
        "text": template.text,
        "instructions": template.instructions,
        "group": template.group,
        "fields": template.fields,
        "createdAt": template.created_at,
        "updatedAt": template.created_at,
    })
}

/// A feedback form as Lever shows it: the template's fields, each with its value.
pub(crate) fn feedback_json(feedback: &Feedback, template: Option<&FeedbackTemplate>) -> Value {
    let fields: Vec<Value> = template
        .map(|t| t.fields.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|field| {
            let mut field = field.clone();
            let value = feedback
                .field_values
                .iter()
                .find(|fv| fv.get("id") == field.get("id"))
                .and_then(|fv| fv.get("value").cloned())
                .unwrap_or(Value::Null);
            field["value"] = value;
            field
        })
        .collect();
    json!({
        "id": feedback.id,
        "type": "interview",
        "text": template.map(|t| t.text.as_str()),
        "instructions": template.map(|t| t.instructions.as_str()),
        "fields": fields,
        "baseTemplateId": feedback.template_id,
        "interview": null,
        "panel": null,
        "user": feedback.author_id,
        "createdAt": feedback.created_at,
        "completedAt": feedback.completed_at,
        "updatedAt": feedback.created_at,
        "deletedAt": null,
    })
}
