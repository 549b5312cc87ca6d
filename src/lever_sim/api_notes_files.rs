//! `/v1/opportunities/:id/notes` and `/files`.

use actix_multipart::Multipart;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde_json::{json, Value};

use super::api::{ok_data, with_account, Ctx};
use super::api_opportunities::{find, find_mut};
use super::auth::check_perform_as;
use super::error::ApiError;
use super::paging::page;
use super::state::{new_id, now_ms, Note, Shared, StoredFile};
use super::wire::{file_json, note_json};

/// Lever's cap on an uploaded file.
pub(crate) const MAX_FILE_BYTES: usize = 30 * 1024 * 1024;

pub(crate) fn list_notes(state: &Shared, ctx: &Ctx, id: &str) -> Result<HttpResponse, ApiError> {
    with_account(state, ctx, |acct| {
        let items = find(acct, id)?.notes.iter().map(note_json).collect();
        Ok(HttpResponse::Ok().json(page(items, &ctx.query)?))
    })
}

fn optional_bool(body: &Value, field: &str) -> Result<bool, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(ApiError::bad_request(format!("{field} must be a boolean"))),
    }
}

/// `{value, secret?, score? (1–4), notifyFollowers?}` → 201 `{data:{noteId}}`.
pub(crate) fn create_note(
    state: &Shared,
    ctx: &Ctx,
    id: &str,
    body: Value,
) -> Result<HttpResponse, ApiError> {
    with_account(state, ctx, |acct| {
        find(acct, id)?;
        let author = check_perform_as(acct, ctx.perform_as(), false)?;
        let value = match body.get("value") {
            Some(Value::String(v)) if !v.trim().is_empty() => v.clone(),
            _ => return Err(ApiError::bad_request("Missing required field: value")),
        };
        let score = match body.get("score") {
            None | Some(Value::Null) => None,
            Some(v) => match v.as_u64() {
                Some(n @ 1..=4) => Some(n as u8),
                _ => {
                    return Err(ApiError::bad_request(
                        "score must be an integer from 1 to 4",
                    ))
                }
            },
        };
        let created_at = match body.get("createdAt") {
            None | Some(Value::Null) => now_ms(),
            Some(v) => v
                .as_i64()
                .ok_or_else(|| ApiError::bad_request("createdAt must be a timestamp in ms"))?,
        };
        let note = Note {
            id: new_id(),
            value,
            author_id: author,
            score,
            secret: optional_bool(&body, "secret")?,
            notify_followers: optional_bool(&body, "notifyFollowers")?,
            created_at,
        };
        let note_id = note.id.clone();
        let opp = find_mut(acct, id)?;
        opp.notes.push(note);
        opp.updated_at = now_ms();
        Ok(HttpResponse::Created().json(json!({ "data": { "noteId": note_id } })))
    })
}

pub(crate) fn delete_note(
    state: &Shared,
    ctx: &Ctx,
    id: &str,
    note_id: &str,
) -> Result<HttpResponse, ApiError> {
    with_account(state, ctx, |acct| {
        check_perform_as(acct, ctx.perform_as(), false)?;
        let opp = find_mut(acct, id)?;
        let before = opp.notes.len();
        opp.notes.retain(|n| n.id != note_id);
        if opp.notes.len() == before {
            return Err(ApiError::not_found("Note", note_id));
        }
        Ok(HttpResponse::NoContent().finish())
    })
}

pub(crate) fn list_files(state: &Shared, ctx: &Ctx, id: &str) -> Result<HttpResponse, ApiError> {
    with_account(state, ctx, |acct| {
        let items = find(acct, id)?
            .files
            .iter()
            .map(|f| file_json(f, id, &state.base_url))
            .collect();
        Ok(HttpResponse::Ok().json(page(items, &ctx.query)?))
    })
}

pub(crate) fn download_file(
    state: &Shared,
    ctx: &Ctx,
    id: &str,
    file_id: &str,
) -> Result<HttpResponse, ApiError> {
    with_account(state, ctx, |acct| {
        let file = find(acct, id)?
            .files
            .iter()
            .find(|f| f.id == file_id)
            .ok_or_else(|| ApiError::not_found("File", file_id))?;
        Ok(HttpResponse::Ok()
            .content_type(file.content_type.as_str())
            .body(file.bytes.clone()))
    })
}

pub(crate) fn delete_file(
    state: &Shared,
    ctx: &Ctx,
    id: &str,
    file_id: &str,
) -> Result<HttpResponse, ApiError> {
    with_account(state, ctx, |acct| {
        check_perform_as(acct, ctx.perform_as(), false)?;
        let opp = find_mut(acct, id)?;
        let before = opp.files.len();
        opp.files.retain(|f| f.id != file_id);
        if opp.files.len() == before {
            return Err(ApiError::not_found("File", file_id));
        }
        Ok(HttpResponse::NoContent().finish())
    })
}

/// Multipart upload, field `file`, at most 30 MB; `perform_as` is required.
pub(crate) async fn upload_file(
    state: &Shared,
    ctx: &Ctx,
    id: &str,
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let author = with_account(state, ctx, |acct| {
        find(acct, id)?;
        check_perform_as(acct, ctx.perform_as(), true)
    })?;
    let is_multipart = req
        .headers()
        .get("Content-Type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !is_multipart {
        return Err(ApiError::bad_request(
            "Expected a multipart/form-data body with a file field",
        ));
    }
    let (name, content_type, bytes) =
        read_file_field(Multipart::new(req.headers(), payload)).await?;
    let file = StoredFile {
        id: new_id(),
        name,
        content_type,
        author_id: author,
        uploaded_at: now_ms(),
        bytes,
    };
    with_account(state, ctx, |acct| {
        let opp = find_mut(acct, id)?;
        let data = file_json(&file, id, &state.base_url);
        opp.files.push(file);
        opp.updated_at = now_ms();
        Ok(ok_data(data))
    })
}

async fn read_file_field(mut multipart: Multipart) -> Result<(String, String, Vec<u8>), ApiError> {
    let bad = |e: actix_multipart::MultipartError| {
        ApiError::bad_request(format!("Invalid multipart body: {e}"))
    };
    let mut total = 0usize;
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(bad)?;
        let is_file = field.name() == Some("file");
        let name = field
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .unwrap_or("file")
            .to_string();
        let content_type = field
            .content_type()
            .map_or("application/octet-stream".to_string(), |m| m.to_string());
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(bad)?;
            total += chunk.len();
            if total > MAX_FILE_BYTES {
                return Err(ApiError::too_large("File exceeds the 30 MB limit"));
            }
            if is_file {
                bytes.extend_from_slice(&chunk);
            }
        }
        if is_file {
            return Ok((name, content_type, bytes));
        }
    }
    Err(ApiError::bad_request("Missing required field: file"))
}
