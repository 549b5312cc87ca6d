//! The client against a scripted HTTP server: authentication, retries, error mapping,
//! pagination, the call record and the permission probe.

use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::json;
use wiremock::matchers::{body_json, body_string_contains, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use super::*;

fn config(server: &MockServer, max_retries: u32) -> ClientConfig {
    ClientConfig {
        api_base: format!("{}/v1", server.uri()),
        timeout: Duration::from_secs(5),
        max_retries,
        backoff_base: Duration::from_millis(2),
    }
}

fn api_key_client(server: &MockServer, max_retries: u32) -> LeverClient {
    LeverClient::new(
        http_client(),
        config(server, max_retries),
        Credentials::ApiKey("secret-key".to_owned().into()),
        "org-test".to_owned(),
        RateLimiters::new(1_000.0, 1_000),
    )
}

fn bearer_client(server: &MockServer) -> LeverClient {
    LeverClient::new(
        http_client(),
        config(server, 0),
        Credentials::Bearer("access-token".to_owned().into()),
        "org-oauth".to_owned(),
        RateLimiters::new(1_000.0, 1_000),
    )
}

fn ok(body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

fn statuses(calls: &[LeverCall]) -> Vec<Option<u16>> {
    calls.iter().map(|call| call.status).collect()
}

#[tokio::test]
async fn api_key_is_basic_auth_with_empty_password() {
    let server = MockServer::start().await;
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("secret-key:")
    );
    Mock::given(method("GET"))
        .and(path("/v1/stages"))
        .and(header("authorization", expected.as_str()))
        .and(query_param("limit", "100"))
        .respond_with(ok(
            json!({"data": [{"id": "lead-new", "text": "New lead"}]}),
        ))
        .mount(&server)
        .await;
    let stages = api_key_client(&server, 0).list_stages().await.unwrap();
    assert_eq!(stages[0].id, "lead-new");
}

#[tokio::test]
async fn oauth_token_is_a_bearer() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path("/v1/webhooks/w1"))
        .and(header("authorization", "Bearer access-token"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    bearer_client(&server).delete_webhook("w1").await.unwrap();
}

#[tokio::test]
async fn rate_limited_call_waits_for_retry_after_then_succeeds() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/tags"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/v1/tags"))
        .respond_with(ok(json!({"data": [{"text": "python", "count": "2"}]})))
        .mount(&server)
        .await;
    let client = api_key_client(&server, 4);
    let started = Instant::now();
    let tags = client.list_tags().await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(tags[0].count, 2);
    let calls = client.take_calls();
    assert_eq!(statuses(&calls), vec![Some(429), Some(200)]);
    assert_eq!(calls[1].attempt, 2);
    assert!(client.take_calls().is_empty(), "take_calls drains");
}

#[tokio::test]
async fn server_errors_are_retried_until_success() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/postings/p1"))
        .respond_with(ResponseTemplate::new(503).set_body_string("maintenance"))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/v1/postings/p1"))
        .respond_with(ok(
            json!({"data": {"id": "p1", "text": "Engineer", "tags": ["remote"]}}),
        ))
        .mount(&server)
        .await;
    let client = api_key_client(&server, 4);
    let posting = client.get_posting("p1").await.unwrap();
    assert_eq!(posting.tags, vec!["remote"]);
    let calls = client.take_calls();
    assert_eq!(statuses(&calls), vec![Some(503), Some(503), Some(200)]);
    assert_eq!(calls[0].error.as_deref(), Some("maintenance"));
    assert_eq!(calls[0].method, "GET");
    assert_eq!(calls[0].path, "/postings/p1");
}

#[tokio::test]
async fn unauthorized_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/users"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"code": "Unauthorized", "message": "Invalid API key"})),
        )
        .mount(&server)
        .await;
    let client = api_key_client(&server, 4);
    let error = client.list_users().await.unwrap_err();
    assert_eq!(
        error,
        LeverError::Unauthorized {
            message: "Invalid API key (Unauthorized)".into()
        }
    );
    assert_eq!(client.take_calls().len(), 1);
}

