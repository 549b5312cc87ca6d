//! Lenient wire types for the Lever API responses leverbridge reads, and the bodies it sends.
//!
//! Lever's documented examples disagree with each other: numbers arrive as strings, lists and
//! fields may be `null`, single objects come wrapped (`{data:…}`), double-wrapped
//! (`{data:{data:…}}`) or bare, and `stage`/`posting` are ids unless expanded. Every type here
//! accepts all of those, and a missing field takes its default instead of failing the request.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::lenient::{
    de_bool, de_opt_i64, de_opt_u64, de_string, de_strings, de_u64, de_vec, ids, strings,
    value_to_id, value_to_string,
};

/// A Lever user (`GET /users`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct User {
    #[serde(deserialize_with = "de_string")]
    pub id: String,
    #[serde(deserialize_with = "de_string")]
    pub name: String,
    #[serde(deserialize_with = "de_string")]
    pub username: String,
    #[serde(deserialize_with = "de_string")]
    pub email: String,
    /// One of `super admin`, `admin`, `team member`, `limited team member`, `interviewer`.
    #[serde(deserialize_with = "de_string")]
    pub access_role: String,
    /// Milliseconds since the epoch; `None` while the user is active.
    #[serde(deserialize_with = "de_opt_i64")]
    pub deactivated_at: Option<i64>,
}

impl User {
    /// Only active users may be named in `perform_as`.
    pub fn is_active(&self) -> bool {
        self.deactivated_at.is_none()
    }
}

/// A pipeline stage. Ids are not always UUIDs (`lead-new`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Stage {
    #[serde(deserialize_with = "de_string")]
    pub id: String,
    #[serde(deserialize_with = "de_string")]
    pub text: String,
}

/// A tag in use in the account. Tags are case-sensitive strings without ids.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Tag {
    #[serde(deserialize_with = "de_string")]
    pub text: String,
    #[serde(deserialize_with = "de_u64")]
    pub count: u64,
}

/// An opportunity (a candidate's journey through one pipeline).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(from = "Value")]
pub struct Opportunity {
    pub id: String,
    pub name: String,
    pub emails: Vec<String>,
    pub tags: Vec<String>,
    pub links: Vec<String>,
    /// From `stage`, either an id or an expanded `{id, text}`.
    pub stage_id: Option<String>,
    /// From `applications[0].posting`, either an id or an expanded object.
    pub posting_id: Option<String>,
    /// `archived` is `null` for a live opportunity and an object once archived.
    pub archived: bool,
    /// Follower user ids (expanded followers are reduced to their ids).
    pub followers: Vec<String>,
    pub urls: OpportunityUrls,
}

/// Links to the opportunity in Lever's own interface.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpportunityUrls {
    pub list: Option<String>,
    pub show: Option<String>,
}

impl From<Value> for Opportunity {
    fn from(value: Value) -> Self {
        let field = |name: &str| value.get(name).unwrap_or(&Value::Null);
        let posting_id = match field("applications") {
            Value::Array(applications) => applications
                .first()
                .and_then(|application| application.get("posting"))
                .and_then(value_to_id),
            _ => None,
        };
        let archived = match field("archived") {
            Value::Null => false,
            Value::Bool(archived) => *archived,
            _ => true,
        };
        let urls = field("urls");
        let url = |name: &str| urls.get(name).and_then(value_to_string);
        Opportunity {
            id: value_to_string(field("id")).unwrap_or_default(),
            name: value_to_string(field("name")).unwrap_or_default(),
            emails: strings(field("emails")),
            tags: strings(field("tags")),
            links: strings(field("links")),
            stage_id: value_to_id(field("stage")),
            posting_id,
            archived,
            followers: ids(field("followers")),
            urls: OpportunityUrls {
                list: url("list"),
                show: url("show"),
            },
        }
    }
}

