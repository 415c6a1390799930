//! [`IdentityClient`]: the operations of the ACS Identity service.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::auth::{AccessKeyCredential, AccessToken, BearerTokenCache, Credential};
use crate::connection_string::ConnectionString;
use crate::error::{Error, ErrorKind, Result};
use crate::models::{
  CreateIdentityRequest, CreateIdentityResponse, IssueAccessTokenRequest,
  TeamsUserExchangeTokenRequest,
};
use crate::pipeline::{Auth, Pipeline, Request};
use crate::retry::RetryOptions;
use crate::secret::Secret;
use crate::time::parse_rfc3339;

/// The api-version the client sends by default, as `@azure/communication-identity` 1.3.1.
pub const DEFAULT_API_VERSION: &str = "2023-10-01";
/// The api-version of the operations that exist only in the preview: `customId` and
/// `getUserDetail`.
pub const PREVIEW_API_VERSION: &str = "2025-03-02-preview";
/// The per-attempt timeout used when the caller sets none. The official client has no
/// timeout at all, so a silent network can hang a request forever; we never do.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Settings of an [`IdentityClient`].
#[derive(Debug, Clone)]
pub struct IdentityClientOptions {
  /// The api-version to send. The default is [`DEFAULT_API_VERSION`].
  pub api_version: String,
  /// Retry settings.
  pub retry: RetryOptions,
  /// Put before the `User-Agent`, e.g. `myapp/1.0`.
  pub user_agent_prefix: Option<String>,
  /// Allow plain `http://` to a host that is not loopback. Plain HTTP to loopback (the
  /// local emulator) is always allowed.
  pub allow_insecure_connection: bool,
  /// The timeout of one attempt when an operation sets none. The default is
  /// [`DEFAULT_TIMEOUT`].
  pub timeout: Duration,
  /// Extra PEM certificates to trust besides the system's roots (the Node binding passes
  /// `NODE_EXTRA_CA_CERTS` here, so the emulator's self-signed certificate can be trusted).
  pub extra_root_certificates_pem: Vec<Vec<u8>>,
  /// Responses larger than this are refused. The default is 1 MiB.
  pub max_response_bytes: usize,
  /// The product name and version at the start of the `User-Agent`.
  pub user_agent: String,
}

impl Default for IdentityClientOptions {
  fn default() -> Self {
    Self {
      api_version: DEFAULT_API_VERSION.to_owned(),
      retry: RetryOptions::default(),
      user_agent_prefix: None,
      allow_insecure_connection: false,
      timeout: DEFAULT_TIMEOUT,
      extra_root_certificates_pem: Vec::new(),
      max_response_bytes: 1 << 20,
      user_agent: format!(
        "acs-identity-rs/{} ({}; {})",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH
      ),
    }
  }
}

/// Settings of one operation.
#[derive(Debug, Clone, Default)]
pub struct OperationOptions {
  /// The timeout of each attempt; the client's when `None`.
  pub timeout: Option<Duration>,
  /// Extra headers to send. An `x-ms-client-request-id` given here is used as the
  /// operation's request id.
  pub headers: Vec<(String, String)>,
  /// Cancels the operation, including a retry wait, when cancelled.
  pub cancellation: Option<CancellationToken>,
}

/// A Communication Services user.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CommunicationUserIdentifier {
  /// The identity id, e.g. `8:acs:<resource>_<guid>`.
  pub communication_user_id: String,
}

/// The result of [`IdentityClient::create_user_and_token`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommunicationUserToken {
  /// The token; `None` only when the service issued none (as for an empty scope list).
  pub access_token: Option<AccessToken>,
  /// The new user.
  pub user: CommunicationUserIdentifier,
}

/// The result of [`IdentityClient::get_user_detail`] (preview).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommunicationUserDetail {
  /// The user.
  pub user: CommunicationUserIdentifier,
  /// The custom id the user was created with.
  pub custom_id: Option<String>,
  /// When a token was last issued for the user.
  pub last_token_issued_at: Option<SystemTime>,
}

/// What [`IdentityClient::get_token_for_teams_user`] exchanges.
#[derive(Clone)]
pub struct TeamsUserTokenRequest {
  /// The Teams user's Entra ID access token.
  pub teams_user_aad_token: Secret,
  /// The Entra application (client) id.
  pub client_id: String,
  /// The Teams user's Entra object id.
  pub user_object_id: String,
}