#[tokio::test]
async fn forbidden_names_the_missing_permission() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/opportunities/o1/addTags"))
        .respond_with(ResponseTemplate::new(403).set_body_string("not json"))
        .mount(&server)
        .await;
    let client = api_key_client(&server, 4);
    let error = client
        .add_tags("o1", &["Passed".into()], "u1")
        .await
        .unwrap_err();
    assert_eq!(
        error,
        LeverError::Forbidden {
            message: "not json".into(),
            permission: Some("add opportunity tag".into())
        }
    );
    assert_eq!(client.take_calls().len(), 1, "403 is not retried");
}

#[tokio::test]
async fn exhausted_retries_end_in_rate_limited_or_server_error() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/stages"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "0"))
        .mount(&server)
        .await;
    Mock::given(path("/v1/tags"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({"message": "boom"})))
        .mount(&server)
        .await;
    let client = api_key_client(&server, 2);
    assert_eq!(
        client.list_stages().await.unwrap_err(),
        LeverError::RateLimited {
            retry_after: Some(Duration::ZERO)
        }
    );
    assert_eq!(client.take_calls().len(), 3);
    assert_eq!(
        client.list_tags().await.unwrap_err(),
        LeverError::Server {
            status: 500,
            message: "boom".into()
        }
    );
    let calls = client.take_calls();
    assert_eq!(
        calls.iter().map(|call| call.attempt).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
}

#[tokio::test]
async fn connection_failures_are_retried_then_reported() {
    // A port nobody listens on (wiremock keeps its servers alive in a pool once dropped).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let api_base = format!("http://{}/v1", listener.local_addr().unwrap());
    drop(listener);
    let client = LeverClient::new(
        http_client(),
        ClientConfig {
            api_base,
            timeout: Duration::from_secs(2),
            max_retries: 1,
            backoff_base: Duration::from_millis(1),
        },
        Credentials::ApiKey("k".to_owned().into()),
        "org".to_owned(),
        RateLimiters::default(),
    );
    let error = client.list_users().await.unwrap_err();
    assert!(matches!(error, LeverError::Transport(_)), "{error:?}");
    let calls = client.take_calls();
    assert_eq!(calls.len(), 2);
    assert!(calls
        .iter()
        .all(|call| call.status.is_none() && call.error.is_some()));
}

#[tokio::test]
async fn list_users_follows_next_to_the_end() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/users"))
        .and(query_param("offset", "page-2"))
        .respond_with(ok(json!({"data": [{"id": "u3"}], "hasNext": false})))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/v1/users"))
        .and(query_param("limit", "100"))
        .respond_with(ok(json!({
            "data": [{"id": "u1"}, {"id": "u2", "deactivatedAt": 5}], "hasNext": true, "next": "page-2"
        })))
        .mount(&server)
        .await;
    let client = api_key_client(&server, 0);
    let users = client.list_users().await.unwrap();
    let ids: Vec<&str> = users.iter().map(|user| user.id.as_str()).collect();
    assert_eq!(ids, vec!["u1", "u2", "u3"]);
    assert!(!users[1].is_active());
    let paths: Vec<String> = client
        .take_calls()
        .into_iter()
        .map(|call| call.path)
        .collect();
    assert_eq!(
        paths,
        vec!["/users?limit=100", "/users?limit=100&offset=page-2"]
    );
}

