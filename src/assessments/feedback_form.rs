//! The scored result as a Lever feedback form, on a template leverbridge creates in the account
//! once and then reuses: a `score-system` rating derived from the score, the score, the result,
//! the failure reason and the link to the report.
//!
//! The template is found or created on first use and kept per organization
//! (`lever_feedback_templates`). Before creating one, the account's templates are searched for
//! leverbridge's by its title and fields, so a run that crashed after Lever created it, or a
//! second organization on the same account, reuses it rather than adding another. A template
//! deleted in Lever is noticed when the feedback is refused, forgotten and made again.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::sync::Mutex;

use crate::assessments::AssessmentState;
use crate::db::{self, Db, DbError};
use crate::lever::{
    FeedbackTemplate, FieldOption, LeverClient, LeverError, NewFeedbackTemplate, NewTemplateField,
};

/// The template's name in Lever.
pub const TEMPLATE_TITLE: &str = "leverbridge assessment result";
const INSTRUCTIONS: &str = "Filled in by leverbridge when a reviewer scores a take-home coding \
     assessment. The rating follows the score: 0–39 → 1, 40–69 → 2, 70–84 → 3, 85–100 → 4.";

const RATING: &str = "Rating";
const SCORE: &str = "Score (0–100)";
const RESULT: &str = "Result";
const FAILURE_REASON: &str = "Failure reason";
const REPORT: &str = "Report";
/// The rating options leverbridge asks for, lowest first. What counts is the options the
/// template holds in Lever, in order: the rating picks among those.
const RATING_OPTIONS: [&str; 4] = [
    "1 - Strong No Hire",
    "2 - No Hire",
    "3 - Hire",
    "4 - Strong Hire",
];
const RESULTS: [&str; 2] = ["Passed", "Failed"];

/// The template's id and its fields' ids by role, as kept in the database.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateFields {
    pub template_id: String,
    pub rating: String,
    /// The rating's options as Lever holds them, lowest first.
    pub rating_options: Vec<String>,
    pub score: String,
    pub result: String,
    pub failure_reason: String,
    pub report: String,
}

/// The rating from 1 to 4 for a score from 0 to 100.
pub fn rating(score: i32) -> usize {
    match score {
        i32::MIN..=39 => 1,
        40..=69 => 2,
        70..=84 => 3,
        _ => 4,
    }
}

/// The option text for `score` among `options` (lowest first): with Lever's usual four, the
/// rating's own; with another number of options, the one at the same height of the scale.
pub fn rating_option(options: &[String], score: i32) -> Option<&str> {
    let last = options.len().checked_sub(1)?;
    let index = ((rating(score) - 1) * last + 1) / 3;
    options.get(index.min(last)).map(String::as_str)
}

fn field(kind: &str, text: &str, required: bool, options: &[&str]) -> NewTemplateField {
    NewTemplateField {
        field_type: kind.into(),
        text: text.into(),
        description: String::new(),
        required,
        options: options
            .iter()
            .map(|o| FieldOption { text: (*o).into() })
            .collect(),
    }
}

/// The template leverbridge creates.
pub fn new_template() -> NewFeedbackTemplate {
    NewFeedbackTemplate {
        text: TEMPLATE_TITLE.into(),
        instructions: INSTRUCTIONS.into(),
        fields: vec![
            field("score-system", RATING, true, &RATING_OPTIONS),
            field("number", SCORE, true, &[]),
            field("dropdown", RESULT, true, &RESULTS),
            field("textarea", FAILURE_REASON, false, &[]),
            field("text", REPORT, false, &[]),
        ],
    }
}

