//! Router tests without a socket: every operation and every refusal, with requests signed by
//! the core crate's `hmac::sign` as the official client signs them.

use std::time::{Duration, SystemTime};

use acs_identity::auth::hmac;
use acs_identity::time::{parse_rfc3339, to_unix_millis};
use acs_identity::token::AcsTokenClaims;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};
use tower::ServiceExt;
use url::Url;

use super::*;
use crate::handlers::MAX_BODY_BYTES;
use crate::jwt::{EmulatorClaims, RESOURCE_LOCATION, SCP};

const HOST: &str = "127.0.0.1:8990";
const V: &str = "2023-10-01";
const PREVIEW: &str = "2025-03-02-preview";
const OTHER_RESOURCE_ID: &str =
  "8:acs:00000000-0000-0000-0000-000000000000_00000000-0000-0000-0000-000000000000";

struct Harness {
  state: AppState,
  router: Router,
}

#[derive(Debug)]
struct Reply {
  status: StatusCode,
  headers: HeaderMap,
  text: String,
  json: Value,
}

impl Reply {
  fn code(&self) -> &str {
    self.json["error"]["code"].as_str().unwrap_or_default()
  }
  fn message(&self) -> &str {
    self.json["error"]["message"].as_str().unwrap_or_default()
  }
  fn assert_error(&self, status: u16, code: &str) {
    assert_eq!(self.status.as_u16(), status, "{}", self.text);
    assert_eq!(self.code(), code, "{}", self.text);
    assert_eq!(
      self.headers["content-type"], "application/json",
      "{}",
      self.text
    );
    assert!(!self.message().is_empty());
  }
}

/// A request to sign and send; fields can be spoiled one at a time.
struct Call {
  method: &'static str,
  path_and_query: String,
  body: Vec<u8>,
  key: String,
  date: SystemTime,
  content_type: Option<&'static str>,
  signed_path: Option<String>,
  claimed_hash: Option<String>,
  authorization: Option<Option<String>>,
  headers: Vec<(&'static str, String)>,
}

fn call(method: &'static str, path_and_query: impl Into<String>) -> Call {
  Call {
    method,
    path_and_query: path_and_query.into(),
    body: Vec::new(),
    key: DEV_ACCESS_KEY.to_owned(),
    date: SystemTime::now(),
    content_type: Some("application/json"),
    signed_path: None,
    claimed_hash: None,
    authorization: None,
    headers: Vec::new(),
  }
}

impl Call {
  fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
    self.body = body.into();
    self
  }
  fn json(self, value: Value) -> Self {
    self.body(serde_json::to_vec(&value).unwrap())
  }
  fn key(mut self, key: &str) -> Self {
    self.key = key.to_owned();
    self
  }
  fn date(mut self, date: SystemTime) -> Self {
    self.date = date;
    self
  }
  fn content_type(mut self, content_type: Option<&'static str>) -> Self {
    self.content_type = content_type;
    self
  }
  fn signed_path(mut self, path: &str) -> Self {
    self.signed_path = Some(path.to_owned());
    self
  }
  fn claimed_hash(mut self, hash: &str) -> Self {
    self.claimed_hash = Some(hash.to_owned());
    self
  }
  fn authorization(mut self, value: Option<&str>) -> Self {
    self.authorization = Some(value.map(str::to_owned));
    self
  }

  fn build(self) -> Request<Body> {
    let signed_path = self.signed_path.as_deref().unwrap_or(&self.path_and_query);
    let url = Url::parse(&format!("http://{HOST}{signed_path}")).unwrap();
    let date = httpdate::fmt_http_date(self.date);
    let key = hmac::decode_access_key(&self.key);
    let signed = hmac::sign(&key, self.method, &url, &self.body, &date);
    let mut builder = Request::builder()
      .method(self.method)
      .uri(&self.path_and_query)
      .header("host", HOST)
      .header("x-ms-date", &date)
      .header(
        "x-ms-content-sha256",
        self.claimed_hash.as_deref().unwrap_or(&signed.content_hash),
      )
      .header(
        "x-ms-client-request-id",
        "7f0c8a6e-0000-4000-8000-000000000001",
      );
    match self.authorization {
      None => builder = builder.header("authorization", &signed.authorization),
      Some(Some(value)) => builder = builder.header("authorization", value),
      Some(None) => {}
    }
    if let Some(content_type) = self.content_type {
      builder = builder.header("content-type", content_type);
    }
    for (name, value) in self.headers {
      builder = builder.header(name, value);
    }
    builder.body(Body::from(self.body)).unwrap()
  }
}

impl Harness {
  fn new() -> Self {
    Self::with(EmulatorOptions::default())
  }

  fn with(options: EmulatorOptions) -> Self {
    let state = AppState::new(&options).unwrap();
    let router = router(state.clone());
    Self { state, router }
  }

  fn shared(&self) -> &state::Shared {
    &self.state.shared
  }

  async fn send(&self, call: Call) -> Reply {
    self.raw(call.build()).await
  }

  async fn raw(&self, request: Request<Body>) -> Reply {
    let response = self.router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 24)
      .await
      .unwrap();
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply {
      status,
      headers,
      text,
      json,
    }
  }

  async fn create(&self) -> String {
    let reply = self
      .send(call("POST", format!("/identities?api-version={V}")))
      .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    reply.json["identity"]["id"].as_str().unwrap().to_owned()
  }

  async fn issue(&self, id: &str, body: Value, version: &str) -> Reply {
    self
      .send(
        call(
          "POST",
          format!(
            "/identities/{}/:issueAccessToken?api-version={version}",
            enc(id)
          ),
        )
        .json(body),
      )
      .await
  }

  async fn token(&self, id: &str) -> String {
    let reply = self.issue(id, json!({"scopes": ["chat"]}), V).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.json["token"].as_str().unwrap().to_owned()
  }

  async fn revoke(&self, id: &str) -> Reply {
    self
      .send(
        call(
          "POST",
          format!(
            "/identities/{}/:revokeAccessTokens?api-version={V}",
            enc(id)
          ),
        )
        .content_type(None),
      )
      .await
  }

  async fn delete(&self, id: &str) -> Reply {
    self
      .send(call("DELETE", format!("/identities/{}?api-version={V}", enc(id))).content_type(None))
      .await
  }
}

fn enc(id: &str) -> String {
  acs_identity::encode_id(id)
}

fn claims_of(token: &str) -> Value {
  acs_identity::token::decode_jwt_payload(token).unwrap()
}

