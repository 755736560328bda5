//! Explanations: what policies found, made into something a developer can
//! act on, independent of where it is shown.
//!
//! A [`Report`] holds, per broken rule, everything a renderer may show: the
//! rule, mode and severity after ops' overrides, the message, the field as a
//! JSON Pointer and as a readable path, the value found, why ops care, where
//! to read more, whom to ask, and the fix. The terminal renderer of
//! `counsel check` and the AdmissionReview encoder of `counsel serve` both
//! read it; neither decides anything of its own.

mod excepted;

use std::time::Duration;

use counsel_contract::{FixSafety, Rule, Severity, Violation};
use counsel_edit::Edit;
use serde_json::Value;

use crate::config::{FailurePolicy, Mode, PolicyConfig, Unfixable};
use crate::engine::Failure;

pub use counsel_edit::field::field_path;
pub use excepted::{Excepted, Status as ExceptionStatus};

/// What the message of a finding that does not deny because the request did
/// not make it starts with (see [`Finding::predates`]).
pub const PREDATES: &str = "already there before this change: ";

/// What the message of a `fix`-mode finding without a machine fix ends
/// with when it denies ([`Unfixable::Deny`]).
pub const CANNOT_FIX: &str = " (Counsel cannot fix this one automatically)";

/// What the message of a `fix`-mode finding whose fix is only a suggestion
/// ends with when it denies: there is a fix, but not one to make unattended.
pub const ONLY_A_SUGGESTION: &str =
    " (its fix is only a suggestion, which Counsel does not make at admission)";

/// Everything Counsel concluded about one object.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The object judged.
    pub object: ObjectRef,
    /// Every broken rule, policy by policy, in configuration order.
    pub findings: Vec<Finding>,
    /// Advice policies gave that is not tied to a rule.
    pub warnings: Vec<PolicyWarning>,
    /// Policies that failed to give an answer.
    pub failures: Vec<PolicyFailure>,
    /// Every policy that ran, and how it went.
    pub evaluations: Vec<Evaluation>,
}

/// Names the object a report is about.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectRef {
    /// `apps/v1`.
    pub api_version: String,
    /// `Deployment`.
    pub kind: String,
    /// The object's name; empty when the server will generate it.
    pub name: String,
    /// The namespace, for namespaced objects.
    pub namespace: Option<String>,
}

impl ObjectRef {
    /// Reads the identity of an object.
    pub fn of(object: Option<&Value>, namespace: Option<&str>) -> ObjectRef {
        let text = |pointer: &str| {
            object
                .and_then(|o| o.pointer(pointer))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let name = match text("/metadata/name") {
            name if name.is_empty() => text("/metadata/generateName"),
            name => name,
        };
        ObjectRef {
            api_version: text("/apiVersion"),
            kind: text("/kind"),
            name,
            namespace: namespace
                .map(str::to_owned)
                .or_else(|| Some(text("/metadata/namespace")).filter(|ns| !ns.is_empty())),
        }
    }

    /// `Deployment shop/web`, `Namespace shop`, `Pod web-*`.
    pub fn describe(&self) -> String {
        let kind = if self.kind.is_empty() {
            "object"
        } else {
            &self.kind
        };
        let name = if self.name.is_empty() {
            "(unnamed)"
        } else {
            &self.name
        };
        match &self.namespace {
            Some(ns) => format!("{kind} {ns}/{name}"),
            None => format!("{kind} {name}"),
        }
    }
}

/// One broken rule at one place in the object, explained.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The policy's configured name.
    pub policy: String,
    /// The rule's id.
    pub rule: String,
    /// What this finding does to the request.
    pub mode: Mode,
    /// How much it matters.
    pub severity: Severity,
    /// What the rule requires, in one line.
    pub title: String,
    /// What is wrong with this object, in one line.
    pub message: String,
    /// JSON Pointer to the field.
    pub pointer: String,
    /// The field as a developer reads it
    /// (`spec.template.spec.containers[0].securityContext.privileged`).
    pub field: String,
    /// The value found; `None` when the field is missing.
    pub found: Option<Value>,
    /// Why ops care.
    pub why: String,
    /// Where to read more.
    pub docs: Option<String>,
    /// Whom to ask.
    pub contact: Option<String>,
    /// Who owns the object's namespace, as its annotations say
    /// (`review::Namespace::owner`): whom ops tell.
    pub owner: Option<String>,
    /// Edits that fix it (JSON Pointers relative to the object).
    pub fixes: Vec<Edit>,
    /// Whether `fixes` may be made without a person (the rule's, after ops'
    /// override): the webhook makes only safe ones.
    pub fix_safety: FixSafety,
    /// The field of each fix as a developer reads it, in the order of
    /// `fixes`: named once, against the object, so that nothing after the
    /// review needs the object again.
    pub fix_fields: Vec<String>,
    /// What a person should do when no machine fix exists.
    pub hint: Option<String>,
    /// The exception that covers it (live or expired), if any.
    pub exception: Option<Excepted>,
}