/// A job posting (`GET /postings/:id`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Posting {
    #[serde(deserialize_with = "de_string")]
    pub id: String,
    #[serde(deserialize_with = "de_string")]
    pub text: String,
    #[serde(deserialize_with = "de_strings")]
    pub tags: Vec<String>,
}

/// A feedback form template (`GET /feedback_templates`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct FeedbackTemplate {
    #[serde(deserialize_with = "de_string")]
    pub id: String,
    #[serde(deserialize_with = "de_string")]
    pub text: String,
    #[serde(deserialize_with = "de_string")]
    pub instructions: String,
    #[serde(deserialize_with = "de_vec")]
    pub fields: Vec<TemplateField>,
}

/// One field of a feedback template; its `id` is what feedback `fieldValues` refer to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct TemplateField {
    #[serde(deserialize_with = "de_string")]
    pub id: String,
    /// `text`, `textarea`, `score`, `score-system`, `yes-no`, `dropdown`, …
    #[serde(rename = "type", deserialize_with = "de_string")]
    pub field_type: String,
    #[serde(deserialize_with = "de_string")]
    pub text: String,
    #[serde(deserialize_with = "de_string")]
    pub description: String,
    #[serde(deserialize_with = "de_bool")]
    pub required: bool,
    #[serde(deserialize_with = "de_vec")]
    pub options: Vec<FieldOption>,
}

/// A choice of a dropdown-like field: `{"text": …}` or a bare string.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Value")]
pub struct FieldOption {
    pub text: String,
}

impl From<Value> for FieldOption {
    fn from(value: Value) -> Self {
        let text = match &value {
            Value::Object(map) => map.get("text").and_then(value_to_string),
            other => value_to_string(other),
        };
        FieldOption {
            text: text.unwrap_or_default(),
        }
    }
}

/// The response to `POST /opportunities/:id/notes`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(from = "Value")]
pub struct CreatedNote {
    pub note_id: String,
}

impl From<Value> for CreatedNote {
    fn from(value: Value) -> Self {
        let note_id = ["noteId", "id"]
            .iter()
            .find_map(|name| value.get(*name).and_then(value_to_string));
        CreatedNote {
            note_id: note_id.unwrap_or_default(),
        }
    }
}

/// The response to `POST /opportunities/:id/feedback` (sometimes unwrapped).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct CreatedFeedback {
    #[serde(deserialize_with = "de_string")]
    pub id: String,
}

/// A completed feedback form (`GET /opportunities/:id/feedback`): the template's fields,
/// each with its value.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Feedback {
    #[serde(deserialize_with = "de_string")]
    pub id: String,
    #[serde(deserialize_with = "de_string")]
    pub base_template_id: String,
    #[serde(deserialize_with = "de_vec")]
    pub fields: Vec<FeedbackField>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct FeedbackField {
    #[serde(deserialize_with = "de_string")]
    pub id: String,
    #[serde(deserialize_with = "de_string")]
    pub text: String,
    pub value: Option<Value>,
}

impl Feedback {
    /// Whether any field's text value contains `needle`.
    pub fn mentions(&self, needle: &str) -> bool {
        self.fields
            .iter()
            .any(|f| matches!(&f.value, Some(Value::String(s)) if s.contains(needle)))
    }
}

/// A file on an opportunity: the response to `POST /opportunities/:id/files`, and an item
/// of `GET /opportunities/:id/files`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct UploadedFile {
    #[serde(deserialize_with = "de_string")]
    pub id: String,
    #[serde(deserialize_with = "de_string")]
    pub name: String,
    #[serde(deserialize_with = "de_string")]
    pub download_url: String,
    #[serde(deserialize_with = "de_opt_u64")]
    pub size: Option<u64>,
}

/// A webhook the app created through the API.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(from = "Value")]
pub struct Webhook {
    pub id: String,
    pub event: String,
    pub url: String,
    /// From `configuration.signatureToken` (or a top-level `signatureToken`); Lever shows it
    /// on creation.
    pub signature_token: Option<String>,
}

