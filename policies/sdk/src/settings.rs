//! Reading the settings ops configured for a policy.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Settings that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// Not JSON at all.
    #[error("settings are not valid JSON: {0}")]
    Syntax(serde_json::Error),
    /// JSON, but not what the policy accepts; `setting` is the path of the
    /// offending setting (`allowedRegistries[2]`), `.` for the whole object.
    #[error("{}", describe(setting, message))]
    Invalid {
        /// Path of the offending setting, in serde_path_to_error's notation.
        setting: String,
        /// What is wrong with it.
        message: String,
    },
}

fn describe(setting: &str, message: &str) -> String {
    if setting == "." {
        format!("settings: {message}")
    } else {
        format!("setting `{setting}`: {message}")
    }
}

/// The settings type of a policy that has none: accepts only `{}` (or
/// `null`), and names any setting given.
///
/// ```
/// use counsel_policy::{NoSettings, settings};
///
/// assert!(settings::parse::<NoSettings>("{}").is_ok());
/// let err = settings::parse::<NoSettings>(r#"{"exempt": []}"#).unwrap_err();
/// assert!(err.to_string().contains("unknown field `exempt`"), "{err}");
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoSettings {}

/// Parses settings JSON: `{}` and `null` (and an empty text) give
/// `S::default()`; anything else is deserialised, and an error names the
/// offending setting.
pub fn parse<S: DeserializeOwned + Default>(json: &str) -> Result<S, SettingsError> {
    if json.trim().is_empty() {
        return Ok(S::default());
    }
    let value: Value = serde_json::from_str(json).map_err(SettingsError::Syntax)?;
    if value.is_null() || value.as_object().is_some_and(|map| map.is_empty()) {
        return Ok(S::default());
    }
    serde_path_to_error::deserialize(value).map_err(|err| SettingsError::Invalid {
        setting: err.path().to_string(),
        message: err.into_inner().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, PartialEq, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Example {
        exempt_namespaces: Vec<String>,
        #[serde(default)]
        strict: bool,
    }

    #[test]
    fn empty_settings_give_the_default() {
        for text in ["", " ", "{}", "null", " { } "] {
            assert_eq!(
                parse::<Example>(text).unwrap(),
                Example::default(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn given_settings_are_read() {
        let s: Example = parse(r#"{"exemptNamespaces": ["kube-system"], "strict": true}"#).unwrap();
        assert_eq!(
            s,
            Example {
                exempt_namespaces: vec!["kube-system".into()],
                strict: true
            }
        );
    }

    #[test]
    fn errors_name_the_setting() {
        let err = parse::<Example>(r#"{"exemptNamespaces": ["a", 3]}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "setting `exemptNamespaces[1]`: invalid type: integer `3`, expected a string"
        );
        let err = parse::<Example>(r#"{"strict": true}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "settings: missing field `exemptNamespaces`"
        );
        let err = parse::<Example>(r#"{"exemptNamespaces": [], "stict": 1}"#).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("setting `stict`: unknown field `stict`"),
            "{err}"
        );
    }

    #[test]
    fn syntax_errors_say_so() {
        let err = parse::<Example>("{oops").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("settings are not valid JSON: key must be a string"),
            "{err}"
        );
    }

    #[test]
    fn no_settings_rejects_any_setting() {
        assert_eq!(parse::<NoSettings>("{}").unwrap(), NoSettings {});
        let err = parse::<NoSettings>(r#"{"x": 1}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field `x`"), "{err}");
    }
}
