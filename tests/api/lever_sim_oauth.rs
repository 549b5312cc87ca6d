//! The Lever simulator's OAuth (issue 14), driven only over HTTP: the consent page, the token
//! and revoke endpoints, Bearer tokens on `/v1` with their scopes, and the control API.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use leverbridge::lever_sim::{spawn_sim, RateLimit, SimConfig, SimHandle};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const NIL_ID: &str = "00000000-0000-0000-0000-000000000000";
const CLIENT_ID: &str = "leverbridge-test";
const CLIENT_SECRET: &str = "s3cret+/=value";
const REDIRECT: &str = "http://127.0.0.1:9/oauth/lever/callback";
/// What leverbridge asks for (LEVER_API.md).
const SCOPES: &str = "offline_access opportunities:read:admin opportunities:write:admin \
    notes:write:admin stages:read:admin tags:read:admin users:read:admin postings:read:admin \
    webhooks:read:admin webhooks:write:admin feedback:write:admin feedback_templates:read:admin \
    feedback_templates:write:admin files:write:admin interviews:write:admin panels:write:admin";

/// A simulator with two accounts (the first with an active and a deactivated user, a stage
/// and a candidate) and one registered app.
struct Sim {
    _handle: SimHandle,
    base: String,
    http: reqwest::Client,
    acct: String,
    user: String,
    deactivated_user: String,
    other_acct: String,
    other_user: String,
    key: String,
    opp: String,
}

async fn sim() -> Sim {
    sim_with(SimConfig::default()).await
}

async fn sim_with(config: SimConfig) -> Sim {
    let handle = spawn_sim(config).await.expect("simulator starts");
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
        user: String::new(),
        deactivated_user: String::new(),
        other_acct: String::new(),
        other_user: String::new(),
        key: String::new(),
        opp: String::new(),
    };
    let id = |v: Value| v["id"].as_str().unwrap().to_string();
    sim.acct = id(sim
        .control_ok("POST", "/accounts", json!({"name": "Test Co"}))
        .await);
    sim.user = id(sim
        .acct_ok(
            "POST",
            "/users",
            json!({"name": "Ann Admin", "email": "ann@test.example", "accessRole": "super admin"}),
        )
        .await);
    sim.deactivated_user = id(sim
        .acct_ok(
            "POST",
            "/users",
            json!({"name": "Gone User", "email": "gone@test.example", "accessRole": "admin", "deactivated": true}),
        )
        .await);
    sim.key = sim.acct_ok("POST", "/keys", json!({})).await["key"]
        .as_str()
        .unwrap()
        .to_string();
    let stage = id(sim
        .acct_ok("POST", "/stages", json!({"text": "New applicant"}))
        .await);
    sim.opp = id(sim
        .acct_ok(
            "POST",
            "/candidates",
            json!({"name": "Cara Candidate", "email": "c@example.com", "stageId": stage}),
        )
        .await);
    sim.other_acct = id(sim
        .control_ok("POST", "/accounts", json!({"name": "Other Inc"}))
        .await);
    sim.other_user = id(sim
        .control_ok(
            "POST",
            &format!("/accounts/{}/users", sim.other_acct),
            json!({"name": "Otto Other", "email": "otto@other.example", "accessRole": "super admin"}),
        )
        .await);
    sim.register(CLIENT_ID, 3600).await;
    sim
}

impl Sim {
    async fn control(&self, method: &str, path: &str, body: Value) -> (StatusCode, Value) {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self
            .http
            .request(method.clone(), format!("{}/_sim/api{path}", self.base));
        if method != Method::GET {
            req = req.json(&body);
        }
        send(req).await
    }

    async fn control_ok(&self, method: &str, path: &str, body: Value) -> Value {
        let (status, value) = self.control(method, path, body).await;
        assert!(status.is_success(), "{method} {path}: {status} {value}");
        value
    }

    async fn acct_ok(&self, method: &str, path: &str, body: Value) -> Value {
        self.control_ok(method, &format!("/accounts/{}{path}", self.acct), body)
            .await
    }

    async fn register(&self, client_id: &str, lifetime: u64) -> Value {
        let body = json!({
            "name": "leverbridge", "clientId": client_id, "clientSecret": CLIENT_SECRET,
            "redirectUris": [REDIRECT, format!("{REDIRECT}?org=7")], "tokenLifetimeSecs": lifetime,
        });
        let (status, answer) = self.control("POST", "/oauth/apps", body).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
        answer
    }

