//! # acs-identity
//!
//! An async client of the Azure Communication Services (ACS) Identity service: create
//! identities, issue, refresh and revoke their access tokens, exchange Teams tokens. It
//! signs requests with HMAC-SHA256 exactly as the official SDKs do, retries as they do (and
//! better), and never puts a key or a token in an error or a log.
//!
//! ```no_run
//! use acs_identity::{IdentityClient, IdentityClientOptions, OperationOptions};
//!
//! # async fn run() -> acs_identity::Result<()> {
//! let client = IdentityClient::from_connection_string(
//!   "endpoint=https://contoso.communication.azure.com/;accesskey=c2VjcmV0",
//!   IdentityClientOptions::default(),
//! )?;
//! let options = OperationOptions::default();
//! let user = client.create_user(None, &options).await?;
//! let token = client.get_token(&user.communication_user_id, &["voip"], None, &options).await?;
//! println!("token expires at {:?}", token.expires_on);
//! # Ok(())
//! # }
//! ```
//!
//! The `acs-identity-emulator` crate serves the same API locally for tests.

pub mod auth;
mod client;
mod connection_string;
mod error;
pub mod identifiers;
pub mod log;
pub mod models;
mod pipeline;
pub mod retry;
mod secret;
pub mod time;
pub mod token;

pub use auth::{AccessKeyCredential, AccessToken, Credential, TokenCredential};
pub use client::{
  encode_id, CommunicationUserDetail, CommunicationUserIdentifier, CommunicationUserToken,
  IdentityClient, IdentityClientOptions, OperationOptions, TeamsUserTokenRequest,
  DEFAULT_API_VERSION, DEFAULT_TIMEOUT, PREVIEW_API_VERSION,
};
pub use connection_string::ConnectionString;
pub use error::{Error, ErrorKind, Result, ServiceError};
pub use retry::RetryOptions;
pub use secret::Secret;
pub use tokio_util::sync::CancellationToken;
