//! Page links that carry a keyset cursor (Assessments, Events).

use super::WebError;
use crate::db::keyset::Cursor;

/// The cursor of a page link, or a 400 that says what to do about a link that is not one.
pub fn cursor(raw: &str) -> Result<Cursor, WebError> {
    Cursor::parse(raw).ok_or_else(bad_link)
}

/// The answer to a page link leverbridge did not write.
pub fn bad_link() -> WebError {
    WebError::BadRequest("That page link is not valid: start again from the first page.".into())
}