    async fn app(&self, client_id: &str) -> Value {
        self.control_ok("GET", &format!("/oauth/apps/{client_id}"), Value::Null)
            .await
    }

    /// Lever's production API, which the simulator stands in for wherever it listens.
    fn audience(&self) -> String {
        "https://api.lever.co/v1/".to_owned()
    }

    /// The authorize parameters leverbridge sends.
    fn authorize_params(&self, client_id: &str, scope: &str) -> Vec<(String, String)> {
        [
            ("client_id", client_id.to_string()),
            ("redirect_uri", REDIRECT.to_string()),
            ("response_type", "code".to_string()),
            ("state", "st/ate=1".to_string()),
            ("audience", self.audience()),
            ("scope", scope.to_string()),
            ("prompt", "consent".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    async fn get_page(&self, path: &str, query: &[(String, String)]) -> (StatusCode, String) {
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .query(query)
            .send()
            .await
            .unwrap();
        assert!(resp.headers().get("Location").is_none());
        (resp.status(), resp.text().await.unwrap())
    }

    /// Posts the consent form; answers the status and the `Location` (or the page).
    async fn decide(
        &self,
        mut form: Vec<(String, String)>,
        choice: &[(&str, &str)],
    ) -> (StatusCode, String) {
        form.extend(choice.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let resp = self
            .http
            .post(format!("{}/authorize", self.base))
            .form(&form)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        match resp.headers().get("Location") {
            Some(location) => (status, location.to_str().unwrap().to_string()),
            None => (status, resp.text().await.unwrap()),
        }
    }

    /// Accepts as Ann Admin of Test Co; answers the code.
    async fn code(&self, client_id: &str, scope: &str) -> String {
        let params = self.authorize_params(client_id, scope);
        let choice = [
            ("account", self.acct.as_str()),
            ("user", self.user.as_str()),
            ("decision", "accept"),
        ];
        let (status, location) = self.decide(params, &choice).await;
        assert_eq!(status, StatusCode::FOUND, "{location}");
        let query = location
            .strip_prefix(&format!("{REDIRECT}?"))
            .unwrap_or_else(|| panic!("{location}"));
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap();
        assert_eq!(pairs[1], ("state".to_string(), "st/ate=1".to_string()));
        assert_eq!(pairs[0].0, "code");
        pairs[0].1.clone()
    }

    async fn token(&self, form: &[(&str, &str)]) -> (StatusCode, Value) {
        let mut fields = vec![("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET)];
        fields.extend_from_slice(form);
        send(
            self.http
                .post(format!("{}/oauth/token", self.base))
                .form(&fields),
        )
        .await
    }

    async fn exchange(&self, code: &str) -> (StatusCode, Value) {
        self.token(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
        ])
        .await
    }

    async fn refresh(&self, refresh_token: &str) -> (StatusCode, Value) {
        self.token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ])
        .await
    }

    /// Consent and code exchange: the token answer.
    async fn connect(&self, scope: &str) -> Value {
        let code = self.code(CLIENT_ID, scope).await;
        let (status, tokens) = self.exchange(&code).await;
        assert_eq!(status, StatusCode::OK, "{tokens}");
        tokens
    }

    async fn bearer(&self, token: &str, method: Method, path: &str) -> (StatusCode, Value) {
        send(
            self.http
                .request(method, format!("{}/v1{path}", self.base))
                .bearer_auth(token),
        )
        .await
    }

    /// The only grant of the test app.
    async fn grant(&self) -> Value {
        let app = self.app(CLIENT_ID).await;
        assert_eq!(app["grants"].as_array().unwrap().len(), 1, "{app}");
        app["grants"][0].clone()
    }
}

async fn send(req: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let resp = req.send().await.expect("request");
    let status = resp.status();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn str_of(value: &Value) -> String {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {value}"))
        .to_string()
}

fn jwt_part(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).expect("three parts");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).unwrap()
}

fn assert_oauth_error(status: StatusCode, body: &Value, want: StatusCode, error: &str) {
    assert_eq!(status, want, "{body}");
    assert_eq!(body["error"], error, "{body}");
    assert!(body["error_description"].is_string(), "{body}");
}

fn assert_unauthorized(status: StatusCode, body: &Value) {
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["code"], "UnauthorizedError", "{body}");
}

#[tokio::test]
async fn consent_gives_a_code_that_buys_a_jwt_which_calls_the_api() {
    let sim = sim().await;
    let params = sim.authorize_params(CLIENT_ID, SCOPES);
    let (status, html) = sim.get_page("/authorize", &params).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("<h2>leverbridge wants to access your Lever account</h2>"),
        "{html}"
    );
    assert!(html.contains("View and manage all notes <code>notes:write:admin</code>"));
    assert!(html.contains("<form class=\"consent-form\" method=\"post\" action=\"/authorize\">"));
    assert!(html.contains("<input type=\"hidden\" name=\"state\" value=\"st/ate=1\">"));
    assert!(html.contains(&format!("<option value=\"{}\">Test Co</option>", sim.acct)));
    assert!(html.contains(&format!(
        "<optgroup label=\"Test Co\"><option value=\"{}\">Ann Admin (super admin)</option></optgroup>",
        sim.user
    )));
    assert!(!html.contains(&sim.deactivated_user), "only active users");
    assert!(
        html.contains("name=\"decision\" value=\"accept\"")
            && html.contains("name=\"decision\" value=\"deny\"")
    );

