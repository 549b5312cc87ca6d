//! `/v1/feedback_templates` and `/v1/opportunities/:id/feedback`, validated by field type.

use actix_web::HttpResponse;
use serde_json::{json, Value};

use super::api::{with_account, Ctx};
use super::api_opportunities::{find, find_mut};
use super::auth::check_perform_as;
use super::error::ApiError;
use super::paging::page;
use super::state::{new_id, now_ms, Feedback, FeedbackTemplate, Shared};
use super::wire::{feedback_json, template_json};

/// The field types a template accepts, exactly as LEVER_API.md lists them: there is no
/// `number` (nor `currency`), and anything else is refused with a 400.
const FIELD_TYPES: &[&str] = &[
    "code",
    "date",
    "dropdown",
    "multiple-choice",
    "multiple-select",
    "score-system",
    "score",
    "scorecard",
    "text",
    "textarea",
    "yes-no",
];
const WITH_OPTIONS: &[&str] = &["dropdown", "multiple-choice", "multiple-select"];
/// Lever's four-point rating scale, in Lever's order (highest first, as its documents show).
/// A score-system field always comes back with these, whatever options the request named, so
/// a client must pick an option by its text in the template Lever returns.
pub(crate) const SCORE_SYSTEM: &[&str] = &[
    "4 - Strong Hire",
    "3 - Hire",
    "2 - No Hire",
    "1 - Strong No Hire",
];

pub(crate) fn list_templates(state: &Shared, ctx: &Ctx) -> Result<HttpResponse, ApiError> {
    with_account(state, ctx, |acct| {
        let items = acct.templates.iter().map(template_json).collect();
        Ok(HttpResponse::Ok().json(page(items, &ctx.query)?))
    })
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::bad_request(message)
}

/// Options as `[{text}]`, accepting `[{text}]` or `["…"]`.
fn parse_options(field: &Value) -> Result<Option<Vec<Value>>, ApiError> {
    let Some(options) = field.get("options").filter(|o| !o.is_null()) else {
        return Ok(None);
    };
    let options = options
        .as_array()
        .ok_or_else(|| bad("options must be an array"))?;
    options
        .iter()
        .map(|o| {
            o.as_str()
                .or_else(|| o.get("text").and_then(Value::as_str))
                .map(|text| json!({ "text": text }))
                .ok_or_else(|| bad("each option needs a text"))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn parse_field(field: &Value) -> Result<Value, ApiError> {
    let kind = field
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !FIELD_TYPES.contains(&kind) {
        return Err(bad(format!(
            "Invalid field type: {kind:?} (one of {})",
            FIELD_TYPES.join(", ")
        )));
    }
    let text = field
        .get("text")
        .and_then(Value::as_str)
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| bad("every field needs a text"))?;
    let required = match field.get("required") {
        None | Some(Value::Null) => kind == "score-system",
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(bad("required must be a boolean")),
    };
    let mut out = json!({
        "id": new_id(),
        "type": kind,
        "text": text,
        "description": field.get("description").and_then(Value::as_str).unwrap_or_default(),
        "required": required,
    });
    let options = match (parse_options(field)?, kind) {
        (_, "score-system") => Some(SCORE_SYSTEM.iter().map(|t| json!({ "text": t })).collect()),
        (None, k) if WITH_OPTIONS.contains(&k) => {
            return Err(bad(format!("a {kind} field needs options")))
        }
        (Some(o), k) if o.is_empty() && WITH_OPTIONS.contains(&k) => {
            return Err(bad(format!("a {kind} field needs options")))
        }
        (options, _) => options,
    };
    if let Some(options) = options {
        out["options"] = Value::Array(options);
    }
    Ok(out)
}

/// `{text, instructions?, group?, fields:[…]}` with exactly one `score-system` field.
pub(crate) fn create_template(
    state: &Shared,
    ctx: &Ctx,
    body: Value,
) -> Result<HttpResponse, ApiError> {
    with_account(state, ctx, |acct| {
        check_perform_as(acct, ctx.perform_as(), true)?;
        let text = body
            .get("text")
            .and_then(Value::as_str)
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| bad("Missing required field: text"))?;
        let fields = body
            .get("fields")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("Missing required field: fields (an array)"))?;
        let fields = fields
            .iter()
            .map(parse_field)
            .collect::<Result<Vec<_>, _>>()?;
        let score_systems = fields
            .iter()
            .filter(|f| f["type"] == "score-system")
            .count();
        if score_systems != 1 {
            return Err(bad(format!(
                "A feedback template must have exactly one score-system field (found {score_systems})"
            )));
        }
        let template = FeedbackTemplate {
            id: new_id(),
            text: text.to_string(),
            instructions: body
                .get("instructions")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            group: body
                .get("group")
                .and_then(Value::as_str)
                .map(str::to_string),
            fields,
            created_at: now_ms(),
        };
        let data = template_json(&template);
        acct.templates.push(template);
        Ok(HttpResponse::Created().json(json!({ "data": data })))
    })
}