/// The field ids of `template` if it is leverbridge's: its title, and every field it needs
/// with its type.
pub fn fields_of(template: &FeedbackTemplate) -> Option<TemplateFields> {
    if template.text != TEMPLATE_TITLE {
        return None;
    }
    let find = |kind: &str, text: &str| {
        template
            .fields
            .iter()
            .find(|f| f.field_type == kind && f.text == text)
    };
    let rating = find("score-system", RATING)?;
    let rating_options: Vec<String> = rating.options.iter().map(|o| o.text.clone()).collect();
    if rating_options.is_empty() {
        return None;
    }
    Some(TemplateFields {
        template_id: template.id.clone(),
        rating: rating.id.clone(),
        rating_options,
        score: find("number", SCORE)?.id.clone(),
        result: find("dropdown", RESULT)?.id.clone(),
        failure_reason: find("textarea", FAILURE_REASON)?.id.clone(),
        report: find("text", REPORT)?.id.clone(),
    })
}

/// The completed form: `state` is passed or failed.
pub fn values(
    fields: &TemplateFields,
    score: i32,
    state: AssessmentState,
    failure_reason: Option<&str>,
    report_url: &str,
) -> Vec<(String, Value)> {
    let mut values = Vec::new();
    if let Some(option) = rating_option(&fields.rating_options, score) {
        values.push((fields.rating.clone(), json!(option)));
    }
    values.push((fields.score.clone(), json!(score)));
    values.push((fields.result.clone(), json!(state.label())));
    if let Some(reason) = failure_reason.filter(|r| !r.trim().is_empty()) {
        values.push((fields.failure_reason.clone(), json!(reason)));
    }
    values.push((fields.report.clone(), json!(report_url)));
    values
}

/// One organization at a time finds or creates its template in this process, so concurrent
/// jobs do not each create one.
static CREATING: Mutex<()> = Mutex::const_new(());

/// The organization's template: kept, found in Lever, or created there. `fresh` skips the
/// kept one (after Lever refused it).
pub async fn template(
    db: &Db,
    client: &LeverClient,
    org_id: &str,
    perform_as: &str,
    fresh: bool,
) -> Result<TemplateFields, LeverError> {
    if !fresh {
        if let Some(kept) = kept(db, org_id).await {
            return Ok(kept);
        }
    }
    let _one_at_a_time = CREATING.lock().await;
    if !fresh {
        // Another job may have made it while this one waited.
        if let Some(kept) = kept(db, org_id).await {
            return Ok(kept);
        }
    }
    let found = client
        .list_feedback_templates()
        .await?
        .iter()
        .find_map(fields_of);
    let fields = match found {
        Some(fields) => fields,
        None => {
            let created = client
                .create_feedback_template(new_template(), perform_as)
                .await?;
            fields_of(&created).ok_or_else(|| {
                LeverError::Decode(format!(
                    "Lever created the feedback template “{TEMPLATE_TITLE}” but its answer lacks the fields leverbridge asked for"
                ))
            })?
        }
    };
    keep(db, org_id, &fields).await;
    Ok(fields)
}

async fn kept(db: &Db, org_id: &str) -> Option<TemplateFields> {
    let org = org_id.to_owned();
    let row = db
        .run(move |conn| db::lever::feedback_template(conn, &org).map_err(DbError::from))
        .await
        .ok()??;
    let (template_id, fields) = row;
    let fields: TemplateFields = serde_json::from_str(&fields).ok()?;
    Some(TemplateFields {
        template_id,
        ..fields
    })
}

async fn keep(db: &Db, org_id: &str, fields: &TemplateFields) {
    let org = org_id.to_owned();
    let template_id = fields.template_id.clone();
    let json = serde_json::to_string(fields).expect("strings serialise");
    if let Err(e) = db
        .run(move |conn| {
            db::lever::save_feedback_template(conn, &org, &template_id, &json)
                .map_err(DbError::from)
        })
        .await
    {
        // The next result looks the template up in Lever again: nothing is created twice.
        tracing::error!(error = %e, "failed to keep the feedback template's ids");
    }
}

