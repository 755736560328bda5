//! The settings ops write: CEL rules, and ValidatingAdmissionPolicies as
//! Kubernetes defines them.
//!
//! Counsel's host reads the catalog part of these settings (ids, titles,
//! reasons, severities: `src/review/settings_rules.rs`); this crate reads
//! the expressions. Rule ids of a ValidatingAdmissionPolicy's validations
//! are derived the same way on both sides ([`validation_id`]).

use serde::Deserialize;
use serde_json::Value;

/// The policy's settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct Settings {
    /// Rules written for Counsel.
    pub rules: Vec<RuleSpec>,
    /// ValidatingAdmissionPolicies, each run validation by validation.
    pub validating_admission_policies: Vec<VapEntry>,
}

impl Settings {
    /// Every CEL expression of the settings.
    pub fn expressions(&self) -> impl Iterator<Item = &str> + Clone {
        let rules = self.rules.iter().flat_map(move |rule| {
            std::iter::once(rule.validate.as_str())
                .chain(rule.message.as_deref())
                .chain(fix_values(&rule.fixes))
        });
        let vaps = self
            .validating_admission_policies
            .iter()
            .flat_map(move |entry| {
                let spec = &entry.policy.spec;
                spec.match_conditions
                    .iter()
                    .chain(&spec.variables)
                    .map(|named| named.expression.as_str())
                    .chain(spec.validations.iter().flat_map(|v| {
                        std::iter::once(v.expression.as_str())
                            .chain(v.message_expression.as_deref())
                    }))
                    .chain(
                        entry
                            .validations
                            .iter()
                            .flat_map(|extra| fix_values(&extra.fixes)),
                    )
            });
        rules.chain(vaps)
    }
}

/// The CEL expressions of `fixes`.
fn fix_values(fixes: &[FixSpec]) -> impl Iterator<Item = &str> + Clone {
    fixes.iter().filter_map(|fix| fix.value.as_deref())
}

/// Defines a struct of what ops write for one rule: its `id` and `title`,
/// then the explanation fields every rule has (`why`, `docs`, `severity`,
/// `fixSafety`), the struct's own fields, and where and how to fix a
/// violation (`path`, `fixes`, `hint`). Written once for a CEL rule and a
/// validation's additions alike; serde cannot `flatten` them into structs
/// that deny unknown fields, and this keeps the field order, which is the
/// order unknown-field errors list them in.
macro_rules! explained_rule {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(#[$id_meta:meta])* pub id: $id:ty,
            $(#[$title_meta:meta])* pub title: $title:ty,
            $($(#[$field_meta:meta])* pub $field:ident: $type:ty,)*
        }
    ) => {
        $(#[$meta])*
        pub struct $name {
            $(#[$id_meta])* pub id: $id,
            $(#[$title_meta])* pub title: $title,
            /// Why ops care (read by the host).
            #[serde(default)]
            pub why: Option<String>,
            /// Where to read more (read by the host).
            #[serde(default)]
            pub docs: Option<String>,
            /// `low`, `medium`, `high` or `critical` (read by the host).
            #[serde(default)]
            pub severity: Option<String>,
            /// `safe` or `suggestion` (read by the host).
            #[serde(default)]
            pub fix_safety: Option<String>,
            $($(#[$field_meta])* pub $field: $type,)*
            /// Where the violation is: a JSON Pointer, or a dotted path
            /// (`securityContext.privileged`), relative to the container
            /// under `forEach`, otherwise to the object.
            #[serde(default)]
            pub path: Option<String>,
            /// Machine fixes.
            #[serde(default)]
            pub fixes: Vec<FixSpec>,
            /// What a person should do.
            #[serde(default)]
            pub hint: Option<String>,
        }
    };
}

explained_rule! {
    /// One rule as ops write it.
    #[derive(Debug, Clone, Default, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    pub struct RuleSpec {
        /// Stable kebab-case id.
        pub id: String,
        /// One line saying what the rule requires.
        pub title: String,
        /// Kinds the rule applies to; empty: every kind the policy sees.
        #[serde(default)]
        pub kinds: Vec<String>,
        /// What the rule is evaluated for: the object once (absent), or each
        /// container of every pod spec.
        #[serde(default)]
        pub for_each: Option<ForEach>,
        /// Values the expressions see as `params`.
        #[serde(default)]
        pub params: Option<Value>,
        /// CEL: true when the object (or container) is acceptable.
        pub validate: String,
        /// CEL, a string: the message of a violation.
        #[serde(default)]
        pub message: Option<String>,
    }
}

/// What a rule is evaluated for, besides the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ForEach {
    /// Every container, init and ephemeral container of every pod spec of
    /// every workload kind, as `container` (its pod spec as `podSpec`).
    Containers,
    /// Every pod spec of every workload kind, as `podSpec`.
    PodSpecs,
}

/// One fix: `set` a path to the value of a CEL expression, or `remove` it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixSpec {
    /// The path to set (as `path`).
    #[serde(default)]
    pub set: Option<String>,
    /// CEL: the value to set.
    #[serde(default)]
    pub value: Option<String>,
    /// The path to remove.
    #[serde(default)]
    pub remove: Option<String>,
}

/// A ValidatingAdmissionPolicy, with its params and Counsel's additions.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VapEntry {
    /// The ValidatingAdmissionPolicy, as applied to a cluster.
    pub policy: Vap,
    /// What its expressions see as `params` (a binding's param object).
    #[serde(default)]
    pub params: Option<Value>,
    /// Counsel's additions, validation by validation (same order).
    #[serde(default)]
    pub validations: Vec<ValidationExtra>,
}

explained_rule! {
    /// What Counsel adds to one validation.
    #[derive(Debug, Clone, Default, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    pub struct ValidationExtra {
        /// The rule id (default: see [`validation_id`]).
        #[serde(default)]
        pub id: Option<String>,
        /// One line saying what the validation requires (read by the host).
        #[serde(default)]
        pub title: Option<String>,
    }
}

/// The parts of a ValidatingAdmissionPolicy Counsel runs; the rest
/// (`paramKind`, `auditAnnotations`, ...) is accepted and ignored.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Vap {
    /// Standard object metadata; `name` names the policy's rules.
    pub metadata: VapMetadata,
    /// The policy.
    pub spec: VapSpec,
}

/// A VAP's metadata.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct VapMetadata {
    /// The policy's name.
    pub name: String,
}

