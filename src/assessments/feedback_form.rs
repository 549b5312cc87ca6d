//! The scored result as a Lever feedback form, on a template leverbridge creates in the account
//! once and then reuses: a `score-system` rating derived from the score, the score, the result,
//! the failure reason and the link to the report.
//!
//! The template is found or created on first use and kept per organization
//! (`lever_feedback_templates`). Before creating one, the account's templates are searched for
//! leverbridge's by its title and fields, so a run that crashed after Lever created it, or a
//! second organization on the same account, reuses it rather than adding another. A template
//! deleted in Lever is noticed when the feedback is refused, forgotten and made again.
//!
//! Every field is of a type Lever lists (LEVER_API.md). The score is a `text` field: Lever's
//! `score` type is a thumbs rating taking 1–4, which would lose the 0–100 score and only repeat
//! the rating, and Lever has no number type. The rating option is found by its text among the
//! options the template holds in Lever, never by its place: Lever lists them in its own order.

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
const TEST_CASES: &str = "Test cases";
/// The rating options leverbridge asks for, lowest first (Lever's four-point scale); the rating
/// from 1 to 4 names one of these, which is then found by its text among the options the
/// template holds in Lever.
const RATING_OPTIONS: [&str; 4] = [
    "1 - Strong No Hire",
    "2 - No Hire",
    "3 - Hire",
    "4 - Strong Hire",
];
const RESULTS: [&str; 2] = ["Passed", "Failed"];

/// The shape of the template this version makes: 3 since it has a *Test cases* field for
/// automatic grading (2 had none; 1 had a `number` field Lever refuses). A kept template of
/// another shape is not used: the organization's template is looked for in Lever again, and
/// made anew if need be.
const SHAPE: u32 = 3;

/// The template's id and its fields' ids by role, as kept in the database.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateFields {
    /// [`SHAPE`] when kept by this version; absent (0) in rows kept before shapes were noted.
    #[serde(default)]
    pub shape: u32,
    pub template_id: String,
    pub rating: String,
    /// The rating's options as Lever holds them, in Lever's order.
    pub rating_options: Vec<String>,
    pub score: String,
    pub result: String,
    pub failure_reason: String,
    pub report: String,
    /// What automatic grading found (absent in templates kept before shape 3).
    #[serde(default)]
    pub test_cases: String,
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

/// The option text for `score` among `options` (the rating's options as Lever returned them,
/// in whatever order): the one whose text is the rating's, such as `4 - Strong Hire` for 85.
pub fn rating_option(options: &[String], score: i32) -> Option<&str> {
    option_for(options, RATING_OPTIONS[rating(score) - 1])
}

/// The option that is `wanted`: the same text, or failing that the same words once a leading
/// number ("4 - ") and the case are set aside.
fn option_for<'a>(options: &'a [String], wanted: &str) -> Option<&'a str> {
    options
        .iter()
        .find(|o| o.as_str() == wanted)
        .or_else(|| options.iter().find(|o| words(o) == words(wanted)))
        .map(String::as_str)
}

/// A rating option's words: "4 - Strong Hire" → "strong hire".
fn words(option: &str) -> String {
    option
        .trim_start_matches(|c: char| {
            c.is_ascii_digit() || c.is_whitespace() || c == '-' || c == '.'
        })
        .trim()
        .to_lowercase()
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
            field("text", SCORE, true, &[]),
            field("dropdown", RESULT, true, &RESULTS),
            field("textarea", FAILURE_REASON, false, &[]),
            field("text", REPORT, false, &[]),
            field("textarea", TEST_CASES, false, &[]),
        ],
    }
}

/// The field ids of `template` if it is leverbridge's: its title, every field it needs with its
/// type, and a rating option for every rating.
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
    if RATING_OPTIONS
        .iter()
        .any(|wanted| option_for(&rating_options, wanted).is_none())
    {
        return None;
    }
    Some(TemplateFields {
        shape: SHAPE,
        template_id: template.id.clone(),
        rating: rating.id.clone(),
        rating_options,
        score: find("text", SCORE)?.id.clone(),
        result: find("dropdown", RESULT)?.id.clone(),
        failure_reason: find("textarea", FAILURE_REASON)?.id.clone(),
        report: find("text", REPORT)?.id.clone(),
        test_cases: find("textarea", TEST_CASES)?.id.clone(),
    })
}

