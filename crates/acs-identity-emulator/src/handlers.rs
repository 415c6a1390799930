//! The REST operations (`docs/official-sdk.md` §4.2), routed by hand so that every refusal,
//! an unknown route or method included, gets the service's error body.
//!
//! A request goes through, in order: injected faults; routing (404, 405); `api-version`
//! (400); reading the body (413); authentication (401); the body's content type and JSON
//! (415, 400); throttling (429); the operation's own validation (400) and identity checks
//! (401 for another resource's identity, 404 for an unknown or deleted one).

use std::time::{Duration, SystemTime};

use acs_identity::models::{AccessTokenBody, CommunicationIdentity, CreateIdentityResponse};
use acs_identity::time::{format_rfc3339, from_unix_millis};
use acs_identity::token::AcsTokenClaims;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use percent_encoding::percent_decode_str;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::auth;
use crate::error::ApiError;
use crate::jwt::{EmulatorClaims, EntraClaims, RESOURCE_LOCATION, SCP};
use crate::limits::{FaultKind, Quota};
use crate::state::{now_ms, AppState, IdentityView, Missing, Shared};
use crate::store::{committed, Ack};
use crate::versions::{self, ApiVersion, Operation};

/// Bodies larger than this are refused with 413 before anything else is done with them.
pub(crate) const MAX_BODY_BYTES: usize = 1 << 20;

/// The token lifetime when `expiresInMinutes` is not given: 24 hours, as the service.
const DEFAULT_EXPIRY_MINUTES: i64 = 1440;
const MIN_EXPIRY_MINUTES: i64 = 60;
const MAX_EXPIRY_MINUTES: i64 = 1440;

/// The preview's limit on `customId` (spec: "Maximum length is 256 characters").
const MAX_CUSTOM_ID_CHARS: usize = 256;

const CLIENT_REQUEST_ID: HeaderName = HeaderName::from_static("x-ms-client-request-id");
const SUPPORTED_VERSIONS: HeaderName = HeaderName::from_static("api-supported-versions");
const MS_CV: HeaderName = HeaderName::from_static("ms-cv");
const JSON_UTF8: HeaderValue = HeaderValue::from_static("application/json; charset=utf-8");

/// Marks a response that the server must not send: it closes the connection instead (an
/// injected [`FaultKind::CloseConnection`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct CloseConnection;

/// The one handler: every request of the router comes here.
pub(crate) async fn handle(State(state): State<AppState>, request: Request) -> Response {
  let shared = &*state.shared;
  let request_id = request.headers().get(&CLIENT_REQUEST_ID).cloned();
  let mut supported = versions::ALL_VERSIONS;
  let mut response = match process(shared, request, &mut supported).await {
    Ok(response) => response,
    Err(error) => error.into_response(),
  };
  let headers = response.headers_mut();
  if let Some(request_id) = request_id {
    headers.insert(CLIENT_REQUEST_ID, request_id);
  }
  headers.insert(SUPPORTED_VERSIONS, HeaderValue::from_static(supported));
  headers.insert(MS_CV, shared.correlation_vector());
  response
}

async fn process(
  shared: &Shared,
  request: Request,
  supported: &mut &'static str,
) -> Result<Response, ApiError> {
  if let Some(fault) = shared.faults.take() {
    match fault {
      FaultKind::Delay(delay) => tokio::time::sleep(delay).await,
      FaultKind::Status {
        status,
        retry_after,
      } => {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return Err(
          ApiError::new(
            status,
            "InjectedFault",
            format!(
              "This response (status {}) was injected by the emulator.",
              status.as_u16()
            ),
          )
          .with_retry_after(retry_after),
        );
      }
      FaultKind::CloseConnection => {
        let mut response = StatusCode::SERVICE_UNAVAILABLE.into_response();
        response.extensions_mut().insert(CloseConnection);
        return Ok(response);
      }
    }
  }

  let (parts, body) = request.into_parts();
  let (operation, raw_id) = route(parts.uri.path(), &parts.method)?;
  *supported = operation.supported_versions();
  let version = api_version(shared, &parts.uri, &parts.headers, operation)?;
  let body = read_body(&parts.headers, body).await?;
  auth::authenticate(
    shared,
    &parts.method,
    &parts.uri,
    &parts.headers,
    &body,
    SystemTime::now(),
  )?;
  let json = match operation {
    Operation::Create | Operation::IssueAccessToken | Operation::ExchangeTeamsUserAccessToken => {
      json_object(&parts.headers, &body)?
    }
    // These take no body; one sent anyway was hashed and signed, and is otherwise ignored.
    Operation::Get | Operation::Delete | Operation::RevokeAccessTokens => Map::new(),
  };
  if let Some(throttle) = &shared.throttle {
    if let Some(quota) = quota(operation, &json) {
      throttle.check(quota).map_err(|seconds| {
        ApiError::new(
          StatusCode::TOO_MANY_REQUESTS,
          "TooManyRequests",
          format!(
            "Rate limit exceeded: this operation allows {} requests per 30 seconds. Retry after {seconds} seconds.",
            quota.limit()
          ),
        )
        .with_retry_after(Some(seconds.to_string()))
      })?;
    }
  }
  match operation {
    Operation::Create => create(shared, version, &json).await,
    Operation::IssueAccessToken => issue(shared, version, raw_id, &json).await,
    Operation::RevokeAccessTokens => revoke(shared, raw_id).await,
    Operation::Delete => delete(shared, raw_id).await,
    Operation::Get => get(shared, raw_id).await,
    Operation::ExchangeTeamsUserAccessToken => exchange(shared, &json),
  }
}

