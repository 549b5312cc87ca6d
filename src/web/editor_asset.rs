//! `static/editor.js`: the candidate's editor, and the highlighting of the code reviewers read
//! (CodeMirror 6, its parsers and the pages' own script), built from `static/editor/` with npm
//! and committed, so neither the binary nor CI needs npm. It is compiled into the binary and
//! served under a versioned URL with a year-long cache lifetime.

use std::sync::OnceLock;

use actix_web::HttpResponse;
use sha2::{Digest, Sha256};

const EDITOR_JS: &[u8] = include_bytes!("../../static/editor.js");

/// `/static/editor.js?v=…`: a new build gets a new URL, so browsers may cache each for a year.
pub fn editor_script_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let digest = Sha256::digest(EDITOR_JS);
        format!("/static/editor.js?v={}", &hex::encode(digest)[..12])
    })
}

/// The script itself (compressed on the way out by the route's `Compress`).
pub async fn editor_script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=31536000, immutable"))
        .body(EDITOR_JS)
}