impl Finding {
    /// Explains one violation, applying ops' overrides of the rule.
    pub fn new(
        policy: &PolicyConfig,
        rule: &Rule<String>,
        violation: Violation,
        object: Option<&Value>,
    ) -> Finding {
        let overrides = policy.rules.get(&rule.id);
        let mut message = violation.message;
        let fix_safety = overrides
            .and_then(|o| o.fix_safety)
            .unwrap_or(rule.fix_safety);
        // A fix that is only a suggestion is, to the webhook, no fix at all.
        let unattended = !violation.fixes.is_empty() && fix_safety == FixSafety::Safe;
        let (mode, unfixable) = mode_in(policy, &rule.id, unattended);
        if unfixable {
            message.push_str(if violation.fixes.is_empty() {
                CANNOT_FIX
            } else {
                ONLY_A_SUGGESTION
            });
        }
        let field = field_path(&violation.path, object);
        let fix_fields = violation
            .fixes
            .iter()
            .map(|edit| field_path(edit.path(), object))
            .collect();
        Finding {
            policy: policy.name.clone(),
            rule: violation.rule,
            mode,
            severity: overrides.and_then(|o| o.severity).unwrap_or(rule.severity),
            title: rule.title.clone(),
            message,
            pointer: violation.path,
            field,
            found: violation.found,
            why: overrides
                .and_then(|o| o.why.clone())
                .unwrap_or_else(|| rule.why.clone()),
            // Ops' link first (their wiki), then the violation's own (the
            // level of a standard it is about), then the rule's.
            docs: overrides
                .and_then(|o| o.docs.clone())
                .or(violation.docs)
                .or_else(|| rule.docs.clone()),
            contact: policy.contact.clone(),
            owner: None,
            fixes: violation.fixes,
            fix_safety,
            fix_fields,
            hint: violation.hint,
            exception: None,
        }
    }

    /// The mode this finding would have were its policy configured as
    /// `policy` (another mode, as `counsel audit --as-mode` simulates),
    /// before any exception: decided as [`Finding::new`] decides it.
    pub fn mode_under(&self, policy: &PolicyConfig) -> Mode {
        mode_in(policy, &self.rule, self.has_unattended_fix()).0
    }

    /// Whether this finding would deny the request or change it (`enforce`,
    /// or `fix` with a machine fix): the findings an UPDATE is excused from
    /// when it did not make them.
    pub fn binds(&self) -> bool {
        self.mode == Mode::Enforce || self.mode == Mode::Fix && self.has_unattended_fix()
    }

    /// Turns a finding the request did not make (it was in the stored
    /// object already) into a warning that says so: it neither denies nor
    /// gets fixed. Findings that do not [bind](Finding::binds) are left as
    /// they are.
    pub fn predates(&mut self) {
        if self.binds() {
            self.mode = Mode::Warn;
            // It no longer denies, so what fix mode cannot do is beside the point.
            if let Some(kept) = [CANNOT_FIX, ONLY_A_SUGGESTION]
                .iter()
                .find_map(|suffix| self.message.strip_suffix(suffix))
            {
                self.message.truncate(kept.len());
            }
            self.message.insert_str(0, PREDATES);
        }
    }

    /// Marks the finding as covered by an exception. A live one lets it
    /// through: it neither denies nor gets fixed, and is shown as excepted.
    /// An expired one leaves it as it is, its message saying why the
    /// exception no longer counts.
    pub fn except(&mut self, excepted: Excepted) {
        if excepted.is_live() {
            if matches!(self.mode, Mode::Enforce | Mode::Fix) {
                self.mode = Mode::Warn;
                if let Some(kept) = [CANNOT_FIX, ONLY_A_SUGGESTION]
                    .iter()
                    .find_map(|suffix| self.message.strip_suffix(suffix))
                {
                    self.message.truncate(kept.len());
                }
            }
        } else {
            self.message = format!("{} ({})", self.message, excepted.sentence());
        }
        self.exception = Some(excepted);
    }

    /// The message and, when a live exception lets the finding through,
    /// the exception's story (an expired one is in the message already):
    /// for renderers that show the finding in one text.
    pub fn message_with_exception(&self) -> String {
        match self.excepted_by() {
            Some(excepted) => format!("{} ({})", self.message, excepted.sentence()),
            None => self.message.clone(),
        }
    }

    /// The live exception that lets this finding through, if any.
    pub fn excepted_by(&self) -> Option<&Excepted> {
        self.exception.as_ref().filter(|e| e.is_live())
    }

    /// Whether the finding has a machine fix that may be made without a
    /// person: the webhook's notion of "has a fix". A finding whose fixes are
    /// only suggestions is, to the webhook, one without a machine fix.
    pub fn has_unattended_fix(&self) -> bool {
        !self.fixes.is_empty() && self.fix_safety == FixSafety::Safe
    }