/// Finds the operation of a path (still percent-encoded) and method. Literal segments match
/// case-insensitively, as the service's ASP.NET routing does.
fn route<'p>(path: &'p str, method: &Method) -> Result<(Operation, &'p str), ApiError> {
  let segments = path.strip_prefix('/').unwrap_or(path);
  let mut parts = segments.split('/');
  let first = parts.next().unwrap_or_default();
  let second = parts.next();
  let third = parts.next();
  let extra = parts.next();
  let not_found = || {
    ApiError::new(
      StatusCode::NOT_FOUND,
      "NotFound",
      format!("No operation matches {method} {path}."),
    )
  };
  let allowed = |operation: Operation, allow: &'static str, ok: bool| {
    if ok {
      Ok(operation)
    } else {
      Err(
        ApiError::new(
          StatusCode::METHOD_NOT_ALLOWED,
          "MethodNotAllowed",
          format!("{method} is not allowed on {path}; allowed: {allow}."),
        )
        .with_allow(allow),
      )
    }
  };
  if extra.is_some() {
    return Err(not_found());
  }
  if first.eq_ignore_ascii_case("identities") {
    match (second, third) {
      (None, None) => allowed(Operation::Create, "POST", method == Method::POST).map(|op| (op, "")),
      (Some(id), None) if !id.is_empty() => match *method {
        Method::DELETE => Ok((Operation::Delete, id)),
        Method::GET => Ok((Operation::Get, id)),
        _ => allowed(Operation::Delete, "DELETE, GET", false).map(|op| (op, id)),
      },
      (Some(id), Some(action)) if !id.is_empty() => {
        let operation = if action.eq_ignore_ascii_case(":issueAccessToken") {
          Operation::IssueAccessToken
        } else if action.eq_ignore_ascii_case(":revokeAccessTokens") {
          Operation::RevokeAccessTokens
        } else {
          return Err(not_found());
        };
        allowed(operation, "POST", method == Method::POST).map(|op| (op, id))
      }
      _ => Err(not_found()),
    }
  } else if first.eq_ignore_ascii_case("teamsUser")
    && second.is_some_and(|s| s.eq_ignore_ascii_case(":exchangeAccessToken"))
    && third.is_none()
  {
    allowed(
      Operation::ExchangeTeamsUserAccessToken,
      "POST",
      method == Method::POST,
    )
    .map(|op| (op, ""))
  } else {
    Err(not_found())
  }
}

/// Reads `api-version` from the query.
///
/// The codes and messages are those of ASP.NET API Versioning, which the service's
/// `api-supported-versions` header shows it uses: `ApiVersionUnspecified` when the
/// parameter is missing, `UnsupportedApiVersion` for a version the service does not have or
/// that lacks the operation (both 400).
fn api_version(
  shared: &Shared,
  uri: &Uri,
  headers: &HeaderMap,
  operation: Operation,
) -> Result<ApiVersion, ApiError> {
  let query = uri.query().unwrap_or_default();
  let requested = url::form_urlencoded::parse(query.as_bytes())
    .find(|(name, _)| name.eq_ignore_ascii_case("api-version"))
    .map(|(_, value)| value);
  let Some(requested) = requested else {
    return Err(ApiError::new(
      StatusCode::BAD_REQUEST,
      "ApiVersionUnspecified",
      "An API version is required, but was not specified.",
    ));
  };
  match ApiVersion::parse(&requested) {
    Some(version) if operation.supports(version) => Ok(version),
    _ => {
      let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
      let target = uri.path_and_query().map_or("/", |pq| pq.as_str());
      Err(ApiError::new(
        StatusCode::BAD_REQUEST,
        "UnsupportedApiVersion",
        format!(
          "The HTTP resource that matches the request URI '{}://{host}{target}' does not support the API version '{}'. {} is served with api-version {}.",
          shared.scheme,
          clip(&requested),
          operation.describe(),
          operation.supported_versions()
        ),
      ))
    }
  }
}