    let code = sim.code(CLIENT_ID, SCOPES).await;
    let (status, tokens) = sim.exchange(&code).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["scope"], SCOPES);
    assert_eq!(tokens["expires_in"], 3600);
    assert!(tokens["refresh_token"]
        .as_str()
        .is_some_and(|t| !t.is_empty()));
    let access = str_of(&tokens["access_token"]);
    assert_eq!(jwt_part(&access, 0), json!({"alg": "HS256", "typ": "JWT"}));
    let claims = jwt_part(&access, 1);
    assert_eq!(
        claims["https://oauth.lever.co/accountId"],
        sim.acct.as_str()
    );
    assert_eq!(claims["https://oauth.lever.co/userId"], sim.user.as_str());
    assert_eq!(claims["sub"], sim.user.as_str());
    assert_eq!(claims["azp"], CLIENT_ID);
    assert_eq!(claims["aud"], json!([sim.audience()]));
    assert_eq!(claims["iss"], format!("{}/", sim.base));
    assert_eq!(claims["scope"], SCOPES);
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );

    let (status, body) = sim.bearer(&access, Method::GET, "/stages").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"][0]["text"], "New applicant");
    let (status, body) = sim
        .bearer(&access, Method::GET, &format!("/opportunities/{}", sim.opp))
        .await;
    assert_eq!(
        (status, body["data"]["id"].clone()),
        (StatusCode::OK, json!(sim.opp))
    );

    let grant = sim.grant().await;
    assert_eq!(grant["accountId"], sim.acct.as_str());
    assert_eq!(grant["userId"], sim.user.as_str());
    assert_eq!(grant["scopes"].as_array().unwrap().len(), 16);
    assert_eq!(
        (grant["revoked"].clone(), grant["refreshes"].clone()),
        (json!(false), json!(0))
    );
    assert_eq!(grant["accessTokensIssued"], 1);
    assert!(grant["createdAt"].is_i64());
    // The request log names the grant where a key request names the key.
    let log = sim.acct_ok("GET", "/requests", Value::Null).await;
    let id = str_of(&grant["id"]);
    assert_eq!(log[0]["oauthGrantId"], id.as_str());
    assert_eq!(log[0]["apiKeyLast4"], &id[id.len() - 4..]);
    assert_eq!(log[0]["status"], 200);
}

#[tokio::test]
async fn deny_goes_back_with_access_denied_and_the_state() {
    let sim = sim().await;
    let params = sim.authorize_params(CLIENT_ID, SCOPES);
    let (status, location) = sim.decide(params.clone(), &[("decision", "deny")]).await;
    assert_eq!(status, StatusCode::FOUND);
    assert_eq!(
        location,
        format!("{REDIRECT}?error=access_denied&error_description=The+user+denied+access&state=st%2Fate%3D1")
    );
    // A redirect URI with a query of its own gets the answer appended with `&`.
    let with_query: Vec<(String, String)> = params
        .into_iter()
        .map(|(k, v)| {
            if k == "redirect_uri" {
                (k, format!("{REDIRECT}?org=7"))
            } else {
                (k, v)
            }
        })
        .collect();
    let (status, location) = sim.decide(with_query, &[("decision", "deny")]).await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(
        location.starts_with(&format!("{REDIRECT}?org=7&error=access_denied&")),
        "{location}"
    );
    assert_eq!(
        sim.app(CLIENT_ID).await["grants"],
        json!([]),
        "a denial records no grant"
    );
}

