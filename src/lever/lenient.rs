//! Readers for Lever's inconsistent JSON: `{data:…}` envelopes (single, double or none) and
//! scalars that arrive as strings, numbers or `null`. Used by the wire types and the webhook
//! parser.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// One page of a list response.
#[derive(Debug)]
pub(crate) struct Page<T> {
    pub items: Vec<T>,
    /// The `offset` for the next page, when Lever says there is one.
    pub next: Option<String>,
}

/// Text from Lever made storable: Lever holds arbitrary text, but PostgreSQL's text cannot
/// hold NUL (U+0000), so every NUL in a string (or a key) becomes U+FFFD, the replacement
/// character, before anything reads the value.
pub(crate) fn storable(value: Value) -> Value {
    fn text(s: String) -> String {
        if s.contains('\0') {
            s.replace('\0', "\u{FFFD}")
        } else {
            s
        }
    }
    match value {
        Value::String(s) => Value::String(text(s)),
        Value::Array(items) => Value::Array(items.into_iter().map(storable).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, value)| (text(key), storable(value)))
                .collect(),
        ),
        other => other,
    }
}

/// Strips up to two `{data: …}` wrappers from a single-object response.
pub(crate) fn unwrap_envelope(mut value: Value) -> Value {
    for _ in 0..2 {
        match value {
            Value::Object(ref mut map)
                if matches!(map.get("data"), Some(Value::Object(_) | Value::Array(_))) =>
            {
                value = map.remove("data").unwrap_or_default();
            }
            _ => break,
        }
    }
    value
}

/// Decodes a single object, whatever its wrapping; an empty body counts as `{}`.
pub(crate) fn decode_one<T: DeserializeOwned>(value: Value) -> Result<T, serde_json::Error> {
    let value = match unwrap_envelope(value) {
        Value::Null => Value::Object(Default::default()),
        other => other,
    };
    T::deserialize(value)
}

/// Decodes a list page: `{data:[…], hasNext, next}`, double-wrapped, or a bare array.
pub(crate) fn decode_page<T: DeserializeOwned>(value: Value) -> Result<Page<T>, serde_json::Error> {
    let mut current = value;
    let mut has_next: Option<bool> = None;
    let mut next: Option<String> = None;
    for _ in 0..3 {
        match current {
            Value::Array(items) => {
                let items = items
                    .into_iter()
                    .map(T::deserialize)
                    .collect::<Result<Vec<T>, _>>()?;
                let next = next.filter(|token| !token.is_empty() && has_next != Some(false));
                return Ok(Page { items, next });
            }
            Value::Null => {
                return Ok(Page {
                    items: Vec::new(),
                    next: None,
                })
            }
            Value::Object(mut map) => {
                if let Some(flag) = map.get("hasNext").and_then(value_to_bool) {
                    has_next = Some(flag);
                }
                if let Some(token) = map.get("next").and_then(value_to_string) {
                    next = Some(token);
                }
                current = map.remove("data").unwrap_or_default();
            }
            _ => break,
        }
    }
    Err(serde::de::Error::custom("expected a list of items"))
}

/// A JSON scalar as text: strings as they are, numbers and booleans printed.
pub(crate) fn value_to_string(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

/// An integer from a number (integral floats included) or a numeric string.
pub(crate) fn value_to_i64(value: &Value) -> Option<i64> {
    fn from_f64(float: f64) -> Option<i64> {
        (float.is_finite() && float.fract() == 0.0 && float.abs() < 9.0e18).then_some(float as i64)
    }
    match value {
        Value::Number(number) => number
            .as_i64()
            .or_else(|| number.as_f64().and_then(from_f64)),
        Value::String(text) => {
            let text = text.trim();
            text.parse::<i64>()
                .ok()
                .or_else(|| text.parse::<f64>().ok().and_then(from_f64))
        }
        _ => None,
    }
}

fn value_to_bool(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(flag) => Some(*flag),
        Value::String(text) => match text.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Some(true),
            "false" | "0" | "no" | "" => Some(false),
            _ => None,
        },
        Value::Number(number) => number.as_f64().map(|n| n != 0.0),
        _ => None,
    }
}

/// An id given either bare or as an expanded object `{id, …}`; empty ids count as absent.
pub(crate) fn value_to_id(value: &Value) -> Option<String> {
    match value {
        Value::Object(map) => map.get("id").and_then(value_to_string),
        other => value_to_string(other),
    }
    .filter(|id| !id.is_empty())
}

/// A list of strings; `null` is empty and a lone string is a list of one.
pub(crate) fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items.iter().filter_map(value_to_string).collect(),
        Value::String(text) => vec![text.clone()],
        _ => Vec::new(),
    }
}

/// A list of ids, each bare or expanded.
pub(crate) fn ids(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items.iter().filter_map(value_to_id).collect(),
        _ => Vec::new(),
    }
}

pub(crate) fn de_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(value_to_string(&Value::deserialize(deserializer)?).unwrap_or_default())
}

pub(crate) fn de_strings<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<String>, D::Error> {
    Ok(strings(&Value::deserialize(deserializer)?))
}

pub(crate) fn de_opt_i64<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<i64>, D::Error> {
    Ok(value_to_i64(&Value::deserialize(deserializer)?))
}

pub(crate) fn de_opt_u64<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<u64>, D::Error> {
    Ok(value_to_i64(&Value::deserialize(deserializer)?).and_then(|n| u64::try_from(n).ok()))
}

pub(crate) fn de_u64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    Ok(de_opt_u64(deserializer)?.unwrap_or_default())
}

pub(crate) fn de_bool<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    Ok(value_to_bool(&Value::deserialize(deserializer)?).unwrap_or_default())
}

/// A list that may be `null`.
pub(crate) fn de_vec<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::super::types::Stage;
    use super::*;
    use serde_json::json;

    #[test]
    fn nul_from_lever_becomes_the_replacement_character() {
        let held = storable(json!({"name": "Ada\0Lovelace", "tags": ["a\0"], "k\0": 1}));
        assert_eq!(
            held,
            json!({"name": "Ada\u{FFFD}Lovelace", "tags": ["a\u{FFFD}"], "k\u{FFFD}": 1})
        );
    }

    #[test]
    fn pages_report_next_only_when_there_is_more() {
        let page: Page<Stage> =
            decode_page(json!({"data": [{"id": "s"}], "hasNext": true, "next": "abc"})).unwrap();
        assert_eq!(page.next.as_deref(), Some("abc"));
        let page: Page<Stage> =
            decode_page(json!({"data": [], "hasNext": "false", "next": "abc"})).unwrap();
        assert_eq!(page.next, None);
        let page: Page<Stage> =
            decode_page(json!({"data": {"data": [{"id": "s"}], "hasNext": false}})).unwrap();
        assert_eq!(page.items.len(), 1);
        let page: Page<Stage> = decode_page(json!([{"id": 1, "text": "One"}])).unwrap();
        assert_eq!(page.items[0].id, "1");
        assert!(decode_page::<Stage>(json!({"data": "nope"})).is_err());
    }
}