/// Reads the whole body, refusing more than [`MAX_BODY_BYTES`].
async fn read_body(headers: &HeaderMap, mut body: Body) -> Result<Vec<u8>, ApiError> {
  let too_large = || {
    ApiError::new(
      StatusCode::PAYLOAD_TOO_LARGE,
      "RequestEntityTooLarge",
      format!("The request body is larger than {MAX_BODY_BYTES} bytes."),
    )
  };
  let declared = headers
    .get(header::CONTENT_LENGTH)
    .and_then(|v| v.to_str().ok())
    .and_then(|v| v.parse::<u64>().ok());
  if declared.is_some_and(|len| len > MAX_BODY_BYTES as u64) {
    return Err(too_large());
  }
  let mut bytes = Vec::with_capacity(declared.map_or(0, |len| len as usize));
  while let Some(frame) = body.frame().await {
    let frame = frame.map_err(|_| ApiError::bad_body("The request body could not be read."))?;
    if let Ok(data) = frame.into_data() {
      if bytes.len() + data.len() > MAX_BODY_BYTES {
        return Err(too_large());
      }
      bytes.extend_from_slice(&data);
    }
  }
  Ok(bytes)
}

/// The body as a JSON object: empty or `null` is an empty object (every field absent).
fn json_object(headers: &HeaderMap, body: &[u8]) -> Result<Map<String, Value>, ApiError> {
  if body.iter().all(u8::is_ascii_whitespace) {
    return Ok(Map::new());
  }
  let content_type = headers
    .get(header::CONTENT_TYPE)
    .and_then(|v| v.to_str().ok())
    .unwrap_or("");
  let media_type = content_type.split(';').next().unwrap_or("").trim();
  if !(media_type.eq_ignore_ascii_case("application/json")
    || media_type.to_ascii_lowercase().ends_with("+json"))
  {
    return Err(ApiError::new(
      StatusCode::UNSUPPORTED_MEDIA_TYPE,
      "UnsupportedMediaType",
      if media_type.is_empty() {
        "The request has a body but no Content-Type: send it as application/json.".to_owned()
      } else {
        format!("Content-Type '{media_type}' is not supported: send the body as application/json.")
      },
    ));
  }
  match serde_json::from_slice::<Value>(body) {
    Ok(Value::Object(map)) => Ok(map),
    Ok(Value::Null) => Ok(Map::new()),
    Ok(_) => Err(ApiError::bad_body(
      "The request body must be a JSON object.",
    )),
    Err(e) => Err(ApiError::bad_body(format!(
      "The request body is not valid JSON: {} at line {} column {}.",
      match e.classify() {
        serde_json::error::Category::Eof => "it ends too early",
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Data | serde_json::error::Category::Io => "unreadable",
      },
      e.line(),
      e.column()
    ))),
  }
}

/// The quota a request counts against (`GET /identities/{id}` has none).
fn quota(operation: Operation, json: &Map<String, Value>) -> Option<Quota> {
  Some(match operation {
    Operation::Create => {
      let with_token = field(json, "createTokenWithScopes")
        .and_then(Value::as_array)
        .is_some_and(|scopes| !scopes.is_empty());
      if with_token {
        Quota::CreateWithToken
      } else {
        Quota::Create
      }
    }
    Operation::IssueAccessToken => Quota::Issue,
    Operation::RevokeAccessTokens => Quota::Revoke,
    Operation::Delete => Quota::Delete,
    Operation::ExchangeTeamsUserAccessToken => Quota::Exchange,
    Operation::Get => return None,
  })
}

/// A field of the body; names match case-insensitively, as in the service's JSON binding.
/// `null` is the same as absent.
fn field<'a>(json: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
  json
    .get(name)
    .or_else(|| {
      json
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
    })
    .filter(|value| !value.is_null())
}