#[tokio::test]
async fn the_token_endpoint_refuses_bad_clients_codes_and_redirects() {
    let sim = sim().await;
    let code = sim.code(CLIENT_ID, SCOPES).await;
    let url = format!("{}/oauth/token", sim.base);
    let exchange = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
    ];

    let mut wrong_secret = vec![("client_id", CLIENT_ID), ("client_secret", "nope")];
    wrong_secret.extend_from_slice(&exchange);
    let (status, body) = send(sim.http.post(&url).form(&wrong_secret)).await;
    assert_oauth_error(status, &body, StatusCode::UNAUTHORIZED, "invalid_client");
    let mut unknown = vec![
        ("client_id", "someone-else"),
        ("client_secret", CLIENT_SECRET),
    ];
    unknown.extend_from_slice(&exchange);
    let (status, body) = send(sim.http.post(&url).form(&unknown)).await;
    assert_oauth_error(status, &body, StatusCode::UNAUTHORIZED, "invalid_client");
    let (status, body) = send(sim.http.post(&url).form(&exchange)).await;
    assert_oauth_error(status, &body, StatusCode::UNAUTHORIZED, "invalid_client");

    let (status, body) = sim
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:9/elsewhere"),
        ])
        .await;
    assert_oauth_error(status, &body, StatusCode::FORBIDDEN, "invalid_grant");
    let (status, body) = sim
        .token(&[("code", &code), ("redirect_uri", REDIRECT)])
        .await;
    assert_oauth_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");
    let (status, body) = sim.token(&[("grant_type", "password")]).await;
    assert_oauth_error(
        status,
        &body,
        StatusCode::BAD_REQUEST,
        "unsupported_grant_type",
    );
    let (status, body) = sim
        .token(&[
            ("grant_type", "authorization_code"),
            ("redirect_uri", REDIRECT),
        ])
        .await;
    assert_oauth_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");
    let (status, body) = sim.exchange("not-a-code").await;
    assert_oauth_error(status, &body, StatusCode::FORBIDDEN, "invalid_grant");

    // None of the failures used the code up; the first success does.
    let (status, body) = sim.exchange(&code).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = sim.exchange(&code).await;
    assert_oauth_error(status, &body, StatusCode::FORBIDDEN, "invalid_grant");
    assert_eq!(sim.grant().await["accessTokensIssued"], 1);
}

#[tokio::test]
async fn http_basic_client_authentication_is_accepted() {
    let sim = sim().await;
    let code = sim.code(CLIENT_ID, SCOPES).await;
    let url = format!("{}/oauth/token", sim.base);
    // As RFC 6749 §2.3.1 (and the oauth2 crate) sends it: form-encoded, then Basic.
    let encoded = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let (status, tokens) = send(
        sim.http
            .post(&url)
            .basic_auth(encoded(CLIENT_ID), Some(encoded(CLIENT_SECRET)))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
            ]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    // Taken as sent works too (curl -u); a wrong secret does not.
    let refresh = str_of(&tokens["refresh_token"]);
    let (status, tokens) = send(
        sim.http
            .post(&url)
            .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
            .form(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let (status, body) = send(
        sim.http
            .post(&url)
            .basic_auth(CLIENT_ID, Some("wrong"))
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
            ]),
    )
    .await;
    assert_oauth_error(status, &body, StatusCode::UNAUTHORIZED, "invalid_client");
}