fn millis_until(expires_on: &str) -> i64 {
  to_unix_millis(parse_rfc3339(expires_on).unwrap()) - to_unix_millis(SystemTime::now())
}

fn entra_token(app_id: &str, oid: &str, exp: i64) -> String {
  let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","typ":"JWT"}"#);
  let payload = URL_SAFE_NO_PAD.encode(json!({"aud": "https://auth.msft.communication.azure.com", "appid": app_id, "oid": oid, "exp": exp, "tid": "72f988bf-86f1-41af-91ab-2d7cd011db47"}).to_string());
  format!("{header}.{payload}.c2lnbmF0dXJl")
}

fn now_s() -> i64 {
  to_unix_millis(SystemTime::now()) / 1000
}

// ---------------------------------------------------------------------------------------
// Operations

#[tokio::test]
async fn create_without_body_returns_an_identity_of_this_resource_and_no_token() {
  let h = Harness::new();
  let reply = h
    .send(call("POST", format!("/identities?api-version={V}")))
    .await;
  assert_eq!(reply.status, StatusCode::CREATED);
  assert_eq!(
    reply.headers["content-type"],
    "application/json; charset=utf-8"
  );
  assert_eq!(
    reply.headers["x-ms-client-request-id"],
    "7f0c8a6e-0000-4000-8000-000000000001"
  );
  assert!(reply.headers["api-supported-versions"]
    .to_str()
    .unwrap()
    .contains("2023-10-01"));
  assert!(reply.headers["ms-cv"].to_str().unwrap().ends_with(".0"));
  let id = reply.json["identity"]["id"].as_str().unwrap();
  let suffix = id
    .strip_prefix(&format!("8:acs:{}_", h.state.resource_id()))
    .unwrap();
  assert!(uuid::Uuid::parse_str(suffix).is_ok(), "{id}");
  assert_eq!(reply.json.as_object().unwrap().len(), 1, "{}", reply.text);
  assert_eq!(reply.json["identity"].as_object().unwrap().len(), 1);
}

#[tokio::test]
async fn create_with_scopes_issues_a_token_with_the_real_claims() {
  let h = Harness::new();
  let reply = h
    .send(
      call("POST", format!("/identities?api-version={V}"))
        .json(json!({"createTokenWithScopes": ["chat", "voip"]})),
    )
    .await;
  assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
  let id = reply.json["identity"]["id"].as_str().unwrap();
  let token = reply.json["accessToken"]["token"].as_str().unwrap();
  let expires_on = reply.json["accessToken"]["expiresOn"].as_str().unwrap();
  // 7 fraction digits and +00:00, as the service
  assert_eq!(
    expires_on.len(),
    "2023-10-19T15:34:16.1445357+00:00".len(),
    "{expires_on}"
  );
  assert!(expires_on.ends_with("+00:00"));
  let left = millis_until(expires_on);
  assert!((86_390_000..=86_400_000).contains(&left), "{left}");
  let claims = claims_of(token);
  assert_eq!(claims["skypeid"], id.strip_prefix("8:").unwrap());
  assert_eq!(claims["scp"], SCP);
  assert_eq!(claims["acsScope"], "chat,voip");
  assert_eq!(claims["resourceId"], h.state.resource_id());
  assert_eq!(claims["resourceLocation"], RESOURCE_LOCATION);
  assert_eq!(claims["csi"], claims["iat"].as_i64().unwrap().to_string());
  assert_eq!(
    claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
    86_400
  );
  let header: Value = serde_json::from_slice(
    &URL_SAFE_NO_PAD
      .decode(token.split('.').next().unwrap())
      .unwrap(),
  )
  .unwrap();
  assert_eq!(header, json!({"alg": "HS256", "kid": "1", "typ": "JWT"}));
  assert!(h.state.verify_token(token).valid);
}

#[tokio::test]
async fn create_with_an_empty_scope_list_issues_no_token() {
  let h = Harness::new();
  let reply = h
    .send(
      call("POST", format!("/identities?api-version={V}"))
        .json(json!({"createTokenWithScopes": []})),
    )
    .await;
  assert_eq!(reply.status, StatusCode::CREATED);
  assert!(reply.json.get("accessToken").is_none(), "{}", reply.text);
}

#[tokio::test]
async fn custom_expiry_is_honoured_and_bounded() {
  let h = Harness::new();
  let reply = h
    .send(
      call("POST", format!("/identities?api-version={V}"))
        .json(json!({"createTokenWithScopes": ["chat"], "expiresInMinutes": 60})),
    )
    .await;
  assert_eq!(reply.status, StatusCode::CREATED);
  let left = millis_until(reply.json["accessToken"]["expiresOn"].as_str().unwrap());
  assert!((3_590_000..=3_600_000).contains(&left), "{left}");
  let claims = claims_of(reply.json["accessToken"]["token"].as_str().unwrap());
  assert_eq!(
    claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
    3600
  );

  let id = h.create().await;
  let reply = h
    .issue(
      &id,
      json!({"scopes": ["chat"], "expiresInMinutes": 1440}),
      V,
    )
    .await;
  assert_eq!(reply.status, StatusCode::OK);
  for bad in [59, 1441, 0, -5] {
    let expected = json!({"error": {"code": "ValidationError", "message": format!("ExpiresInMinutes value {bad} is invalid. Value must be within the [60, 1440] interval."), "target": "ExpiresInMinutes"}});
    let reply = h
      .issue(&id, json!({"scopes": ["chat"], "expiresInMinutes": bad}), V)
      .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.json, expected);
    let reply = h
      .send(
        call("POST", format!("/identities?api-version={V}"))
          .json(json!({"createTokenWithScopes": ["chat"], "expiresInMinutes": bad})),
      )
      .await;
    assert_eq!(reply.json, expected);
  }
  let reply = h
    .issue(
      &id,
      json!({"scopes": ["chat"], "expiresInMinutes": "60"}),
      V,
    )
    .await;
  reply.assert_error(400, "ValidationError");
  let reply = h
    .issue(
      &id,
      json!({"scopes": ["chat"], "expiresInMinutes": 60.5}),
      V,
    )
    .await;
  reply.assert_error(400, "ValidationError");
  // before 2022-10-01 the field does not exist and is ignored
  let reply = h
    .issue(
      &id,
      json!({"scopes": ["chat"], "expiresInMinutes": 59}),
      "2022-06-01",
    )
    .await;
  assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
  assert!(millis_until(reply.json["expiresOn"].as_str().unwrap()) > 86_000_000);
}

