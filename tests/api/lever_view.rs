//! Lever's view of an opportunity: what the simulator holds for it (`LeverAccount::opportunity`),
//! read the one way every test reads it. Tests assert on what Lever ended up holding.

use serde_json::Value;

/// The texts of a list field of the opportunity (`tags`, `links`, …).
pub fn strings(held: &Value, field: &str) -> Vec<String> {
    held[field]
        .as_array()
        .unwrap_or_else(|| panic!("Lever's opportunity has a list “{field}”: {held}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

/// The opportunity's tags.
pub fn tags(held: &Value) -> Vec<String> {
    strings(held, "tags")
}

/// The opportunity's links.
pub fn links(held: &Value) -> Vec<String> {
    strings(held, "links")
}

/// The opportunity's notes, as Lever returns them (`value`, `authorId`, `score`, …).
pub fn notes(held: &Value) -> &Vec<Value> {
    held["notes"].as_array().unwrap()
}

/// The text of each of the opportunity's notes.
pub fn note_texts(held: &Value) -> Vec<String> {
    notes(held)
        .iter()
        .map(|n| n["value"].as_str().unwrap().to_owned())
        .collect()
}

/// The notes whose text contains `text`.
pub fn notes_with<'a>(held: &'a Value, text: &str) -> Vec<&'a Value> {
    notes(held)
        .iter()
        .filter(|n| n["value"].as_str().unwrap_or_default().contains(text))
        .collect()
}
