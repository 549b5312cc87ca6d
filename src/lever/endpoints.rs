//! The Lever endpoints leverbridge uses, one method each.

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use super::client::LeverClient;
use super::error::LeverError;
use super::lenient::{decode_one, decode_page};
use super::request::ApiRequest;
use super::types::{
    CreatedFeedback, CreatedNote, Feedback, FeedbackTemplate, NewFeedbackTemplate, NewNote, Note,
    Opportunity, Posting, Stage, Tag, UploadedFile, User, Webhook,
};

/// Lever's largest page.
const PAGE_LIMIT: &str = "100";
/// A guard against a server that keeps answering `hasNext` with the same token.
const MAX_PAGES: usize = 1_000;
/// Lever's upload limit.
pub const MAX_FILE_BYTES: usize = 30 * 1024 * 1024;

impl LeverClient {
    /// Sends `request` and decodes a single object, whatever its wrapping.
    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        request: ApiRequest,
    ) -> Result<T, LeverError> {
        let body = self.execute(&request).await?;
        decode_one(body).map_err(|error| LeverError::Decode(error.to_string()))
    }

    /// Reads every page of a list (`limit=100`, then `offset=next` while `hasNext`).
    pub(crate) async fn list_all<T: DeserializeOwned>(
        &self,
        segments: &[&str],
    ) -> Result<Vec<T>, LeverError> {
        let mut items = Vec::new();
        let mut offset: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut request = ApiRequest::new(Method::GET, segments).query("limit", PAGE_LIMIT);
            if let Some(offset) = &offset {
                // Lever's token is already percent-encoded: sent again as it came.
                request = request.query_verbatim("offset", offset.clone());
            }
            let body = self.execute(&request).await?;
            let page =
                decode_page::<T>(body).map_err(|error| LeverError::Decode(error.to_string()))?;
            items.extend(page.items);
            match page.next {
                Some(next) if offset.as_ref() != Some(&next) => offset = Some(next),
                _ => return Ok(items),
            }
        }
        Ok(items)
    }

    #[tracing::instrument(skip_all)]
    pub async fn list_users(&self) -> Result<Vec<User>, LeverError> {
        self.list_all(&["users"]).await
    }

    #[tracing::instrument(skip_all)]
    pub async fn list_stages(&self) -> Result<Vec<Stage>, LeverError> {
        self.list_all(&["stages"]).await
    }

    #[tracing::instrument(skip_all)]
    pub async fn list_tags(&self) -> Result<Vec<Tag>, LeverError> {
        self.list_all(&["tags"]).await
    }

    /// The opportunity with its stage and applications expanded.
    #[tracing::instrument(skip_all, fields(opportunity_id = %opportunity_id))]
    pub async fn get_opportunity(&self, opportunity_id: &str) -> Result<Opportunity, LeverError> {
        let request = ApiRequest::new(Method::GET, &["opportunities", opportunity_id])
            .query("expand", "applications,stage");
        self.call(request).await
    }

    #[tracing::instrument(skip_all, fields(posting_id = %posting_id))]
    pub async fn get_posting(&self, posting_id: &str) -> Result<Posting, LeverError> {
        self.call(ApiRequest::new(Method::GET, &["postings", posting_id]))
            .await
    }

    #[tracing::instrument(skip_all, fields(opportunity_id = %opportunity_id, stage_id = %stage_id))]
    pub async fn change_stage(
        &self,
        opportunity_id: &str,
        stage_id: &str,
        perform_as: &str,
    ) -> Result<Opportunity, LeverError> {
        let request = ApiRequest::new(Method::PUT, &["opportunities", opportunity_id, "stage"])
            .perform_as(perform_as)
            .json(json!({ "stage": stage_id }));
        self.call(request).await
    }

    #[tracing::instrument(skip_all, fields(opportunity_id = %opportunity_id))]
    pub async fn add_tags(
        &self,
        opportunity_id: &str,
        tags: &[String],
        perform_as: &str,
    ) -> Result<Opportunity, LeverError> {
        self.opportunity_list_edit(opportunity_id, "addTags", "tags", tags, perform_as)
            .await
    }

    #[tracing::instrument(skip_all, fields(opportunity_id = %opportunity_id))]
    pub async fn remove_tags(
        &self,
        opportunity_id: &str,
        tags: &[String],
        perform_as: &str,
    ) -> Result<Opportunity, LeverError> {
        self.opportunity_list_edit(opportunity_id, "removeTags", "tags", tags, perform_as)
            .await
    }

    /// Links live on the contact, so they show on every opportunity of the candidate.
    #[tracing::instrument(skip_all, fields(opportunity_id = %opportunity_id))]
    pub async fn add_links(
        &self,
        opportunity_id: &str,
        links: &[String],
        perform_as: &str,
    ) -> Result<Opportunity, LeverError> {
        self.opportunity_list_edit(opportunity_id, "addLinks", "links", links, perform_as)
            .await
    }

    #[tracing::instrument(skip_all, fields(opportunity_id = %opportunity_id))]
    pub async fn remove_links(
        &self,
        opportunity_id: &str,
        links: &[String],
        perform_as: &str,
    ) -> Result<Opportunity, LeverError> {
        self.opportunity_list_edit(opportunity_id, "removeLinks", "links", links, perform_as)
            .await
    }

    async fn opportunity_list_edit(
        &self,
        opportunity_id: &str,
        action: &str,
        field: &str,
        values: &[String],
        perform_as: &str,
    ) -> Result<Opportunity, LeverError> {
        let request = ApiRequest::new(Method::POST, &["opportunities", opportunity_id, action])
            .perform_as(perform_as)
            .json(json!({ field: values }));
        self.call(request).await
    }

    #[tracing::instrument(skip_all, fields(opportunity_id = %opportunity_id))]
    pub async fn create_note(
        &self,
        opportunity_id: &str,
        note: NewNote,
        perform_as: &str,
    ) -> Result<CreatedNote, LeverError> {
        let body =
            serde_json::to_value(note).map_err(|error| LeverError::Decode(error.to_string()))?;
        let request = ApiRequest::new(Method::POST, &["opportunities", opportunity_id, "notes"])
            .perform_as(perform_as)
            .creates_resource()
            .json(body);
        self.call(request).await
    }

    /// The opportunity's notes (every page), oldest first as Lever lists them.
    #[tracing::instrument(skip_all, fields(opportunity_id = %opportunity_id))]
    pub async fn list_notes(&self, opportunity_id: &str) -> Result<Vec<Note>, LeverError> {
        self.list_all(&["opportunities", opportunity_id, "notes"])
            .await
    }

    /// Uploads a file (multipart field `file`, at most 30 MB) to the opportunity.
    #[tracing::instrument(skip_all, fields(opportunity_id = %opportunity_id, filename = %filename, size = bytes.len()))]
    pub async fn upload_file(
        &self,
        opportunity_id: &str,
        filename: &str,
        content_type: &str,
        bytes: Vec<u8>,
        perform_as: &str,
    ) -> Result<UploadedFile, LeverError> {
        if bytes.len() > MAX_FILE_BYTES {
            return Err(LeverError::BadRequest {
                message: format!(
                    "{filename} is {} MB; Lever accepts files up to 30 MB",
                    bytes.len().div_ceil(1024 * 1024)
                ),
            });
        }
        let request = ApiRequest::new(Method::POST, &["opportunities", opportunity_id, "files"])
            .perform_as(perform_as)
            .creates_resource()
            .file(filename, content_type, bytes);
        self.call(request).await
    }

    /// The opportunity's files (every page; Lever may send the list as a bare array).
    #[tracing::instrument(skip_all, fields(opportunity_id = %opportunity_id))]
    pub async fn list_files(&self, opportunity_id: &str) -> Result<Vec<UploadedFile>, LeverError> {
        self.list_all(&["opportunities", opportunity_id, "files"])
            .await
    }

    /// The opportunity's completed feedback forms (every page).
    #[tracing::instrument(skip_all, fields(opportunity_id = %opportunity_id))]
    pub async fn list_feedback(&self, opportunity_id: &str) -> Result<Vec<Feedback>, LeverError> {
        self.list_all(&["opportunities", opportunity_id, "feedback"])
            .await
    }

    /// Submits a completed feedback form based on `template_id`.
    #[tracing::instrument(skip_all, fields(opportunity_id = %opportunity_id, template_id = %template_id))]
    pub async fn create_feedback(
        &self,
        opportunity_id: &str,
        template_id: &str,
        field_values: Vec<(String, Value)>,
        perform_as: &str,
    ) -> Result<CreatedFeedback, LeverError> {
        let field_values: Vec<Value> = field_values
            .into_iter()
            .map(|(id, value)| json!({ "id": id, "value": value }))
            .collect();
        let request = ApiRequest::new(Method::POST, &["opportunities", opportunity_id, "feedback"])
            .perform_as(perform_as)
            .creates_resource()
            .json(json!({ "baseTemplateId": template_id, "fieldValues": field_values }));
        self.call(request).await
    }

    #[tracing::instrument(skip_all)]
    pub async fn list_feedback_templates(&self) -> Result<Vec<FeedbackTemplate>, LeverError> {
        self.list_all(&["feedback_templates"]).await
    }

    #[tracing::instrument(skip_all)]
    pub async fn create_feedback_template(
        &self,
        template: NewFeedbackTemplate,
        perform_as: &str,
    ) -> Result<FeedbackTemplate, LeverError> {
        let body = serde_json::to_value(template)
            .map_err(|error| LeverError::Decode(error.to_string()))?;
        let request = ApiRequest::new(Method::POST, &["feedback_templates"])
            .perform_as(perform_as)
            .json(body);
        self.call(request).await
    }

    /// Webhooks this OAuth app created (API keys cannot manage webhooks).
    #[tracing::instrument(skip_all)]
    pub async fn list_webhooks(&self) -> Result<Vec<Webhook>, LeverError> {
        self.list_all(&["webhooks"]).await
    }

    /// Creates a webhook; the answer carries its signature token.
    #[tracing::instrument(skip_all, fields(event = %event))]
    pub async fn create_webhook(&self, url: &str, event: &str) -> Result<Webhook, LeverError> {
        let request = ApiRequest::new(Method::POST, &["webhooks"])
            .json(json!({ "url": url, "event": event }));
        self.call(request).await
    }

    #[tracing::instrument(skip_all, fields(webhook_id = %webhook_id))]
    pub async fn delete_webhook(&self, webhook_id: &str) -> Result<(), LeverError> {
        self.execute(&ApiRequest::new(Method::DELETE, &["webhooks", webhook_id]))
            .await
            .map(drop)
    }
}
