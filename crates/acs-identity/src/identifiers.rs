//! Communication identifiers and their raw ids (`docs/official-sdk.md` §2.2-2.4), with the
//! exact rules of `@azure/communication-common` 2.4+.

/// The cloud a Teams identity lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Cloud {
  /// The public cloud (`8:orgid:`, `28:orgid:`, `8:acs:`).
  #[default]
  Public,
  /// US DoD (`8:dod:`, `28:dod:`, `8:dod-acs:`).
  Dod,
  /// US GCC High (`8:gcch:`, `28:gcch:`, `8:gcch-acs:`).
  Gcch,
}

impl Cloud {
  /// The name used in JSON and JS: `public`, `dod` or `gcch`.
  pub fn as_str(self) -> &'static str {
    match self {
      Cloud::Public => "public",
      Cloud::Dod => "dod",
      Cloud::Gcch => "gcch",
    }
  }
}

/// Any identifier ACS knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommunicationIdentifier {
  /// An ACS user, `8:acs:…` (also `8:spool:…` and the government clouds' prefixes).
  CommunicationUser {
    /// The full id, e.g. `8:acs:<resource>_<guid>`.
    id: String,
  },
  /// A phone number, `4:…`.
  PhoneNumber {
    /// The number as written after `4:` (kept with any `_suffix`).
    phone_number: String,
    /// Whether the number is anonymous (`4:anonymous`).
    is_anonymous: bool,
    /// The part after the last `_`, when there is one.
    asserted_id: Option<String>,
  },
  /// A Teams user, `8:orgid:…`, `8:dod:…`, `8:gcch:…` or anonymous `8:teamsvisitor:…`.
  MicrosoftTeamsUser {
    /// The Entra object id.
    user_id: String,
    /// Whether this is an anonymous Teams visitor.
    is_anonymous: bool,
    /// The cloud; `None` for anonymous visitors.
    cloud: Option<Cloud>,
  },
  /// A Teams app, `28:orgid:…`, `28:dod:…`, `28:gcch:…`.
  MicrosoftTeamsApp {
    /// The app id.
    app_id: String,
    /// The cloud.
    cloud: Cloud,
  },
  /// A Teams Phone extension user, `8:acs:<resource>_<tenant>_<user>`.
  TeamsExtensionUser {
    /// The Entra user id.
    user_id: String,
    /// The tenant id.
    tenant_id: String,
    /// The ACS resource id.
    resource_id: String,
    /// The cloud.
    cloud: Cloud,
  },
  /// Anything else, kept verbatim.
  Unknown {
    /// The raw id.
    id: String,
  },
}

impl CommunicationIdentifier {
  /// Parses a raw id (`createIdentifierFromRawId`).
  pub fn from_raw_id(raw_id: &str) -> Self {
    if let Some(phone) = raw_id.strip_prefix("4:") {
      let is_anonymous = phone == "anonymous";
      let asserted_id = if is_anonymous {
        None
      } else {
        phone
          .rfind('_')
          .map(|i| &phone[i + 1..])
          .filter(|s| !s.is_empty())
          .map(str::to_owned)
      };
      return Self::PhoneNumber {
        phone_number: phone.to_owned(),
        is_anonymous,
        asserted_id,
      };
    }
    let segments: Vec<&str> = raw_id.split(':').collect();
    let [first, second, suffix] = segments[..] else {
      return Self::Unknown {
        id: raw_id.to_owned(),
      };
    };
    let teams_user = |cloud| Self::MicrosoftTeamsUser {
      user_id: suffix.to_owned(),
      is_anonymous: false,
      cloud: Some(cloud),
    };
    let teams_app = |cloud| Self::MicrosoftTeamsApp {
      app_id: suffix.to_owned(),
      cloud,
    };
    let acs = |cloud| {
      let parts: Vec<&str> = suffix.split('_').collect();
      match parts[..] {
        [resource, tenant, user] => Self::TeamsExtensionUser {
          user_id: user.to_owned(),
          tenant_id: tenant.to_owned(),
          resource_id: resource.to_owned(),
          cloud,
        },
        _ => Self::CommunicationUser {
          id: raw_id.to_owned(),
        },
      }
    };
    match (first, second) {
      ("8", "teamsvisitor") => Self::MicrosoftTeamsUser {
        user_id: suffix.to_owned(),
        is_anonymous: true,
        cloud: None,
      },
      ("8", "orgid") => teams_user(Cloud::Public),
      ("8", "dod") => teams_user(Cloud::Dod),
      ("8", "gcch") => teams_user(Cloud::Gcch),
      ("8", "acs") => acs(Cloud::Public),
      ("8", "dod-acs") => acs(Cloud::Dod),
      ("8", "gcch-acs") => acs(Cloud::Gcch),
      ("8", "spool") => Self::CommunicationUser {
        id: raw_id.to_owned(),
      },
      ("28", "orgid") => teams_app(Cloud::Public),
      ("28", "dod") => teams_app(Cloud::Dod),
      ("28", "gcch") => teams_app(Cloud::Gcch),
      _ => Self::Unknown {
        id: raw_id.to_owned(),
      },
    }
  }