/// Forgets the kept template (Lever no longer accepts it).
pub async fn forget(db: &Db, org_id: &str) {
    let org = org_id.to_owned();
    if let Err(e) = db
        .run(move |conn| db::lever::forget_feedback_template(conn, &org).map_err(DbError::from))
        .await
    {
        tracing::error!(error = %e, "failed to forget the feedback template");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lever::TemplateField;

    fn options(texts: &[&str]) -> Vec<String> {
        texts.iter().map(|t| (*t).to_owned()).collect()
    }

    #[test]
    fn the_rating_follows_the_score_bands() {
        for (score, expected) in [
            (0, 1),
            (39, 1),
            (40, 2),
            (69, 2),
            (70, 3),
            (84, 3),
            (85, 4),
            (100, 4),
        ] {
            assert_eq!(rating(score), expected, "score {score}");
        }
    }

    #[test]
    fn the_option_is_the_templates_text_not_a_number() {
        let four = options(&["Strong No Hire", "No Hire", "Hire", "Strong Hire"]);
        assert_eq!(rating_option(&four, 10), Some("Strong No Hire"));
        assert_eq!(rating_option(&four, 55), Some("No Hire"));
        assert_eq!(rating_option(&four, 70), Some("Hire"));
        assert_eq!(rating_option(&four, 85), Some("Strong Hire"));
        // Another scale keeps the ends at its ends.
        let five = options(&["1", "2", "3", "4", "5"]);
        assert_eq!(rating_option(&five, 0), Some("1"));
        assert_eq!(rating_option(&five, 50), Some("2"));
        assert_eq!(rating_option(&five, 80), Some("4"));
        assert_eq!(rating_option(&five, 100), Some("5"));
        assert_eq!(rating_option(&options(&["Only"]), 90), Some("Only"));
        assert_eq!(rating_option(&[], 90), None);
    }

    fn held(template: NewFeedbackTemplate) -> FeedbackTemplate {
        FeedbackTemplate {
            id: "tpl".into(),
            text: template.text,
            instructions: template.instructions,
            fields: template
                .fields
                .into_iter()
                .enumerate()
                .map(|(i, f)| TemplateField {
                    id: format!("f{i}"),
                    field_type: f.field_type,
                    text: f.text,
                    description: f.description,
                    required: f.required,
                    options: f.options,
                })
                .collect(),
        }
    }

    #[test]
    fn leverbridges_template_is_recognised_by_its_title_and_fields() {
        let fields = fields_of(&held(new_template())).expect("recognised");
        assert_eq!(fields.template_id, "tpl");
        assert_eq!(fields.rating, "f0");
        assert_eq!(fields.rating_options, RATING_OPTIONS);
        assert_eq!(
            (fields.score.as_str(), fields.result.as_str()),
            ("f1", "f2")
        );
        assert_eq!(
            (fields.failure_reason.as_str(), fields.report.as_str()),
            ("f3", "f4")
        );

        let mut renamed = held(new_template());
        renamed.text = "Phone screen".into();
        assert_eq!(fields_of(&renamed), None, "another template");
        let mut edited = held(new_template());
        edited.fields.retain(|f| f.text != REPORT);
        assert_eq!(fields_of(&edited), None, "a field removed in Lever");
    }

    #[test]
    fn the_form_carries_rating_score_result_reason_and_link() {
        let fields = fields_of(&held(new_template())).unwrap();
        let failed = values(
            &fields,
            45,
            AssessmentState::Failed,
            Some("No tests."),
            "https://lb/r.pdf",
        );
        assert_eq!(
            failed,
            vec![
                ("f0".to_owned(), json!("2 - No Hire")),
                ("f1".to_owned(), json!(45)),
                ("f2".to_owned(), json!("Failed")),
                ("f3".to_owned(), json!("No tests.")),
                ("f4".to_owned(), json!("https://lb/r.pdf")),
            ]
        );
        let passed = values(&fields, 90, AssessmentState::Passed, None, "u");
        assert_eq!(passed[0].1, json!("4 - Strong Hire"));
        assert_eq!(passed[2].1, json!("Passed"));
        assert!(passed.iter().all(|(id, _)| id != "f3"), "no reason");
    }
}
