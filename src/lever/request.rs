//! One Lever API request, described once and sent as many times as retries need.

use reqwest::Method;
use serde_json::Value;

/// What a request sends besides its URL.
pub(crate) enum RequestBody {
    Empty,
    Json(Value),
    File {
        filename: String,
        content_type: String,
        bytes: Vec<u8>,
    },
}

/// One Lever API request, described once and sent as many times as retries need.
pub(crate) struct ApiRequest {
    pub(super) method: Method,
    pub(super) segments: Vec<String>,
    pub(super) query: Vec<(&'static str, String)>,
    /// Values sent exactly as Lever gave them (its `next` offset tokens arrive already
    /// percent-encoded: encoding them again makes Lever refuse the page).
    pub(super) verbatim_query: Vec<(&'static str, String)>,
    pub(super) body: RequestBody,
    /// Creates something in Lever (a note, file, feedback): not re-sent after an answer or a
    /// timeout that may mean Lever already did it; the caller decides, knowing what it created.
    pub(super) creates: bool,
}

impl ApiRequest {
    pub(crate) fn new(method: Method, segments: &[&str]) -> Self {
        ApiRequest {
            method,
            segments: segments
                .iter()
                .map(|segment| (*segment).to_owned())
                .collect(),
            query: Vec::new(),
            verbatim_query: Vec::new(),
            body: RequestBody::Empty,
            creates: false,
        }
    }

    pub(crate) fn query(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.query.push((name, value.into()));
        self
    }

    /// Adds a parameter whose value is already percent-encoded, such as Lever's offset token.
    pub(crate) fn query_verbatim(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.verbatim_query.push((name, value.into()));
        self
    }

    /// Names the Lever user the action is done as (skipped when empty).
    pub(crate) fn perform_as(self, user_id: &str) -> Self {
        if user_id.trim().is_empty() {
            self
        } else {
            self.query("perform_as", user_id)
        }
    }

    /// Marks a request that creates a resource (see `creates`).
    pub(crate) fn creates_resource(mut self) -> Self {
        self.creates = true;
        self
    }

    pub(crate) fn json(mut self, body: Value) -> Self {
        self.body = RequestBody::Json(body);
        self
    }

    #[cfg(test)]
    pub(crate) fn method_str(&self) -> &str {
        self.method.as_str()
    }

    #[cfg(test)]
    pub(crate) fn segments(&self) -> &[String] {
        &self.segments
    }

    pub(crate) fn file(mut self, filename: &str, content_type: &str, bytes: Vec<u8>) -> Self {
        self.body = RequestBody::File {
            filename: filename.to_owned(),
            content_type: content_type.to_owned(),
            bytes,
        };
        self
    }
}