  /// The raw id (`getIdentifierRawId`).
  pub fn raw_id(&self) -> String {
    match self {
      Self::CommunicationUser { id } | Self::Unknown { id } => id.clone(),
      Self::PhoneNumber { phone_number, .. } => format!("4:{phone_number}"),
      Self::MicrosoftTeamsUser {
        user_id,
        is_anonymous,
        cloud,
      } => {
        let prefix = match (is_anonymous, cloud.unwrap_or_default()) {
          (true, _) => "8:teamsvisitor:",
          (false, Cloud::Public) => "8:orgid:",
          (false, Cloud::Dod) => "8:dod:",
          (false, Cloud::Gcch) => "8:gcch:",
        };
        format!("{prefix}{user_id}")
      }
      Self::MicrosoftTeamsApp { app_id, cloud } => {
        let prefix = match cloud {
          Cloud::Public => "28:orgid:",
          Cloud::Dod => "28:dod:",
          Cloud::Gcch => "28:gcch:",
        };
        format!("{prefix}{app_id}")
      }
      Self::TeamsExtensionUser {
        user_id,
        tenant_id,
        resource_id,
        cloud,
      } => {
        let prefix = match cloud {
          Cloud::Public => "8:acs:",
          Cloud::Dod => "8:dod-acs:",
          Cloud::Gcch => "8:gcch-acs:",
        };
        format!("{prefix}{resource_id}_{tenant_id}_{user_id}")
      }
    }
  }

  /// The JS `kind` name: `communicationUser`, `phoneNumber`, ….
  pub fn kind(&self) -> &'static str {
    match self {
      Self::CommunicationUser { .. } => "communicationUser",
      Self::PhoneNumber { .. } => "phoneNumber",
      Self::MicrosoftTeamsUser { .. } => "microsoftTeamsUser",
      Self::MicrosoftTeamsApp { .. } => "microsoftTeamsApp",
      Self::TeamsExtensionUser { .. } => "teamsExtensionUser",
      Self::Unknown { .. } => "unknown",
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  fn kind(raw: &str) -> &'static str {
    CommunicationIdentifier::from_raw_id(raw).kind()
  }

  // The vectors of §2.4, observed from common 2.4.2 / 2.5.0.
  #[test]
  fn official_raw_id_vectors() {
    let cases = [
      (
        "8:acs:00000000-0000-0000-0000-000000000000_00000000-0000-0000-0000-000000000000",
        "communicationUser",
      ),
      ("8:acs:resource_tenant_user", "teamsExtensionUser"),
      ("8:acs:a_b_c_d", "communicationUser"),
      ("8:dod-acs:r_t_u", "teamsExtensionUser"),
      ("8:gcch-acs:r_t_u", "teamsExtensionUser"),
      ("8:gcch-acs:x", "communicationUser"),
      ("8:spool:abc", "communicationUser"),
      ("8:acs:", "communicationUser"),
      ("8:orgid:45ab", "microsoftTeamsUser"),
      ("8:teamsvisitor:45ab", "microsoftTeamsUser"),
      ("28:orgid:app", "microsoftTeamsApp"),
      ("28:dod:app", "microsoftTeamsApp"),
      ("28:gcch:app", "microsoftTeamsApp"),
      ("28:ag08-global:app", "unknown"),
      ("8:orgid:a:b", "unknown"),
      ("8:acs", "unknown"),
      ("8:ACS:x", "unknown"),
      ("48:acs:x", "unknown"),
      ("unknown", "unknown"),
      ("", "unknown"),
      ("4:+14255550123", "phoneNumber"),
      ("4:anonymous", "phoneNumber"),
    ];
    for (raw, expected) in cases {
      assert_eq!(kind(raw), expected, "{raw}");
      assert_eq!(
        CommunicationIdentifier::from_raw_id(raw).raw_id(),
        raw,
        "round trip {raw}"
      );
    }
  }

  #[test]
  fn extension_user_and_phone_fields() {
    assert_eq!(
      CommunicationIdentifier::from_raw_id("8:acs:resource_tenant_user"),
      CommunicationIdentifier::TeamsExtensionUser {
        user_id: "user".into(),
        tenant_id: "tenant".into(),
        resource_id: "resource".into(),
        cloud: Cloud::Public
      }
    );
    let phone = |raw| CommunicationIdentifier::from_raw_id(raw);
    assert_eq!(
      phone("4:+14255550123_abc"),
      CommunicationIdentifier::PhoneNumber {
        phone_number: "+14255550123_abc".into(),
        is_anonymous: false,
        asserted_id: Some("abc".into())
      }
    );
    assert!(matches!(
      phone("4:+14255550123_"),
      CommunicationIdentifier::PhoneNumber {
        asserted_id: None,
        ..
      }
    ));
    assert!(
      matches!(phone("4:_x"), CommunicationIdentifier::PhoneNumber { asserted_id: Some(ref a), .. } if a == "x")
    );
    assert!(matches!(
      phone("4:anonymous"),
      CommunicationIdentifier::PhoneNumber {
        is_anonymous: true,
        asserted_id: None,
        ..
      }
    ));
  }
}
