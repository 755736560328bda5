//! Writing the AdmissionReview response from a [`Report`].
//!
//! The report decides (`Report::allowed`), this module only renders:
//! `enforce` violations and `failurePolicy: fail` failures deny with a
//! readable `status.message` (what kubectl prints), `warn` violations become
//! `warnings`, `audit` violations become `auditAnnotations`.

mod excepted;
mod message;
#[cfg(test)]
mod tests;
mod text;
mod warnings;

use std::collections::HashMap;

use kube_core::admission::AdmissionResponse;
use kube_core::response::{Status, StatusCause, StatusDetails};
use serde_json::Value;

use crate::config::{FailurePolicy, Mode};
use crate::explain::{ObjectRef, Report};
use crate::server::mutate::Mutation;

use message::denial;
use text::shorten;
pub(crate) use warnings::{finding_line, warning_subject};
use warnings::{mutation_warnings, plain_warning, warnings};

/// Kubernetes' limit on the name part of an audit annotation key.
const MAX_ANNOTATION_KEY: usize = 63;

/// The response to a review: allowed or denied per the report, with
/// warnings and audit annotations.
pub fn encode_report(uid: &str, report: &Report) -> AdmissionResponse {
    let mut response = empty_response(uid);
    if report.allowed() {
        response.allowed = true;
        response.result = Status::success();
    } else {
        let violated = report.findings_in(Mode::Enforce).next().is_some();
        // A policy that failed says nothing about the object: not Forbidden.
        let (code, reason) = if violated {
            (403, "Forbidden")
        } else {
            (500, "InternalError")
        };
        let denial = denial(report);
        // One cause per violation the message shows, in its order, and one
        // that counts the rest: the answer stays bounded like the message.
        let mut causes: Vec<StatusCause> = denial
            .shown
            .iter()
            .map(|finding| StatusCause {
                reason: "FieldValueForbidden".to_owned(),
                message: format!("{} {}", finding.label(), finding.message),
                field: finding.field.clone(),
            })
            .collect();
        if denial.left_out > 0 {
            causes.push(StatusCause {
                reason: "ViolationsLeftOut".to_owned(),
                message: format!(
                    "{} more violations left out; counsel check -f <file> lists them all",
                    denial.left_out
                ),
                field: String::new(),
            });
        }
        causes.extend(
            report
                .failures
                .iter()
                .filter(|failure| failure.failure_policy == FailurePolicy::Fail)
                .map(|failure| StatusCause {
                    reason: "PolicyFailed".to_owned(),
                    message: format!("[{}] {}", failure.policy, failure.sentence()),
                    field: String::new(),
                }),
        );
        response.allowed = false;
        response.result = Status::failure(&denial.message, reason)
            .with_code(code)
            .with_details(details(&report.object, causes));
    }
    let warnings = warnings(report);
    if !warnings.is_empty() {
        response.warnings = Some(warnings);
    }
    response.audit_annotations = audit_annotations(report);
    response
}

/// The response of `/mutate`: the report's decision, and warnings that say
/// what each applied fix changed and why (the patch itself goes into the
/// review by [`review_json_with_patch`]).
pub fn encode_mutation(uid: &str, mutation: &Mutation) -> AdmissionResponse {
    let mut response = encode_report(uid, &mutation.report);
    let warnings = mutation_warnings(mutation);
    response.warnings = (!warnings.is_empty()).then_some(warnings);
    response
}

/// Why a review was answered without evaluating policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unevaluated {
    /// Every evaluation slot stayed busy until the answer was due.
    Overloaded,
    /// The evaluation did not finish before the answer was due.
    TimedOut,
    /// The evaluation crashed (a bug in Counsel, not in a policy).
    Crashed,
}

impl Unevaluated {
    fn reason(self) -> &'static str {
        match self {
            Unevaluated::Overloaded => "the webhook is overloaded",
            Unevaluated::TimedOut => "the evaluation did not finish in time",
            Unevaluated::Crashed => "the evaluation crashed",
        }
    }
}

/// A policy that would have judged a request that was not evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedPolicy {
    /// The policy's name.
    pub policy: String,
    /// Whether not knowing its verdict denies or allows.
    pub failure_policy: FailurePolicy,
    /// Whom to ask.
    pub contact: Option<String>,
}