/// A VAP's spec.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct VapSpec {
    /// Which requests it applies to.
    pub match_constraints: Option<MatchConstraints>,
    /// CEL filters: the policy applies only when all are true.
    pub match_conditions: Vec<NamedExpression>,
    /// Named CEL expressions, seen as `variables.NAME`.
    pub variables: Vec<NamedExpression>,
    /// The checks.
    pub validations: Vec<Validation>,
}

/// A `matchConditions` or `variables` entry.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct NamedExpression {
    /// Its name.
    pub name: String,
    /// CEL.
    pub expression: String,
}

/// A VAP's `matchConstraints`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct MatchConstraints {
    /// Resources and operations it applies to.
    pub resource_rules: Vec<ResourceRule>,
}

/// One `resourceRules` entry.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ResourceRule {
    /// API groups (`""` is core, `*` any).
    pub api_groups: Vec<String>,
    /// API versions (`*` any).
    pub api_versions: Vec<String>,
    /// Operations (`*` any).
    pub operations: Vec<String>,
    /// Resources, plural (`deployments`, `*` any).
    pub resources: Vec<String>,
}

/// One entry of a VAP's `validations`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Validation {
    /// CEL: true when the request is acceptable.
    pub expression: String,
    /// Static message.
    pub message: Option<String>,
    /// CEL, a string: the message (wins over `message` when it evaluates).
    pub message_expression: Option<String>,
    /// The reason Kubernetes would return (`Invalid`, `Forbidden`, ...).
    pub reason: Option<String>,
}

/// The rule id of validation `index` of VAP `name` with `count`
/// validations, unless ops gave one: the VAP's name when it has one
/// validation, `NAME-N` (from 1) otherwise.
pub fn validation_id(name: &str, index: usize, count: usize, given: Option<&str>) -> String {
    match given {
        Some(id) => id.to_owned(),
        None if count == 1 => name.to_owned(),
        None => format!("{name}-{}", index + 1),
    }
}