    /// `[policy/rule]`.
    pub fn label(&self) -> String {
        format!("[{}/{}]", self.policy, self.rule)
    }

    /// The found value as compact JSON, or `(not set)`.
    pub fn found_text(&self) -> String {
        self.found
            .as_ref()
            .map_or_else(|| "(not set)".to_owned(), Value::to_string)
    }

    /// The fixes as readable edits (`set spec...privileged: false`), joined
    /// by `; `; `None` when there is no machine fix.
    pub fn fix_summary(&self) -> Option<String> {
        if self.fixes.is_empty() {
            return None;
        }
        let edits: Vec<String> = self.fixes_with_fields().map(describe).collect();
        Some(edits.join("; "))
    }

    /// Each fix with its field as a developer reads it.
    pub fn fixes_with_fields(&self) -> impl Iterator<Item = (&Edit, &str)> {
        self.fixes
            .iter()
            .zip(self.fix_fields.iter().map(String::as_str))
    }
}

/// The mode a violation of `rule` gets under `policy` (ops' mode for the
/// rule), and whether that is `enforce` only because fix mode cannot fix it
/// (`unattended`: it has a fix that may be made without a person). Fix mode
/// lets in what it fixes; what it cannot fix must not get in through it,
/// unless ops chose so (`unfixable: warn`).
fn mode_in(policy: &PolicyConfig, rule: &str, unattended: bool) -> (Mode, bool) {
    let overrides = policy.rules.get(rule);
    let mode = overrides.and_then(|o| o.mode).unwrap_or(policy.mode);
    let unfixable = overrides
        .and_then(|o| o.unfixable)
        .unwrap_or(policy.unfixable);
    if mode == Mode::Fix && !unattended && unfixable == Unfixable::Deny {
        (Mode::Enforce, true)
    } else {
        (mode, false)
    }
}

/// One edit as a developer reads it: `set spec.containers[0].securityContext.privileged: false`
/// or `remove spec.hostNetwork`; paths are named against `object`.
pub fn describe_edit(edit: &Edit, object: Option<&Value>) -> String {
    describe((edit, &field_path(edit.path(), object)))
}

/// An edit whose field is already named.
fn describe((edit, field): (&Edit, &str)) -> String {
    match edit {
        Edit::Set { value, .. } => format!("set {field}: {value}"),
        Edit::Remove { .. } => format!("remove {field}"),
    }
}

/// Advice from a policy that is not tied to a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyWarning {
    /// The policy's configured name.
    pub policy: String,
    /// The advice.
    pub message: String,
}

/// A policy that could not give an answer.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyFailure {
    /// The policy's configured name.
    pub policy: String,
    /// What went wrong.
    pub failure: Failure,
    /// Whether that denies or allows.
    pub failure_policy: FailurePolicy,
    /// Whom to ask.
    pub contact: Option<String>,
}

impl PolicyFailure {
    /// One sentence that makes clear the policy, not the object, is at fault.
    pub fn sentence(&self) -> String {
        let contact = match &self.contact {
            Some(contact) => format!("; contact {contact}"),
            None => "; contact the cluster's operators".to_owned(),
        };
        format!(
            "policy {:?} failed ({}), so it could not check this object; this is not a problem with your object{contact}",
            self.policy, self.failure
        )
    }
}

/// How the evaluation of one policy went.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// The policy's configured name.
    pub policy: String,
    /// How it went.
    pub outcome: Outcome,
    /// How long it took.
    pub duration: Duration,
}

/// The outcome of one policy's evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing broken.
    Pass,
    /// Some rules broken.
    Violations,
    /// The policy failed.
    Failure,
}

impl Report {
    /// Findings of one mode.
    pub fn findings_in(&self, mode: Mode) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(move |f| f.mode == mode)
    }

    /// Whether the request may proceed: nothing enforced is broken and no
    /// policy failed under `failurePolicy: fail`.
    pub fn allowed(&self) -> bool {
        self.findings_in(Mode::Enforce).next().is_none()
            && self
                .failures
                .iter()
                .all(|f| f.failure_policy == FailurePolicy::Ignore)
    }

    /// `Deployment shop/web violates 2 rules:`, or `Pod shop/web has 9
    /// violations of 4 rules:` when a rule is broken more than once;
    /// counting enforced findings.
    pub fn summary_line(&self) -> String {
        let count = self.findings_in(Mode::Enforce).count();
        let mut distinct: Vec<(&str, &str)> = self
            .findings_in(Mode::Enforce)
            .map(|f| (f.policy.as_str(), f.rule.as_str()))
            .collect();
        distinct.sort_unstable();
        distinct.dedup();
        let rules = if distinct.len() == 1 { "rule" } else { "rules" };
        if count == distinct.len() {
            format!("{} violates {count} {rules}:", self.object.describe())
        } else {
            format!(
                "{} has {count} violations of {} {rules}:",
                self.object.describe(),
                distinct.len()
            )
        }
    }
}