/// A client of the ACS Identity service. Cloning is cheap and shares the connection pool.
#[derive(Debug, Clone)]
pub struct IdentityClient {
  pipeline: Arc<Pipeline>,
  api_version: Arc<str>,
}

/// Characters `encodeURIComponent` leaves as they are.
const URI_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
  .remove(b'-')
  .remove(b'_')
  .remove(b'.')
  .remove(b'!')
  .remove(b'~')
  .remove(b'*')
  .remove(b'\'')
  .remove(b'(')
  .remove(b')');

impl IdentityClient {
  /// A client for `endpoint` (e.g. `https://contoso.communication.azure.com`).
  ///
  /// # Errors
  /// [`ErrorKind::InvalidArgument`] when the endpoint is not an `http(s)` URL without a
  /// path, or is plain `http` to a host that is not loopback without
  /// `allow_insecure_connection`; or when a certificate in the options is not valid PEM.
  pub fn new(
    endpoint: &str,
    credential: Credential,
    options: IdentityClientOptions,
  ) -> Result<Self> {
    let base = parse_endpoint(endpoint, options.allow_insecure_connection)?;
    let auth = match credential {
      Credential::AccessKey(key) => Auth::Key(key),
      Credential::Token(token) => Auth::Bearer(BearerTokenCache::new(token)),
    };
    let api_version: Arc<str> = Arc::from(options.api_version.as_str());
    let pipeline = Pipeline::new(base, auth, options)?;
    Ok(Self {
      pipeline: Arc::new(pipeline),
      api_version,
    })
  }

  /// A client from a connection string `endpoint=…;accesskey=…`.
  ///
  /// # Errors
  /// [`ErrorKind::InvalidArgument`] for a malformed connection string (the message never
  /// repeats the key) or endpoint.
  pub fn from_connection_string(
    connection_string: &str,
    options: IdentityClientOptions,
  ) -> Result<Self> {
    let parsed = ConnectionString::parse(connection_string)?;
    Self::new(
      &parsed.endpoint,
      Credential::AccessKey(AccessKeyCredential::new(parsed.access_key)),
      options,
    )
  }

  /// The access key credential, when the client signs with one (to rotate the key).
  pub fn access_key(&self) -> Option<&AccessKeyCredential> {
    match &self.pipeline.auth {
      Auth::Key(key) => Some(key),
      Auth::Bearer(_) => None,
    }
  }

  /// Creates a user (`POST /identities`, no body). With `custom_id` (preview) the same custom
  /// id returns the same user.
  pub async fn create_user(
    &self,
    custom_id: Option<&str>,
    options: &OperationOptions,
  ) -> Result<CommunicationUserIdentifier> {
    let (body, version) = match custom_id {
      Some(id) => {
        let request = CreateIdentityRequest {
          custom_id: Some(id.to_owned()),
          ..Default::default()
        };
        (Some(to_json(&request)?), PREVIEW_API_VERSION)
      }
      None => (None, &*self.api_version),
    };
    let request = Request::post("/identities".to_owned(), version, body, 201).json_content_type();
    let response: CreateIdentityResponse = self.pipeline.send_json(request, options).await?;
    Ok(user(response.identity.id))
  }

  /// Creates a user and a token for `scopes` in one call.
  pub async fn create_user_and_token<S: AsRef<str>>(
    &self,
    scopes: &[S],
    expires_in_minutes: Option<i64>,
    custom_id: Option<&str>,
    options: &OperationOptions,
  ) -> Result<CommunicationUserToken> {
    let request = CreateIdentityRequest {
      custom_id: custom_id.map(str::to_owned),
      create_token_with_scopes: Some(scopes.iter().map(|s| s.as_ref().to_owned()).collect()),
      expires_in_minutes,
    };
    let version = if custom_id.is_some() {
      PREVIEW_API_VERSION
    } else {
      &*self.api_version
    };
    let request = Request::post(
      "/identities".to_owned(),
      version,
      Some(to_json(&request)?),
      201,
    )
    .json_content_type();
    let response: CreateIdentityResponse = self.pipeline.send_json(request, options).await?;
    let access_token = response
      .access_token
      .map(|t| access_token(t.token, &t.expires_on))
      .transpose()?;
    Ok(CommunicationUserToken {
      access_token,
      user: user(response.identity.id),
    })
  }