#[tokio::test]
async fn writes_send_perform_as_and_their_bodies() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/v1/opportunities/o1/stage"))
        .and(query_param("perform_as", "u1"))
        .and(body_json(json!({"stage": "s2"})))
        .respond_with(ok(json!({"data": {"id": "o1", "stage": "s2"}})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/opportunities/o1/notes"))
        .and(query_param("perform_as", "u1"))
        .and(body_json(
            json!({"value": "Passed", "score": 4, "secret": false, "notifyFollowers": true}),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"data": {"noteId": "n1"}})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/opportunities/o1/feedback"))
        .and(body_json(
            json!({"baseTemplateId": "t1", "fieldValues": [{"id": "f1", "value": 3}]}),
        ))
        .respond_with(ok(json!({"id": "fb1"})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/opportunities/o1/removeLinks"))
        .and(body_json(json!({"links": ["https://x/report"]})))
        .respond_with(ok(json!({"data": {"id": "o1"}})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/opportunities/o1"))
        .and(query_param("expand", "applications,stage"))
        .respond_with(ok(
            json!({"data": {"id": "o1", "stage": {"id": "s2", "text": "Screen"}}}),
        ))
        .mount(&server)
        .await;

    let client = api_key_client(&server, 0);
    let moved = client.change_stage("o1", "s2", "u1").await.unwrap();
    assert_eq!(moved.stage_id.as_deref(), Some("s2"));
    let note = NewNote {
        value: "Passed".into(),
        score: Some(4),
        secret: false,
        notify_followers: true,
    };
    assert_eq!(
        client.create_note("o1", note, "u1").await.unwrap().note_id,
        "n1"
    );
    let feedback = client
        .create_feedback("o1", "t1", vec![("f1".into(), json!(3))], "u1")
        .await
        .unwrap();
    assert_eq!(feedback.id, "fb1");
    client
        .remove_links("o1", &["https://x/report".into()], "u1")
        .await
        .unwrap();
    let opportunity = client.get_opportunity("o1").await.unwrap();
    assert_eq!(opportunity.stage_id.as_deref(), Some("s2"));
    let paths: Vec<String> = client
        .take_calls()
        .into_iter()
        .map(|call| call.path)
        .collect();
    assert_eq!(paths[0], "/opportunities/o1/stage?perform_as=u1");
    assert!(paths.iter().all(|path| !path.contains("secret-key")));
}

#[tokio::test]
async fn upload_is_multipart_field_file() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/opportunities/o1/files"))
        .and(query_param("perform_as", "u1"))
        .and(body_string_contains(
            r#"name="file"; filename="report.pdf""#,
        ))
        .and(body_string_contains("%PDF-1.4"))
        .respond_with(ok(
            json!({"data": {"id": "f1", "name": "report.pdf", "size": 8}}),
        ))
        .mount(&server)
        .await;
    let client = api_key_client(&server, 0);
    let file = client
        .upload_file(
            "o1",
            "report.pdf",
            "application/pdf",
            b"%PDF-1.4".to_vec(),
            "u1",
        )
        .await
        .unwrap();
    assert_eq!(file.size, Some(8));
    let error = client
        .upload_file("o1", "x", "not a type", Vec::new(), "u1")
        .await
        .unwrap_err();
    assert!(matches!(error, LeverError::BadRequest { .. }), "{error:?}");
}

#[tokio::test]
async fn undecodable_success_is_a_decode_error() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/postings/p1"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>"))
        .mount(&server)
        .await;
    let error = api_key_client(&server, 3)
        .get_posting("p1")
        .await
        .unwrap_err();
    assert!(matches!(error, LeverError::Decode(_)), "{error:?}");
}

#[tokio::test]
async fn webhook_creation_reads_double_wrapped_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/webhooks"))
        .and(body_json(
            json!({"url": "https://app/hook", "event": "candidateStageChange"}),
        ))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!({"data": {"data": {
                "id": "w1", "event": "candidateStageChange", "url": "https://app/hook",
                "configuration": {"signatureToken": "sig"}
            }}})),
        )
        .mount(&server)
        .await;
    let webhook = bearer_client(&server)
        .create_webhook("https://app/hook", "candidateStageChange")
        .await
        .unwrap();
    assert_eq!(webhook.signature_token.as_deref(), Some("sig"));
}

