#![doc = include_str!("../README.md")]

pub mod auth;
mod client;
mod connection_string;
mod error;
pub mod identifiers;
pub mod log;
pub mod models;
mod pipeline;
mod random;
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