  /// Issues a token for an existing user.
  pub async fn get_token<S: AsRef<str>>(
    &self,
    user_id: &str,
    scopes: &[S],
    expires_in_minutes: Option<i64>,
    options: &OperationOptions,
  ) -> Result<AccessToken> {
    let body = IssueAccessTokenRequest {
      scopes: scopes.iter().map(|s| s.as_ref().to_owned()).collect(),
      expires_in_minutes,
    };
    let path = format!("/identities/{}/:issueAccessToken", encode_id(user_id));
    let request =
      Request::post(path, &self.api_version, Some(to_json(&body)?), 200).json_content_type();
    let token: crate::models::AccessTokenBody = self.pipeline.send_json(request, options).await?;
    access_token(token.token, &token.expires_on)
  }

  /// Revokes every token issued for the user so far.
  pub async fn revoke_tokens(&self, user_id: &str, options: &OperationOptions) -> Result<()> {
    let path = format!("/identities/{}/:revokeAccessTokens", encode_id(user_id));
    let request = Request::post(path, &self.api_version, None, 204);
    self.pipeline.send(request, options).await.map(drop)
  }

  /// Deletes the user and revokes its tokens.
  pub async fn delete_user(&self, user_id: &str, options: &OperationOptions) -> Result<()> {
    let path = format!("/identities/{}", encode_id(user_id));
    let request = Request::delete(path, &self.api_version, 204);
    self.pipeline.send(request, options).await.map(drop)
  }

  /// Exchanges a Teams user's Entra ID token for an ACS token.
  pub async fn get_token_for_teams_user(
    &self,
    exchange: &TeamsUserTokenRequest,
    options: &OperationOptions,
  ) -> Result<AccessToken> {
    let body = TeamsUserExchangeTokenRequest {
      token: exchange.teams_user_aad_token.expose().to_owned(),
      app_id: exchange.client_id.clone(),
      user_id: exchange.user_object_id.clone(),
    };
    let request = Request::post(
      "/teamsUser/:exchangeAccessToken".to_owned(),
      &self.api_version,
      Some(to_json(&body)?),
      200,
    )
    .json_content_type();
    let token: crate::models::AccessTokenBody = self.pipeline.send_json(request, options).await?;
    access_token(token.token, &token.expires_on)
  }

  /// Reads a user's details (preview: `GET /identities/{id}`).
  pub async fn get_user_detail(
    &self,
    user_id: &str,
    options: &OperationOptions,
  ) -> Result<CommunicationUserDetail> {
    let path = format!("/identities/{}", encode_id(user_id));
    let request = Request::get(path, PREVIEW_API_VERSION, 200);
    let identity: crate::models::CommunicationIdentity =
      self.pipeline.send_json(request, options).await?;
    let last_token_issued_at = match identity.last_token_issued_at {
      Some(text) => Some(parse_rfc3339(&text).ok_or_else(|| {
        Error::new(
          ErrorKind::Decode,
          "the service returned a lastTokenIssuedAt that is not a date",
        )
      })?),
      None => None,
    };
    Ok(CommunicationUserDetail {
      user: user(identity.id),
      custom_id: identity.custom_id,
      last_token_issued_at,
    })
  }
}

fn user(id: String) -> CommunicationUserIdentifier {
  CommunicationUserIdentifier {
    communication_user_id: id,
  }
}

