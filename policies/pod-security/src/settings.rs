//! The policy's settings: which Pod Security Standards level to enforce, at
//! which policy version.

use std::fmt;

use serde::Deserialize;

/// The newest policy version this crate implements (`v1.37`). `latest`, and
/// every pinned version above it, is evaluated as this version, as Pod
/// Security Admission does.
pub const MAX_VERSION: u32 = 37;

/// Settings, as ops write them in Counsel's configuration:
/// `{"level": "baseline"|"restricted", "version": "latest"|"v1.N"}`.
/// Both are optional; the default is `restricted` at `latest`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The level whose controls are checked.
    #[serde(default)]
    pub level: Level,
    /// The policy version whose rules are applied.
    #[serde(default)]
    pub version: PolicyVersion,
}

/// A Pod Security Standards level. `privileged` (which checks nothing) is not
/// offered: to allow everything, turn the policy off.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum Level {
    /// Prevents known privilege escalations; allows the default pod.
    Baseline,
    /// Baseline plus current pod hardening best practice.
    #[default]
    Restricted,
}

impl Level {
    /// The level's name as written in settings and by Kubernetes.
    pub fn name(self) -> &'static str {
        match self {
            Level::Baseline => "baseline",
            Level::Restricted => "restricted",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A Pod Security Standards policy version: `latest` or `v1.N`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum PolicyVersion {
    /// The newest version ([`MAX_VERSION`]).
    #[default]
    Latest,
    /// `v1.N`, holding N.
    Minor(u32),
}

impl PolicyVersion {
    /// The minor version whose rules apply: versions above [`MAX_VERSION`]
    /// and `latest` are evaluated as [`MAX_VERSION`].
    pub fn effective_minor(self) -> u32 {
        match self {
            PolicyVersion::Latest => MAX_VERSION,
            PolicyVersion::Minor(minor) => minor.min(MAX_VERSION),
        }
    }
}

impl fmt::Display for PolicyVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyVersion::Latest => f.write_str("latest"),
            PolicyVersion::Minor(minor) => write!(f, "v1.{minor}"),
        }
    }
}

/// A setting value this policy does not accept. The message says what is
/// allowed; the SDK prefixes it with the setting's name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// `level: privileged` checks nothing, so it is not a level of this policy.
    #[error(
        "\"privileged\" checks nothing; use \"baseline\" or \"restricted\", or turn the pod-security policy off"
    )]
    PrivilegedLevel,
    /// Not a level name at all.
    #[error("{0:?} is not a Pod Security Standards level; use \"baseline\" or \"restricted\"")]
    UnknownLevel(String),
    /// Not `latest` and not `v1.N`.
    #[error("{0:?} is not a policy version; use \"latest\" or \"v1.N\" (for example \"v1.35\")")]
    BadVersion(String),
    /// `v1.N` with an N too large to be a number.
    #[error("{0:?} is not a policy version: the minor version is too large")]
    VersionTooLarge(String),
}

impl TryFrom<String> for Level {
    type Error = SettingsError;

    fn try_from(value: String) -> Result<Level, SettingsError> {
        match value.as_str() {
            "baseline" => Ok(Level::Baseline),
            "restricted" => Ok(Level::Restricted),
            "privileged" => Err(SettingsError::PrivilegedLevel),
            _ => Err(SettingsError::UnknownLevel(value)),
        }
    }
}

impl TryFrom<String> for PolicyVersion {
    type Error = SettingsError;

    /// Accepts exactly what Pod Security Admission accepts: `latest` or a
    /// match of `^v1\.(0|[1-9][0-9]*)$`.
    fn try_from(value: String) -> Result<PolicyVersion, SettingsError> {
        if value == "latest" {
            return Ok(PolicyVersion::Latest);
        }
        let Some(minor) = value.strip_prefix("v1.") else {
            return Err(SettingsError::BadVersion(value));
        };
        let digits = !minor.is_empty() && minor.bytes().all(|b| b.is_ascii_digit());
        if !digits || (minor.len() > 1 && minor.starts_with('0')) {
            return Err(SettingsError::BadVersion(value));
        }
        match minor.parse() {
            Ok(minor) => Ok(PolicyVersion::Minor(minor)),
            Err(_) => Err(SettingsError::VersionTooLarge(value)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_like_pod_security_admission() {
        let parse = |s: &str| PolicyVersion::try_from(s.to_owned());
        assert_eq!(parse("latest"), Ok(PolicyVersion::Latest));
        assert_eq!(parse("v1.0"), Ok(PolicyVersion::Minor(0)));
        assert_eq!(parse("v1.35"), Ok(PolicyVersion::Minor(35)));
        for bad in [
            "", "1.35", "v1.", "v1.035", "v2.0", "v1.3x", "Latest", "v1.-1",
        ] {
            assert_eq!(
                parse(bad),
                Err(SettingsError::BadVersion(bad.to_owned())),
                "{bad}"
            );
        }
        assert_eq!(
            parse("v1.99999999999"),
            Err(SettingsError::VersionTooLarge("v1.99999999999".to_owned()))
        );
    }

    #[test]
    fn versions_above_the_newest_are_evaluated_as_the_newest() {
        assert_eq!(PolicyVersion::Latest.effective_minor(), MAX_VERSION);
        assert_eq!(PolicyVersion::Minor(99).effective_minor(), MAX_VERSION);
        assert_eq!(PolicyVersion::Minor(30).effective_minor(), 30);
        assert_eq!(PolicyVersion::Minor(30).to_string(), "v1.30");
    }
}
