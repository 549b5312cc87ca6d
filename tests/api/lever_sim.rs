//! The Lever simulator, driven only over HTTP: each rule of issue 3 proven once.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use hmac::{Hmac, Mac};
use leverbridge::lever_sim::{seed_demo, spawn_sim, SimConfig, SimHandle};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::Sha256;

const NIL_ID: &str = "00000000-0000-0000-0000-000000000000";
const RETRY_BASE: Duration = Duration::from_millis(20);

/// A simulator with one account: a full-permission key, an active and a deactivated user,
/// three stages (the last one "hired"), a tagged posting and one candidate on it.
struct Sim {
    _handle: SimHandle,
    base: String,
    http: reqwest::Client,
    acct: String,
    key: String,
    user: String,
    deactivated_user: String,
    stages: Vec<String>,
    posting: String,
    opp: String,
}

async fn sim() -> Sim {
    let handle = spawn_sim(SimConfig {
        retry_base: RETRY_BASE,
        delivery_timeout: Duration::from_secs(2),
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    let base = handle.base_url();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut sim = Sim {
        _handle: handle,
        base,
        http,
        acct: String::new(),
        key: String::new(),
        user: String::new(),
        deactivated_user: String::new(),
        stages: Vec::new(),
        posting: String::new(),
        opp: String::new(),
    };
    sim.acct = sim
        .control_ok("POST", "/accounts", json!({"name": "Test Co"}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    sim.key = sim.new_key(Value::Null).await;
    sim.user = sim
        .acct_ok(
            "POST",
            "/users",
            json!({"name": "Ann Admin", "email": "ann@test.example", "accessRole": "super admin"}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    sim.deactivated_user = sim
        .acct_ok(
            "POST",
            "/users",
            json!({"name": "Gone User", "email": "gone@test.example", "accessRole": "team member", "deactivated": true}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    for stage in [
        json!({"text": "New applicant", "id": "applicant-new"}),
        json!({"text": "Assessment"}),
        json!({"text": "Hired", "hired": true}),
    ] {
        let id = sim.acct_ok("POST", "/stages", stage).await["id"]
            .as_str()
            .unwrap()
            .to_string();
        sim.stages.push(id);
    }
    sim.posting = sim
        .acct_ok(
            "POST",
            "/postings",
            json!({"text": "Engineer", "tags": ["Needs Test"]}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    sim.opp = sim.candidate("Cara Candidate").await;
    sim
}

impl Sim {
    async fn control(&self, method: &str, path: &str, body: Value) -> (StatusCode, Value) {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let url = format!("{}/_sim/api{path}", self.base);
        let mut req = self.http.request(method.clone(), url);
        if method != Method::GET && method != Method::DELETE {
            req = req.json(&body);
        }
        let resp = req.send().await.expect("control call");
        let status = resp.status();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn control_ok(&self, method: &str, path: &str, body: Value) -> Value {
        let (status, value) = self.control(method, path, body).await;
        assert!(status.is_success(), "{method} {path}: {status} {value}");
        value
    }

    /// A control call under this account.
    async fn acct_ok(&self, method: &str, path: &str, body: Value) -> Value {
        self.control_ok(method, &format!("/accounts/{}{path}", self.acct), body)
            .await
    }

    async fn new_key(&self, permissions: Value) -> String {
        self.acct_ok("POST", "/keys", json!({ "permissions": permissions }))
            .await["key"]
            .as_str()
            .unwrap()
            .to_string()
    }

    async fn candidate(&self, name: &str) -> String {
        let body = json!({"name": name, "email": "c@example.com", "postingId": self.posting, "stageId": self.stages[0]});
        self.acct_ok("POST", "/candidates", body).await["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    fn api(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.api_as(&self.key, method, path)
    }

    fn api_as(&self, key: &str, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}/v1{path}", self.base))
            .basic_auth(key, Some(""))
    }

    async fn state(&self) -> Value {
        self.acct_ok("GET", &format!("/opportunities/{}", self.opp), Value::Null)
            .await
    }

    async fn set_webhook(&self, event: &str, url: &str) -> String {
        self.acct_ok("PUT", &format!("/webhooks/{event}"), json!({ "url": url }))
            .await["signatureToken"]
            .as_str()
            .unwrap()
            .to_string()
    }

    async fn move_to(&self, stage: &str) -> Value {
        let path = format!("/opportunities/{}/stage", self.opp);
        self.acct_ok("POST", &path, json!({ "stageId": stage }))
            .await
    }
}

async fn send(req: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let resp = req.send().await.expect("API call");
    let status = resp.status();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A webhook receiver answering a settable status and recording every delivery.
struct Receiver {
    url: String,
    hits: Arc<Mutex<Vec<Hit>>>,
    status: Arc<AtomicU16>,
}

#[derive(Clone)]
struct Hit {
    at: Instant,
    user_agent: String,
    raw: String,
    body: Value,
}

async fn receiver(status: u16) -> Receiver {
    let hits: Arc<Mutex<Vec<Hit>>> = Arc::default();
    let status = Arc::new(AtomicU16::new(status));
    let (h, s) = (hits.clone(), status.clone());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/lever/webhook", listener.local_addr().unwrap());
    let server = HttpServer::new(move || {
        let (h, s) = (h.clone(), s.clone());
        App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
            let (h, s) = (h.clone(), s.clone());
            async move {
                let raw = String::from_utf8_lossy(&body).to_string();
                h.lock().unwrap().push(Hit {
                    at: Instant::now(),
                    user_agent: req
                        .headers()
                        .get("User-Agent")
                        .map(|v| v.to_str().unwrap().to_string())
                        .unwrap_or_default(),
                    body: serde_json::from_str(&raw).unwrap_or(Value::Null),
                    raw,
                });
                let code = actix_web::http::StatusCode::from_u16(s.load(Ordering::SeqCst)).unwrap();
                HttpResponse::build(code).body("receiver says hi")
            }
        }))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    Receiver { url, hits, status }
}

impl Receiver {
    fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }

    async fn wait_for(&self, count: usize, within: Duration) -> Vec<Hit> {
        let deadline = Instant::now() + within;
        while self.hits().len() < count && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.hits()
    }
}

/// The signature computed independently of the simulator.
fn expected_signature(signature_token: &str, body: &Value) -> String {
    let message = format!(
        "{}{}",
        body["token"].as_str().unwrap(),
        body["triggeredAt"].as_i64().unwrap()
    );
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(signature_token.as_bytes()).unwrap();
    mac.update(message.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

fn assert_lever_error(status: StatusCode, body: &Value, want: StatusCode, code: &str) {
    assert_eq!(status, want, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert!(body["message"].is_string(), "{body}");
}

#[tokio::test]
async fn auth_rejects_a_missing_unknown_or_revoked_key() {
    let sim = sim().await;
    let (status, body) = send(sim.http.get(format!("{}/v1/stages", sim.base))).await;
    assert_lever_error(status, &body, StatusCode::UNAUTHORIZED, "UnauthorizedError");
    let (status, body) = send(sim.api_as("not-a-key", Method::GET, "/stages")).await;
    assert_lever_error(status, &body, StatusCode::UNAUTHORIZED, "UnauthorizedError");

    let (status, body) = send(sim.api(Method::GET, "/stages")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["data"][0],
        json!({"id": "applicant-new", "text": "New applicant"})
    );

    sim.acct_ok("DELETE", &format!("/keys/{}", sim.key), Value::Null)
        .await;
    let (status, body) = send(sim.api(Method::GET, "/stages")).await;
    assert_lever_error(status, &body, StatusCode::UNAUTHORIZED, "UnauthorizedError");
}

#[tokio::test]
async fn permissions_are_checked_before_the_id_lookup() {
    let sim = sim().await;
    let reader = sim.new_key(json!(["read opportunity"])).await;
    let (status, body) = send(sim.api_as(&reader, Method::GET, "/users")).await;
    assert_lever_error(status, &body, StatusCode::FORBIDDEN, "ForbiddenError");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .ends_with("missing permission: list users"),
        "{body}"
    );

    let note = json!({"value": "probe"});
    let path = format!("/opportunities/{NIL_ID}/notes");
    let (status, body) = send(sim.api_as(&reader, Method::POST, &path).json(&note)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("create opportunity note"));

    let writer = sim
        .new_key(json!(["create opportunity note", "read opportunity"]))
        .await;
    let (status, body) = send(sim.api_as(&writer, Method::POST, &path).json(&note)).await;
    assert_lever_error(status, &body, StatusCode::NOT_FOUND, "ResourceNotFound");

    let (status, body) =
        send(sim.api_as(&reader, Method::GET, &format!("/opportunities/{}", sim.opp))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["id"], sim.opp);
}

#[tokio::test]
async fn perform_as_is_required_where_lever_requires_it_and_must_be_active() {
    let sim = sim().await;
    let missing = "Missing required parameter: perform_as";
    let files = format!("/opportunities/{}/files", sim.opp);
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"x".to_vec()).file_name("r.txt"),
    );
    let (status, body) = send(sim.api(Method::POST, &files).multipart(form)).await;
    assert_lever_error(status, &body, StatusCode::BAD_REQUEST, "BadRequestError");
    assert_eq!(body["message"], missing);
    for path in [
        format!("/opportunities/{}/feedback", sim.opp),
        "/feedback_templates".to_string(),
    ] {
        let (status, body) = send(sim.api(Method::POST, &path).json(&json!({}))).await;
        assert_eq!(
            (status, body["message"].as_str()),
            (StatusCode::BAD_REQUEST, Some(missing)),
            "{path}"
        );
    }

    let notes = format!("/opportunities/{}/notes", sim.opp);
    let (status, body) = send(
        sim.api(Method::POST, &notes)
            .query(&[("perform_as", &sim.deactivated_user)])
            .json(&json!({"value": "hi"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["message"].as_str().unwrap().contains("deactivated"),
        "{body}"
    );
    let (status, _) = send(
        sim.api(Method::POST, &notes)
            .query(&[("perform_as", NIL_ID)])
            .json(&json!({"value": "hi"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Optional on notes; when given and active, it is the author.
    let (status, _) = send(
        sim.api(Method::POST, &notes)
            .json(&json!({"value": "anonymous"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = send(
        sim.api(Method::POST, &notes)
            .query(&[("perform_as", &sim.user)])
            .json(&json!({"value": "by ann"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let state = sim.state().await;
    assert_eq!(state["notes"][1]["authorId"], sim.user);
    let log = sim.acct_ok("GET", "/requests", Value::Null).await;
    let last = log.as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["performAs"].as_str(), last["status"].as_u64()),
        (Some(sim.user.as_str()), Some(201))
    );
    assert_eq!(last["apiKeyLast4"], sim.key[sim.key.len() - 4..]);
}

#[tokio::test]
async fn lists_page_with_an_opaque_offset_and_bounded_limit() {
    let sim = sim().await;
    for i in 0..4 {
        sim.candidate(&format!("Candidate {i}")).await;
    }
    let mut seen = Vec::new();
    let mut offset: Option<String> = None;
    loop {
        // The token is already percent-encoded: it goes back exactly as it came.
        let path = match &offset {
            Some(o) => format!("/opportunities?limit=2&offset={o}"),
            None => "/opportunities?limit=2".to_string(),
        };
        let (status, body) = send(sim.api(Method::GET, &path)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let page = body["data"].as_array().unwrap();
        assert!(page.len() <= 2);
        seen.extend(page.iter().map(|o| o["id"].as_str().unwrap().to_string()));
        if body["hasNext"] == false {
            break;
        }
        let next = body["next"].as_str().expect("next token").to_string();
        assert!(
            next.starts_with("%5B1%2C") && next.ends_with("%22%5D"),
            "Lever's shape: a percent-encoded JSON array: {next}"
        );
        offset = Some(next);
    }
    seen.dedup();
    assert_eq!(seen.len(), 5);
    assert!(seen.contains(&sim.opp));

    // Encoded a second time (what `query_pairs_mut` does to it), the token is refused.
    let (_, body) = send(sim.api(Method::GET, "/opportunities?limit=2")).await;
    let token = body["next"].as_str().unwrap().to_string();
    let (status, body) = send(
        sim.api(Method::GET, "/opportunities")
            .query(&[("limit", "2"), ("offset", &token)]),
    )
    .await;
    assert_lever_error(status, &body, StatusCode::BAD_REQUEST, "BadRequestError");

    let (_, body) = send(sim.api(Method::GET, "/stages")).await;
    assert_eq!(
        (
            body["hasNext"].as_bool(),
            body["data"].as_array().unwrap().len()
        ),
        (Some(false), 3)
    );
    for limit in ["0", "101", "ten"] {
        let (status, body) = send(
            sim.api(Method::GET, "/opportunities")
                .query(&[("limit", limit)]),
        )
        .await;
        assert_lever_error(status, &body, StatusCode::BAD_REQUEST, "BadRequestError");
    }
    let (status, _) = send(
        sim.api(Method::GET, "/opportunities")
            .query(&[("limit", "100")]),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = send(
        sim.api(Method::GET, "/opportunities")
            .query(&[("offset", "garbage!")]),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, body) = send(sim.api(Method::GET, "/stages").query(&[("limit", "1")])).await;
    let stage_token = body["next"].as_str().unwrap().to_string();
    let (status, _) =
        send(sim.api(Method::GET, &format!("/opportunities?offset={stage_token}"))).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a token from another listing is refused"
    );
}

#[tokio::test]
async fn opportunities_expand_and_edit_tags_and_links() {
    let sim = sim().await;
    let path = format!("/opportunities/{}", sim.opp);
    let (_, body) = send(sim.api(Method::GET, &path)).await;
    let opp = &body["data"];
    assert_eq!(opp["stage"], sim.stages[0]);
    assert!(opp["applications"][0].is_string());
    assert_eq!(
        opp["tags"],
        json!(["Needs Test"]),
        "inherited from the posting"
    );
    assert!(opp["archived"].is_null());
    assert!(
        opp["urls"]["show"].is_string() && opp["createdAt"].is_i64() && opp["contact"].is_string()
    );

    let (_, body) = send(
        sim.api(Method::GET, &path)
            .query(&[("expand", "stage,applications,contact")]),
    )
    .await;
    let opp = &body["data"];
    assert_eq!(
        opp["stage"],
        json!({"id": sim.stages[0], "text": "New applicant"})
    );
    assert_eq!(opp["applications"][0]["posting"], sim.posting);
    assert_eq!(opp["contact"]["emails"], json!(["c@example.com"]));

    let (_, body) = send(
        sim.api(Method::POST, &format!("{path}/addTags"))
            .json(&json!({"tags": ["needs test", "Needs Test", "Passed"]})),
    )
    .await;
    assert_eq!(
        body["data"]["tags"],
        json!(["Needs Test", "needs test", "Passed"])
    );
    let (_, body) = send(
        sim.api(Method::POST, &format!("{path}/removeTags"))
            .json(&json!({"tags": ["needs test", "Needs Test"]})),
    )
    .await;
    assert_eq!(body["data"]["tags"], json!(["Passed"]));
    let (status, _) = send(
        sim.api(Method::POST, &format!("{path}/addTags"))
            .json(&json!({"tags": "Passed"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let link = "https://assess.example/report/1";
    send(
        sim.api(Method::POST, &format!("{path}/addLinks"))
            .json(&json!({"links": [link]})),
    )
    .await;
    let (_, body) = send(
        sim.api(Method::POST, &format!("{path}/addLinks"))
            .json(&json!({"links": [link]})),
    )
    .await;
    assert_eq!(body["data"]["links"], json!([link]));

    let (_, tags) = send(sim.api(Method::GET, "/tags")).await;
    let count = |t: &str| {
        tags["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["text"] == t)
            .map(|x| x["count"].clone())
    };
    assert_eq!(
        (count("Passed"), count("Needs Test")),
        (Some(json!(1)), Some(json!(1)))
    );
    let (status, _) = send(sim.api(Method::GET, &format!("/opportunities/{NIL_ID}"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn notes_validate_the_score() {
    let sim = sim().await;
    let notes = format!("/opportunities/{}/notes", sim.opp);
    for bad in [
        json!({"value": "x", "score": 0}),
        json!({"value": "x", "score": 5}),
        json!({"value": "x", "score": "3"}),
        json!({"score": 2}),
        json!({"value": "x", "secret": "yes"}),
    ] {
        let (status, body) = send(sim.api(Method::POST, &notes).json(&bad)).await;
        assert_lever_error(status, &body, StatusCode::BAD_REQUEST, "BadRequestError");
    }
    let (status, _) = send(sim.api(Method::POST, &notes).body("not json")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = send(sim.api(Method::POST, &notes).json(
        &json!({"value": "Scored 87%", "score": 4, "secret": true, "notifyFollowers": true}),
    ))
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let note_id = body["data"]["noteId"].as_str().expect("noteId").to_string();
    let state = sim.state().await;
    assert_eq!(state["notes"][0]["id"], note_id);
    assert_eq!(
        (
            state["notes"][0]["score"].as_u64(),
            state["notes"][0]["secret"].as_bool()
        ),
        (Some(4), Some(true))
    );
    let (status, _) = send(sim.api(Method::DELETE, &format!("{notes}/{note_id}"))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(sim.state().await["notes"], json!([]));
}

#[tokio::test]
async fn feedback_templates_need_one_score_system_and_feedback_matches_its_template() {
    let sim = sim().await;
    let templates = "/feedback_templates";
    let as_user = [("perform_as", sim.user.clone())];
    let text_field = json!({"type": "text", "text": "Summary", "required": true});
    let score_system = json!({"type": "score-system", "text": "Rating"});
    for fields in [
        json!([text_field]),
        json!([score_system, score_system, text_field]),
    ] {
        let (status, body) = send(
            sim.api(Method::POST, templates)
                .query(&as_user)
                .json(&json!({"text": "T", "fields": fields})),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(body["message"].as_str().unwrap().contains("score-system"));
    }
    let fields = json!([score_system, text_field, {"type": "score", "text": "Code"}, {"type": "yes-no", "text": "Again?"}]);
    let (status, body) = send(
        sim.api(Method::POST, templates)
            .query(&as_user)
            .json(&json!({"text": "Assessment", "fields": fields})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let template = body["data"].clone();
    let ids: Vec<String> = template["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 4);
    let options = template["fields"][0]["options"].as_array().unwrap();
    let rating = options.last().unwrap()["text"]
        .as_str()
        .unwrap()
        .to_string();

    let feedback = format!("/opportunities/{}/feedback", sim.opp);
    let post = |values: Value| {
        sim.api(Method::POST, &feedback)
            .query(&as_user)
            .json(&json!({"baseTemplateId": template["id"], "fieldValues": values, "completedAt": 1_700_000_000_000i64}))
    };
    let good = |i: usize, v: Value| json!({"id": ids[i], "value": v});
    let cases = [
        json!([good(0, json!("Amazing")), good(1, json!("ok"))]),
        json!([
            good(0, json!(rating)),
            good(1, json!("ok")),
            good(2, json!(5))
        ]),
        json!([
            good(0, json!(rating)),
            good(1, json!("ok")),
            good(3, json!("maybe"))
        ]),
        json!([good(0, json!(rating))]),
        json!([good(0, json!(rating)), good(1, json!("ok")), {"id": NIL_ID, "value": "x"}]),
    ];
    for values in cases {
        let (status, body) = send(post(values.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{values} → {body}");
    }
    let values = json!([
        good(0, json!(rating)),
        good(1, json!("Solid")),
        good(2, json!(4)),
        good(3, json!("yes"))
    ]);
    let (status, body) = send(post(values.clone())).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(body.get("data").is_none(), "feedback is answered unwrapped");
    assert_eq!(body["baseTemplateId"], template["id"]);
    assert_eq!(body["fields"][0]["value"], rating);
    let state = sim.state().await;
    assert_eq!(state["feedback"][0]["fieldValues"], values);
    assert_eq!(state["feedback"][0]["authorId"], sim.user);
}

#[tokio::test]
async fn feedback_templates_take_only_levers_field_types_and_list_its_rating_scale_first_to_last() {
    let sim = sim().await;
    let as_user = [("perform_as", sim.user.clone())];
    let create = |fields: Value| {
        sim.api(Method::POST, "/feedback_templates")
            .query(&as_user)
            .json(&json!({"text": "Assessment", "fields": fields}))
    };
    let rating = json!({"type": "score-system", "text": "Rating",
        "options": ["1 - Strong No Hire", "2 - No Hire", "3 - Hire", "4 - Strong Hire"]});
    // A type Lever does not list is refused, with Lever's kind of error.
    for kind in ["number", "currency", "rating"] {
        let (status, body) = send(create(json!([rating, {"type": kind, "text": "Score"}]))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{kind}: {body}");
        assert_eq!(body["code"], "BadRequestError", "{body}");
        let message = body["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("\"{kind}\"")) && message.contains("score-system"),
            "{message}"
        );
    }
    // Option fields carry options.
    for kind in ["dropdown", "multiple-choice", "multiple-select"] {
        for options in [None, Some(json!([]))] {
            let mut field = json!({"type": kind, "text": "Result"});
            if let Some(options) = &options {
                field["options"] = options.clone();
            }
            let (status, body) = send(create(json!([rating, field]))).await;
            assert_eq!(
                status,
                StatusCode::BAD_REQUEST,
                "{kind} {options:?}: {body}"
            );
            assert!(body["message"].as_str().unwrap().contains("needs options"));
        }
    }

    // Every listed type is accepted; the score system comes back in Lever's order.
    let fields = json!([
        rating,
        {"type": "code", "text": "Code"},
        {"type": "date", "text": "When"},
        {"type": "dropdown", "text": "Result", "options": ["Passed", "Failed"]},
        {"type": "multiple-choice", "text": "Level", "options": ["Junior", "Senior"]},
        {"type": "multiple-select", "text": "Skills", "options": ["Rust", "SQL"]},
        {"type": "score", "text": "Thumbs"},
        {"type": "scorecard", "text": "Scorecard"},
        {"type": "text", "text": "Score (0–100)"},
        {"type": "textarea", "text": "Notes"},
        {"type": "yes-no", "text": "Again?"},
    ]);
    let (status, body) = send(create(fields)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let template = &body["data"];
    let scale: Vec<&str> = template["fields"][0]["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        scale,
        [
            "4 - Strong Hire",
            "3 - Hire",
            "2 - No Hire",
            "1 - Strong No Hire"
        ]
    );
    // The rating's value is one of those texts; a text of the client's own is refused.
    let feedback = format!("/opportunities/{}/feedback", sim.opp);
    let post = |value: &str| {
        sim.api(Method::POST, &feedback)
            .query(&as_user)
            .json(&json!({
                "baseTemplateId": template["id"],
                "fieldValues": [{"id": template["fields"][0]["id"], "value": value}],
            }))
    };
    let (status, body) = send(post("Strong Hire")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = send(post("4 - Strong Hire")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn files_upload_as_multipart_within_30_mb() {
    let sim = sim().await;
    let files = format!("/opportunities/{}/files", sim.opp);
    let as_user = [("perform_as", sim.user.clone())];
    let part = reqwest::multipart::Part::bytes(b"%PDF-1.4 report".to_vec())
        .file_name("report.pdf")
        .mime_str("application/pdf")
        .unwrap();
    let (status, body) = send(
        sim.api(Method::POST, &files)
            .query(&as_user)
            .multipart(reqwest::multipart::Form::new().part("file", part)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let data = &body["data"];
    assert_eq!(
        (
            data["name"].as_str(),
            data["ext"].as_str(),
            data["size"].as_u64()
        ),
        (Some("report.pdf"), Some(".pdf"), Some(15))
    );
    assert!(
        data["id"].is_string()
            && data["downloadUrl"].is_string()
            && data["uploadedAt"].is_i64()
            && data["status"].is_string()
    );
    let state = sim.state().await;
    assert_eq!(state["files"][0]["contentType"], "application/pdf");
    assert_eq!(state["files"][0]["authorId"], sim.user);

    let wrong_field = reqwest::multipart::Form::new().text("resume", "no file here");
    let (status, _) = send(
        sim.api(Method::POST, &files)
            .query(&as_user)
            .multipart(wrong_field),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = send(
        sim.api(Method::POST, &files)
            .query(&as_user)
            .json(&json!({"file": "x"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let too_big =
        reqwest::multipart::Part::bytes(vec![b'a'; 30 * 1024 * 1024 + 1]).file_name("big.bin");
    let resp = sim
        .api(Method::POST, &files)
        .query(&as_user)
        .multipart(reqwest::multipart::Form::new().part("file", too_big))
        .send()
        .await;
    // The simulator may close the connection while the client is still sending.
    if let Ok(resp) = resp {
        assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }
    assert_eq!(
        sim.state().await["files"].as_array().unwrap().len(),
        1,
        "the big file was refused"
    );
}

#[tokio::test]
async fn rate_limit_allows_bursts_of_20_and_10_per_second() {
    let sim = sim().await;
    let burst =
        futures_util::future::join_all((0..40).map(|_| send(sim.api(Method::GET, "/stages"))))
            .await;
    let limited: Vec<_> = burst
        .iter()
        .filter(|(s, _)| *s == StatusCode::TOO_MANY_REQUESTS)
        .collect();
    assert!(limited.len() >= 10, "{} of 40 were limited", limited.len());
    assert!(burst.iter().filter(|(s, _)| *s == StatusCode::OK).count() >= 20);
    assert_eq!(limited[0].1["code"], "TooManyRequests");
    let resp = sim.api(Method::GET, "/stages").send().await.unwrap();
    assert!(
        resp.headers().get("Retry-After").is_none(),
        "no Retry-After unless switched on"
    );

    let steady = sim.new_key(Value::Null).await;
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    for _ in 0..21 {
        tick.tick().await;
        let (status, _) = send(sim.api_as(&steady, Method::GET, "/stages")).await;
        assert_eq!(status, StatusCode::OK, "10 requests per second are allowed");
    }
}

#[tokio::test]
async fn stage_change_webhook_is_signed_as_lever_signs_it() {
    let sim = sim().await;
    let rx = receiver(200).await;
    let token = sim.set_webhook("candidateStageChange", &rx.url).await;
    assert!(token.len() >= 20 && token.chars().all(|c| c.is_ascii_alphanumeric()));

    let answer = sim.move_to(&sim.stages[1]).await;
    assert_eq!(answer["deliveries"][0]["status"], "succeeded");
    assert_eq!(answer["deliveries"][0]["responseStatus"], 200);
    let hits = rx.hits();
    assert_eq!(hits.len(), 1, "the answer came after the first attempt");
    let body = &hits[0].body;
    assert_eq!(hits[0].user_agent, "Lever-Webhooks");
    assert_eq!(body["event"], "candidateStageChange");
    let state = sim.state().await;
    assert_eq!(
        body["data"],
        json!({"opportunityId": sim.opp, "candidateId": sim.opp, "contactId": state["contact"],
               "toStageId": sim.stages[1], "fromStageId": sim.stages[0]})
    );
    let lever_token = body["token"].as_str().unwrap();
    assert!(lever_token.len() == 48 && lever_token.chars().all(|c| c.is_ascii_alphanumeric()));
    let signature = body["signature"].as_str().unwrap();
    assert_eq!(signature.len(), 64);
    assert_eq!(signature, expected_signature(&token, body));
    assert_ne!(signature, expected_signature("another-token", body));
    assert!(
        (body["triggeredAt"].as_i64().unwrap() - chrono::Utc::now().timestamp_millis()).abs()
            < 60_000
    );

    // Through the API too, delivered in the background; an unknown stage is a 400.
    let path = format!("/opportunities/{}/stage", sim.opp);
    let (status, body) = send(
        sim.api(Method::PUT, &path)
            .json(&json!({"stage": sim.stages[0]})),
    )
    .await;
    assert_eq!(
        (status, body["data"]["stage"].as_str()),
        (StatusCode::OK, Some(sim.stages[0].as_str()))
    );
    let hits = rx.wait_for(2, Duration::from_secs(3)).await;
    assert_eq!(hits[1].body["data"]["toStageId"], sim.stages[0]);
    let (status, _) = send(
        sim.api(Method::PUT, &path)
            .json(&json!({"stage": "no-such-stage"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn failed_deliveries_are_retried_five_times_with_growing_gaps() {
    let sim = sim().await;
    let rx = receiver(500).await;
    sim.set_webhook("candidateStageChange", &rx.url).await;
    let answer = sim.move_to(&sim.stages[1]).await;
    assert_eq!(answer["deliveries"][0]["status"], "pending");
    assert_eq!(answer["deliveries"][0]["responseStatus"], 500);

    rx.wait_for(6, Duration::from_secs(5)).await;
    tokio::time::sleep(RETRY_BASE * 20).await;
    let hits = rx.hits();
    assert_eq!(hits.len(), 6, "one attempt and five retries");
    assert!(
        hits.iter().all(|h| h.raw == hits[0].raw),
        "same token, signature and triggeredAt"
    );
    let gaps: Vec<Duration> = hits.windows(2).map(|w| w[1].at - w[0].at).collect();
    for (i, gap) in gaps.iter().enumerate() {
        assert!(*gap >= RETRY_BASE * 2u32.pow(i as u32), "gap {i} = {gap:?}");
    }
    assert!(gaps[4] > gaps[0] * 4, "gaps grow: {gaps:?}");

    let deliveries = sim.acct_ok("GET", "/deliveries", Value::Null).await;
    let d = &deliveries[0];
    assert_eq!(
        (
            d["status"].as_str(),
            d["attempts"].as_array().unwrap().len()
        ),
        (Some("failed"), 6)
    );
    assert_eq!(d["attempts"][0]["status"], 500);
    assert_eq!(d["attempts"][0]["responseBody"], "receiver says hi");

    // Once the receiver is fixed, an admin re-runs the failed delivery.
    rx.status.store(200, Ordering::SeqCst);
    let rerun = sim
        .acct_ok(
            "POST",
            &format!("/deliveries/{}/rerun", d["id"].as_str().unwrap()),
            Value::Null,
        )
        .await;
    assert_eq!(rerun["status"], "succeeded");
    assert_eq!(rx.hits()[6].raw, hits[0].raw);
}

#[tokio::test]
async fn verify_sends_empty_data_and_rerun_resends_a_body_as_is() {
    let sim = sim().await;
    let rx = receiver(200).await;
    let token = sim.set_webhook("candidateHired", &rx.url).await;
    let verify = sim
        .acct_ok("POST", "/webhooks/candidateHired/verify", Value::Null)
        .await;
    assert_eq!(
        (
            verify["status"].as_str(),
            verify["attempts"][0]["status"].as_u64()
        ),
        (Some("succeeded"), Some(200))
    );
    let hit = rx.hits()[0].clone();
    assert_eq!(
        (hit.body["event"].as_str(), &hit.body["data"]),
        (Some("candidateHired"), &json!({}))
    );
    assert_eq!(hit.body["signature"], expected_signature(&token, &hit.body));

    let rerun = sim
        .acct_ok(
            "POST",
            &format!("/deliveries/{}/rerun", verify["id"].as_str().unwrap()),
            Value::Null,
        )
        .await;
    assert_ne!(rerun["id"], verify["id"]);
    assert_eq!(rerun["rerunOf"], verify["id"]);
    assert_eq!(rerun["status"], "succeeded");
    let hits = rx.hits();
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[1].raw, hits[0].raw, "the body is re-sent as-is");
    let deliveries = sim.acct_ok("GET", "/deliveries", Value::Null).await;
    assert_eq!(deliveries[0]["id"], rerun["id"], "newest first");
}

#[tokio::test]
async fn other_events_are_delivered_when_they_happen() {
    let sim = sim().await;
    let rx = receiver(200).await;
    for event in [
        "applicationCreated",
        "candidateArchiveChange",
        "candidateHired",
        "candidateDeleted",
    ] {
        sim.set_webhook(event, &rx.url).await;
    }
    let opp = sim.candidate("Newly Applied").await;
    let base = format!("/opportunities/{opp}");
    sim.acct_ok(
        "POST",
        &format!("{base}/archive"),
        json!({"archived": true, "reason": "Withdrew"}),
    )
    .await;
    sim.acct_ok(
        "POST",
        &format!("{base}/archive"),
        json!({"archived": false}),
    )
    .await;
    sim.acct_ok(
        "POST",
        &format!("{base}/stage"),
        json!({"stageId": sim.stages[2]}),
    )
    .await;
    sim.acct_ok("DELETE", &base, Value::Null).await;
    let events: Vec<String> = rx
        .hits()
        .iter()
        .map(|h| h.body["event"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        events,
        [
            "applicationCreated",
            "candidateArchiveChange",
            "candidateArchiveChange",
            "candidateHired",
            "candidateDeleted"
        ]
    );
    let hits = rx.hits();
    assert!(hits.iter().all(|h| h.body["data"]["opportunityId"] == opp));
    assert_eq!(hits[0].body["data"]["postingId"], sim.posting);
    assert_eq!(hits[1].body["data"]["toArchived"]["reason"], "Withdrew");
    let (status, _) = sim
        .control("GET", &format!("/accounts/{}{base}", sim.acct), Value::Null)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn webhooks_created_through_the_api_receive_events() {
    let sim = sim().await;
    let rx = receiver(200).await;
    let (status, body) = send(
        sim.api(Method::POST, "/webhooks")
            .json(&json!({"url": rx.url, "event": "candidateStageChange"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let hook = &body["data"]["data"];
    let token = hook["configuration"]["signatureToken"]
        .as_str()
        .expect("double-wrapped token")
        .to_string();
    let (_, list) = send(sim.api(Method::GET, "/webhooks")).await;
    assert_eq!(list["data"][0]["id"], hook["id"]);

    sim.move_to(&sim.stages[1]).await;
    let hits = rx.hits();
    assert_eq!(hits.len(), 1);
    assert_eq!(
        hits[0].body["signature"],
        expected_signature(&token, &hits[0].body)
    );
    let (status, _) = send(sim.api(
        Method::DELETE,
        &format!("/webhooks/{}", hook["id"].as_str().unwrap()),
    ))
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    sim.move_to(&sim.stages[0]).await;
    assert_eq!(rx.hits().len(), 1, "a deleted webhook receives nothing");
    let (status, _) = send(
        sim.api(Method::POST, "/webhooks")
            .json(&json!({"url": "not a url", "event": "candidateStageChange"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn fault_switches_take_effect_at_run_time() {
    let sim = sim().await;
    let faults = |f: Value| sim.acct_ok("PUT", "/faults", f);

    faults(json!({"error5xxRate": 1.0})).await;
    for _ in 0..6 {
        let (status, _) = send(sim.api(Method::GET, "/stages")).await;
        assert!(
            status == StatusCode::INTERNAL_SERVER_ERROR
                || status == StatusCode::SERVICE_UNAVAILABLE,
            "{status}"
        );
    }
    let current =
        faults(json!({"error5xxRate": 0.0, "rate429Rate": 1.0, "retryAfter": true})).await;
    assert_eq!(
        (
            current["error5xxRate"].as_f64(),
            current["rate429Rate"].as_f64()
        ),
        (Some(0.0), Some(1.0))
    );
    let resp = sim.api(Method::GET, "/stages").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(resp.headers().get("Retry-After").unwrap(), "1");
    faults(json!({"retryAfter": false})).await;
    let resp = sim.api(Method::GET, "/stages").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(resp.headers().get("Retry-After").is_none());

    faults(json!({"rate429Rate": 0.0, "latencyMs": 300})).await;
    let started = Instant::now();
    let (status, _) = send(sim.api(Method::GET, "/stages")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(300));

    faults(json!({"latencyMs": 0, "timeoutRate": 1.0})).await;
    let err = sim
        .api(Method::GET, "/stages")
        .timeout(Duration::from_millis(400))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout());
    let log = sim.acct_ok("GET", "/requests", Value::Null).await;
    assert!(
        log.as_array().unwrap().last().unwrap()["status"].is_null(),
        "held requests are logged"
    );

    faults(json!({"timeoutRate": 0.0, "revoked": true})).await;
    let (status, body) = send(sim.api(Method::GET, "/stages")).await;
    assert_lever_error(status, &body, StatusCode::UNAUTHORIZED, "UnauthorizedError");
    faults(json!({"revoked": false})).await;
    let (status, _) = send(sim.api(Method::GET, "/stages")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = sim
        .control(
            "PUT",
            &format!("/accounts/{}/faults", sim.acct),
            json!({"timeoutRate": 1.5}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn control_api_rejects_bad_input() {
    let sim = sim().await;
    let acct = format!("/accounts/{}", sim.acct);
    for (path, body) in [
        (
            "/users",
            json!({"name": "X", "email": "x@y", "accessRole": "overlord"}),
        ),
        ("/stages", json!({"text": "Dup", "id": "applicant-new"})),
        ("/candidates", json!({"name": "X", "postingId": NIL_ID})),
        ("/candidates", json!({"email": "no name"})),
    ] {
        let (status, answer) = sim.control("POST", &format!("{acct}{path}"), body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        assert!(answer["message"].is_string());
    }
    let (status, _) = sim
        .control(
            "PUT",
            &format!("{acct}/webhooks/candidateStageChange"),
            json!({"url": "nope"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = sim
        .control(
            "PUT",
            &format!("{acct}/webhooks/noSuchEvent"),
            json!({"url": "http://x.example"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = sim
        .control("GET", &format!("/accounts/{NIL_ID}"), Value::Null)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let summary = sim.acct_ok("GET", "", Value::Null).await;
    assert_eq!(summary["opportunities"], json!([sim.opp]));
    assert_eq!(summary["stages"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn the_page_lists_candidates_and_moves_them() {
    let sim = sim().await;
    sim.acct_ok(
        "POST",
        &format!("/opportunities/{}/tags", sim.opp),
        json!({"add": ["<b>Passed</b>"]}),
    )
    .await;
    let html = sim
        .http
        .get(format!("{}/_sim", sim.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("<title>Lever simulator</title>"));
    assert!(html.contains("Cara Candidate") && html.contains("Test Co"));
    assert!(
        html.contains("&lt;b&gt;Passed&lt;/b&gt;"),
        "text is escaped"
    );
    let action = format!("/_sim/accounts/{}/opportunities/{}/move", sim.acct, sim.opp);
    assert!(html.contains(&action));

    let resp = sim
        .http
        .post(format!("{}{action}", sim.base))
        .form(&[("stageId", sim.stages[1].as_str()), ("back", "/_sim")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert!(resp.headers()["Location"]
        .to_str()
        .unwrap()
        .starts_with("/_sim"));
    assert_eq!(sim.state().await["stage"], sim.stages[1]);
    let page = sim
        .http
        .get(format!("{}/_sim/accounts/{}", sim.base, sim.acct))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_demo_seed_looks_like_a_real_company() {
    let handle = spawn_sim(SimConfig::default()).await.unwrap();
    let demo = seed_demo(&handle, "Needs Assessment").await.unwrap();
    let http = reqwest::Client::new();
    let get = |path: &str| {
        http.get(format!("{}/v1{path}", handle.base_url()))
            .basic_auth(&demo.api_key, Some(""))
    };
    let ids: Vec<&str> = demo.stages.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(
        &ids[..4],
        [
            "lead-new",
            "lead-reached-out",
            "lead-responded",
            "applicant-new"
        ]
    );
    assert_eq!(demo.stages[7].1, "Offer");
    let (_, users) = send(get("/users")).await;
    assert_eq!(
        users["data"].as_array().unwrap().len(),
        11,
        "deactivated users are hidden by default"
    );
    let (_, users) = send(get("/users").query(&[("includeDeactivated", "true")])).await;
    assert_eq!(users["data"].as_array().unwrap().len(), 12);
    let (_, opps) = send(get("/opportunities")).await;
    assert_eq!(opps["data"].as_array().unwrap().len(), 10);
    let (_, tagged) = send(get("/opportunities").query(&[("tag", "Needs Assessment")])).await;
    let mut tagged: Vec<String> = tagged["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_string())
        .collect();
    let mut expected = demo.tagged_candidate_ids.clone();
    tagged.sort();
    expected.sort();
    assert!(expected.len() >= 3);
    assert_eq!(tagged, expected);
    let (status, user) = send(get(&format!("/users/{}", demo.default_user_id))).await;
    assert_eq!(
        (status, user["data"]["accessRole"].as_str()),
        (StatusCode::OK, Some("super admin"))
    );
}

#[tokio::test]
async fn confidential_opportunities_need_a_key_with_confidential_access() {
    let sim = sim().await;
    let body = json!({"name": "Secret Sam", "stageId": sim.stages[0], "confidential": true});
    let secret = sim.acct_ok("POST", "/candidates", body).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/opportunities/{secret}");

    // A key without access to confidential data: 403 on the opportunity and what hangs
    // under it, and lists leave it out.
    for (method, path) in [
        (Method::GET, path.clone()),
        (Method::GET, format!("{path}/notes")),
        (Method::POST, format!("{path}/addTags")),
    ] {
        let (status, body) = send(
            sim.api(method, &path)
                .query(&[("perform_as", &sim.user)])
                .json(&json!({"tags": ["x"]})),
        )
        .await;
        assert_lever_error(status, &body, StatusCode::FORBIDDEN, "ForbiddenError");
        assert!(
            body["message"].as_str().unwrap().contains("confidential"),
            "{body}"
        );
    }
    let (_, body) = send(sim.api(Method::GET, "/opportunities")).await;
    let listed: Vec<&str> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, vec![sim.opp.as_str()]);

    // A key with access sees it.
    let key = sim
        .acct_ok(
            "POST",
            "/keys",
            json!({"permissions": null, "confidentialAccess": true}),
        )
        .await["key"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, body) = send(sim.api_as(&key, Method::GET, &path)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["confidentiality"], "confidential");
    let (_, body) = send(sim.api_as(&key, Method::GET, "/opportunities")).await;
    assert_eq!(body["data"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn scripted_answers_replace_the_next_matching_requests() {
    let sim = sim().await;
    sim.acct_ok(
        "PUT",
        "/faults",
        json!({"scripted": [{"method": "GET", "pathEndsWith": "/notes", "status": 404, "times": 2}]}),
    )
    .await;
    let notes = format!("/opportunities/{}/notes", sim.opp);
    let (status, _) = send(sim.api(Method::GET, "/stages")).await;
    assert_eq!(status, StatusCode::OK, "other requests are untouched");
    for _ in 0..2 {
        let (status, body) = send(sim.api(Method::GET, &notes)).await;
        assert_lever_error(status, &body, StatusCode::NOT_FOUND, "ResourceNotFound");
    }
    let (status, _) = send(sim.api(Method::GET, &notes)).await;
    assert_eq!(status, StatusCode::OK, "used up");
    let (status, _) = sim
        .control(
            "PUT",
            &format!("/accounts/{}/faults", sim.acct),
            json!({"scripted": [{"method": "GET", "pathEndsWith": "/notes", "status": 200}]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "only error statuses");
}

impl Sim {
    /// A `/_sim` page: its status and HTML.
    async fn page(&self, path: &str) -> (StatusCode, String) {
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        (resp.status(), resp.text().await.unwrap())
    }

    fn candidate_page(&self) -> String {
        format!("/_sim/accounts/{}/opportunities/{}", self.acct, self.opp)
    }

    /// A note written through Lever's API as the account's active user.
    async fn note(&self, body: Value) {
        let path = format!("/opportunities/{}/notes", self.opp);
        let (status, answer) = send(
            self.api(Method::POST, &path)
                .query(&[("perform_as", &self.user)])
                .json(&body),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
    }

    /// A file uploaded through Lever's API as the account's active user.
    async fn upload(&self, name: &str, content_type: &str, bytes: Vec<u8>) {
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(name.to_string())
            .mime_str(content_type)
            .unwrap();
        let (status, answer) = send(
            self.api(Method::POST, &format!("/opportunities/{}/files", self.opp))
                .query(&[("perform_as", &self.user)])
                .multipart(reqwest::multipart::Form::new().part("file", part)),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
}

/// Asserts `needles` occur in `html` in this order.
fn assert_in_order(html: &str, needles: &[&str]) {
    let mut from = 0;
    for needle in needles {
        let at = html[from..]
            .find(needle)
            .unwrap_or_else(|| panic!("{needle:?} missing (or out of order) in {html}"));
        from += at + needle.len();
    }
}

#[tokio::test]
async fn the_candidate_page_shows_notes_feedback_and_files() {
    let sim = sim().await;
    let page = sim.candidate_page();
    let (status, html) = sim.page(&page).await;
    assert_eq!(status, StatusCode::OK);
    for empty in ["No notes yet.", "No feedback yet.", "No files yet."] {
        assert!(html.contains(empty), "{empty}");
    }

    // Notes: newest first, with their author's name, the notify flag and their line breaks.
    let result = "Assessment result: PASSED\nScore: 87 / 100\n\nReviewer notes:\n  - clean code";
    sim.note(json!({"value": result, "score": 3, "notifyFollowers": true}))
        .await;
    sim.note(json!({"value": "Secret aside", "secret": true}))
        .await;
    // Feedback: a leverbridge-shaped form; the fields show in the template's order.
    let fields = json!([
        {"type": "score-system", "text": "Rating", "options": ["1 - Strong No Hire", "2 - No Hire", "3 - Hire", "4 - Strong Hire"]},
        {"type": "text", "text": "Score"},
        {"type": "dropdown", "text": "Result", "options": ["Passed", "Failed"]},
        {"type": "textarea", "text": "Failure reason"},
        {"type": "text", "text": "Report link"},
    ]);
    let (status, template) = send(
        sim.api(Method::POST, "/feedback_templates")
            .query(&[("perform_as", &sim.user)])
            .json(&json!({"text": "Assessment result", "fields": fields})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{template}");
    let id = |i: usize| template["data"]["fields"][i]["id"].clone();
    let report = "https://reports.example/r/1";
    let values = json!([
        {"id": id(4), "value": report},
        {"id": id(0), "value": "3 - Hire"},
        {"id": id(1), "value": "87"},
        {"id": id(2), "value": "Passed"},
    ]);
    let (status, answer) = send(
        sim.api(
            Method::POST,
            &format!("/opportunities/{}/feedback", sim.opp),
        )
        .query(&[("perform_as", &sim.user)])
        .json(&json!({"baseTemplateId": template["data"]["id"], "fieldValues": values})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    // A file: its size in KB and a working download link.
    let pdf: Vec<u8> = b"%PDF-1.4\n"
        .iter()
        .copied()
        .chain((0..3000).map(|i| (i % 251) as u8))
        .collect();
    sim.upload("Assessment report.pdf", "application/pdf", pdf.clone())
        .await;

    let (status, html) = sim.page(&page).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<title>Cara Candidate – Lever simulator</title>"));
    assert_in_order(
        &html,
        &[
            "id=\"notes\"",
            "Ann Admin",
            "Secret",
            "Followers not notified",
            "Secret aside",
            "Ann Admin",
            "Score 3/4",
            "Followers notified",
            &format!("<div class=\"text\">{result}</div>"),
        ],
    );
    assert_in_order(
        &html,
        &[
            "id=\"feedback\"",
            "Assessment result",
            "by Ann Admin",
            "<th>Rating</th><td>3 - Hire</td>",
            "<th>Score</th><td>87</td>",
            "<th>Result</th><td>Passed</td>",
            "<th>Failure reason</th><td><span class=\"muted\">–</span></td>",
            &format!("<th>Report link</th><td><a href=\"{report}\""),
        ],
    );
    assert_in_order(
        &html,
        &[
            "id=\"files\"",
            "Assessment report.pdf",
            "2.9 KB",
            "Ann Admin",
        ],
    );
    let href = html
        .split("class=\"download\" href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a download link");
    let resp = sim
        .http
        .get(format!("{}{href}", sim.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let header = |name: &str| resp.headers()[name].to_str().unwrap().to_string();
    assert_eq!(header("Content-Type"), "application/pdf");
    assert_eq!(
        header("Content-Disposition"),
        "inline; filename=\"Assessment report.pdf\""
    );
    assert_eq!(resp.bytes().await.unwrap().to_vec(), pdf);
}

#[tokio::test]
async fn the_account_page_counts_each_candidate_s_activity_and_links_to_it() {
    let sim = sim().await;
    let quiet = sim.candidate("Quinn Quiet").await;
    sim.note(json!({"value": "one"})).await;
    sim.note(json!({"value": "two"})).await;
    sim.upload("cv.txt", "text/plain", b"CV".to_vec()).await;
    let (status, html) = sim.page(&format!("/_sim/accounts/{}", sim.acct)).await;
    assert_eq!(status, StatusCode::OK);
    let row = |id: &str| {
        let start = html.find(&format!("<tr id=\"opp-{id}\"")).expect("a row");
        html[start..start + html[start..].find("</tr>").unwrap()].to_string()
    };
    let page = sim.candidate_page();
    let busy = row(&sim.opp);
    assert!(busy.contains(&format!(
        "<a class=\"name\" href=\"{page}\">Cara Candidate</a>"
    )));
    assert!(busy.contains(&format!(
        "<td class=\"activity\" data-label=\"Activity\"><a href=\"{page}#notes\">2 notes</a> · \
         <a href=\"{page}#files\">1 file</a></td>"
    )));
    assert!(busy.contains(&format!(
        "button name=\"stageId\" value=\"{}\"",
        sim.stages[1]
    )));
    assert!(row(&quiet).contains(
        "<td class=\"activity\" data-label=\"Activity\"><span class=\"muted\">–</span></td>"
    ));
    let (status, candidate) = sim.page(&page).await;
    assert_eq!(status, StatusCode::OK);
    assert!(candidate.contains("Notes (2)") && candidate.contains("Files (1)"));
}

#[tokio::test]
async fn moving_a_candidate_from_its_page_returns_to_its_page() {
    let sim = sim().await;
    let page = sim.candidate_page();
    let (_, html) = sim.page(&page).await;
    assert!(html.contains(&format!(
        "<input type=\"hidden\" name=\"back\" value=\"{page}\">"
    )));
    let resp = sim
        .http
        .post(format!("{}{page}/move", sim.base))
        .form(&[("stageId", sim.stages[1].as_str()), ("back", page.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        resp.headers()["Location"].to_str().unwrap(),
        format!("{page}#opp-{}", sim.opp)
    );
    let (_, html) = sim.page(&page).await;
    assert!(html.contains("<dd class=\"stage\">Assessment</dd>"));
}

#[tokio::test]
async fn unknown_accounts_candidates_and_files_answer_a_404_page() {
    let sim = sim().await;
    let page = sim.candidate_page();
    for path in [
        format!("/_sim/accounts/{NIL_ID}"),
        format!("/_sim/accounts/{NIL_ID}/opportunities/{}", sim.opp),
        format!("/_sim/accounts/{}/opportunities/{NIL_ID}", sim.acct),
        format!("{page}/files/{NIL_ID}"),
    ] {
        let resp = sim
            .http
            .get(format!("{}{path}", sim.base))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(resp.headers()["Content-Type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        let html = resp.text().await.unwrap();
        assert!(
            html.contains("<h2>Not found</h2>") && html.contains(NIL_ID),
            "{path}: {html}"
        );
    }
}

#[tokio::test]
async fn the_candidate_page_shows_markup_from_the_api_as_text() {
    let sim = sim().await;
    sim.note(json!({"value": "<script>alert(1)</script>\nbye"}))
        .await;
    sim.acct_ok(
        "POST",
        &format!("/opportunities/{}/tags", sim.opp),
        json!({"add": ["<img src=x onerror=alert(2)>"]}),
    )
    .await;
    sim.upload(
        "<b>cv</b>.html",
        "text/html",
        b"<script>alert(3)</script>".to_vec(),
    )
    .await;
    let (status, html) = sim.page(&sim.candidate_page()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("<script>") && !html.contains("<img") && !html.contains("<b>cv"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;\nbye"));
    assert!(html.contains("&lt;img src=x onerror=alert(2)&gt;"));
    assert!(html.contains("&lt;b&gt;cv&lt;/b&gt;.html"));
    // An uploaded page never runs on the simulator's origin: it downloads instead.
    let file_id = sim.state().await["files"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let resp = sim
        .http
        .get(format!(
            "{}{}/files/{file_id}",
            sim.base,
            sim.candidate_page()
        ))
        .send()
        .await
        .unwrap();
    assert!(resp.headers()["Content-Disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment;"));
}
