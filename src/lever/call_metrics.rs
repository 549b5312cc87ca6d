//! The metrics of each HTTP attempt to Lever, recorded through the `metrics` facade (the
//! application installs the recorder and renders it; nothing here knows how).
//!
//! An endpoint is named by its method and path pattern (`POST /opportunities/:id/notes`), never
//! by the path itself: paths carry opportunity ids, and a label per id would grow without end.

use std::time::Duration;

use super::permission_table::endpoint_pattern;

/// Attempts by endpoint and status (the code, or `error` when no answer came).
pub const LEVER_CALLS: &str = "leverbridge_lever_calls_total";
/// Latency of attempts by endpoint, in seconds.
pub const LEVER_CALL_SECONDS: &str = "leverbridge_lever_call_duration_seconds";
/// Attempts Lever answered 429, by endpoint.
pub const LEVER_RATE_LIMITED: &str = "leverbridge_lever_rate_limited_total";

/// The endpoint label of a request: its method and path pattern, or `other` for a path the
/// permission table does not list.
pub fn endpoint_name<S: AsRef<str>>(method: &str, segments: &[S]) -> String {
    match endpoint_pattern(method, segments) {
        Some(pattern) => format!("{} {pattern}", method.to_ascii_uppercase()),
        None => "other".to_owned(),
    }
}

/// Records one attempt: its status (`None` when no answer came) and how long it took.
pub(super) fn observe<S: AsRef<str>>(
    method: &str,
    segments: &[S],
    status: Option<u16>,
    duration: Duration,
) {
    let endpoint = endpoint_name(method, segments);
    let status_label = status.map_or_else(|| "error".to_owned(), |code| code.to_string());
    metrics::counter!(LEVER_CALLS, "endpoint" => endpoint.clone(), "status" => status_label)
        .increment(1);
    metrics::histogram!(LEVER_CALL_SECONDS, "endpoint" => endpoint.clone())
        .record(duration.as_secs_f64());
    if status == Some(429) {
        metrics::counter!(LEVER_RATE_LIMITED, "endpoint" => endpoint).increment(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_named_by_their_pattern_not_their_ids() {
        assert_eq!(
            endpoint_name("post", &["opportunities", "7f3c-opp", "notes"]),
            "POST /opportunities/:id/notes"
        );
        assert_eq!(
            endpoint_name("GET", &["opportunities", "another-opp"]),
            "GET /opportunities/:id"
        );
        assert_eq!(endpoint_name("GET", &["users"]), "GET /users");
        assert_eq!(endpoint_name("GET", &["no", "such", "path"]), "other");
    }
}
