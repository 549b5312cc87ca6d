//! Lever webhook deliveries: the payload, parsed leniently, and its signature check.
//!
//! The signature covers only `token` and `triggeredAt`, not `data`: before acting on a
//! delivery, re-read the opportunity from the API.

use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::Sha256;

use super::lenient::{value_to_i64, value_to_id, value_to_string};

/// One webhook POST from Lever.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookDelivery {
    /// The event's uid, when Lever sends one.
    pub id: Option<String>,
    /// Milliseconds since the epoch.
    pub triggered_at: i64,
    /// e.g. `candidateStageChange`.
    pub event: String,
    /// Event-specific; `{}` for "Verify connection".
    pub data: Value,
    /// 48 random characters, unique per delivery (usable for replay protection).
    pub token: String,
    /// 64 hex characters.
    pub signature: String,
}

/// Why a webhook body was not a Lever delivery.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookParseError {
    #[error("the body is not JSON: {0}")]
    NotJson(String),
    #[error("the body is JSON but not an object")]
    NotAnObject,
    #[error("the body has no `{0}` field")]
    Missing(&'static str),
    #[error("the `{field}` field is invalid: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("the `{0}` field contains a NUL character")]
    Nul(String),
}

fn nul_in(field: String) -> WebhookParseError {
    WebhookParseError::Nul(field)
}

/// The path of the first key or string inside `value` that holds a NUL character.
fn nul_path(value: &Value, path: &str) -> Option<String> {
    match value {
        Value::String(text) if text.contains('\0') => Some(path.to_owned()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| nul_path(item, &format!("{path}[{i}]"))),
        Value::Object(fields) => fields.iter().find_map(|(key, item)| {
            let inner = format!("{path}.{}", key.replace('\0', "\\u0000"));
            if key.contains('\0') {
                Some(inner)
            } else {
                nul_path(item, &inner)
            }
        }),
        _ => None,
    }
}

/// The longest delivery `token` accepted. Lever's tokens are 48 characters in its examples (50
/// in one); their format is not otherwise checked, only bounded, so that one oversized token
/// cannot fail the storage of the deliveries stored with it.
pub const MAX_TOKEN_CHARS: usize = 256;

/// What a `candidateStageChange` delivery says moved where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageChange {
    pub opportunity_id: String,
    pub to_stage_id: String,
    pub from_stage_id: Option<String>,
    pub contact_id: Option<String>,
}

