//! The icon browsers show beside the page title: an SVG the pages link to, and the same drawing
//! as an ICO at `/favicon.ico`, where browsers and crawlers look on their own.

use actix_web::http::header;
use actix_web::HttpResponse;

/// Icons change with a release at most, and every tab asks for one: browsers keep it a week.
const CACHE: &str = "public, max-age=604800";

pub async fn svg() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header((header::CACHE_CONTROL, CACHE))
        .body(include_str!("../../static/favicon.svg"))
}

pub async fn ico() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("image/x-icon")
        .insert_header((header::CACHE_CONTROL, CACHE))
        .body(&include_bytes!("../../static/favicon.ico")[..])
}