#[tokio::test]
async fn refresh_rotates_the_refresh_token_and_is_counted() {
    let sim = sim().await;
    let first = sim.connect(SCOPES).await;
    let old = str_of(&first["refresh_token"]);
    let (status, second) = sim.refresh(&old).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    let new = str_of(&second["refresh_token"]);
    assert_ne!(new, old);
    assert_ne!(second["access_token"], first["access_token"]);
    assert_eq!(
        (second["token_type"].clone(), second["expires_in"].clone()),
        (json!("Bearer"), json!(3600))
    );
    assert_eq!(second["scope"], SCOPES);
    let (status, _) = sim
        .bearer(&str_of(&second["access_token"]), Method::GET, "/users")
        .await;
    assert_eq!(status, StatusCode::OK);

    let (status, body) = sim.refresh(&old).await;
    assert_oauth_error(status, &body, StatusCode::FORBIDDEN, "invalid_grant");
    let (status, third) = sim.refresh(&new).await;
    assert_eq!(status, StatusCode::OK, "{third}");
    let grant = sim.grant().await;
    assert_eq!(
        (
            grant["refreshes"].clone(),
            grant["accessTokensIssued"].clone()
        ),
        (json!(2), json!(3))
    );
    // Access tokens issued before a refresh keep working until they expire.
    let (status, _) = sim
        .bearer(&str_of(&first["access_token"]), Method::GET, "/users")
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn without_offline_access_there_is_no_refresh_token() {
    let sim = sim().await;
    let tokens = sim.connect("stages:read:admin").await;
    assert!(tokens.get("refresh_token").is_none(), "{tokens}");
    assert_eq!(tokens["scope"], "stages:read:admin");
}

#[tokio::test]
async fn a_revoked_grant_refuses_its_access_and_refresh_tokens() {
    let sim = sim().await;
    let tokens = sim.connect(SCOPES).await;
    let access = str_of(&tokens["access_token"]);
    let id = str_of(&sim.grant().await["id"]);
    let (status, body) = sim
        .control("POST", &format!("/oauth/grants/{id}/revoke"), Value::Null)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = sim.bearer(&access, Method::GET, "/stages").await;
    assert_unauthorized(status, &body);
    let (status, body) = sim.refresh(&str_of(&tokens["refresh_token"])).await;
    assert_oauth_error(status, &body, StatusCode::FORBIDDEN, "invalid_grant");
    assert_eq!(sim.grant().await["revoked"], true);
    // The 401 is in the account's request log, under the grant.
    let log = sim.acct_ok("GET", "/requests", Value::Null).await;
    assert_eq!(
        (log[0]["status"].clone(), log[0]["oauthGrantId"].clone()),
        (json!(401), json!(id))
    );
    let (status, _) = sim
        .control(
            "POST",
            &format!("/oauth/grants/{NIL_ID}/revoke"),
            Value::Null,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_revoke_endpoint_revokes_the_whole_grant() {
    let sim = sim().await;
    let tokens = sim.connect(SCOPES).await;
    let url = format!("{}/oauth/revoke", sim.base);
    let refresh = str_of(&tokens["refresh_token"]);
    let form = [
        ("client_id", CLIENT_ID),
        ("client_secret", "wrong"),
        ("token", &refresh),
    ];
    let (status, body) = send(sim.http.post(&url).form(&form)).await;
    assert_oauth_error(status, &body, StatusCode::UNAUTHORIZED, "invalid_client");
    for token in ["unknown-token", refresh.as_str()] {
        let resp = sim
            .http
            .post(&url)
            .form(&[
                ("client_id", CLIENT_ID),
                ("client_secret", CLIENT_SECRET),
                ("token", token),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{token}");
        assert_eq!(resp.text().await.unwrap(), "");
    }
    let (status, body) = sim
        .bearer(&str_of(&tokens["access_token"]), Method::GET, "/stages")
        .await;
    assert_unauthorized(status, &body);
    let (status, body) = sim.refresh(&refresh).await;
    assert_oauth_error(status, &body, StatusCode::FORBIDDEN, "invalid_grant");
}

#[tokio::test]
async fn expired_access_tokens_answer_401_while_the_refresh_token_works() {
    let sim = sim().await;
    let tokens = sim.connect(SCOPES).await;
    let id = str_of(&sim.grant().await["id"]);
    let expire = format!("/oauth/grants/{id}/expire-access-tokens");
    assert_eq!(
        sim.control_ok("POST", &expire, Value::Null).await["expired"],
        1
    );
    let (status, body) = sim
        .bearer(&str_of(&tokens["access_token"]), Method::GET, "/stages")
        .await;
    assert_unauthorized(status, &body);
    let (status, fresh) = sim.refresh(&str_of(&tokens["refresh_token"])).await;
    assert_eq!(status, StatusCode::OK, "{fresh}");
    let (status, _) = sim
        .bearer(&str_of(&fresh["access_token"]), Method::GET, "/stages")
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "tokens issued after the expiry work"
    );

    // An app registered with a zero lifetime gets tokens that are expired from the start.
    sim.register(CLIENT_ID, 0).await;
    let (status, short) = sim.refresh(&str_of(&fresh["refresh_token"])).await;
    assert_eq!(
        (status, short["expires_in"].clone()),
        (StatusCode::OK, json!(0))
    );
    let (status, body) = sim
        .bearer(&str_of(&short["access_token"]), Method::GET, "/stages")
        .await;
    assert_unauthorized(status, &body);
}

#[tokio::test]
async fn unknown_or_forged_bearer_tokens_answer_401() {
    let sim = sim().await;
    let tokens = sim.connect(SCOPES).await;
    let access = str_of(&tokens["access_token"]);
    let (status, body) = sim.bearer("not-a-jwt", Method::GET, "/stages").await;
    assert_unauthorized(status, &body);
    // Another account named in the payload breaks the signature.
    let mut claims = jwt_part(&access, 1);
    claims["https://oauth.lever.co/accountId"] = json!(sim.other_acct);
    let parts: Vec<&str> = access.split('.').collect();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        parts[2]
    );
    let (status, body) = sim.bearer(&forged, Method::GET, "/stages").await;
    assert_unauthorized(status, &body);
    // A token from another simulator is unknown here.
    let other = sim_with(SimConfig::default()).await;
    let (status, body) = other.bearer(&access, Method::GET, "/stages").await;
    assert_unauthorized(status, &body);
    // API keys work as before beside Bearer tokens.
    let (status, _) = send(
        sim.http
            .get(format!("{}/v1/stages", sim.base))
            .basic_auth(&sim.key, Some("")),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn every_endpoint_needs_its_scope() {
    let sim = sim_with(SimConfig {
        rate_limit: RateLimit {
            per_second: 1000.0,
            burst: 1000.0,
        },
        ..SimConfig::default()
    })
    .await;
    let none = str_of(&sim.connect("offline_access").await["access_token"]);
    let opp = format!("/opportunities/{NIL_ID}");
    let cases = [
        (Method::GET, "/users".to_string(), "users:read:admin"),
        (Method::GET, format!("/users/{NIL_ID}"), "users:read:admin"),
        (Method::GET, "/stages".to_string(), "stages:read:admin"),
        (Method::GET, "/tags".to_string(), "tags:read:admin"),
        (Method::GET, "/sources".to_string(), "sources:read:admin"),
        (Method::GET, "/postings".to_string(), "postings:read:admin"),
        (
            Method::GET,
            "/opportunities".to_string(),
            "opportunities:read:admin",
        ),
        (Method::GET, opp.clone(), "opportunities:read:admin"),
        (
            Method::GET,
            format!("{opp}/applications"),
            "opportunities:read:admin",
        ),
        (
            Method::PUT,
            format!("{opp}/stage"),
            "opportunities:write:admin",
        ),
        (
            Method::POST,
            format!("{opp}/addTags"),
            "opportunities:write:admin",
        ),
        (
            Method::POST,
            format!("{opp}/removeLinks"),
            "opportunities:write:admin",
        ),
        (Method::GET, format!("{opp}/notes"), "notes:read:admin"),
        (Method::POST, format!("{opp}/notes"), "notes:write:admin"),
        (
            Method::DELETE,
            format!("{opp}/notes/{NIL_ID}"),
            "notes:write:admin",
        ),
        (Method::GET, format!("{opp}/files"), "files:read:admin"),
        (
            Method::GET,
            format!("{opp}/files/{NIL_ID}/download"),
            "files:read:admin",
        ),
        (Method::POST, format!("{opp}/files"), "files:write:admin"),
        (
            Method::DELETE,
            format!("{opp}/files/{NIL_ID}"),
            "files:write:admin",
        ),
        (
            Method::GET,
            format!("{opp}/feedback"),
            "feedback:read:admin",
        ),
        (
            Method::POST,
            format!("{opp}/feedback"),
            "feedback:write:admin",
        ),
        (
            Method::GET,
            "/feedback_templates".to_string(),
            "feedback_templates:read:admin",
        ),
        (
            Method::POST,
            "/feedback_templates".to_string(),
            "feedback_templates:write:admin",
        ),
        (Method::GET, "/webhooks".to_string(), "webhooks:read:admin"),
        (
            Method::POST,
            "/webhooks".to_string(),
            "webhooks:write:admin",
        ),
        (
            Method::DELETE,
            format!("/webhooks/{NIL_ID}"),
            "webhooks:write:admin",
        ),
    ];
    for (method, path, scope) in cases {
        let (status, body) = sim.bearer(&none, method.clone(), &path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {body}");
        assert_eq!(body["code"], "ForbiddenError");
        assert_eq!(
            body["message"],
            format!("Missing required scope: {scope}"),
            "{method} {path}"
        );
    }

    // With the scope, the same calls get past the check; a write scope covers its read scope.
    let some = str_of(&sim.connect("stages:read:admin notes:write:admin").await["access_token"]);
    let (status, _) = sim.bearer(&some, Method::GET, "/stages").await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = sim
        .bearer(
            &some,
            Method::GET,
            &format!("/opportunities/{}/notes", sim.opp),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = sim.bearer(&some, Method::GET, "/users").await;
    assert_eq!(
        (status, body["message"].clone()),
        (
            StatusCode::FORBIDDEN,
            json!("Missing required scope: users:read:admin")
        )
    );
}

#[tokio::test]
async fn bearer_requests_draw_on_one_bucket_per_grant() {
    let sim = sim_with(SimConfig {
        rate_limit: RateLimit {
            per_second: 0.001,
            burst: 3.0,
        },
        ..SimConfig::default()
    })
    .await;
    let first = str_of(&sim.connect(SCOPES).await["access_token"]);
    for _ in 0..3 {
        assert_eq!(
            sim.bearer(&first, Method::GET, "/stages").await.0,
            StatusCode::OK
        );
    }
    let (status, body) = sim.bearer(&first, Method::GET, "/stages").await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::TOO_MANY_REQUESTS, json!("TooManyRequests"))
    );
    // A second grant, and the account's API key, each have their own bucket.
    let second = str_of(&sim.connect(SCOPES).await["access_token"]);
    assert_eq!(
        sim.bearer(&second, Method::GET, "/stages").await.0,
        StatusCode::OK
    );
    let (status, _) = send(
        sim.http
            .get(format!("{}/v1/stages", sim.base))
            .basic_auth(&sim.key, Some("")),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn authorize_refuses_a_bad_request_with_a_400_page_and_no_redirect() {
    let sim = sim().await;
    let good = sim.authorize_params(CLIENT_ID, SCOPES);
    let with = |key: &str, value: &str| -> Vec<(String, String)> {
        good.iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    if k == key {
                        value.to_string()
                    } else {
                        v.clone()
                    },
                )
            })
            .collect()
    };
    let without = |key: &str| -> Vec<(String, String)> {
        good.iter().filter(|(k, _)| k != key).cloned().collect()
    };
    // Auth0 knows Lever's API by its name only: not the address it is reached at, nor without
    // its trailing slash.
    let the_simulators_address = format!("{}/v1/", sim.base);
    let cases = [
        (
            with("redirect_uri", "http://127.0.0.1:9/evil"),
            "is not registered for leverbridge",
        ),
        (
            with("redirect_uri", &format!("{REDIRECT}/")),
            "is not registered for leverbridge",
        ),
        (
            with("client_id", "unknown-app"),
            "No app is registered with client_id unknown-app",
        ),
        (
            with("response_type", "token"),
            "Unsupported response_type token",
        ),
        (
            with("audience", &the_simulators_address),
            "Service not found",
        ),
        (
            with("audience", "https://api.lever.co/v1"),
            "Service not found",
        ),
        (with("prompt", "always"), "Unsupported prompt always."),
        (
            with("scope", "offline_access candidates:read:admin"),
            "Unknown scope: candidates:read:admin",
        ),
        (without("state"), "The parameter state is missing."),
        (without("scope"), "The parameter scope is missing."),
    ];
    for (query, reason) in cases {
        let (status, html) = sim.get_page("/authorize", &query).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{reason}");
        assert!(
            html.contains("<h2>Invalid authorization request</h2>"),
            "{html}"
        );
        assert!(html.contains(reason), "{reason}: {html}");
        let (status, html) = sim.decide(query, &[("decision", "deny")]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "POST, {reason}: {html}");
    }

    // The chosen user must be an active user of the chosen account.
    for (account, user, reason) in [
        (&sim.acct, &sim.other_user, "is not a user of Test Co"),
        (
            &sim.acct,
            &sim.deactivated_user,
            "Gone User is deactivated in Test Co",
        ),
        (&NIL_ID.to_string(), &sim.user, "There is no account"),
    ] {
        let choice = [
            ("account", account.as_str()),
            ("user", user.as_str()),
            ("decision", "accept"),
        ];
        let (status, html) = sim.decide(good.clone(), &choice).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{reason}");
        assert!(html.contains(reason), "{reason}: {html}");
    }
    assert_eq!(sim.app(CLIENT_ID).await["grants"], json!([]));
}

#[tokio::test]
async fn the_account_page_lists_connected_apps_with_revoke_access() {
    let sim = sim().await;
    let page = format!("/_sim/accounts/{}", sim.acct);
    let (status, html) = sim.get_page(&page, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<h3 id=\"connected-apps\">Connected apps</h3>"));
    assert!(html.contains("No app is connected."));
    assert!(html.contains("#connected-apps\">0 connected apps</a>"));

    let tokens = sim.connect(SCOPES).await;
    let id = str_of(&sim.grant().await["id"]);
    let (_, html) = sim.get_page(&page, &[]).await;
    let start = html
        .find(&format!("<tr id=\"grant-{id}\">"))
        .expect("a row for the grant");
    assert!(html.contains("#connected-apps\">1 connected app</a>"));
    let row = &html[start..start + html[start..].find("</tr>").unwrap()];
    assert!(row.contains("<b>leverbridge</b>"), "{row}");
    assert!(row.contains("Ann Admin"));
    assert!(row.contains("<span class=\"tag\">webhooks:write:admin</span>"));
    assert!(row.contains("1 access token"));
    let confirm = format!("{page}/grants/{id}/revoke");
    assert!(row.contains(&format!(
        "<form class=\"move\" method=\"get\" action=\"{confirm}\"><button class=\"danger\">Revoke access…</button></form>"
    )));
    // The other account has no connected app.
    let (_, other) = sim
        .get_page(&format!("/_sim/accounts/{}", sim.other_acct), &[])
        .await;
    assert!(other.contains("No app is connected."));

    let (status, html) = sim.get_page(&confirm, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("<h2>Revoke leverbridge's access?</h2>"),
        "{html}"
    );
    assert!(html.contains(&format!(
        "<form class=\"move\" method=\"post\" action=\"{confirm}\">"
    )));
    let resp = sim
        .http
        .post(format!("{}{confirm}", sim.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        resp.headers()["Location"].to_str().unwrap(),
        format!("{page}#connected-apps")
    );

    assert_eq!(sim.grant().await["revoked"], true);
    let (status, body) = sim
        .bearer(&str_of(&tokens["access_token"]), Method::GET, "/stages")
        .await;
    assert_unauthorized(status, &body);
    let (_, html) = sim.get_page(&page, &[]).await;
    assert!(!html.contains(&format!("grant-{id}")));
    assert!(html.contains("No app is connected.") && html.contains("1 revoked grant not shown."));
    let (status, _) = sim
        .get_page(
            &format!("/_sim/accounts/{}/grants/{id}/revoke", sim.other_acct),
            &[],
        )
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a grant is only found under its own account"
    );
}

#[tokio::test]
async fn the_control_api_registers_apps_and_replaces_them_by_client_id() {
    let sim = sim().await;
    let (status, generated) = sim
        .control(
            "POST",
            "/oauth/apps",
            json!({"name": "Other app", "redirectUris": [REDIRECT]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{generated}");
    assert_eq!(generated["tokenLifetimeSecs"], 3600);
    assert!(
        str_of(&generated["clientId"]).len() >= 16
            && str_of(&generated["clientSecret"]).len() >= 32
    );
    let app = sim.app(&str_of(&generated["clientId"])).await;
    assert_eq!(app["name"], "Other app");
    assert!(
        app.get("clientSecret").is_none(),
        "the secret is not read back"
    );

    sim.connect(SCOPES).await;
    let replaced = json!({"name": "leverbridge 2", "clientId": CLIENT_ID, "clientSecret": "new-secret",
                          "redirectUris": [REDIRECT], "tokenLifetimeSecs": 60});
    assert_eq!(
        sim.control("POST", "/oauth/apps", replaced).await.0,
        StatusCode::CREATED
    );
    let app = sim.app(CLIENT_ID).await;
    assert_eq!(
        (app["name"].clone(), app["tokenLifetimeSecs"].clone()),
        (json!("leverbridge 2"), json!(60))
    );
    assert_eq!(app["grants"].as_array().unwrap().len(), 1, "grants stay");

    for bad in [
        json!({"name": "", "redirectUris": [REDIRECT]}),
        json!({"name": "x", "redirectUris": []}),
        json!({"name": "x", "redirectUris": ["not a url"]}),
        json!({"name": "x", "redirectUris": ["http://a.example/cb#frag"]}),
    ] {
        let (status, body) = sim.control("POST", "/oauth/apps", bad.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }
    assert_eq!(
        sim.control("GET", "/oauth/apps/nobody", Value::Null)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let expire = format!("/oauth/grants/{NIL_ID}/expire-access-tokens");
    assert_eq!(
        sim.control("POST", &expire, Value::Null).await.0,
        StatusCode::NOT_FOUND
    );
}
