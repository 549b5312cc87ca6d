//! A candidate's own page, `/_sim/accounts/{acct}/opportunities/{id}`: what Lever's candidate
//! profile shows of the opportunity (stage, posting, tags, links, followers), the stage
//! buttons, forms to add and remove the candidate's tags (as a recruiter does on the profile),
//! and in full its notes, feedback forms and files, so whatever leverbridge wrote back can be
//! read. Plus the route that serves a stored file's bytes.

use std::fmt::Write;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};

use super::actions;
use super::control::Data;
use super::page::{candidate_url, links_html, move_form_html, posting_text, stage_text};
use super::page_feedback::feedback_html;
use super::page_layout::{esc, file_size, not_found, page, time, DASH};
use super::state::{now_ms, Account, Note, Opportunity, StoredFile};

/// `GET /_sim/accounts/{acct}/opportunities/{id}`
pub(crate) async fn show(state: Data, path: web::Path<(String, String)>) -> HttpResponse {
    let (acct_id, id) = path.into_inner();
    let world = state.lock();
    let Some(acct) = world.account(&acct_id) else {
        return not_found(&format!("There is no account {acct_id}."));
    };
    let Some(opp) = acct.opportunity(&id) else {
        return not_found(&format!(
            "The account {} has no opportunity {id}.",
            acct.name
        ));
    };
    let body = format!(
        "<div class=\"candidate-page\"><p class=\"crumbs\"><a href=\"/_sim\">All accounts</a> › \
         <a href=\"/_sim/accounts/{acct_id}\">{acct_name}</a> › {name}</p>{profile}{notes}{feedback}{files}</div>",
        acct_id = esc(&acct.id),
        acct_name = esc(&acct.name),
        name = esc(&opp.name),
        profile = profile_html(acct, opp),
        notes = notes_html(acct, opp),
        feedback = feedback_html(acct, opp),
        files = files_html(acct, opp),
    );
    page(
        StatusCode::OK,
        &format!("{} – Lever simulator", opp.name),
        &body,
    )
}

/// A user's name for "by …": the id when the user is unknown, and a plain word when the
/// write named no user (an API call without `perform_as`).
pub(crate) fn user_name(acct: &Account, id: Option<&str>) -> String {
    match id {
        None => "<span class=\"muted\">no user (API, no perform_as)</span>".into(),
        Some(id) => acct
            .user(id)
            .map_or_else(|| format!("<code>{}</code>", esc(id)), |u| esc(&u.name)),
    }
}