/// A scripted Lever account: lists answer, `forbidden` endpoints answer 403, the rest 404.
async fn account(server: &MockServer, forbidden: &'static [(&'static str, &'static str)]) {
    Mock::given(path("/v1/users"))
        .respond_with(ok(json!({"data": [
            {"id": "u0", "accessRole": "admin", "deactivatedAt": 1},
            {"id": "u1", "accessRole": "super admin"}
        ]})))
        .mount(server)
        .await;
    Mock::given(path("/v1/stages"))
        .respond_with(ok(json!({"data": [{"id": "s1", "text": "New"}]})))
        .mount(server)
        .await;
    Mock::given(path("/v1/feedback_templates"))
        .and(method("GET"))
        .respond_with(ok(json!({"data": []})))
        .mount(server)
        .await;
    Mock::given(wiremock::matchers::any())
        .respond_with(move |request: &Request| {
            let denied = forbidden.iter().any(|(verb, suffix)| {
                request.method.as_str() == *verb && request.url.path().ends_with(suffix)
            });
            if denied {
                ResponseTemplate::new(403).set_body_json(json!({"code": "Forbidden"}))
            } else if request.url.path() == "/v1/feedback_templates" {
                // Whatever is posted here, this Lever creates a template.
                ResponseTemplate::new(201).set_body_json(json!({"id": "new-template"}))
            } else if request.url.path() == "/v1/tags" {
                ok(json!({"data": [{"text": "t", "count": 1}]}))
            } else {
                ResponseTemplate::new(404)
            }
        })
        .mount(server)
        .await;
}

#[tokio::test]
async fn probe_reports_nothing_missing_for_a_complete_key() {
    let server = MockServer::start().await;
    account(&server, &[]).await;
    let client = api_key_client(&server, 0);
    let report = client.probe_permissions().await.unwrap();
    assert!(report.is_complete(), "{:?}", report.missing);
    assert_eq!(report.users.len(), 2);
    assert_eq!(report.stages.len(), 1);
    assert_eq!(report.tags.len(), 1);
    let calls = client.take_calls();
    assert_eq!(
        calls.len(),
        3 + REQUIRED_PERMISSIONS.len() - 3 - UNTESTED_PERMISSIONS.len()
    );
    // Nothing is written: every call but a read goes to the opportunity that does not exist.
    for call in calls.iter().filter(|call| call.method != "GET") {
        assert!(
            call.path
                .starts_with(&format!("/opportunities/{NIL_OPPORTUNITY_ID}/")),
            "{call:?}"
        );
    }
    let file_probe = calls
        .iter()
        .find(|call| call.method == "POST" && call.path.contains("/files"))
        .unwrap();
    assert_eq!(
        file_probe.path,
        format!("/opportunities/{NIL_OPPORTUNITY_ID}/files?perform_as=u1")
    );
}

#[tokio::test]
async fn probe_lists_missing_permissions_in_order() {
    let server = MockServer::start().await;
    account(
        &server,
        &[
            ("GET", "/tags"),
            ("POST", "/removeLinks"),
            ("POST", "/files"),
            ("POST", "/feedback"),
        ],
    )
    .await;
    let report = api_key_client(&server, 0)
        .probe_permissions()
        .await
        .unwrap();
    assert_eq!(
        report.missing,
        vec![
            "list tags",
            "remove opportunity link",
            "upload opportunity file",
            "create opportunity feedback"
        ]
    );
    assert!(report.tags.is_empty());
}

