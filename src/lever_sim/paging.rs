//! Lever's list envelope: `{data, hasNext, next}` with `limit` 1–100 and an opaque `offset` token.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

use super::error::ApiError;
use super::query::Query;

const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 100;

/// Cuts `items` into the page the query asks for. `list` names the listing, so a token
/// from one listing is refused by another.
pub(crate) fn page(list: &str, items: Vec<Value>, query: &Query) -> Result<Value, ApiError> {
    let limit = match query.first("limit") {
        None => DEFAULT_LIMIT,
        Some(raw) => match raw.trim().parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                return Err(ApiError::bad_request(format!(
                    "Invalid limit: {raw} (must be an integer from 1 to {MAX_LIMIT})"
                )))
            }
        },
    };
    let start = match query.first("offset") {
        None | Some("") => 0,
        Some(token) => decode(list, token)
            .filter(|&i| i <= items.len())
            .ok_or_else(|| ApiError::bad_request(format!("Invalid offset token: {token}")))?,
    };
    let end = (start + limit).min(items.len());
    let has_next = end < items.len();
    let data: Vec<Value> = items.into_iter().skip(start).take(end - start).collect();
    let mut envelope = json!({ "data": data, "hasNext": has_next });
    if has_next {
        envelope["next"] = Value::String(encode(list, end));
    }
    Ok(envelope)
}

fn encode(list: &str, index: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("sim:{list}:{index}"))
}

fn decode(list: &str, token: &str) -> Option<usize> {
    let raw = URL_SAFE_NO_PAD.decode(token).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let rest = text
        .strip_prefix("sim:")?
        .strip_prefix(list)?
        .strip_prefix(':')?;
    rest.parse().ok()
}
