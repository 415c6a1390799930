//! The JSON bodies of the ACS Identity REST API (`docs/official-sdk.md` §4.3), shared by the
//! client and the emulator.
//!
//! Field order is the order the official client serialises, so request bodies are
//! byte-for-byte the same.

use serde::{Deserialize, Serialize};

/// Body of `POST /identities`. Every field is optional; an empty request sends no body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateIdentityRequest {
  /// Preview (`2025-03-02-preview`): the same custom id returns the same identity.
  #[serde(skip_serializing_if = "Option::is_none")]
  pub custom_id: Option<String>,
  /// Scopes of a token to issue with the new identity.
  #[serde(skip_serializing_if = "Option::is_none")]
  pub create_token_with_scopes: Option<Vec<String>>,
  /// Token lifetime in minutes; the service accepts 60..=1440 and defaults to 1440.
  #[serde(skip_serializing_if = "Option::is_none")]
  pub expires_in_minutes: Option<i64>,
}

/// Body of `POST /identities/{id}/:issueAccessToken`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IssueAccessTokenRequest {
  /// Scopes of the token.
  pub scopes: Vec<String>,
  /// Token lifetime in minutes; the service accepts 60..=1440 and defaults to 1440.
  #[serde(skip_serializing_if = "Option::is_none")]
  pub expires_in_minutes: Option<i64>,
}

/// Body of `POST /teamsUser/:exchangeAccessToken`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TeamsUserExchangeTokenRequest {
  /// The Teams user's Entra ID access token.
  pub token: String,
  /// The Entra application (client) id, checked against the token's `appid` claim.
  pub app_id: String,
  /// The Teams user's object id, checked against the token's `oid` claim.
  pub user_id: String,
}

impl std::fmt::Debug for TeamsUserExchangeTokenRequest {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    f.debug_struct("TeamsUserExchangeTokenRequest")
      .field("token", &"<redacted>")
      .field("app_id", &self.app_id)
      .field("user_id", &self.user_id)
      .finish()
  }
}

/// An identity as the service describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommunicationIdentity {
  /// The identity's id, e.g. `8:acs:<resource>_<guid>`.
  pub id: String,
  /// Preview: the custom id the identity was created with.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub custom_id: Option<String>,
  /// Preview: when a token was last issued for the identity (RFC 3339).
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub last_token_issued_at: Option<String>,
}

/// An access token as the service returns it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessTokenBody {
  /// The token (a JWT).
  pub token: String,
  /// When it expires (RFC 3339, e.g. `2023-10-19T15:34:16.1445357+00:00`).
  pub expires_on: String,
}

impl std::fmt::Debug for AccessTokenBody {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    f.debug_struct("AccessTokenBody")
      .field("token", &"<redacted>")
      .field("expires_on", &self.expires_on)
      .finish()
  }
}

/// Response of `POST /identities`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateIdentityResponse {
  /// The new identity.
  pub identity: CommunicationIdentity,
  /// The token, when scopes were requested.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub access_token: Option<AccessTokenBody>,
}

/// The service's error body: `{"error": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorResponse {
  /// The error.
  pub error: CommunicationError,
}

/// One error of the service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommunicationError {
  /// A machine-readable code such as `ValidationError`.
  pub code: String,
  /// A human-readable message.
  pub message: String,
  /// What the error is about, e.g. `scopes`.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub target: Option<String>,
  /// Further errors.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub details: Option<Vec<CommunicationError>>,
  /// The inner error.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub innererror: Option<Box<CommunicationError>>,
}

impl ErrorResponse {
  /// An error body with a code, message and optional target.
  pub fn new(code: &str, message: impl Into<String>, target: Option<&str>) -> Self {
    Self {
      error: CommunicationError {
        code: code.to_owned(),
        message: message.into(),
        target: target.map(str::to_owned),
        details: None,
        innererror: None,
      },
    }
  }
}
