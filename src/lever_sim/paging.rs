//! Lever's list envelope: `{data, hasNext, next}` with `limit` 1–100 and an opaque `offset` token.
//!
//! A token has the shape of Lever's own: a JSON array `[1, <createdAt millis>, "<id>"]`, naming
//! the first item of the next page, percent-encoded before it is put in `next`
//! (`%5B1%2C1750233409740%2C%22…%22%5D`). A client passes it back as received, so the query
//! string decodes it exactly once; a token encoded a second time (`%255B…`) decodes to text that
//! is not that array and is refused with 400, as Lever refuses it.

use serde_json::{json, Value};

use super::error::ApiError;
use super::query::Query;

const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 100;
/// The first element of every token (Lever's tokens start with `1`).
const TOKEN_VERSION: u64 = 1;

/// Cuts `items` into the page the query asks for. A token names an item of this listing, so a
/// token from another listing is refused.
pub(crate) fn page(items: Vec<Value>, query: &Query) -> Result<Value, ApiError> {
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
        Some(token) => decode(token)
            .and_then(|key| items.iter().position(|item| item_key(item) == key))
            .ok_or_else(|| ApiError::bad_request(format!("Invalid offset token: {token}")))?,
    };
    let end = (start + limit).min(items.len());
    let next = items.get(end).map(encode);
    let data: Vec<Value> = items.into_iter().skip(start).take(end - start).collect();
    let mut envelope = json!({ "data": data, "hasNext": next.is_some() });
    if let Some(next) = next {
        envelope["next"] = Value::String(next);
    }
    Ok(envelope)
}

/// What identifies an item in its listing: its id, or its text for tags and sources.
fn item_key(item: &Value) -> &str {
    item.get("id")
        .or_else(|| item.get("text"))
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// The token naming `item`, percent-encoded as Lever sends it.
fn encode(item: &Value) -> String {
    let created_at = item.get("createdAt").and_then(Value::as_i64).unwrap_or(0);
    let array = json!([TOKEN_VERSION, created_at, item_key(item)]).to_string();
    percent_encode(&array)
}

/// The key a token names, once the query string has decoded it; `None` for anything else
/// (a token encoded twice among them).
fn decode(token: &str) -> Option<String> {
    let (version, created_at, key): (u64, i64, String) = serde_json::from_str(token).ok()?;
    (version == TOKEN_VERSION && created_at >= 0).then_some(key)
}

/// `encodeURIComponent`: everything but letters, digits and `-_.!~*'()`.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(raw: &str) -> Query {
        Query::parse(raw).unwrap()
    }

    fn items(n: usize) -> Vec<Value> {
        (0..n)
            .map(|i| json!({ "id": format!("id-{i}"), "createdAt": 1_750_233_409_740_i64 + i as i64 }))
            .collect()
    }

    #[test]
    fn tokens_look_like_lever_s_and_come_back_decoded_once() {
        let first = page(items(5), &query("limit=2")).unwrap();
        let next = first["next"].as_str().unwrap();
        assert_eq!(next, "%5B1%2C1750233409742%2C%22id-2%22%5D");
        let second = page(items(5), &query(&format!("limit=2&offset={next}"))).unwrap();
        assert_eq!(second["data"][0]["id"], "id-2");
        assert_eq!(second["hasNext"], true);
    }

    #[test]
    fn a_token_encoded_twice_is_refused() {
        let next = page(items(5), &query("limit=2")).unwrap()["next"]
            .as_str()
            .unwrap()
            .to_owned();
        let twice = next.replace('%', "%25");
        let error = page(items(5), &query(&format!("offset={twice}"))).unwrap_err();
        assert_eq!(error.status, actix_web::http::StatusCode::BAD_REQUEST);
    }

    #[test]
    fn the_last_page_has_no_token() {
        let last = page(items(2), &query("limit=2")).unwrap();
        assert_eq!(last["hasNext"], false);
        assert!(last.get("next").is_none());
    }
}