/// The completed form: `state` is passed or failed.
pub fn values(
    fields: &TemplateFields,
    score: i32,
    state: AssessmentState,
    failure_reason: Option<&str>,
    (report_url, grading): (&str, Option<&str>),
) -> Vec<(String, Value)> {
    let mut values = Vec::new();
    if let Some(option) = rating_option(&fields.rating_options, score) {
        values.push((fields.rating.clone(), json!(option)));
    }
    values.push((fields.score.clone(), json!(score.to_string())));
    values.push((fields.result.clone(), json!(state.label())));
    if let Some(reason) = failure_reason.filter(|r| !r.trim().is_empty()) {
        values.push((fields.failure_reason.clone(), json!(reason)));
    }
    values.push((fields.report.clone(), json!(report_url)));
    if let Some(grading) = grading {
        values.push((fields.test_cases.clone(), json!(grading)));
    }
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
    // A template kept in an older shape (made against the simulator before it followed Lever)
    // is not used: Lever would refuse its fields or their values.
    (fields.shape == SHAPE).then_some(TemplateFields {
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
    fn the_option_is_found_by_its_text_whatever_its_place() {
        // Lever's order, highest first, as its documents show.
        let levers = options(&[
            "4 - Strong Hire",
            "3 - Hire",
            "2 - No Hire",
            "1 - Strong No Hire",
        ]);
        assert_eq!(rating_option(&levers, 10), Some("1 - Strong No Hire"));
        assert_eq!(rating_option(&levers, 55), Some("2 - No Hire"));
        assert_eq!(rating_option(&levers, 70), Some("3 - Hire"));
        assert_eq!(rating_option(&levers, 85), Some("4 - Strong Hire"));
        let mut shuffled = levers.clone();
        shuffled.swap(0, 2);
        assert_eq!(rating_option(&shuffled, 85), Some("4 - Strong Hire"));
        // The same words without the number, or in another case, still name the rating.
        let plain = options(&["Strong Hire", "hire", "No Hire", "Strong No Hire"]);
        assert_eq!(rating_option(&plain, 90), Some("Strong Hire"));
        assert_eq!(rating_option(&plain, 75), Some("hire"));
        assert_eq!(rating_option(&plain, 45), Some("No Hire"));
        assert_eq!(rating_option(&options(&["Yes", "No"]), 90), None);
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
        let template = new_template();
        let types: Vec<&str> = template
            .fields
            .iter()
            .map(|f| f.field_type.as_str())
            .collect();
        assert_eq!(
            types,
            [
                "score-system",
                "text",
                "dropdown",
                "textarea",
                "text",
                "textarea"
            ],
            "only the types Lever lists"
        );
        let fields = fields_of(&held(template)).expect("recognised");
        assert_eq!(fields.shape, SHAPE);
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
        assert_eq!(fields.test_cases, "f5");
        let mut shape_2 = held(new_template());
        shape_2.fields.retain(|f| f.text != TEST_CASES);
        assert_eq!(
            fields_of(&shape_2),
            None,
            "a template from before test cases"
        );

        let mut renamed = held(new_template());
        renamed.text = "Phone screen".into();
        assert_eq!(fields_of(&renamed), None, "another template");
        let mut edited = held(new_template());
        edited.fields.retain(|f| f.text != REPORT);
        assert_eq!(fields_of(&edited), None, "a field removed in Lever");
        let mut number = held(new_template());
        number.fields[1].field_type = "number".into();
        assert_eq!(fields_of(&number), None, "the old shape's score");
        let mut scale = held(new_template());
        scale.fields[0].options.pop();
        assert_eq!(fields_of(&scale), None, "a rating with no option for 4");
    }

    #[test]
    fn the_form_carries_rating_score_result_reason_and_link() {
        let fields = fields_of(&held(new_template())).unwrap();
        let failed = values(
            &fields,
            45,
            AssessmentState::Failed,
            Some("No tests."),
            ("https://lb/r.pdf", None),
        );
        assert_eq!(
            failed,
            vec![
                ("f0".to_owned(), json!("2 - No Hire")),
                ("f1".to_owned(), json!("45")),
                ("f2".to_owned(), json!("Failed")),
                ("f3".to_owned(), json!("No tests.")),
                ("f4".to_owned(), json!("https://lb/r.pdf")),
            ]
        );
        let passed = values(
            &fields,
            90,
            AssessmentState::Passed,
            None,
            ("u", Some("Test cases: passed 9 of 10 cases (score 90)")),
        );
        assert_eq!(passed[0].1, json!("4 - Strong Hire"));
        assert_eq!(
            passed.last().unwrap(),
            &(
                "f5".to_owned(),
                json!("Test cases: passed 9 of 10 cases (score 90)")
            )
        );
        assert_eq!(passed[2].1, json!("Passed"));
        assert!(passed.iter().all(|(id, _)| id != "f3"), "no reason");
    }
}