impl From<Value> for Webhook {
    fn from(value: Value) -> Self {
        let text = |name: &str| value.get(name).and_then(value_to_string);
        let signature_token = value
            .get("configuration")
            .and_then(|configuration| configuration.get("signatureToken"))
            .and_then(value_to_string)
            .or_else(|| text("signatureToken"))
            .filter(|token| !token.is_empty());
        Webhook {
            id: text("id").unwrap_or_default(),
            event: text("event").unwrap_or_default(),
            url: text("url").unwrap_or_default(),
            signature_token,
        }
    }
}

/// A note to add to an opportunity. `@username` in `value` notifies that user.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewNote {
    pub value: String,
    /// Lever's 1–4 rating; omitted when `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<u8>,
    pub secret: bool,
    pub notify_followers: bool,
}

/// A feedback template to create. Lever requires exactly one `score-system` field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NewFeedbackTemplate {
    pub text: String,
    pub instructions: String,
    pub fields: Vec<NewTemplateField>,
}

/// One field of a [`NewFeedbackTemplate`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NewTemplateField {
    #[serde(rename = "type")]
    pub field_type: String,
    pub text: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    pub required: bool,
    /// Choices of a dropdown-like field, sent as `[{"text": …}]`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<FieldOption>,
}

#[cfg(test)]
mod tests {
    use super::super::lenient::{decode_one, decode_page, Page};
    use super::*;
    use serde_json::json;

    #[test]
    fn user_accepts_string_numbers_and_missing_fields() {
        let user: User = decode_one(json!({"data": {
            "id": "u1", "name": "Ada", "accessRole": "super admin", "deactivatedAt": "1431454330072"
        }}))
        .unwrap();
        assert_eq!(user.id, "u1");
        assert_eq!(user.email, "");
        assert_eq!(user.deactivated_at, Some(1431454330072));
        assert!(!user.is_active());

        let user: User = decode_one(json!({"id": 7, "deactivatedAt": null})).unwrap();
        assert_eq!(user.id, "7");
        assert!(user.is_active());
    }

    #[test]
    fn tag_count_may_be_a_string() {
        let page: Page<Tag> = decode_page(json!({"data": [
            {"text": "Python", "count": "12"}, {"text": "go", "count": 3.0}, {"text": "x"}
        ]}))
        .unwrap();
        let counts: Vec<u64> = page.items.iter().map(|tag| tag.count).collect();
        assert_eq!(counts, vec![12, 3, 0]);
        assert_eq!(page.next, None);
    }

    #[test]
    fn opportunity_with_expanded_stage_and_posting() {
        let opportunity: Opportunity = decode_one(json!({"data": {
            "id": "opp1", "name": "Grace", "emails": ["g@example.com"], "tags": null,
            "links": ["https://a"], "stage": {"id": "lead-new", "text": "New lead"},
            "applications": [{"id": "app1", "posting": {"id": "post1", "text": "Engineer"}}],
            "archived": {"archivedAt": 1, "reason": "r"},
            "followers": ["u1", {"id": "u2", "name": "B"}],
            "urls": {"show": "https://hire.lever.co/candidates/opp1"}
        }}))
        .unwrap();
        assert_eq!(opportunity.stage_id.as_deref(), Some("lead-new"));
        assert_eq!(opportunity.posting_id.as_deref(), Some("post1"));
        assert!(opportunity.archived);
        assert!(opportunity.tags.is_empty());
        assert_eq!(opportunity.followers, vec!["u1", "u2"]);
        assert_eq!(
            opportunity.urls.show.as_deref(),
            Some("https://hire.lever.co/candidates/opp1")
        );
    }