/// Percent-encodes an identity id for the path, as `encodeURIComponent` does.
pub fn encode_id(id: &str) -> String {
  utf8_percent_encode(id, URI_COMPONENT).to_string()
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<Vec<u8>> {
  serde_json::to_vec(value)
    .map_err(|e| Error::invalid_argument(format!("cannot serialise the request: {e}")))
}

fn access_token(token: String, expires_on: &str) -> Result<AccessToken> {
  let expires_on = parse_rfc3339(expires_on).ok_or_else(|| {
    Error::new(
      ErrorKind::Decode,
      "the service returned an expiresOn that is not a date",
    )
  })?;
  Ok(AccessToken {
    token: Secret::new(token),
    expires_on,
  })
}

/// Checks an endpoint as the official client does (an `http`/`https` URL with a host and no
/// path), and refuses plain HTTP to a remote host unless allowed.
fn parse_endpoint(endpoint: &str, allow_insecure: bool) -> Result<Url> {
  let url = Url::parse(endpoint.trim())
    .map_err(|e| Error::invalid_argument(format!("invalid endpoint url {endpoint:?}: {e}")))?;
  if !matches!(url.scheme(), "http" | "https") {
    return Err(Error::invalid_argument(format!(
      "invalid endpoint url {endpoint:?}: the scheme must be https (or http)"
    )));
  }
  if url.host_str().is_none_or(str::is_empty) {
    return Err(Error::invalid_argument(format!(
      "invalid endpoint url {endpoint:?}: it has no host"
    )));
  }
  if !matches!(url.path(), "" | "/") {
    return Err(Error::invalid_argument(format!(
      "invalid endpoint url {endpoint:?}: it must not have a path"
    )));
  }
  if url.scheme() == "http" && !allow_insecure && !is_loopback(&url) {
    return Err(Error::invalid_argument(format!(
      "refusing plain http to {endpoint:?}: the access key and tokens would cross the network unencrypted; use https, or set allowInsecureConnection"
    )));
  }
  Ok(url)
}

fn is_loopback(url: &Url) -> bool {
  match url.host() {
    Some(url::Host::Domain(name)) => {
      name.eq_ignore_ascii_case("localhost") || name.to_ascii_lowercase().ends_with(".localhost")
    }
    Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
    Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
    None => false,
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn debug_output_never_shows_the_key() {
    let client = IdentityClient::from_connection_string(
      "endpoint=https://r.communication.azure.com/;accesskey=c3VwZXItc2VjcmV0LWtleQ==",
      IdentityClientOptions::default(),
    )
    .unwrap();
    let debug = format!("{client:?}");
    assert!(debug.contains("r.communication.azure.com"));
    assert!(!debug.contains("c3VwZXItc2VjcmV0LWtleQ"), "{debug}");
    assert!(!debug.contains("super-secret-key"));
  }

  #[test]
  fn ids_are_encoded_like_encode_uri_component() {
    assert_eq!(encode_id("8:acs:abc_def"), "8%3Aacs%3Aabc_def");
    assert_eq!(encode_id("8:acs:a b/c?d"), "8%3Aacs%3Aa%20b%2Fc%3Fd");
    assert_eq!(encode_id("-_.!~*'()"), "-_.!~*'()");
    assert_eq!(encode_id("é#%"), "%C3%A9%23%25");
  }

  #[test]
  fn endpoints_are_checked_like_the_official_client() {
    assert!(parse_endpoint("https://r.communication.azure.com", false).is_ok());
    assert!(parse_endpoint("https://r.communication.azure.com:443/", false).is_ok());
    assert!(parse_endpoint("http://127.0.0.1:8990", false).is_ok());
    assert!(parse_endpoint("http://localhost:8990/", false).is_ok());
    assert!(parse_endpoint("http://[::1]:8990/", false).is_ok());
    for bad in [
      "not a url",
      "file://banana/fofana.txt",
      "ftp://x.com",
      "https://x.com/path",
      "",
    ] {
      let err = parse_endpoint(bad, false).unwrap_err();
      assert_eq!(err.kind(), &ErrorKind::InvalidArgument, "{bad}");
    }
    let err = parse_endpoint("http://example.com", false).unwrap_err();
    assert!(err.to_string().contains("allowInsecureConnection"));
    assert!(parse_endpoint("http://example.com", true).is_ok());
  }

  #[test]
  fn create_request_bodies_match_the_official_client() {
    let body = CreateIdentityRequest {
      custom_id: Some("alice".into()),
      create_token_with_scopes: Some(vec!["chat".into()]),
      expires_in_minutes: Some(60),
    };
    assert_eq!(
      String::from_utf8(to_json(&body).unwrap()).unwrap(),
      r#"{"customId":"alice","createTokenWithScopes":["chat"],"expiresInMinutes":60}"#
    );
    let body = IssueAccessTokenRequest {
      scopes: vec!["chat".into()],
      expires_in_minutes: None,
    };
    assert_eq!(
      String::from_utf8(to_json(&body).unwrap()).unwrap(),
      r#"{"scopes":["chat"]}"#
    );
  }
}