/// The response when policies could not be evaluated at all: denied when one
/// of the `skipped` policies has `failurePolicy: fail`, otherwise allowed
/// with a warning per skipped policy (and no warning when none applied).
pub fn encode_unevaluated(
    uid: &str,
    object: &ObjectRef,
    skipped: &[SkippedPolicy],
    why: Unevaluated,
) -> AdmissionResponse {
    let mut response = empty_response(uid);
    let failing: Vec<&SkippedPolicy> = skipped
        .iter()
        .filter(|policy| policy.failure_policy == FailurePolicy::Fail)
        .collect();
    if failing.is_empty() {
        response.allowed = true;
        response.result = Status::success();
        let subject = warning_subject(object);
        let warnings: Vec<String> = skipped
            .iter()
            .map(|policy| {
                plain_warning(
                    &format!("[{}]", policy.policy),
                    &subject,
                    &format!(
                        "not checked: {} (failurePolicy: ignore, so the request is allowed)",
                        why.reason()
                    ),
                )
            })
            .collect();
        if !warnings.is_empty() {
            response.warnings = Some(warnings::cap(warnings, &subject));
        }
        return response;
    }
    let mut text = format!(
        "{} could not be checked: {}. This is not a problem with your object; retry in a moment.",
        object.describe(),
        why.reason()
    );
    let mut causes = Vec::new();
    for policy in &failing {
        let contact = policy
            .contact
            .as_deref()
            .unwrap_or("the cluster's operators");
        let line = format!(
            "[{}] policy {:?} must check this request (failurePolicy: fail); if this persists, contact {contact}",
            policy.policy, policy.policy
        );
        text.push_str("\n\n");
        text.push_str(&line);
        causes.push(StatusCause {
            reason: "PolicyNotEvaluated".to_owned(),
            message: line,
            field: String::new(),
        });
    }
    response.allowed = false;
    response.result = Status::failure(&text, "ServiceUnavailable")
        .with_code(503)
        .with_details(details(object, causes));
    response
}

/// `auditAnnotations`: one key per `audit` rule (`policy.rule`) and per
/// failed policy (`policy.failed`); the API server prefixes them with the
/// webhook's name. Values list each finding as `message (field: found)`.
pub fn audit_annotations(report: &Report) -> HashMap<String, String> {
    let mut annotations: HashMap<String, String> = HashMap::new();
    for finding in report.findings_in(Mode::Audit) {
        let key = annotation_key(&format!("{}.{}", finding.policy, finding.rule));
        let found = match &finding.found {
            Some(value) => shorten(&value.to_string(), 120),
            None => "not set".to_owned(),
        };
        let entry = format!("{} ({}: {found})", finding.message, finding.field);
        annotations
            .entry(key)
            .and_modify(|value| {
                value.push_str("; ");
                value.push_str(&entry);
            })
            .or_insert(entry);
    }
    for failure in &report.failures {
        annotations.insert(
            annotation_key(&format!("{}.failed", failure.policy)),
            failure.sentence(),
        );
    }
    annotations
}

/// A valid annotation name: letters, digits, `-`, `_`, `.`; starting and
/// ending alphanumeric; at most 63 characters.
fn annotation_key(raw: &str) -> String {
    let cleaned: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .take(MAX_ANNOTATION_KEY)
        .collect();
    let trimmed = cleaned.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    if trimmed.is_empty() {
        "counsel".to_owned()
    } else {
        trimmed.to_owned()
    }
}

fn details(object: &ObjectRef, causes: Vec<StatusCause>) -> StatusDetails {
    let group = object
        .api_version
        .split_once('/')
        .map(|(group, _)| group)
        .unwrap_or_default();
    StatusDetails {
        name: object.name.clone(),
        group: group.to_owned(),
        kind: object.kind.clone(),
        uid: String::new(),
        causes,
        retry_after_seconds: 0,
    }
}

/// A response for `uid` with the v1 type metadata and nothing decided yet.
fn empty_response(uid: &str) -> AdmissionResponse {
    // `invalid` is the constructor that sets the v1 TypeMeta without a typed
    // request; every field it sets is overwritten by the callers.
    let mut response = AdmissionResponse::invalid("");
    response.uid = uid.to_owned();
    response
}

/// The whole AdmissionReview JSON document carrying `response`.
fn review_json(response: AdmissionResponse) -> serde_json::Result<Vec<u8>> {
    serde_json::to_vec(&response.into_review())
}

/// The AdmissionReview carrying `response` and, when given, `patch` as the
/// API server wants it: base64 of the RFC 6902 JSON, `patchType: JSONPatch`.
/// (kube-core's own `with_patch` takes another major version of json-patch
/// and writes the bytes as a JSON array.)
///
/// Serialising plain strings, bools, maps and JSON values does not fail;
/// should it, the error is the answer, never an empty body.
pub fn review_json_with_patch(
    response: AdmissionResponse,
    patch: Option<&json_patch::Patch>,
) -> serde_json::Result<Vec<u8>> {
    let Some(patch) = patch else {
        return review_json(response);
    };
    use base64::Engine as _;
    let mut review = serde_json::to_value(response.into_review())?;
    let encoded = serde_json::to_vec(patch)?;
    if let Some(answer) = review.get_mut("response").and_then(Value::as_object_mut) {
        answer.insert(
            "patch".to_owned(),
            Value::String(base64::engine::general_purpose::STANDARD.encode(encoded)),
        );
        answer.insert(
            "patchType".to_owned(),
            Value::String("JSONPatch".to_owned()),
        );
    }
    serde_json::to_vec(&review)
}