    #[test]
    fn opportunity_with_plain_ids_and_nothing_else() {
        let opportunity: Opportunity = decode_one(json!({
            "id": "opp1", "stage": "s1", "applications": [{"posting": "p1"}], "archived": null
        }))
        .unwrap();
        assert_eq!(opportunity.stage_id.as_deref(), Some("s1"));
        assert_eq!(opportunity.posting_id.as_deref(), Some("p1"));
        assert!(!opportunity.archived);

        let empty: Opportunity = decode_one(json!({"data": {}})).unwrap();
        assert_eq!(empty, Opportunity::default());
        let from_empty_body: Opportunity = decode_one(Value::Null).unwrap();
        assert_eq!(from_empty_body, Opportunity::default());
    }

    #[test]
    fn webhook_double_wrapped_or_single() {
        let double: Webhook = decode_one(json!({"data": {"data": {
            "id": "w1", "event": "candidateStageChange", "url": "https://x/hook",
            "configuration": {"signatureToken": "tok"}
        }}}))
        .unwrap();
        assert_eq!(double.id, "w1");
        assert_eq!(double.signature_token.as_deref(), Some("tok"));

        let single: Webhook =
            decode_one(json!({"data": {"id": "w2", "configuration": null}})).unwrap();
        assert_eq!(single.id, "w2");
        assert_eq!(single.signature_token, None);
    }

    #[test]
    fn unwrapped_and_wrapped_small_responses() {
        let feedback: CreatedFeedback = decode_one(json!({"id": "f1", "type": "form"})).unwrap();
        assert_eq!(feedback.id, "f1");
        let note: CreatedNote = decode_one(json!({"data": {"noteId": "n1"}})).unwrap();
        assert_eq!(note.note_id, "n1");
        let file: UploadedFile = decode_one(json!({"data": {
            "id": "f", "name": "report.pdf", "downloadUrl": "https://d", "size": "2048"
        }}))
        .unwrap();
        assert_eq!(file.size, Some(2048));
        assert_eq!(file.download_url, "https://d");
    }

    #[test]
    fn template_fields_and_options() {
        let template: FeedbackTemplate = decode_one(json!({"data": {
            "id": "t1", "text": "Assessment", "fields": [
                {"id": "f1", "type": "score-system", "text": "Rating", "required": "true"},
                {"id": "f2", "type": "dropdown", "options": [{"text": "a"}, "b"]},
                {"id": "f3", "type": "text", "options": null}
            ]
        }}))
        .unwrap();
        assert_eq!(template.fields.len(), 3);
        assert_eq!(template.fields[0].field_type, "score-system");
        assert!(template.fields[0].required);
        let options: Vec<&str> = template.fields[1]
            .options
            .iter()
            .map(|o| o.text.as_str())
            .collect();
        assert_eq!(options, vec!["a", "b"]);
    }

    #[test]
    fn new_template_serialises_options_as_objects() {
        let template = NewFeedbackTemplate {
            text: "Assessment".into(),
            instructions: String::new(),
            fields: vec![NewTemplateField {
                field_type: "dropdown".into(),
                text: "Result".into(),
                required: true,
                options: vec![FieldOption {
                    text: "pass".into(),
                }],
                ..Default::default()
            }],
        };
        assert_eq!(
            serde_json::to_value(&template).unwrap(),
            json!({"text": "Assessment", "instructions": "", "fields": [
                {"type": "dropdown", "text": "Result", "required": true, "options": [{"text": "pass"}]}
            ]})
        );
    }
}

/// A note as Lever lists it: its text lives in `fields[].value` (API-created notes) or `text`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Note {
    #[serde(deserialize_with = "de_string")]
    pub id: String,
    pub text: Option<String>,
    #[serde(deserialize_with = "de_vec")]
    pub fields: Vec<NoteField>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct NoteField {
    pub value: Option<serde_json::Value>,
}

impl Note {
    /// Everything the note says, its fields joined.
    pub fn body(&self) -> String {
        let mut parts: Vec<String> = self.text.iter().cloned().collect();
        for field in &self.fields {
            match &field.value {
                Some(serde_json::Value::String(s)) => parts.push(s.clone()),
                Some(other) if !other.is_null() => parts.push(other.to_string()),
                _ => {}
            }
        }
        parts.join("\n")
    }
}
