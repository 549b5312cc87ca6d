//! What every `/_sim` page shares: the stylesheet, the frame, the 404 page and the small
//! formatters. Every value that came through the API is user data and goes through `esc`.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;

const STYLE: &str = "
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f4f5f7;color:#1f2430}
header{background:#2b3a55;color:#fff;padding:14px 28px}header h1{margin:0;font-size:20px}
header h1 a{color:#fff;text-decoration:none}
header p{margin:2px 0 0;opacity:.75;font-size:13px}main{padding:20px 28px;max-width:1400px}
a{color:#2450a6}
section.account,section.card{background:#fff;border:1px solid #dde1e8;border-radius:8px;padding:16px 20px;margin-bottom:24px}
h2{margin:0 0 4px;font-size:18px}h3{font-size:15px;margin:18px 0 8px}section.card>h3:first-child{margin-top:0}
.muted{color:#6b7385;font-size:12px}code{background:#eef0f4;padding:1px 4px;border-radius:3px;font-size:12px;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%}th,td{text-align:left;vertical-align:top;padding:7px 8px;border-bottom:1px solid #eceef2}
th{font-size:12px;text-transform:uppercase;letter-spacing:.03em;color:#6b7385}
header code{background:rgba(255,255,255,.16);color:#fff}
td{overflow-wrap:break-word}td.links{min-width:180px}td.links a,dd a{overflow-wrap:anywhere}
td.candidate{min-width:150px}td.candidate a.name{font-weight:600;text-decoration:none}td.candidate a.name:hover{text-decoration:underline}
td.activity{min-width:90px}td.activity a{white-space:nowrap}td.move{min-width:310px}
td.url{min-width:200px}.scroll{overflow-x:auto}td.answer{overflow-wrap:anywhere}
@media (max-width:1200px){table.stack thead{display:none}table.stack,table.stack tbody{display:block}
table.stack tr{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:6px 20px;padding:12px 0;border-bottom:1px solid #eceef2}
table.stack td{display:block;min-width:0;border:0;padding:0}table.stack td.wide{grid-column:1/-1}
table.stack td[data-label]::before{content:attr(data-label);display:block;font-size:11px;font-weight:400;text-transform:uppercase;letter-spacing:.03em;color:#6b7385}}
.tag{white-space:nowrap;display:inline-block;background:#e6efff;color:#2450a6;border-radius:10px;padding:0 8px;margin:1px 2px;font-size:12px}
.stage{font-weight:600}.archived{color:#a33}ul.plain{margin:0;padding-left:16px}
form.move{display:flex;flex-wrap:wrap;gap:4px}
form.move button{font-size:11px;padding:3px 7px;border:1px solid #c5cbd6;background:#fff;border-radius:4px;cursor:pointer}
form.move button:hover{background:#eef3ff}form.move button:disabled{background:#2b3a55;color:#fff;border-color:#2b3a55;cursor:default}
form.move button.danger{color:#b42318;border-color:#e4a7a1}form.move button.danger:hover{background:#fdecea}
.lifecycle{display:flex;flex-wrap:wrap;gap:4px}form.move a{align-self:center;margin-left:8px}
.ok{color:#17803d;font-weight:600}.failed{color:#b42318;font-weight:600}.pending{color:#b25e09;font-weight:600}
.chips>span{margin-right:12px}
.candidate-page{max-width:980px}.crumbs{margin:0 0 12px}
dl.facts{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:6px 18px;margin:12px 0 0}
dl.facts dt{color:#6b7385;font-size:12px;text-transform:uppercase;letter-spacing:.03em;padding-top:2px}
dl.facts dd{margin:0;min-width:0;overflow-wrap:anywhere}
.badge{display:inline-block;border-radius:4px;padding:0 6px;font-size:12px;background:#eef0f4;color:#3b4254;white-space:nowrap}
.badge.warn{background:#fdecea;color:#a33}.badge.secret{background:#fff4e0;color:#8a4b00}.badge.score{background:#e7f6ec;color:#17603a}
h2 .badge{vertical-align:middle;margin-left:6px}
article{border-top:1px solid #eceef2;padding:12px 0}section.card>h3+article{border-top:0;padding-top:4px}
.meta{display:flex;flex-wrap:wrap;align-items:baseline;gap:4px 12px;color:#6b7385;font-size:12px}
.meta b{color:#1f2430;font-size:14px}
.text{white-space:pre-wrap;overflow-wrap:anywhere;margin-top:6px}
table.fields{table-layout:fixed;margin-top:8px}table.fields th{width:32%;padding-top:8px;text-transform:none;letter-spacing:0;font-size:13px;font-weight:600;color:#3b4254}
table.fields td{white-space:pre-wrap;overflow-wrap:anywhere}
table.files{table-layout:fixed}table.files th.size{width:90px}table.files th.when{width:210px}table.files th.by{width:150px}
form.tag-edit{display:inline}form.tag-edit button{border:0;background:none;color:#2450a6;cursor:pointer;padding:0 0 0 4px;font-size:13px;line-height:1}
form.tag-edit button:hover{color:#a33}.tag-list{margin-bottom:6px}
form.tag-add,form.stage-add{display:flex;flex-wrap:wrap;gap:6px;align-items:center;margin:4px 0}
form.tag-add input,form.stage-add input{font:inherit;min-width:17em;padding:3px 6px;border:1px solid #c5cbd6;border-radius:4px}
form.tag-add button,form.stage-add button{font-size:12px;padding:3px 9px;border:1px solid #c5cbd6;background:#fff;border-radius:4px;cursor:pointer}
form.stage-add{margin:10px 0 0;color:#6b7385;font-size:13px}
.consent{max-width:640px;margin:12px auto}.consent h2{font-size:20px;margin-bottom:10px}.consent p.muted:first-child{margin:0}
ul.scopes{list-style:none;padding:0;margin:8px 0 18px;border-top:1px solid #eceef2}
ul.scopes li{display:flex;justify-content:space-between;align-items:baseline;gap:12px;padding:6px 0;border-bottom:1px solid #eceef2}
.choices{display:grid;gap:10px;margin:12px 0}.choices label{display:grid;gap:4px;font-weight:600;font-size:13px}
.choices select{font:inherit;font-weight:400;padding:5px 6px;border:1px solid #c5cbd6;border-radius:4px;background:#fff}
.actions{display:flex;gap:8px;margin:18px 0 8px}
.actions button{font:inherit;padding:7px 20px;border-radius:5px;border:1px solid #c5cbd6;background:#fff;cursor:pointer}
.actions button.primary{background:#2450a6;border-color:#2450a6;color:#fff}.actions button:disabled{opacity:.5;cursor:default}
.problem{color:#a33}.choices p{margin:0}
table.apps td{white-space:nowrap}table.apps td.scopes{white-space:normal;min-width:260px}form.move button{white-space:nowrap}
@media (max-width:700px){main{padding:12px}section.account,section.card{padding:12px}dl.facts{grid-template-columns:1fr}}
";

/// Escapes text for HTML element content and quoted attribute values.
pub(crate) fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A millisecond timestamp as `YYYY-MM-DD HH:MM:SS UTC`.
pub(crate) fn time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

/// A file size a reader can take in at a glance: bytes, KB or MB (1024-based).
pub(crate) fn file_size(bytes: usize) -> String {
    const KB: f64 = 1024.0;
    let b = bytes as f64;
    if b < KB {
        format!("{bytes} bytes")
    } else if b < KB * KB {
        format!("{:.1} KB", b / KB)
    } else {
        format!("{:.1} MB", b / (KB * KB))
    }
}

/// The muted dash that stands for "nothing here".
pub(crate) const DASH: &str = "<span class=\"muted\">–</span>";

/// A whole page: the frame around `body`, titled `title`.
pub(crate) fn page(status: StatusCode, title: &str, body: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head><body>\
         <header><h1><a href=\"/_sim\">Lever simulator</a></h1><p>A fake of Lever's API and webhooks \
         (API at <code>/v1</code>, control API at <code>/_sim/api</code>)</p></header>\
         <main>{body}</main></body></html>",
            title = esc(title),
        ))
}

/// The 404 page: says what was not found and where to go instead.
pub(crate) fn not_found(message: &str) -> HttpResponse {
    page(
        StatusCode::NOT_FOUND,
        "Not found – Lever simulator",
        &format!(
            "<section class=\"card\"><h2>Not found</h2><p>{}</p>\
             <p><a href=\"/_sim\">See all accounts and candidates</a></p></section>",
            esc(message)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_in_bytes_kb_or_mb() {
        assert_eq!(file_size(15), "15 bytes");
        assert_eq!(file_size(2048), "2.0 KB");
        assert_eq!(file_size(1536 * 1024), "1.5 MB");
    }
}
