//! Stateless helpers exported to JS: connection strings, raw ids, token claims.

use acs_identity::identifiers::{Cloud, CommunicationIdentifier};
use acs_identity::ConnectionString;
use napi_derive::napi;

use crate::error::{invalid_argument, to_napi};

/// `{ endpoint, accessKey }` of a connection string.
#[napi(object)]
pub struct NativeConnectionString {
  pub endpoint: String,
  pub access_key: String,
}

#[napi(catch_unwind)]
pub fn native_parse_connection_string(
  connection_string: String,
) -> napi::Result<NativeConnectionString> {
  let parsed = ConnectionString::parse(&connection_string).map_err(to_napi)?;
  Ok(NativeConnectionString {
    endpoint: parsed.endpoint,
    access_key: parsed.access_key.expose().to_owned(),
  })
}

/// An identifier in the JS shape, with every field any kind may have.
#[napi(object)]
#[derive(Default)]
pub struct NativeIdentifier {
  pub kind: String,
  pub communication_user_id: Option<String>,
  pub phone_number: Option<String>,
  pub is_anonymous: Option<bool>,
  pub asserted_id: Option<String>,
  pub microsoft_teams_user_id: Option<String>,
  pub teams_app_id: Option<String>,
  pub user_id: Option<String>,
  pub tenant_id: Option<String>,
  pub resource_id: Option<String>,
  pub cloud: Option<String>,
  pub id: Option<String>,
}

#[napi(catch_unwind)]
pub fn native_identifier_from_raw_id(raw_id: String) -> NativeIdentifier {
  let parsed = CommunicationIdentifier::from_raw_id(&raw_id);
  let kind = parsed.kind().to_owned();
  match parsed {
    CommunicationIdentifier::CommunicationUser { id } => NativeIdentifier {
      kind,
      communication_user_id: Some(id),
      ..Default::default()
    },
    CommunicationIdentifier::PhoneNumber {
      phone_number,
      is_anonymous,
      asserted_id,
    } => NativeIdentifier {
      kind,
      phone_number: Some(phone_number),
      is_anonymous: Some(is_anonymous),
      asserted_id,
      ..Default::default()
    },
    CommunicationIdentifier::MicrosoftTeamsUser {
      user_id,
      is_anonymous,
      cloud,
    } => NativeIdentifier {
      kind,
      microsoft_teams_user_id: Some(user_id),
      is_anonymous: Some(is_anonymous),
      cloud: cloud.map(|c| c.as_str().to_owned()),
      ..Default::default()
    },
    CommunicationIdentifier::MicrosoftTeamsApp { app_id, cloud } => NativeIdentifier {
      kind,
      teams_app_id: Some(app_id),
      cloud: Some(cloud.as_str().to_owned()),
      ..Default::default()
    },
    CommunicationIdentifier::TeamsExtensionUser {
      user_id,
      tenant_id,
      resource_id,
      cloud,
    } => NativeIdentifier {
      kind,
      user_id: Some(user_id),
      tenant_id: Some(tenant_id),
      resource_id: Some(resource_id),
      cloud: Some(cloud.as_str().to_owned()),
      ..Default::default()
    },
    CommunicationIdentifier::Unknown { id } => NativeIdentifier {
      kind,
      id: Some(id),
      ..Default::default()
    },
  }
}

fn cloud(name: Option<&str>) -> Cloud {
  match name {
    Some("dod") => Cloud::Dod,
    Some("gcch") => Cloud::Gcch,
    _ => Cloud::Public,
  }
}

/// The raw id of an identifier whose `kind` the facade has determined. `None` for an
/// unknown identifier without an `id`, as the official function returns `undefined`.
#[napi(catch_unwind)]
pub fn native_raw_id(identifier: NativeIdentifier) -> napi::Result<Option<String>> {
  let text = |field: Option<String>, name: &str| {
    field.ok_or_else(|| invalid_argument(format!("the identifier has no {name}")))
  };
  let parsed = match identifier.kind.as_str() {
    "communicationUser" => CommunicationIdentifier::CommunicationUser {
      id: text(identifier.communication_user_id, "communicationUserId")?,
    },
    "phoneNumber" => CommunicationIdentifier::PhoneNumber {
      phone_number: text(identifier.phone_number, "phoneNumber")?,
      is_anonymous: false,
      asserted_id: None,
    },
    "microsoftTeamsUser" => CommunicationIdentifier::MicrosoftTeamsUser {
      user_id: text(identifier.microsoft_teams_user_id, "microsoftTeamsUserId")?,
      is_anonymous: identifier.is_anonymous.unwrap_or(false),
      cloud: Some(cloud(identifier.cloud.as_deref())),
    },
    "microsoftTeamsApp" => CommunicationIdentifier::MicrosoftTeamsApp {
      app_id: text(identifier.teams_app_id, "teamsAppId")?,
      cloud: cloud(identifier.cloud.as_deref()),
    },
    "teamsExtensionUser" => CommunicationIdentifier::TeamsExtensionUser {
      user_id: text(identifier.user_id, "userId")?,
      tenant_id: text(identifier.tenant_id, "tenantId")?,
      resource_id: text(identifier.resource_id, "resourceId")?,
      cloud: cloud(identifier.cloud.as_deref()),
    },
    _ => return Ok(identifier.id),
  };
  Ok(Some(parsed.raw_id()))
}

/// The claims of an ACS token, times in seconds since the epoch.
#[napi(object)]
pub struct NativeTokenClaims {
  pub communication_user_id: String,
  pub scopes: Vec<String>,
  pub issued_at: f64,
  pub expires_on: f64,
  pub resource_id: String,
}

#[napi(catch_unwind)]
pub fn native_decode_access_token(token: String) -> napi::Result<NativeTokenClaims> {
  let decoded = acs_identity::token::decode_access_token(&token).map_err(to_napi)?;
  Ok(NativeTokenClaims {
    communication_user_id: decoded.communication_user_id,
    scopes: decoded.scopes,
    issued_at: decoded.issued_at as f64,
    expires_on: decoded.expires_on as f64,
    resource_id: decoded.resource_id,
  })
}