fn option_texts(field: &Value) -> Vec<&str> {
    field["options"]
        .as_array()
        .map(|o| o.iter().filter_map(|o| o["text"].as_str()).collect())
        .unwrap_or_default()
}

fn score_1_to_4(value: &Value) -> bool {
    value.as_u64().is_some_and(|n| (1..=4).contains(&n))
}

/// Checks one value against its field's type.
fn check_value(field: &Value, value: &Value) -> Result<(), String> {
    let kind = field["type"].as_str().unwrap_or_default();
    let options = option_texts(field);
    let ok = match kind {
        "text" | "textarea" | "code" => value.is_string(),
        "date" => value.is_i64() || value.is_u64(),
        "dropdown" | "multiple-choice" | "score-system" => {
            value.as_str().is_some_and(|v| options.contains(&v))
        }
        "multiple-select" => value.as_array().is_some_and(|vs| {
            vs.iter()
                .all(|v| v.as_str().is_some_and(|v| options.contains(&v)))
        }),
        "score" => score_1_to_4(value),
        "yes-no" => matches!(value.as_str(), Some("yes" | "no")),
        "scorecard" => value.as_array().is_some_and(|items| {
            items.iter().all(|i| {
                i.get("score")
                    .is_none_or(|s| s.is_null() || score_1_to_4(s))
            })
        }),
        _ => false,
    };
    if ok {
        return Ok(());
    }
    let expected = match kind {
        "score" => "an integer from 1 to 4".to_string(),
        "yes-no" => "\"yes\" or \"no\"".to_string(),
        "score-system" | "dropdown" | "multiple-choice" | "multiple-select" => {
            format!("one of {options:?}")
        }
        other => format!("a valid {other} value"),
    };
    Err(format!(
        "Invalid value for field {} ({kind}): expected {expected}",
        field["id"]
    ))
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// `{baseTemplateId, fieldValues:[{id, value}], completedAt?}` → the feedback, unwrapped.
pub(crate) fn create_feedback(
    state: &Shared,
    ctx: &Ctx,
    id: &str,
    body: Value,
) -> Result<HttpResponse, ApiError> {
    with_account(state, ctx, |acct| {
        find(acct, id)?;
        let author = check_perform_as(acct, ctx.perform_as(), true)?;
        let template_id = body
            .get("baseTemplateId")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("Missing required field: baseTemplateId"))?;
        let template = acct
            .template(template_id)
            .ok_or_else(|| bad(format!("Invalid baseTemplateId: {template_id}")))?;
        let values = body
            .get("fieldValues")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("Missing required field: fieldValues (an array)"))?;
        let mut seen: Vec<&str> = Vec::new();
        for fv in values {
            let field_id = fv
                .get("id")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("each fieldValue needs an id"))?;
            let field = template
                .fields
                .iter()
                .find(|f| f["id"] == field_id)
                .ok_or_else(|| {
                    bad(format!(
                        "Unknown field id {field_id} for template {template_id}"
                    ))
                })?;
            if seen.contains(&field_id) {
                return Err(bad(format!("Field {field_id} given twice")));
            }
            seen.push(field_id);
            let value = fv.get("value").unwrap_or(&Value::Null);
            if !value.is_null() {
                check_value(field, value).map_err(bad)?;
            }
        }
        for field in template.fields.iter().filter(|f| f["required"] == true) {
            let given = values.iter().find(|fv| fv.get("id") == field.get("id"));
            if given.is_none_or(|fv| is_empty(fv.get("value").unwrap_or(&Value::Null))) {
                return Err(bad(format!(
                    "Missing value for required field {} ({})",
                    field["id"], field["text"]
                )));
            }
        }
        let completed_at = match body.get("completedAt") {
            None | Some(Value::Null) => None,
            Some(v) => Some(
                v.as_i64()
                    .ok_or_else(|| bad("completedAt must be a timestamp in ms"))?,
            ),
        };
        let now = now_ms();
        let feedback = Feedback {
            id: new_id(),
            template_id: template_id.to_string(),
            field_values: values.clone(),
            author_id: author,
            created_at: now,
            completed_at: completed_at.or(Some(now)),
        };
        let answer = feedback_json(&feedback, Some(template));
        let opp = find_mut(acct, id)?;
        opp.feedback.push(feedback);
        opp.updated_at = now;
        Ok(HttpResponse::Created().json(answer))
    })
}

pub(crate) fn list_feedback(state: &Shared, ctx: &Ctx, id: &str) -> Result<HttpResponse, ApiError> {
    with_account(state, ctx, |acct| {
        let items = find(acct, id)?
            .feedback
            .iter()
            .map(|f| feedback_json(f, acct.template(&f.template_id)))
            .collect();
        Ok(HttpResponse::Ok().json(page(items, &ctx.query)?))
    })
}