#[tokio::test]
async fn probe_stops_at_401() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    let error = api_key_client(&server, 0)
        .probe_permissions()
        .await
        .unwrap_err();
    assert!(
        matches!(error, LeverError::Unauthorized { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn oauth_probe_skips_write_endpoints() {
    let server = MockServer::start().await;
    account(&server, &[]).await;
    let client = bearer_client(&server);
    let report = client.probe_permissions().await.unwrap();
    assert!(report.is_complete());
    let calls = client.take_calls();
    assert!(calls.iter().all(|call| call.method == "GET"), "{calls:?}");
    // users, stages, tags, then the read probes: opportunity, posting, notes, files, feedback,
    // templates.
    assert_eq!(calls.len(), 9);
}

/// Renews to `fresh`, counting the renewals; or refuses like a revoked grant.
struct CountingRenewal {
    fresh: Option<&'static str>,
    renewals: std::sync::atomic::AtomicUsize,
    stale_seen: std::sync::Mutex<Vec<String>>,
}

impl RenewToken for CountingRenewal {
    fn renew<'a>(
        &'a self,
        stale: &'a str,
    ) -> futures_util::future::BoxFuture<'a, Result<secrecy::SecretString, LeverError>> {
        Box::pin(async move {
            self.renewals
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            self.stale_seen.lock().unwrap().push(stale.to_owned());
            self.fresh
                .map(|t| t.to_owned().into())
                .ok_or(LeverError::AuthorizationLost {
                    message: "invalid_grant".into(),
                })
        })
    }
}

fn renewing_client(server: &MockServer, renewal: std::sync::Arc<CountingRenewal>) -> LeverClient {
    LeverClient::new(
        http_client(),
        config(server, 0),
        Credentials::OAuth {
            token: "old-token".to_owned().into(),
            renew: renewal,
        },
        "org-oauth".to_owned(),
        RateLimiters::new(1_000.0, 1_000),
    )
}

fn renewal(fresh: Option<&'static str>) -> std::sync::Arc<CountingRenewal> {
    std::sync::Arc::new(CountingRenewal {
        fresh,
        renewals: 0.into(),
        stale_seen: Default::default(),
    })
}

#[tokio::test]
async fn a_401_renews_the_oauth_token_once_and_the_call_goes_through() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/stages"))
        .and(header("authorization", "Bearer old-token"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"code": "UnauthorizedError", "message": "jwt expired"})),
        )
        .mount(&server)
        .await;
    Mock::given(path("/v1/stages"))
        .and(header("authorization", "Bearer new-token"))
        .respond_with(ok(json!({"data": [{"id": "s1", "text": "Screen"}]})))
        .mount(&server)
        .await;
    let renewal = renewal(Some("new-token"));
    let client = renewing_client(&server, renewal.clone());
    assert_eq!(client.list_stages().await.unwrap()[0].id, "s1");
    // The renewed token is kept for the next calls.
    client.list_stages().await.unwrap();
    assert_eq!(
        renewal.renewals.load(std::sync::atomic::Ordering::SeqCst),
        1
    );
    assert_eq!(
        *renewal.stale_seen.lock().unwrap(),
        vec!["old-token".to_owned()]
    );
    let statuses: Vec<_> = client.take_calls().iter().map(|c| c.status).collect();
    assert_eq!(statuses, vec![Some(401), Some(200), Some(200)]);
}

#[tokio::test]
async fn a_second_401_after_renewing_is_not_renewed_again() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/stages"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"message": "no"})))
        .mount(&server)
        .await;
    let renewal = renewal(Some("new-token"));
    let error = renewing_client(&server, renewal.clone())
        .list_stages()
        .await
        .unwrap_err();
    assert!(
        matches!(error, LeverError::Unauthorized { .. }),
        "{error:?}"
    );
    assert_eq!(
        renewal.renewals.load(std::sync::atomic::Ordering::SeqCst),
        1
    );
}

#[tokio::test]
async fn a_grant_lever_no_longer_honours_ends_the_call_with_authorization_lost() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/stages"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"message": "revoked"})))
        .mount(&server)
        .await;
    let error = renewing_client(&server, renewal(None))
        .list_stages()
        .await
        .unwrap_err();
    assert!(
        matches!(error, LeverError::AuthorizationLost { .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("reconnect with Add to Lever"),
        "{error}"
    );
}
