//! The api-versions the emulator serves and what each of them has (`docs/official-sdk.md` §4.1).

/// An api-version of the ACS Identity data plane, oldest first so that `>=` means "has
/// everything the older one has".
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum ApiVersion {
  V2021_03_07,
  V2022_06_01,
  V2022_10_01,
  V2023_08_01,
  V2023_10_01,
  V2025_03_02Preview,
  V2025_06_30,
}

/// Every served version, in the order of [`ApiVersion`].
pub(crate) const ALL: [ApiVersion; 7] = [
  ApiVersion::V2021_03_07,
  ApiVersion::V2022_06_01,
  ApiVersion::V2022_10_01,
  ApiVersion::V2023_08_01,
  ApiVersion::V2023_10_01,
  ApiVersion::V2025_03_02Preview,
  ApiVersion::V2025_06_30,
];

impl ApiVersion {
  /// Parses the `api-version` query value. Matching is exact, as the service's: `2023-10-01 `
  /// or `2023-10-1` are other, unknown versions.
  pub(crate) fn parse(text: &str) -> Option<Self> {
    ALL.into_iter().find(|v| v.as_str() == text)
  }

  pub(crate) fn as_str(self) -> &'static str {
    match self {
      Self::V2021_03_07 => "2021-03-07",
      Self::V2022_06_01 => "2022-06-01",
      Self::V2022_10_01 => "2022-10-01",
      Self::V2023_08_01 => "2023-08-01",
      Self::V2023_10_01 => "2023-10-01",
      Self::V2025_03_02Preview => "2025-03-02-preview",
      Self::V2025_06_30 => "2025-06-30",
    }
  }

  /// `expiresInMinutes` exists from 2022-10-01; older versions ignore the field, as a
  /// service ignores a property its model of that version does not have.
  pub(crate) fn has_custom_expiry(self) -> bool {
    self >= Self::V2022_10_01
  }

  /// `chat.join`, `chat.join.limited` and `voip.join` exist from 2023-10-01.
  pub(crate) fn has_join_scopes(self) -> bool {
    self >= Self::V2023_10_01
  }

  /// `customId` and `GET /identities/{id}` exist only in the preview: the GA 2025-06-30 has
  /// neither (§0, surprise 1).
  pub(crate) fn is_preview(self) -> bool {
    self == Self::V2025_03_02Preview
  }

  /// The scopes this version accepts.
  pub(crate) fn scopes(self) -> &'static [&'static str] {
    if self.has_join_scopes() {
      &[
        "chat",
        "voip",
        "chat.join",
        "chat.join.limited",
        "voip.join",
      ]
    } else {
      &["chat", "voip"]
    }
  }
}

/// The operations of the service, each with the versions that have it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Operation {
  Create,
  Get,
  Delete,
  IssueAccessToken,
  RevokeAccessTokens,
  ExchangeTeamsUserAccessToken,
}

impl Operation {
  pub(crate) fn supports(self, version: ApiVersion) -> bool {
    match self {
      Self::Create | Self::Delete | Self::IssueAccessToken | Self::RevokeAccessTokens => true,
      Self::Get => version.is_preview(),
      Self::ExchangeTeamsUserAccessToken => version >= ApiVersion::V2022_06_01,
    }
  }

  /// The value of the `api-supported-versions` response header for this operation, as the
  /// service's ASP.NET API versioning reports it: the versions, comma-and-space separated.
  pub(crate) fn supported_versions(self) -> &'static str {
    match self {
      Self::Create | Self::Delete | Self::IssueAccessToken | Self::RevokeAccessTokens => {
        ALL_VERSIONS
      }
      Self::Get => "2025-03-02-preview",
      Self::ExchangeTeamsUserAccessToken => {
        "2022-06-01, 2022-10-01, 2023-08-01, 2023-10-01, 2025-03-02-preview, 2025-06-30"
      }
    }
  }

  /// The name used in error messages.
  pub(crate) fn describe(self) -> &'static str {
    match self {
      Self::Create => "POST /identities",
      Self::Get => "GET /identities/{id}",
      Self::Delete => "DELETE /identities/{id}",
      Self::IssueAccessToken => "POST /identities/{id}/:issueAccessToken",
      Self::RevokeAccessTokens => "POST /identities/{id}/:revokeAccessTokens",
      Self::ExchangeTeamsUserAccessToken => "POST /teamsUser/:exchangeAccessToken",
    }
  }
}

/// Every served version as an `api-supported-versions` value.
pub(crate) const ALL_VERSIONS: &str =
  "2021-03-07, 2022-06-01, 2022-10-01, 2023-08-01, 2023-10-01, 2025-03-02-preview, 2025-06-30";

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn versions_parse_exactly_and_round_trip() {
    for v in ALL {
      assert_eq!(ApiVersion::parse(v.as_str()), Some(v));
    }
    for bad in [
      "",
      "2023-10-1",
      "2023-10-01 ",
      "2020-07-20-preview2",
      "2026-09-23",
      "latest",
    ] {
      assert_eq!(ApiVersion::parse(bad), None, "{bad}");
    }
    let joined: Vec<_> = ALL.iter().map(|v| v.as_str()).collect();
    assert_eq!(joined.join(", "), ALL_VERSIONS);
  }

  #[test]
  fn operations_exist_from_their_version() {
    use ApiVersion::*;
    assert!(!Operation::ExchangeTeamsUserAccessToken.supports(V2021_03_07));
    assert!(Operation::ExchangeTeamsUserAccessToken.supports(V2022_06_01));
    assert!(Operation::Get.supports(V2025_03_02Preview));
    assert!(!Operation::Get.supports(V2025_06_30));
    assert!(!V2022_06_01.has_custom_expiry());
    assert!(V2022_10_01.has_custom_expiry());
    assert_eq!(V2023_08_01.scopes(), ["chat", "voip"]);
    assert!(V2025_06_30.scopes().contains(&"voip.join"));
  }
}