impl WebhookDelivery {
    /// Parses a delivery body. `triggeredAt` may be a number or a numeric string; `id` and
    /// `data` may be missing (`data` then counts as `{}`).
    pub fn parse(body: &[u8]) -> Result<WebhookDelivery, WebhookParseError> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|error| WebhookParseError::NotJson(error.to_string()))?;
        let Value::Object(mut fields) = value else {
            return Err(WebhookParseError::NotAnObject);
        };
        let text = |fields: &Map<String, Value>,
                    name: &'static str|
         -> Result<String, WebhookParseError> {
            match fields.get(name) {
                None | Some(Value::Null) => Err(WebhookParseError::Missing(name)),
                Some(value) => value_to_string(value)
                    .map(|text| text.trim().to_owned())
                    .filter(|text| !text.is_empty())
                    .ok_or(WebhookParseError::Invalid {
                        field: name,
                        reason: "expected a non-empty string".to_owned(),
                    }),
            }
        };
        let triggered_at = match fields.get("triggeredAt") {
            None | Some(Value::Null) => return Err(WebhookParseError::Missing("triggeredAt")),
            Some(value) => value_to_i64(value).ok_or_else(|| WebhookParseError::Invalid {
                field: "triggeredAt",
                reason: format!("expected milliseconds since the epoch, got {value}"),
            })?,
        };
        let token = text(&fields, "token")?;
        if token.chars().count() > MAX_TOKEN_CHARS {
            return Err(WebhookParseError::Invalid {
                field: "token",
                reason: format!(
                    "it is {} characters long; Lever's are far shorter (at most {MAX_TOKEN_CHARS} accepted)",
                    token.chars().count()
                ),
            });
        }
        let signature = text(&fields, "signature")?;
        let event = text(&fields, "event")?;
        let id = fields
            .get("id")
            .and_then(value_to_string)
            .filter(|id| !id.is_empty());
        let data = match fields.remove("data") {
            None | Some(Value::Null) => Value::Object(Map::new()),
            Some(data) => data,
        };
        // No text Lever sends holds a NUL character, and PostgreSQL cannot store one: a delivery
        // carrying one is refused here rather than failing its job on every attempt.
        for (field, value) in [
            ("token", &token),
            ("signature", &signature),
            ("event", &event),
        ] {
            if value.contains('\0') {
                return Err(nul_in(field.to_owned()));
            }
        }
        if id.as_deref().is_some_and(|id| id.contains('\0')) {
            return Err(nul_in("id".to_owned()));
        }
        if let Some(path) = nul_path(&data, "data") {
            return Err(nul_in(path));
        }
        Ok(WebhookDelivery {
            id,
            triggered_at,
            event,
            data,
            token,
            signature,
        })
    }

    /// True for Lever's "Verify connection" sample, whose `data` is `{}`.
    pub fn is_verification(&self) -> bool {
        match &self.data {
            Value::Object(fields) => fields.is_empty(),
            Value::Null => true,
            _ => false,
        }
    }

    /// The opportunity `data` names (`opportunityId`, or the deprecated `candidateId`).
    pub fn opportunity_id(&self) -> Option<String> {
        let id = |name: &str| self.data.get(name).and_then(value_to_id);
        id("opportunityId").or_else(|| id("candidateId"))
    }

    /// What a `candidateArchiveChange` says the candidate became: `Some(true)` archived (Lever
    /// sends `toArchived` as an object with `archivedAt` and `reason`; `true` or a reason alone
    /// count too), `Some(false)` restored (`null`, `false` or an empty string), `None` when
    /// `toArchived` is absent.
    pub fn to_archived(&self) -> Option<bool> {
        match self.data.get("toArchived")? {
            Value::Null => Some(false),
            Value::Bool(archived) => Some(*archived),
            Value::String(reason) => Some(!reason.trim().is_empty()),
            Value::Object(_) | Value::Array(_) | Value::Number(_) => Some(true),
        }
    }

    /// The stage change in `data` (`opportunityId`, or the deprecated `candidateId`, and
    /// `toStageId`), if the delivery carries one.
    pub fn stage_change(&self) -> Option<StageChange> {
        let id = |name: &str| self.data.get(name).and_then(value_to_id);
        Some(StageChange {
            opportunity_id: id("opportunityId").or_else(|| id("candidateId"))?,
            to_stage_id: id("toStageId")?,
            from_stage_id: id("fromStageId"),
            contact_id: id("contactId"),
        })
    }
}

/// Lever's signature: lowercase hex of HMAC-SHA256 keyed with the webhook's signature token
/// over `token` followed by `triggeredAt` in decimal.
pub fn sign(signature_token: &[u8], token: &str, triggered_at: i64) -> String {
    hex::encode(
        signed_mac(signature_token, token, triggered_at)
            .finalize()
            .into_bytes(),
    )
}

/// Checks a delivery's signature in constant time. Upper-case hex is accepted too.
pub fn signature_is_valid(signature_token: &[u8], delivery: &WebhookDelivery) -> bool {
    let Ok(received) = hex::decode(delivery.signature.trim()) else {
        return false;
    };
    signed_mac(signature_token, &delivery.token, delivery.triggered_at)
        .verify_slice(&received)
        .is_ok()
}

