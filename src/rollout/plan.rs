//! The modes a rollout plans (`counsel audit --as-mode`): the current
//! configuration with some policies put in another mode, nothing else
//! changed.

use crate::config::{Config, Mode};

/// One `--as-mode`: every policy (`enforce`) or one (`pod-security=enforce`)
/// in a mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModeChange {
    /// The policy; `None` for every policy.
    pub policy: Option<String>,
    /// Its planned mode.
    pub mode: Mode,
}

impl std::str::FromStr for ModeChange {
    type Err = PlanError;

    /// `MODE` or `POLICY=MODE`.
    fn from_str(text: &str) -> Result<ModeChange, PlanError> {
        let (policy, mode) = match text.rsplit_once('=') {
            Some((policy, mode)) => (Some(policy.trim().to_owned()), mode),
            None => (None, text),
        };
        let mode = match mode.trim() {
            "enforce" => Mode::Enforce,
            "warn" => Mode::Warn,
            "audit" => Mode::Audit,
            "fix" => Mode::Fix,
            other => return Err(PlanError::UnknownMode(other.to_owned())),
        };
        Ok(ModeChange { policy, mode })
    }
}

/// Why a plan cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// Not one of the modes.
    #[error("unknown mode {0:?}; the modes are enforce, warn, audit and fix")]
    UnknownMode(String),
    /// The plan names a policy the configuration does not have.
    #[error("no policy named {policy:?} is configured; the policies are {known}")]
    UnknownPolicy {
        /// The name given.
        policy: String,
        /// The configured names, joined.
        known: String,
    },
}

/// The planned modes: each policy a change names is in that mode, with
/// every rule (ops' per-rule modes give way); a change naming a policy
/// comes before one for every policy; the others keep their modes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    changes: Vec<ModeChange>,
}

impl Plan {
    /// The plan of `changes`; none: every policy enforced (what breaks if
    /// we enforce).
    pub fn new(changes: Vec<ModeChange>) -> Plan {
        if changes.is_empty() {
            return Plan {
                changes: vec![ModeChange {
                    policy: None,
                    mode: Mode::Enforce,
                }],
            };
        }
        Plan { changes }
    }

    /// The planned mode of `policy`, when the plan changes it.
    pub fn mode_of(&self, policy: &str) -> Option<Mode> {
        let named = self
            .changes
            .iter()
            .rev()
            .find(|change| change.policy.as_deref() == Some(policy));
        named
            .or_else(|| self.changes.iter().rev().find(|c| c.policy.is_none()))
            .map(|change| change.mode)
    }

    /// `current` with the planned modes.
    pub fn configure(&self, current: &Config) -> Result<Config, PlanError> {
        for change in &self.changes {
            if let Some(policy) = &change.policy
                && !current.policies.iter().any(|p| &p.name == policy)
            {
                let known: Vec<&str> = current.policies.iter().map(|p| p.name.as_str()).collect();
                return Err(PlanError::UnknownPolicy {
                    policy: policy.clone(),
                    known: known.join(", "),
                });
            }
        }
        let mut planned = current.clone();
        for policy in &mut planned.policies {
            if let Some(mode) = self.mode_of(&policy.name) {
                policy.mode = mode;
                for rule in policy.rules.values_mut() {
                    rule.mode = None;
                }
            }
        }
        Ok(planned)
    }
}

#[cfg(test)]
mod tests {
    use super::{ModeChange, Plan, PlanError};
    use crate::config::Mode;

    #[test]
    fn a_policy_s_own_change_comes_before_the_one_for_every_policy() {
        let changes = ["pod-security=warn", "audit"]
            .iter()
            .map(|text| text.parse::<ModeChange>().expect("a change"))
            .collect();
        let plan = Plan::new(changes);
        assert_eq!(plan.mode_of("pod-security"), Some(Mode::Warn));
        assert_eq!(plan.mode_of("workload-hygiene"), Some(Mode::Audit));
        assert_eq!(Plan::new(Vec::new()).mode_of("any"), Some(Mode::Enforce));
        let only = Plan::new(vec!["pod-security=fix".parse().expect("a change")]);
        assert_eq!(only.mode_of("workload-hygiene"), None);
        assert_eq!(
            "pod-security=deny".parse::<ModeChange>(),
            Err(PlanError::UnknownMode("deny".to_owned()))
        );
    }
}