fn users_html(acct: &Account, ids: &[String]) -> String {
    if ids.is_empty() {
        return DASH.into();
    }
    ids.iter()
        .map(|id| user_name(acct, Some(id)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn profile_html(acct: &Account, opp: &Opportunity) -> String {
    let mut badges = String::new();
    if let Some(a) = &opp.archived {
        let _ = write!(
            badges,
            "<span class=\"badge warn\">Archived: {} ({})</span>",
            esc(&a.reason),
            time(a.archived_at)
        );
    }
    if opp.is_confidential() {
        badges.push_str("<span class=\"badge secret\">Confidential</span>");
    }
    let or_dash = |s: String| if s.is_empty() { DASH.into() } else { s };
    let mut facts = String::new();
    let mut fact = |label: &str, class: &str, value: String| {
        let _ = write!(facts, "<dt>{label}</dt><dd class=\"{class}\">{value}</dd>");
    };
    fact("Stage", "stage", esc(stage_text(acct, opp)));
    fact("Emails", "emails", or_dash(esc(&opp.emails.join(", "))));
    fact(
        "Posting",
        "posting",
        posting_text(acct, opp).map_or(DASH.into(), esc),
    );
    fact(
        "Owner",
        "owner",
        opp.owner
            .as_deref()
            .map_or(DASH.into(), |o| user_name(acct, Some(o))),
    );
    fact("Followers", "followers", users_html(acct, &opp.followers));
    fact("Tags", "tags", tag_forms_html(acct, opp));
    fact("Links", "links", links_html(opp));
    fact("Sources", "sources", or_dash(esc(&opp.sources.join(", "))));
    fact(
        "Created",
        "created",
        format!(
            "{} <span class=\"muted\">id <code>{}</code></span>",
            time(opp.created_at),
            esc(&opp.id)
        ),
    );
    format!(
        "<section class=\"card profile\" id=\"opp-{id}\"><h2>{name}{badges}</h2>\
         <dl class=\"facts\">{facts}</dl><h3>Move to</h3>{form}<h3>Pipeline</h3>{pipeline}</section>",
        id = esc(&opp.id),
        name = esc(&opp.name),
        form = move_form_html(acct, opp, &candidate_url(acct, opp)),
        pipeline = super::page_lifecycle::buttons_html(acct, opp),
    )
}

/// The tags, each with a button removing it, and a form adding one. Lever sends no webhook
/// for a tag change: the tag matters at the next move (or for *Send now* in leverbridge).
fn tag_forms_html(acct: &Account, opp: &Opportunity) -> String {
    let action = format!("{}/tags", esc(&candidate_url(acct, opp)));
    let chips: String = opp
        .tags
        .iter()
        .map(|t| {
            format!(
                "<form class=\"tag-edit\" method=\"post\" action=\"{action}\"><span class=\"tag\">{tag}\
                 <button name=\"remove\" value=\"{tag}\" title=\"Remove the tag {tag}\" aria-label=\"Remove the tag {tag}\">×</button></span></form>",
                tag = esc(t),
            )
        })
        .collect();
    let chips = if chips.is_empty() {
        DASH.to_owned()
    } else {
        chips
    };
    format!(
        "<div class=\"tag-list\">{chips}</div><form class=\"tag-add\" method=\"post\" action=\"{action}\">\
         <input name=\"add\" type=\"text\" maxlength=\"100\" required placeholder=\"Add a tag\" aria-label=\"Tag to add\">\
         <button>Add tag</button></form>"
    )
}

#[derive(serde::Deserialize)]
pub(crate) struct TagForm {
    add: Option<String>,
    remove: Option<String>,
}

/// `POST /_sim/accounts/{acct}/opportunities/{id}/tags`: adds (`add`) or removes (`remove`) a
/// tag, then back to the candidate's page.
pub(crate) async fn edit_tags(
    state: Data,
    path: web::Path<(String, String)>,
    form: web::Form<TagForm>,
) -> HttpResponse {
    let (acct_id, id) = path.into_inner();
    let form = form.into_inner();
    let mut world = state.lock();
    let Some(acct) = world.account_mut(&acct_id) else {
        return not_found(&format!("There is no account {acct_id}."));
    };
    let Some(opp) = acct.opportunity_mut(&id) else {
        return not_found(&format!("There is no opportunity {id}."));
    };
    let clean = |t: Option<String>| {
        t.map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .into_iter()
            .collect::<Vec<_>>()
    };
    actions::edit_list(&mut opp.tags, &clean(form.add), &clean(form.remove));
    opp.updated_at = now_ms();
    HttpResponse::SeeOther()
        .insert_header((
            "Location",
            format!("/_sim/accounts/{acct_id}/opportunities/{id}#opp-{id}"),
        ))
        .finish()
}

/// Text with its `http(s)://` URLs made links; everything escaped.
pub(crate) fn linkify(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = ["https://", "http://"]
        .iter()
        .filter_map(|scheme| rest.find(scheme))
        .min()
    {
        out.push_str(&esc(&rest[..start]));
        let tail = &rest[start..];
        let end = tail.find(char::is_whitespace).unwrap_or(tail.len());
        let url = tail[..end].trim_end_matches(['.', ',', ';', ':', '!', '?', ')', '"', '\'']);
        if url.ends_with("//") {
            out.push_str(&esc(url));
        } else {
            let _ = write!(out, "<a href=\"{0}\" rel=\"noopener\">{0}</a>", esc(url));
        }
        rest = &tail[url.len()..];
    }
    out.push_str(&esc(rest));
    out
}

fn empty_state(section: &str, title: &str, count: usize, empty: &str) -> String {
    format!(
        "<section class=\"card\" id=\"{section}\"><h3>{title} ({count})</h3>{}",
        if count == 0 {
            format!("<p class=\"muted empty\">{empty}</p>")
        } else {
            String::new()
        }
    )
}

/// Newest first: the later write wins a tie.
fn newest_first<T>(items: &[T], at: impl Fn(&T) -> i64) -> Vec<&T> {
    let mut items: Vec<&T> = items.iter().rev().collect();
    items.sort_by_key(|item| std::cmp::Reverse(at(item)));
    items
}

fn notes_html(acct: &Account, opp: &Opportunity) -> String {
    let mut s = empty_state("notes", "Notes", opp.notes.len(), "No notes yet.");
    for note in newest_first(&opp.notes, |n| n.created_at) {
        s.push_str(&note_html(acct, note));
    }
    s.push_str("</section>");
    s
}

fn note_html(acct: &Account, note: &Note) -> String {
    let score = note.score.map_or(String::new(), |n| {
        format!("<span class=\"badge score\">Score {n}/4</span>")
    });
    let secret = if note.secret {
        "<span class=\"badge secret\">Secret</span>"
    } else {
        ""
    };
    let notified = if note.notify_followers {
        "<span class=\"badge notify\">Followers notified</span>"
    } else {
        "<span class=\"notify\">Followers not notified</span>"
    };
    format!(
        "<article class=\"note\" id=\"note-{id}\"><div class=\"meta\"><b class=\"author\">{author}</b>\
         <span>{when}</span>{score}{secret}{notified}</div><div class=\"text\">{text}</div></article>",
        id = esc(&note.id),
        author = user_name(acct, note.author_id.as_deref()),
        when = time(note.created_at),
        text = linkify(&note.value),
    )
}

fn files_html(acct: &Account, opp: &Opportunity) -> String {
    let mut s = empty_state("files", "Files", opp.files.len(), "No files yet.");
    if !opp.files.is_empty() {
        s.push_str(
            "<table class=\"files\"><tr><th>Name</th><th class=\"size\">Size</th>\
             <th class=\"when\">Uploaded</th><th class=\"by\">By</th></tr>",
        );
        for file in newest_first(&opp.files, |f| f.uploaded_at) {
            let _ = write!(
                s,
                "<tr id=\"file-{id}\"><td><a class=\"download\" href=\"{url}/files/{id}\">{name}</a>\
                 <div class=\"muted\">{kind}</div></td><td class=\"size\">{size}</td><td>{when}</td><td>{by}</td></tr>",
                id = esc(&file.id),
                url = esc(&candidate_url(acct, opp)),
                name = esc(&file.name),
                kind = esc(&file.content_type),
                size = file_size(file.bytes.len()),
                when = time(file.uploaded_at),
                by = user_name(acct, file.author_id.as_deref()),
            );
        }
        s.push_str("</table>");
    }
    s.push_str("</section>");
    s
}

/// `GET /_sim/accounts/{acct}/opportunities/{id}/files/{file_id}`: the stored bytes with the
/// stored content type, shown in the browser (a PDF opens in its viewer).
pub(crate) async fn file(state: Data, path: web::Path<(String, String, String)>) -> HttpResponse {
    let (acct_id, id, file_id) = path.into_inner();
    let world = state.lock();
    let Some(acct) = world.account(&acct_id) else {
        return not_found(&format!("There is no account {acct_id}."));
    };
    let Some(opp) = acct.opportunity(&id) else {
        return not_found(&format!(
            "The account {} has no opportunity {id}.",
            acct.name
        ));
    };
    let Some(file) = opp.files.iter().find(|f| f.id == file_id) else {
        return not_found(&format!("{} has no file {file_id}.", opp.name));
    };
    HttpResponse::Ok()
        .content_type(file.content_type.as_str())
        .insert_header(("Content-Disposition", content_disposition(file)))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(file.bytes.clone())
}

/// `inline` with the file's name; a type that could run script on this origin (HTML, SVG,
/// XML) is sent as an attachment instead.
fn content_disposition(file: &StoredFile) -> String {
    let kind = file.content_type.to_ascii_lowercase();
    let active = ["html", "xml", "svg", "javascript"]
        .iter()
        .any(|t| kind.contains(t));
    let disposition = if active { "attachment" } else { "inline" };
    let ascii: String = file
        .name
        .chars()
        .map(|c| match c {
            ' '..='~' if c != '"' && c != '\\' => c,
            _ => '_',
        })
        .collect();
    let mut header = format!("{disposition}; filename=\"{ascii}\"");
    if ascii != file.name {
        let encoded: String = file
            .name
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect();
        let _ = write!(header, "; filename*=UTF-8''{encoded}");
    }
    header
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_in_text_become_links_and_the_rest_is_escaped() {
        assert_eq!(
            linkify("see https://x.test/r?a=1&b=2. <b>"),
            "see <a href=\"https://x.test/r?a=1&amp;b=2\" rel=\"noopener\">\
             https://x.test/r?a=1&amp;b=2</a>. &lt;b&gt;"
        );
        assert_eq!(linkify("just http:// here"), "just http:// here");
    }

    #[test]
    fn a_file_name_is_quoted_safely() {
        let file = |name: &str, kind: &str| StoredFile {
            id: "f".into(),
            name: name.into(),
            content_type: kind.into(),
            author_id: None,
            uploaded_at: 0,
            bytes: vec![],
        };
        assert_eq!(
            content_disposition(&file("report.pdf", "application/pdf")),
            "inline; filename=\"report.pdf\""
        );
        assert_eq!(
            content_disposition(&file("a\"b é.html", "text/html")),
            "attachment; filename=\"a_b _.html\"; filename*=UTF-8''a%22b%20%C3%A9.html"
        );
    }
}