/// Validates a scope list for `version`; `None` means the field is absent.
fn scopes(value: Option<&Value>, version: ApiVersion) -> Result<Option<Vec<&str>>, ApiError> {
  let Some(value) = value else { return Ok(None) };
  let Some(items) = value.as_array() else {
    return Err(ApiError::validation(
      "Invalid scopes - Scopes must be an array of scope names.",
      "scopes",
    ));
  };
  let known = version.scopes();
  let mut scopes = Vec::with_capacity(items.len());
  for item in items {
    match item.as_str() {
      Some(scope) if known.contains(&scope) => scopes.push(scope),
      Some(scope) => {
        return Err(ApiError::validation(
          format!(
            "Invalid scopes - '{}' is not a valid scope for api-version {}. Valid scopes are: {}.",
            clip(scope),
            version.as_str(),
            known.join(", ")
          ),
          "scopes",
        ))
      }
      None => {
        return Err(ApiError::validation(
          "Invalid scopes - Scopes must be an array of scope names.",
          "scopes",
        ))
      }
    }
  }
  Ok(Some(scopes))
}

/// Validates `expiresInMinutes` (versions before 2022-10-01 do not have it and ignore it).
fn expires_in_minutes(json: &Map<String, Value>, version: ApiVersion) -> Result<i64, ApiError> {
  if !version.has_custom_expiry() {
    return Ok(DEFAULT_EXPIRY_MINUTES);
  }
  let Some(value) = field(json, "expiresInMinutes") else {
    return Ok(DEFAULT_EXPIRY_MINUTES);
  };
  let Some(minutes) = value.as_i64() else {
    return Err(ApiError::validation(
      format!(
        "ExpiresInMinutes value {} is invalid. Value must be an integer within the [60, 1440] interval.",
        clip(&value.to_string())
      ),
      "ExpiresInMinutes",
    ));
  };
  if !(MIN_EXPIRY_MINUTES..=MAX_EXPIRY_MINUTES).contains(&minutes) {
    return Err(ApiError::validation(
      format!("ExpiresInMinutes value {minutes} is invalid. Value must be within the [60, 1440] interval."),
      "ExpiresInMinutes",
    ));
  }
  Ok(minutes)
}

/// `POST /identities`.
async fn create(
  shared: &Shared,
  version: ApiVersion,
  json: &Map<String, Value>,
) -> Result<Response, ApiError> {
  // `customId` exists only in the preview; other versions ignore it, as the service ignores
  // a property its model of that version does not have.
  let custom_id = if version.is_preview() {
    match field(json, "customId") {
      None => None,
      Some(Value::String(custom_id))
        if !custom_id.is_empty() && custom_id.chars().count() <= MAX_CUSTOM_ID_CHARS =>
      {
        Some(custom_id.as_str())
      }
      Some(_) => {
        return Err(ApiError::validation(
          "CustomId: The field CustomId must be a string with a minimum length of 1 and a maximum length of 256.",
          "CustomId",
        ))
      }
    }
  } else {
    None
  };
  let scopes = scopes(field(json, "createTokenWithScopes"), version)?;
  let minutes = expires_in_minutes(json, version)?;
  // An empty scope list issues no token: the response has no accessToken (the official
  // client's `createUserAndToken([])` relies on that).
  let scopes = scopes.filter(|s| !s.is_empty());
  let now = now_ms();
  let (identity, iat_ms, ack) = shared.create(custom_id, scopes.is_some(), now);
  wait(shared, ack).await?;
  let access_token = match (scopes, iat_ms) {
    (Some(scopes), Some(iat_ms)) => Some(mint_for_identity(
      shared,
      &identity.id,
      &scopes,
      iat_ms,
      minutes,
    )),
    _ => None,
  };
  let body = CreateIdentityResponse {
    identity: identity_body(identity, version),
    access_token,
  };
  Ok(json_response(StatusCode::CREATED, &body))
}