#[tokio::test]
async fn every_scope_can_be_issued_and_scopes_are_checked_per_version() {
  let h = Harness::new();
  let id = h.create().await;
  let scenarios: [&[&str]; 9] = [
    &["chat"],
    &["voip"],
    &["chat.join"],
    &["chat.join.limited"],
    &["voip.join"],
    &["chat", "voip"],
    &["chat", "chat.join", "chat.join.limited"],
    &["voip", "voip.join"],
    &["chat.join", "voip.join"],
  ];
  for scopes in scenarios {
    let reply = h.issue(&id, json!({"scopes": scopes}), V).await;
    assert_eq!(reply.status, StatusCode::OK, "{scopes:?}: {}", reply.text);
    assert_eq!(
      claims_of(reply.json["token"].as_str().unwrap())["acsScope"],
      scopes.join(",")
    );
    let reply = h
      .send(
        call("POST", format!("/identities?api-version={V}"))
          .json(json!({"createTokenWithScopes": scopes})),
      )
      .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{scopes:?}");
  }
  // the join scopes do not exist before 2023-10-01
  let reply = h
    .issue(&id, json!({"scopes": ["chat.join"]}), "2023-08-01")
    .await;
  reply.assert_error(400, "ValidationError");
  assert_eq!(reply.json["error"]["target"], "scopes");
  let reply = h.issue(&id, json!({"scopes": ["pstn"]}), V).await;
  reply.assert_error(400, "ValidationError");
  assert!(reply.message().contains("'pstn'"), "{}", reply.text);
  let reply = h
    .issue(&id, json!({"scopes": ["x".repeat(100_000)]}), V)
    .await;
  reply.assert_error(400, "ValidationError");
  assert!(reply.text.len() < 500, "{}", reply.text.len());
  let reply = h.issue(&id, json!({"scopes": ["Chat"]}), V).await;
  reply.assert_error(400, "ValidationError");
  let reply = h.issue(&id, json!({"scopes": "chat"}), V).await;
  reply.assert_error(400, "ValidationError");
  let reply = h.issue(&id, json!({"scopes": [1]}), V).await;
  reply.assert_error(400, "ValidationError");
  // property names match case-insensitively, as the service's JSON binding
  let reply = h.issue(&id, json!({"Scopes": ["chat"]}), V).await;
  assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn scopes_are_required_with_the_services_message() {
  let h = Harness::new();
  let id = h.create().await;
  let expected = json!({"error": {"code": "ValidationError", "message": "Invalid scopes - Scopes field is required.", "target": "scopes"}});
  for body in [
    json!({"scopes": []}),
    json!({}),
    json!({"scopes": null}),
    json!({"expiresInMinutes": 60}),
  ] {
    let reply = h.issue(&id, body.clone(), V).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(reply.json, expected, "{body}");
  }
  // no body at all
  let reply = h
    .send(call(
      "POST",
      format!("/identities/{}/:issueAccessToken?api-version={V}", enc(&id)),
    ))
    .await;
  assert_eq!(reply.json, expected);
}

#[tokio::test]
async fn another_resources_identities_are_refused_with_401() {
  let h = Harness::new();
  let other = Harness::new();
  let foreign = other.create().await;
  for id in [
    OTHER_RESOURCE_ID,
    foreign.as_str(),
    "garbage",
    "8:acs:",
    &format!("8:acs:{}_", h.state.resource_id()),
  ] {
    h.issue(id, json!({"scopes": ["chat"]}), V)
      .await
      .assert_error(401, "Unauthorized");
    h.revoke(id).await.assert_error(401, "Unauthorized");
    h.delete(id).await.assert_error(401, "Unauthorized");
    h.send(
      call(
        "GET",
        format!("/identities/{}?api-version={PREVIEW}", enc(id)),
      )
      .content_type(None),
    )
    .await
    .assert_error(401, "Unauthorized");
  }
  // the id's resource is checked before the body
  h.issue(OTHER_RESOURCE_ID, json!({"scopes": []}), V)
    .await
    .assert_error(401, "Unauthorized");
}

#[tokio::test]
async fn unknown_and_deleted_identities_of_this_resource_are_404() {
  let h = Harness::new();
  let unknown = format!("8:acs:{}_{}", h.state.resource_id(), uuid::Uuid::new_v4());
  let reply = h.issue(&unknown, json!({"scopes": ["chat"]}), V).await;
  reply.assert_error(404, "IdentityNotFound");
  h.revoke(&unknown)
    .await
    .assert_error(404, "IdentityNotFound");
  h.delete(&unknown)
    .await
    .assert_error(404, "IdentityNotFound");

  let id = h.create().await;
  let token = h.token(&id).await;
  let reply = h.delete(&id).await;
  assert_eq!(reply.status, StatusCode::NO_CONTENT);
  assert!(reply.text.is_empty());
  assert_eq!(
    h.state.verify_token(&token),
    TokenVerdict {
      valid: false,
      reason: Some("deleted")
    }
  );
  h.issue(&id, json!({"scopes": ["chat"]}), V)
    .await
    .assert_error(404, "IdentityNotFound");
  h.revoke(&id).await.assert_error(404, "IdentityNotFound");
  h.delete(&id).await.assert_error(404, "IdentityNotFound");
}

#[tokio::test]
async fn revocation_invalidates_earlier_tokens_only() {
  let h = Harness::new();
  let id = h.create().await;
  let before: Vec<String> = [h.token(&id).await, h.token(&id).await].into();
  let reply = h.revoke(&id).await;
  assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text);
  assert!(reply.text.is_empty());
  // issued in the same second (likely the same millisecond) as the revocation
  let after = h.token(&id).await;
  for token in &before {
    assert_eq!(
      h.state.verify_token(token),
      TokenVerdict {
        valid: false,
        reason: Some("revoked")
      }
    );
  }
  assert_eq!(
    h.state.verify_token(&after),
    TokenVerdict {
      valid: true,
      reason: None
    }
  );
  // revoking again revokes the new one too; an identity without tokens can be revoked
  h.revoke(&id).await;
  assert_eq!(h.state.verify_token(&after).reason, Some("revoked"));
  let fresh = h.create().await;
  assert_eq!(h.revoke(&fresh).await.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn revocation_in_the_same_millisecond_is_exact() {
  let h = Harness::new();
  let id = h.create().await;
  let shared = h.shared();
  let now = 1_900_000_000_000;
  let (first, _) = shared.issue(&id, now).unwrap();
  shared.revoke(&id, now).unwrap();
  let (second, _) = shared.issue(&id, now).unwrap();
  assert!(second > first);
  let mint = |iat_ms: i64| {
    shared.signer.mint(&EmulatorClaims {
      acs: AcsTokenClaims {
        skypeid: id.strip_prefix("8:").unwrap().to_owned(),
        scp: SCP,
        csi: String::new(),
        iat: iat_ms / 1000,
        exp: iat_ms / 1000 + 3600,
        acs_scope: "chat".into(),
        resource_id: h.state.resource_id().to_owned(),
        resource_location: None,
      },
      iat_ms,
    })
  };
  let at = SystemTime::UNIX_EPOCH + Duration::from_millis(now as u64);
  assert_eq!(
    shared.verify_token(&mint(first), at).reason,
    Some("revoked")
  );
  assert_eq!(shared.verify_token(&mint(second), at).reason, None);
}

#[tokio::test]
async fn verify_token_tells_why_a_token_is_not_valid() {
  let h = Harness::new();
  let id = h.create().await;
  let token = h.token(&id).await;
  assert!(h.state.verify_token(&token).valid);
  for bad in ["", "nonsense", "a.b.c", "a.b"] {
    assert_eq!(h.state.verify_token(bad).reason, Some("malformed"), "{bad}");
  }
  // another emulator's token, and a tampered signature
  let other = Harness::new();
  let other_id = other.create().await;
  let foreign = other.token(&other_id).await;
  assert_eq!(h.state.verify_token(&foreign).reason, Some("signature"));
  let mut tampered = token.clone();
  let last = tampered.pop().unwrap();
  tampered.push(if last == 'A' { 'B' } else { 'A' });
  assert_eq!(h.state.verify_token(&tampered).reason, Some("signature"));
  // expired: judged at a later time
  let later = SystemTime::now() + Duration::from_secs(86_401);
  assert_eq!(
    h.shared().verify_token(&token, later).reason,
    Some("expired")
  );
  // signed by us, for an identity we never had
  let stranger = h.shared().signer.mint(&EmulatorClaims {
    acs: AcsTokenClaims {
      skypeid: format!("acs:{}_{}", h.state.resource_id(), uuid::Uuid::new_v4()),
      scp: SCP,
      csi: String::new(),
      iat: now_s(),
      exp: now_s() + 60,
      acs_scope: "chat".into(),
      resource_id: h.state.resource_id().to_owned(),
      resource_location: None,
    },
    iat_ms: now_s() * 1000,
  });
  assert_eq!(
    h.state.verify_token(&stranger).reason,
    Some("unknown-identity")
  );
}

// ---------------------------------------------------------------------------------------
// Preview: customId and GET

#[tokio::test]
async fn custom_ids_return_the_same_live_identity() {
  let h = Harness::new();
  let create = |custom: &str, version: &str| {
    call("POST", format!("/identities?api-version={version}")).json(json!({"customId": custom}))
  };
  let first = h.send(create("alice@contoso.com", PREVIEW)).await;
  assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
  assert_eq!(first.json["identity"]["customId"], "alice@contoso.com");
  let id = first.json["identity"]["id"].as_str().unwrap().to_owned();
  let again = h.send(create("alice@contoso.com", PREVIEW)).await;
  assert_eq!(again.json["identity"]["id"], id.as_str());
  let bob = h.send(create("bob@contoso.com", PREVIEW)).await;
  assert_ne!(bob.json["identity"]["id"], id.as_str());
  // with a token: same identity, a token, and lastTokenIssuedAt
  let with_token = h
    .send(
      call("POST", format!("/identities?api-version={PREVIEW}"))
        .json(json!({"customId": "alice@contoso.com", "createTokenWithScopes": ["chat"]})),
    )
    .await;
  assert_eq!(with_token.json["identity"]["id"], id.as_str());
  assert!(with_token.json["accessToken"]["token"].is_string());
  assert!(with_token.json["identity"]["lastTokenIssuedAt"].is_string());
  // GET (preview only)
  let get = h
    .send(
      call(
        "GET",
        format!("/identities/{}?api-version={PREVIEW}", enc(&id)),
      )
      .content_type(None),
    )
    .await;
  assert_eq!(get.status, StatusCode::OK, "{}", get.text);
  assert_eq!(
    get.headers["content-type"],
    "application/json; charset=utf-8"
  );
  assert_eq!(get.json["id"], id.as_str());
  assert_eq!(get.json["customId"], "alice@contoso.com");
  let last = get.json["lastTokenIssuedAt"].as_str().unwrap();
  assert!(millis_until(last).abs() < 60_000, "{last}");
  let plain = h.create().await;
  let get = h
    .send(
      call(
        "GET",
        format!("/identities/{}?api-version={PREVIEW}", enc(&plain)),
      )
      .content_type(None),
    )
    .await;
  assert_eq!(get.json, json!({"id": plain}));
  let get = h
    .send(call("GET", format!("/identities/{}?api-version={V}", enc(&id))).content_type(None))
    .await;
  get.assert_error(400, "UnsupportedApiVersion");
  // other versions ignore customId: a new identity each time, no customId echoed
  let stable = h.send(create("alice@contoso.com", V)).await;
  assert_eq!(stable.status, StatusCode::CREATED);
  assert_ne!(stable.json["identity"]["id"], id.as_str());
  assert!(stable.json["identity"].get("customId").is_none());
  // after deletion the custom id names a new identity
  assert_eq!(h.delete(&id).await.status, StatusCode::NO_CONTENT);
  let reborn = h.send(create("alice@contoso.com", PREVIEW)).await;
  assert_ne!(reborn.json["identity"]["id"], id.as_str());
  let get = h
    .send(
      call(
        "GET",
        format!("/identities/{}?api-version={PREVIEW}", enc(&id)),
      )
      .content_type(None),
    )
    .await;
  get.assert_error(404, "IdentityNotFound");
}

#[tokio::test]
async fn custom_ids_are_validated() {
  let h = Harness::new();
  for bad in [json!(""), json!("x".repeat(257)), json!(5), json!(["a"])] {
    let reply = h
      .send(
        call("POST", format!("/identities?api-version={PREVIEW}")).json(json!({"customId": bad})),
      )
      .await;
    reply.assert_error(400, "ValidationError");
    assert_eq!(reply.json["error"]["target"], "CustomId");
  }
  let reply = h
    .send(
      call("POST", format!("/identities?api-version={PREVIEW}"))
        .json(json!({"customId": "é".repeat(256)})),
    )
    .await;
  assert_eq!(reply.status, StatusCode::CREATED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_never_duplicate_or_lose_identities() {
  let h = std::sync::Arc::new(Harness::new());
  let mut tasks = Vec::new();
  for i in 0..200 {
    let h = h.clone();
    tasks.push(tokio::spawn(async move {
      let body = if i % 2 == 0 {
        json!({"customId": "shared"})
      } else {
        json!({})
      };
      let reply = h
        .send(call("POST", format!("/identities?api-version={PREVIEW}")).json(body))
        .await;
      assert_eq!(reply.status, StatusCode::CREATED);
      (
        i % 2 == 0,
        reply.json["identity"]["id"].as_str().unwrap().to_owned(),
      )
    }));
  }
  let mut shared_ids = std::collections::HashSet::new();
  let mut plain_ids = std::collections::HashSet::new();
  for task in tasks {
    let (shared, id) = task.await.unwrap();
    if shared {
      shared_ids.insert(id);
    } else {
      plain_ids.insert(id);
    }
  }
  assert_eq!(shared_ids.len(), 1);
  assert_eq!(plain_ids.len(), 100);
  assert_eq!(h.shared().identity_count(), 101);
}

// ---------------------------------------------------------------------------------------
// Teams exchange

const APP: &str = "2c3e1e83-8fd7-4615-ad2b-b8c1229845ac";
const USER: &str = "32c0a5db-05ec-78ea-51ab-3f06b329397e";

async fn exchange(h: &Harness, token: &str, app: &str, user: &str) -> Reply {
  h.send(
    call(
      "POST",
      format!("/teamsUser/:exchangeAccessToken?api-version={V}"),
    )
    .json(json!({"token": token, "appId": app, "userId": user})),
  )
  .await
}

#[tokio::test]
async fn teams_tokens_are_exchanged_with_the_entra_expiry() {
  let h = Harness::new();
  let exp = now_s() + 3000;
  let reply = exchange(&h, &entra_token(APP, USER, exp), APP, USER).await;
  assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
  assert_eq!(
    reply.headers["content-type"],
    "application/json; charset=utf-8"
  );
  let token = reply.json["token"].as_str().unwrap();
  assert_eq!(
    to_unix_millis(parse_rfc3339(reply.json["expiresOn"].as_str().unwrap()).unwrap()),
    exp * 1000
  );
  assert_eq!(claims_of(token)["exp"], exp);
  assert_eq!(claims_of(token)["skypeid"], format!("orgid:{USER}"));
  assert!(h.state.verify_token(token).valid);
  // GUIDs compare case-insensitively
  let reply = exchange(&h, &entra_token(APP, USER, exp), &APP.to_uppercase(), USER).await;
  assert_eq!(reply.status, StatusCode::OK);
  // the exchange exists from 2022-06-01
  let reply = h
    .send(
      call(
        "POST",
        "/teamsUser/:exchangeAccessToken?api-version=2021-03-07",
      )
      .json(json!({"token": "t", "appId": APP, "userId": USER})),
    )
    .await;
  reply.assert_error(400, "UnsupportedApiVersion");
  assert_eq!(
    reply.headers["api-supported-versions"],
    "2022-06-01, 2022-10-01, 2023-08-01, 2023-10-01, 2025-03-02-preview, 2025-06-30"
  );
}

#[tokio::test]
async fn teams_exchange_errors_are_the_services() {
  let h = Harness::new();
  let valid = entra_token(APP, USER, now_s() + 3000);
  let invalid_token = json!({"error": {"code": "InvalidAccessToken", "message": "Provided access token is not valid."}});
  let expired = entra_token(APP, USER, now_s() - 10);
  let no_oid = {
    let payload = URL_SAFE_NO_PAD.encode(json!({"appid": APP, "exp": now_s() + 3000}).to_string());
    format!("eyJhbGciOiJub25lIn0.{payload}.")
  };
  for token in ["", "invalid", expired.as_str(), no_oid.as_str()] {
    let reply = exchange(&h, token, APP, USER).await;
    assert_eq!(
      reply.status,
      StatusCode::UNAUTHORIZED,
      "{token}: {}",
      reply.text
    );
    assert_eq!(reply.json, invalid_token);
  }
  let cases = [
    ("", USER, "AppId: The AppId field is required.", "AppId"),
    (
      "invalid",
      USER,
      "Provided AppId has invalid format.",
      "appId",
    ),
    (
      "11111111-2222-3333-4444-555555555555",
      USER,
      "AAD application is not the expected one.",
      "appId",
    ),
    (APP, "", "UserId: The UserId field is required.", "UserId"),
    (
      APP,
      "invalid",
      "Provided UserId has invalid format.",
      "userId",
    ),
    (
      APP,
      "11111111-2222-3333-4444-555555555555",
      "Provided AAD token issued for unexpected user.",
      "userId",
    ),
  ];
  for (app, user, message, target) in cases {
    let reply = exchange(&h, &valid, app, user).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{message}");
    assert_eq!(
      reply.json,
      json!({"error": {"code": "ValidationError", "message": message, "target": target}})
    );
  }
}

// ---------------------------------------------------------------------------------------
// api-version

#[tokio::test]
async fn api_versions_are_checked() {
  let h = Harness::new();
  let reply = h.send(call("POST", "/identities")).await;
  reply.assert_error(400, "ApiVersionUnspecified");
  assert_eq!(
    reply.message(),
    "An API version is required, but was not specified."
  );
  for bad in ["2020-07-20-preview2", "2023-10-1", "2026-09-23", ""] {
    let reply = h
      .send(call("POST", format!("/identities?api-version={bad}")))
      .await;
    reply.assert_error(400, "UnsupportedApiVersion");
    assert!(
      reply.message().contains(&format!("'{bad}'")),
      "{}",
      reply.text
    );
  }
  for good in [
    "2021-03-07",
    "2022-06-01",
    "2022-10-01",
    "2023-08-01",
    "2023-10-01",
    "2025-03-02-preview",
    "2025-06-30",
  ] {
    let reply = h
      .send(call("POST", format!("/identities?api-version={good}")))
      .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{good}");
  }
}

// ---------------------------------------------------------------------------------------
// Authentication

#[tokio::test]
async fn unsigned_and_badly_signed_requests_are_401() {
  let h = Harness::new();
  let path = format!("/identities?api-version={V}");
  let id = h.create().await;
  let issue_path = format!("/identities/{}/:issueAccessToken?api-version={V}", enc(&id));
  let body = br#"{"scopes":["chat"]}"#.to_vec();
  let cases: Vec<(&str, Call)> = vec![
    ("no authorization", call("POST", &path).authorization(None)),
    (
      "unknown scheme",
      call("POST", &path).authorization(Some("Basic dXNlcjpwYXNz")),
    ),
    (
      "no signature",
      call("POST", &path).authorization(Some(
        "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256",
      )),
    ),
    (
      "empty signature",
      call("POST", &path).authorization(Some(
        "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=",
      )),
    ),
    (
      "other signed headers",
      call("POST", &path).authorization(Some("HMAC-SHA256 SignedHeaders=host&Signature=abc=")),
    ),
    (
      "stale date",
      call("POST", &path).date(SystemTime::now() - Duration::from_secs(16 * 60)),
    ),
    (
      "future date",
      call("POST", &path).date(SystemTime::now() + Duration::from_secs(16 * 60)),
    ),
    ("wrong key", call("POST", &path).key("d3Jvbmcga2V5")),
    (
      "tampered path",
      call("POST", &issue_path)
        .body(body.clone())
        .signed_path(&format!(
          "/identities/{}/:revokeAccessTokens?api-version={V}",
          enc(&id)
        )),
    ),
    (
      "tampered query",
      call("POST", &path).signed_path("/identities?api-version=2022-10-01"),
    ),
    (
      "body does not match hash",
      call("POST", &issue_path)
        .body(body.clone())
        .claimed_hash(&hmac::content_hash(b"{}")),
    ),
    (
      "bearer not enabled",
      call("POST", &path).authorization(Some("Bearer abc")),
    ),
  ];
  for (name, call) in cases {
    let reply = h.send(call).await;
    reply.assert_error(401, "Unauthorized");
    let _ = name;
  }
  // a body swapped after signing: the hash no longer matches what was received
  let mut request = call("POST", &issue_path).body(body.clone()).build();
  *request.body_mut() = Body::from(r#"{"scopes":["voip"]}"#);
  let reply = h.raw(request).await;
  reply.assert_error(401, "Unauthorized");
  assert!(
    reply.message().contains("x-ms-content-sha256"),
    "{}",
    reply.text
  );
  // a missing date header
  let mut request = call("POST", &path).build();
  request.headers_mut().remove("x-ms-date");
  h.raw(request).await.assert_error(401, "Unauthorized");
  // still within 15 minutes
  let reply = h
    .send(call("POST", &path).date(SystemTime::now() - Duration::from_secs(14 * 60)))
    .await;
  assert_eq!(reply.status, StatusCode::CREATED);
}

#[tokio::test]
async fn refusals_never_reveal_the_expected_signature_or_key() {
  let h = Harness::new();
  let path = format!("/identities?api-version={V}");
  let request = call("POST", &path).key("d3Jvbmcga2V5").build();
  let date = request.headers()["x-ms-date"].to_str().unwrap().to_owned();
  let expected = hmac::sign(
    &hmac::decode_access_key(DEV_ACCESS_KEY),
    "POST",
    &Url::parse(&format!("http://{HOST}{path}")).unwrap(),
    b"",
    &date,
  );
  let reply = h.raw(request).await;
  reply.assert_error(401, "Unauthorized");
  let signature = expected
    .authorization
    .rsplit('=')
    .nth(1)
    .unwrap_or_default();
  assert!(!reply.text.contains(&expected.authorization));
  assert!(signature.is_empty() || !reply.text.contains(signature));
  assert!(!reply.text.contains(DEV_ACCESS_KEY));
  assert!(!format!("{:?}", h.state).contains(DEV_ACCESS_KEY));
  assert!(!format!("{:?}", EmulatorOptions::default()).contains(DEV_ACCESS_KEY));
}

#[tokio::test]
async fn the_secondary_key_and_configured_bearer_tokens_are_accepted() {
  let secondary = "c2Vjb25kYXJ5IGtleQ==";
  let h = Harness::with(EmulatorOptions {
    secondary_key: Some(secondary.into()),
    bearer_tokens: vec!["entra-token-1".into()],
    ..EmulatorOptions::default()
  });
  let path = format!("/identities?api-version={V}");
  assert_eq!(
    h.send(call("POST", &path)).await.status,
    StatusCode::CREATED
  );
  assert_eq!(
    h.send(call("POST", &path).key(secondary)).await.status,
    StatusCode::CREATED
  );
  let reply = h
    .send(call("POST", &path).authorization(Some("Bearer entra-token-1")))
    .await;
  assert_eq!(reply.status, StatusCode::CREATED);
  let reply = h
    .send(call("POST", &path).authorization(Some("Bearer entra-token-2")))
    .await;
  reply.assert_error(401, "Unauthorized");
  assert!(!reply.text.contains("entra-token-1"));
}

#[tokio::test]
async fn the_query_is_verified_as_the_js_client_and_as_python_sign_it() {
  let h = Harness::new();
  // JS re-serialises the query with URLSearchParams (%20 -> +); Python signs it raw.
  let sent = format!("/identities?api-version={V}&note=a%20b%7E");
  let js = call("POST", &sent); // hmac::sign re-serialises like URLSearchParams
  assert_eq!(h.send(js).await.status, StatusCode::CREATED);
  let date = httpdate::fmt_http_date(SystemTime::now());
  let key = hmac::decode_access_key(DEV_ACCESS_KEY);
  let hash = hmac::content_hash(b"");
  let to_sign = hmac::string_to_sign("POST", &sent, &date, HOST, &hash);
  let authorization = hmac::authorization(&hmac::signature(&key, &to_sign));
  let python = call("POST", &sent)
    .authorization(Some(&authorization))
    .date(httpdate::parse_http_date(&date).unwrap());
  assert_eq!(h.send(python).await.status, StatusCode::CREATED);
}

#[tokio::test]
async fn official_worked_vector_verifies() {
  // §3.3 A signed by the official client at a frozen clock: the emulator accepts exactly
  // that request (Host, path, date and hash) when its clock is that date.
  let options = EmulatorOptions {
    access_key: "dGVzdGtleQ==".into(),
    resource_id: Some("res".into()),
    ..EmulatorOptions::default()
  };
  let h = Harness::with(options);
  let request = Request::builder()
    .method("POST")
    .uri("/identities/8%3Aacs%3Aabc_def/:issueAccessToken?api-version=2023-10-01")
    .header("host", "contoso.communication.azure.com")
    .header("x-ms-date", "Thu, 01 Jan 2026 00:00:00 GMT")
    .header("x-ms-content-sha256", "E55T2AR1et0dXg9viVUjwxjce4gxp+nmLcQffc3NPsA=")
    .header(
      "authorization",
      "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=LEH1QAAT0w6M/GOwpyQkpJEwtrjhFKQdgcvdqJTG5G0=",
    )
    .header("content-type", "application/json")
    .body(Body::from(r#"{"scopes":["chat"],"expiresInMinutes":60}"#))
    .unwrap();
  let (parts, body) = request.into_parts();
  let body = axum::body::to_bytes(body, 1024).await.unwrap();
  let at = httpdate::parse_http_date("Thu, 01 Jan 2026 00:05:00 GMT").unwrap();
  let shared = h.shared();
  assert!(auth::authenticate(shared, &parts.method, &parts.uri, &parts.headers, &body, at).is_ok());
  let late = at + Duration::from_secs(20 * 60);
  assert!(auth::authenticate(
    shared,
    &parts.method,
    &parts.uri,
    &parts.headers,
    &body,
    late
  )
  .is_err());
  assert!(
    auth::authenticate(shared, &parts.method, &parts.uri, &parts.headers, b"{}", at).is_err()
  );
}

// ---------------------------------------------------------------------------------------
// Robustness

#[tokio::test]
async fn malformed_bodies_get_service_shaped_errors() {
  let h = Harness::new();
  let path = format!("/identities?api-version={V}");
  for body in [
    "{",
    "{\"createTokenWithScopes\":",
    "not json",
    "[1,2]",
    "\"text\"",
    "\u{0}",
  ] {
    let reply = h.send(call("POST", &path).body(body)).await;
    reply.assert_error(400, "BadRequest");
    assert!(!reply.message().contains("not json"));
  }
  let reply = h
    .send(
      call("POST", &path)
        .body("{}")
        .content_type(Some("text/plain")),
    )
    .await;
  reply.assert_error(415, "UnsupportedMediaType");
  let reply = h
    .send(call("POST", &path).body("{}").content_type(None))
    .await;
  reply.assert_error(415, "UnsupportedMediaType");
  let reply = h
    .send(
      call("POST", &path)
        .body("{}")
        .content_type(Some("application/json; charset=utf-8")),
    )
    .await;
  assert_eq!(reply.status, StatusCode::CREATED);
  // `null` and white space are an empty body
  assert_eq!(
    h.send(call("POST", &path).body("null")).await.status,
    StatusCode::CREATED
  );
  assert_eq!(
    h.send(call("POST", &path).body(" \n")).await.status,
    StatusCode::CREATED
  );
  // too large: refused before hashing or parsing
  let big = vec![b' '; MAX_BODY_BYTES + 1];
  let reply = h.send(call("POST", &path).body(big)).await;
  reply.assert_error(413, "RequestEntityTooLarge");
  // a lying Content-Length is refused too
  let mut request = call("POST", &path).body(vec![b' '; 10]).build();
  request
    .headers_mut()
    .insert("content-length", "99999999".parse().unwrap());
  h.raw(request)
    .await
    .assert_error(413, "RequestEntityTooLarge");
}

#[tokio::test]
async fn unknown_routes_and_methods_get_service_shaped_errors() {
  let h = Harness::new();
  for path in [
    "/",
    "/foo",
    "/identities/",
    "/identities/x/:nope",
    "/identities/x/y/z",
    "/teamsUser",
    "/teamsUser/:other",
  ] {
    let reply = h
      .send(call("POST", format!("{path}?api-version={V}")))
      .await;
    reply.assert_error(404, "NotFound");
  }
  for (method, path, allow) in [
    ("GET", "/identities", "POST"),
    ("PUT", "/identities/8%3Aacs%3Ax_y", "DELETE, GET"),
    ("GET", "/identities/8%3Aacs%3Ax_y/:issueAccessToken", "POST"),
    ("DELETE", "/teamsUser/:exchangeAccessToken", "POST"),
  ] {
    let reply = h
      .send(call(method, format!("{path}?api-version={V}")))
      .await;
    reply.assert_error(405, "MethodNotAllowed");
    assert_eq!(reply.headers["allow"], allow);
  }
  // literal segments are case-insensitive, as in the service
  let reply = h
    .send(call("POST", format!("/Identities?api-version={V}")))
    .await;
  assert_eq!(reply.status, StatusCode::CREATED);
}

// ---------------------------------------------------------------------------------------
// Throttling and faults

#[tokio::test]
async fn throttling_answers_429_with_retry_after_past_the_quota() {
  let h = Harness::with(EmulatorOptions {
    throttling: true,
    ..EmulatorOptions::default()
  });
  let id = h.create().await;
  for _ in 0..500 {
    assert_eq!(h.revoke(&id).await.status, StatusCode::NO_CONTENT);
  }
  let reply = h.revoke(&id).await;
  reply.assert_error(429, "TooManyRequests");
  let retry_after: u64 = reply.headers["retry-after"]
    .to_str()
    .unwrap()
    .parse()
    .unwrap();
  assert!((1..=30).contains(&retry_after));
  // another operation has its own quota
  assert_eq!(
    h.issue(&id, json!({"scopes": ["chat"]}), V).await.status,
    StatusCode::OK
  );
  // creates: 1000 per window (one was used above)
  for _ in 0..999 {
    h.create().await;
  }
  h.send(call("POST", format!("/identities?api-version={V}")))
    .await
    .assert_error(429, "TooManyRequests");
}

#[tokio::test]
async fn throttling_is_off_by_default() {
  let h = Harness::new();
  let id = h.create().await;
  for _ in 0..600 {
    assert_eq!(h.revoke(&id).await.status, StatusCode::NO_CONTENT);
  }
}

#[tokio::test]
async fn injected_status_faults_apply_to_the_next_requests() {
  let h = Harness::new();
  h.state.inject_faults(Fault {
    count: 2,
    kind: FaultKind::Status {
      status: 503,
      retry_after: Some("2".into()),
    },
  });
  h.state.inject_faults(Fault {
    count: 1,
    kind: FaultKind::Status {
      status: 429,
      retry_after: None,
    },
  });
  let path = format!("/identities?api-version={V}");
  for _ in 0..2 {
    let reply = h.send(call("POST", &path)).await;
    reply.assert_error(503, "InjectedFault");
    assert_eq!(reply.headers["retry-after"], "2");
    assert_eq!(
      reply.headers["x-ms-client-request-id"],
      "7f0c8a6e-0000-4000-8000-000000000001"
    );
  }
  let reply = h.send(call("POST", &path)).await;
  reply.assert_error(429, "InjectedFault");
  assert!(reply.headers.get("retry-after").is_none());
  assert_eq!(
    h.send(call("POST", &path)).await.status,
    StatusCode::CREATED
  );
  // faults come before authentication: even a bad request gets them
  h.state.inject_faults(Fault {
    count: 1,
    kind: FaultKind::Status {
      status: 500,
      retry_after: None,
    },
  });
  h.send(call("POST", &path).authorization(None))
    .await
    .assert_error(500, "InjectedFault");
  h.state.inject_faults(Fault {
    count: 3,
    kind: FaultKind::Status {
      status: 500,
      retry_after: None,
    },
  });
  h.state.clear_faults();
  assert_eq!(
    h.send(call("POST", &path)).await.status,
    StatusCode::CREATED
  );
}

#[tokio::test(start_paused = true)]
async fn delay_faults_delay_then_answer() {
  let h = Harness::new();
  h.state.inject_faults(Fault {
    count: 1,
    kind: FaultKind::Delay(Duration::from_secs(5)),
  });
  let started = tokio::time::Instant::now();
  let reply = h
    .send(call("POST", format!("/identities?api-version={V}")))
    .await;
  assert_eq!(reply.status, StatusCode::CREATED);
  assert!(started.elapsed() >= Duration::from_secs(5));
}

// ---------------------------------------------------------------------------------------
// Persistence

fn temp_dir(name: &str) -> std::path::PathBuf {
  std::env::temp_dir().join(format!("acs-emulator-test-{name}-{}", uuid::Uuid::new_v4()))
}

#[tokio::test]
async fn state_survives_a_restart_on_the_same_data_dir() {
  let dir = temp_dir("restart");
  let options = EmulatorOptions {
    data_dir: Some(dir.clone()),
    ..EmulatorOptions::default()
  };
  let (kept, revoked_token, deleted_token, valid_token, resource) = {
    let h = Harness::with(options.clone());
    let kept = h.create().await;
    let revoked_token = h.token(&kept).await;
    h.revoke(&kept).await;
    let valid_token = h.token(&kept).await;
    let gone = h.create().await;
    let deleted_token = h.token(&gone).await;
    h.delete(&gone).await;
    let custom = h
      .send(
        call("POST", format!("/identities?api-version={PREVIEW}"))
          .json(json!({"customId": "carol"})),
      )
      .await;
    assert_eq!(custom.status, StatusCode::CREATED);
    h.state.close().await;
    (
      kept,
      revoked_token,
      deleted_token,
      valid_token,
      h.state.resource_id().to_owned(),
    )
  };
  let h = Harness::with(options);
  assert_eq!(h.state.resource_id(), resource);
  assert_eq!(
    h.state.verify_token(&valid_token),
    TokenVerdict {
      valid: true,
      reason: None
    }
  );
  assert_eq!(h.state.verify_token(&revoked_token).reason, Some("revoked"));
  assert_eq!(h.state.verify_token(&deleted_token).reason, Some("deleted"));
  assert_eq!(
    h.issue(&kept, json!({"scopes": ["voip"]}), V).await.status,
    StatusCode::OK
  );
  let custom = h
    .send(
      call("POST", format!("/identities?api-version={PREVIEW}")).json(json!({"customId": "carol"})),
    )
    .await;
  let id = custom.json["identity"]["id"].as_str().unwrap();
  let get = h
    .send(
      call(
        "GET",
        format!("/identities/{}?api-version={PREVIEW}", enc(id)),
      )
      .content_type(None),
    )
    .await;
  assert_eq!(get.json["customId"], "carol");
  assert_eq!(h.shared().identity_count(), 3);
  h.state.close().await;
  std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn acknowledged_writes_survive_dropping_the_runtime_without_closing() {
  let dir = temp_dir("drop");
  let options = EmulatorOptions {
    data_dir: Some(dir.clone()),
    ..EmulatorOptions::default()
  };
  let ids: Vec<String> = {
    let runtime = tokio::runtime::Builder::new_multi_thread()
      .worker_threads(2)
      .enable_all()
      .build()
      .unwrap();
    let options = options.clone();
    let ids = runtime.block_on(async move {
      let h = Harness::with(options);
      let mut ids = Vec::new();
      for _ in 0..20 {
        ids.push(h.create().await);
      }
      // leak the state: nothing closes it, the runtime just goes away
      std::mem::forget(h);
      ids
    });
    drop(runtime);
    ids
  };
  // The leaked connection still holds the directory's lock: copy the files, as a restart
  // after a crash would find them.
  let copy = temp_dir("drop-copy");
  std::fs::create_dir_all(&copy).unwrap();
  for entry in std::fs::read_dir(&dir).unwrap() {
    let entry = entry.unwrap();
    std::fs::copy(entry.path(), copy.join(entry.file_name())).unwrap();
  }
  let runtime = tokio::runtime::Builder::new_current_thread()
    .enable_all()
    .build()
    .unwrap();
  runtime.block_on(async {
    let h = Harness::with(EmulatorOptions {
      data_dir: Some(copy.clone()),
      ..EmulatorOptions::default()
    });
    for id in &ids {
      assert_eq!(
        h.issue(id, json!({"scopes": ["chat"]}), V).await.status,
        StatusCode::OK,
        "{id}"
      );
    }
    h.state.close().await;
  });
  let _ = std::fs::remove_dir_all(copy);
  // The leaked store's file handle does not stop the directory from being removed.
  let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn bad_options_are_refused() {
  let empty = EmulatorOptions {
    access_key: "".into(),
    ..EmulatorOptions::default()
  };
  assert!(matches!(
    AppState::new(&empty),
    Err(EmulatorError::InvalidOption(_))
  ));
  for bad in ["", "a_b", "a:b", "a b"] {
    let options = EmulatorOptions {
      resource_id: Some(bad.into()),
      ..EmulatorOptions::default()
    };
    assert!(
      matches!(
        AppState::new(&options),
        Err(EmulatorError::InvalidOption(_))
      ),
      "{bad:?}"
    );
  }
}

#[test]
fn the_development_key_is_64_bytes() {
  assert_eq!(hmac::decode_access_key(DEV_ACCESS_KEY).len(), 64);
}