fn signed_mac(signature_token: &[u8], token: &str, triggered_at: i64) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(signature_token)
        .expect("HMAC accepts keys of any length");
    mac.update(token.as_bytes());
    mac.update(triggered_at.to_string().as_bytes());
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Computed independently: `openssl dgst -sha256 -hmac sig-token-abc` of
    /// `tok1231431454330072` (and Python's `hmac` agrees).
    const KNOWN_SIGNATURE: &str =
        "36063b7dc9554b17b4e0814d4a75e8d1993aecc9ffb384f1ac50c006c1a90a07";

    fn delivery(signature: &str) -> WebhookDelivery {
        WebhookDelivery::parse(
            format!(
                r#"{{"triggeredAt": 1431454330072, "event": "candidateStageChange",
                    "data": {{"opportunityId": "o1", "toStageId": "s2"}},
                    "token": "tok123", "signature": "{signature}"}}"#
            )
            .as_bytes(),
        )
        .unwrap()
    }

    #[test]
    fn signature_matches_an_independent_vector() {
        assert_eq!(
            sign(b"sig-token-abc", "tok123", 1431454330072),
            KNOWN_SIGNATURE
        );
        assert!(signature_is_valid(
            b"sig-token-abc",
            &delivery(KNOWN_SIGNATURE)
        ));
        assert!(signature_is_valid(
            b"sig-token-abc",
            &delivery(&KNOWN_SIGNATURE.to_uppercase())
        ));
    }

    #[test]
    fn wrong_key_token_time_or_signature_fail() {
        assert!(!signature_is_valid(
            b"other-token",
            &delivery(KNOWN_SIGNATURE)
        ));
        let mut tampered = delivery(KNOWN_SIGNATURE);
        tampered.triggered_at += 1;
        assert!(!signature_is_valid(b"sig-token-abc", &tampered));
        let mut tampered = delivery(KNOWN_SIGNATURE);
        tampered.token.push('x');
        assert!(!signature_is_valid(b"sig-token-abc", &tampered));
        assert!(!signature_is_valid(b"sig-token-abc", &delivery("zz")));
        assert!(!signature_is_valid(
            b"sig-token-abc",
            &delivery(&KNOWN_SIGNATURE[..62])
        ));
        let mut blank = delivery(KNOWN_SIGNATURE);
        blank.signature.clear();
        assert!(!signature_is_valid(b"sig-token-abc", &blank));
    }

    #[test]
    fn an_overlong_token_is_refused_but_any_format_is_not() {
        let body = |token: &str| {
            format!(
                r#"{{"triggeredAt": 1, "event": "candidateHired", "data": {{}},
                    "token": "{token}", "signature": "ab"}}"#
            )
        };
        let odd = "Not-hex_token.with:odd~characters".repeat(8);
        assert!(WebhookDelivery::parse(body(&odd[..MAX_TOKEN_CHARS]).as_bytes()).is_ok());
        let err =
            WebhookDelivery::parse(body(&"t".repeat(MAX_TOKEN_CHARS + 1)).as_bytes()).unwrap_err();
        assert!(
            matches!(err, WebhookParseError::Invalid { field: "token", .. }),
            "{err}"
        );
    }

    #[test]
    fn a_nul_character_anywhere_is_refused_with_its_place() {
        let cases = [
            (
                r#"{"opportunityId": "o1\u0000", "toStageId": "s2"}"#,
                "data.opportunityId",
            ),
            (r#"{"ids": ["a", "b\u0000"]}"#, "data.ids[1]"),
        ];
        for (data, place) in cases {
            let body = format!(
                r#"{{"triggeredAt": 1, "event": "candidateStageChange", "data": {data},
                    "token": "tok", "signature": "ab"}}"#
            );
            let err = WebhookDelivery::parse(body.as_bytes()).unwrap_err();
            assert_eq!(err, WebhookParseError::Nul(place.to_owned()));
        }
        let body = r#"{"triggeredAt": 1, "event": "candidateHired", "data": {},
            "token": "t\u0000k", "signature": "ab"}"#;
        assert_eq!(
            WebhookDelivery::parse(body.as_bytes()).unwrap_err(),
            WebhookParseError::Nul("token".into())
        );
    }

    #[test]
    fn parses_string_times_and_deprecated_candidate_id() {
        let parsed = WebhookDelivery::parse(
            br#"{"id": "e1", "triggeredAt": "1431454330072", "event": "candidateStageChange",
                "data": {"candidateId": "o9", "toStageId": "s2", "fromStageId": "s1", "contactId": "c1"},
                "token": "t", "signature": "abc"}"#,
        )
        .unwrap();
        assert_eq!(parsed.id.as_deref(), Some("e1"));
        assert_eq!(parsed.triggered_at, 1431454330072);
        assert!(!parsed.is_verification());
        assert_eq!(
            parsed.stage_change(),
            Some(StageChange {
                opportunity_id: "o9".into(),
                to_stage_id: "s2".into(),
                from_stage_id: Some("s1".into()),
                contact_id: Some("c1".into()),
            })
        );
        let preferred = delivery(KNOWN_SIGNATURE).stage_change().unwrap();
        assert_eq!(preferred.opportunity_id, "o1");
        assert_eq!(preferred.from_stage_id, None);
    }

    #[test]
    fn archive_changes_read_leniently() {
        let archive = |data: &str| {
            WebhookDelivery::parse(
                format!(
                    r#"{{"triggeredAt": 1, "event": "candidateArchiveChange", "data": {data},
                        "token": "t", "signature": "s"}}"#
                )
                .as_bytes(),
            )
            .unwrap()
        };
        let archived = archive(
            r#"{"opportunityId": "o1", "fromArchived": null,
                "toArchived": {"archivedAt": 1431454330072, "reason": "r-hired"}}"#,
        );
        assert_eq!(archived.to_archived(), Some(true));
        assert_eq!(archived.opportunity_id().as_deref(), Some("o1"));
        let restored = archive(
            r#"{"candidateId": "o2", "toArchived": null, "fromArchived": {"reason": "x"}}"#,
        );
        assert_eq!(restored.to_archived(), Some(false));
        assert_eq!(restored.opportunity_id().as_deref(), Some("o2"));
        assert_eq!(
            archive(r#"{"opportunityId": "o", "toArchived": true}"#).to_archived(),
            Some(true)
        );
        assert_eq!(
            archive(r#"{"opportunityId": "o", "toArchived": false}"#).to_archived(),
            Some(false)
        );
        assert_eq!(
            archive(r#"{"opportunityId": "o", "toArchived": "reason-id"}"#).to_archived(),
            Some(true)
        );
        assert_eq!(archive(r#"{"opportunityId": "o"}"#).to_archived(), None);
        assert_eq!(archive(r#"{"toArchived": true}"#).opportunity_id(), None);
    }

    #[test]
    fn verification_delivery_has_empty_data() {
        let parsed = WebhookDelivery::parse(
            br#"{"triggeredAt": 1, "event": "candidateHired", "data": {}, "token": "t", "signature": "s"}"#,
        )
        .unwrap();
        assert!(parsed.is_verification());
        assert_eq!(parsed.id, None);
        assert_eq!(parsed.stage_change(), None);
    }

    #[test]
    fn bad_bodies_say_what_is_wrong() {
        assert!(matches!(
            WebhookDelivery::parse(b"nope"),
            Err(WebhookParseError::NotJson(_))
        ));
        assert_eq!(
            WebhookDelivery::parse(b"[1]"),
            Err(WebhookParseError::NotAnObject)
        );
        assert_eq!(
            WebhookDelivery::parse(br#"{"triggeredAt": 1, "event": "e", "signature": "s"}"#),
            Err(WebhookParseError::Missing("token"))
        );
        assert_eq!(
            WebhookDelivery::parse(br#"{"event": "e", "token": "t", "signature": "s"}"#),
            Err(WebhookParseError::Missing("triggeredAt"))
        );
        let invalid = WebhookDelivery::parse(
            br#"{"triggeredAt": "soon", "event": "e", "token": "t", "signature": "s"}"#,
        )
        .unwrap_err();
        assert!(invalid.to_string().contains("triggeredAt"), "{invalid}");
    }
}