/// `POST /identities/{id}/:issueAccessToken`.
async fn issue(
  shared: &Shared,
  version: ApiVersion,
  raw_id: &str,
  json: &Map<String, Value>,
) -> Result<Response, ApiError> {
  let id = own_identity(shared, raw_id)?;
  let scopes = scopes(field(json, "scopes"), version)?
    .filter(|s| !s.is_empty())
    .ok_or_else(|| ApiError::validation("Invalid scopes - Scopes field is required.", "scopes"))?;
  let minutes = expires_in_minutes(json, version)?;
  let (iat_ms, ack) = shared.issue(&id, now_ms()).map_err(|m| missing(&id, m))?;
  wait(shared, ack).await?;
  let token = mint_for_identity(shared, &id, &scopes, iat_ms, minutes);
  Ok(json_response(StatusCode::OK, &token))
}

/// `POST /identities/{id}/:revokeAccessTokens`.
async fn revoke(shared: &Shared, raw_id: &str) -> Result<Response, ApiError> {
  let id = own_identity(shared, raw_id)?;
  let ack = shared.revoke(&id, now_ms()).map_err(|m| missing(&id, m))?;
  wait(shared, ack).await?;
  Ok(StatusCode::NO_CONTENT.into_response())
}

/// `DELETE /identities/{id}`.
async fn delete(shared: &Shared, raw_id: &str) -> Result<Response, ApiError> {
  let id = own_identity(shared, raw_id)?;
  let ack = shared.delete(&id, now_ms()).map_err(|m| missing(&id, m))?;
  wait(shared, ack).await?;
  Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /identities/{id}` (preview).
async fn get(shared: &Shared, raw_id: &str) -> Result<Response, ApiError> {
  let id = own_identity(shared, raw_id)?;
  let (identity, ack) = shared.get(&id).map_err(|m| missing(&id, m))?;
  wait(shared, ack).await?;
  Ok(json_response(
    StatusCode::OK,
    &identity_body(identity, ApiVersion::V2025_03_02Preview),
  ))
}

/// `POST /teamsUser/:exchangeAccessToken`: checks the Entra token's `appid`, `oid` and
/// `exp` with the service's codes and messages (§4.4); the ACS token expires with it.
///
/// The order of the checks, where the service's is unknown: required fields (model
/// validation runs first in the service's framework), then the formats of `appId` and
/// `userId`, then the token (401), then whether `appId` and `userId` match it.
fn exchange(shared: &Shared, json: &Map<String, Value>) -> Result<Response, ApiError> {
  let text = |name: &str| field(json, name).and_then(Value::as_str).unwrap_or("");
  let (token, app_id, user_id) = (text("token"), text("appId"), text("userId"));
  if app_id.is_empty() {
    return Err(ApiError::validation(
      "AppId: The AppId field is required.",
      "AppId",
    ));
  }
  if user_id.is_empty() {
    return Err(ApiError::validation(
      "UserId: The UserId field is required.",
      "UserId",
    ));
  }
  let app_guid = uuid::Uuid::try_parse(app_id)
    .map_err(|_| ApiError::validation("Provided AppId has invalid format.", "appId"))?;
  let user_guid = uuid::Uuid::try_parse(user_id)
    .map_err(|_| ApiError::validation("Provided UserId has invalid format.", "userId"))?;
  let invalid_token = || {
    ApiError::new(
      StatusCode::UNAUTHORIZED,
      "InvalidAccessToken",
      "Provided access token is not valid.",
    )
  };
  let claims: EntraClaims =
    acs_identity::token::decode_jwt_payload(token).map_err(|_| invalid_token())?;
  let now = now_ms();
  let exp = claims.exp_seconds().ok_or_else(invalid_token)?;
  if exp.saturating_mul(1000) <= now {
    return Err(invalid_token());
  }
  let (Some(token_app), Some(token_user)) = (claims.app_id(), claims.oid.as_deref()) else {
    return Err(invalid_token());
  };
  if uuid::Uuid::try_parse(token_app).ok() != Some(app_guid) {
    return Err(ApiError::validation(
      "AAD application is not the expected one.",
      "appId",
    ));
  }
  if uuid::Uuid::try_parse(token_user).ok() != Some(user_guid) {
    return Err(ApiError::validation(
      "Provided AAD token issued for unexpected user.",
      "userId",
    ));
  }
  let iat_ms = now;
  let claims = EmulatorClaims {
    acs: AcsTokenClaims {
      skypeid: format!("orgid:{user_guid}"),
      scp: SCP,
      csi: iat_ms.div_euclid(1000).to_string(),
      iat: iat_ms.div_euclid(1000),
      exp,
      acs_scope: "chat,voip".to_owned(),
      resource_id: shared.resource_id.to_string(),
      resource_location: Some(RESOURCE_LOCATION.to_owned()),
    },
    iat_ms,
  };
  let body = AccessTokenBody {
    token: shared.signer.mint(&claims),
    expires_on: format_rfc3339(from_unix_millis(exp.saturating_mul(1000))),
  };
  Ok(json_response(StatusCode::OK, &body))
}

/// The identity id of the path, which must be one of this resource's: any other id is
/// answered 401, as the service answers an identity of another resource (§6.1: the official
/// tests expect 401 for `8:acs:00000000-…_00000000-…`).
fn own_identity(shared: &Shared, raw_id: &str) -> Result<String, ApiError> {
  let id = percent_decode_str(raw_id).decode_utf8().ok();
  match id {
    Some(id) if id.len() > shared.id_prefix.len() && id.starts_with(&*shared.id_prefix) => {
      Ok(id.into_owned())
    }
    _ => Err(ApiError::unauthorized(
      "The identity does not belong to this Communication Services resource.",
    )),
  }
}

/// An identity of this resource that does not exist (any more): 404 `IdentityNotFound`.
///
/// The service's answer is not recorded anywhere we know of. 404 is the strict choice: a
/// client that handles it works whether the service answers 404 or succeeds, while the
/// reverse (the emulator succeeding where the service refuses) would hide a bug until
/// production. Deleting twice is therefore 404 too.
fn missing(id: &str, why: Missing) -> ApiError {
  ApiError::new(
    StatusCode::NOT_FOUND,
    "IdentityNotFound",
    match why {
      Missing::Unknown => format!("Identity '{id}' does not exist."),
      Missing::Deleted => format!("Identity '{id}' was deleted."),
    },
  )
}

/// Waits for a write to be committed before answering.
async fn wait(shared: &Shared, ack: Option<Ack>) -> Result<(), ApiError> {
  match ack {
    None => Ok(()),
    Some(ack) => committed(ack).await.map_err(|reason| {
      if shared.debug {
        eprintln!("[acs-identity-emulator] storage write failed: {reason}");
      }
      ApiError::internal("The emulator could not store the change; retry the request.")
    }),
  }
}

fn mint_for_identity(
  shared: &Shared,
  id: &str,
  scopes: &[&str],
  iat_ms: i64,
  minutes: i64,
) -> AccessTokenBody {
  let iat = iat_ms.div_euclid(1000);
  let claims = EmulatorClaims {
    acs: AcsTokenClaims {
      skypeid: id.strip_prefix("8:").unwrap_or(id).to_owned(),
      scp: SCP,
      csi: iat.to_string(),
      iat,
      exp: iat + minutes * 60,
      acs_scope: scopes.join(","),
      resource_id: shared.resource_id.to_string(),
      resource_location: Some(RESOURCE_LOCATION.to_owned()),
    },
    iat_ms,
  };
  AccessTokenBody {
    token: shared.signer.mint(&claims),
    expires_on: format_rfc3339(
      from_unix_millis(iat_ms) + Duration::from_secs(u64::try_from(minutes * 60).unwrap_or(0)),
    ),
  }
}

/// The identity as the version describes it: `customId` and `lastTokenIssuedAt` exist only
/// in the preview.
fn identity_body(identity: IdentityView, version: ApiVersion) -> CommunicationIdentity {
  if version.is_preview() {
    CommunicationIdentity {
      id: identity.id,
      custom_id: identity.custom_id,
      last_token_issued_at: identity
        .last_token_issued_at_ms
        .map(|ms| format_rfc3339(from_unix_millis(ms))),
    }
  } else {
    CommunicationIdentity {
      id: identity.id,
      custom_id: None,
      last_token_issued_at: None,
    }
  }
}

/// A value quoted from the request in a message, cut to a length a person reads: the body
/// may hold a megabyte of it.
fn clip(text: &str) -> std::borrow::Cow<'_, str> {
  const MAX: usize = 64;
  match text.char_indices().nth(MAX) {
    None => std::borrow::Cow::Borrowed(text),
    Some((end, _)) => std::borrow::Cow::Owned(format!("{}…", &text[..end])),
  }
}

fn json_response(status: StatusCode, body: &impl Serialize) -> Response {
  match serde_json::to_vec(body) {
    Ok(bytes) => {
      let mut response = (status, bytes).into_response();
      response
        .headers_mut()
        .insert(header::CONTENT_TYPE, JSON_UTF8);
      response
    }
    Err(_) => ApiError::internal("The response could not be serialised.").into_response(),
  }
}
