//! The `warnings` of a response, within Kubernetes' limits.
//!
//! The API server passes each warning on as an HTTP `Warning` header, which
//! kubectl prints as a `Warning: ...` line on stderr as soon as the response
//! arrives, before its own `created` line for that object. So every warning
//! names its object (`[pod-security/privileged] Deployment shop/web: ...`):
//! in a multi-document apply it would otherwise read as being about the
//! object printed just before, and kubectl, which prints a text it has
//! already printed only once per run, would swallow the same finding about
//! a second object.
//!
//! The API server's warning recorder drops a warning that contains a
//! control character, counts text in characters, and once the warnings of
//! a request exceed 4096 characters it cuts every warning to 256 characters
//! and drops the rest. So each warning here is one line of at most 256
//! characters, shortened on its own terms (a long message gives way before
//! the label, the object and the fix; text is cut after a whole word), the
//! most severe come first, and when they do not all fit in 4096 characters
//! a last warning says how many were left out and how to see them.

use counsel_contract::FixSafety;
use counsel_edit::Edit;

use super::excepted::excepted_warning;
use super::text::{chars, one_line, shorten};
use crate::config::{FailurePolicy, Mode};
use crate::explain::{Finding, ObjectRef, Report};
use crate::server::mutate::Mutation;

/// Most characters in one warning.
pub const MAX_WARNING_CHARS: usize = 256;
/// Most characters of all warnings together.
pub const MAX_TOTAL_CHARS: usize = 4096;
/// Most characters of the object's name in a warning: Kubernetes names can
/// be 253 characters long, which would leave no room for the finding.
const MAX_OBJECT_CHARS: usize = 80;
/// A message is not shortened below this many characters to make room for
/// the fix: below it, the fix gives way instead.
const MIN_MESSAGE_CHARS: usize = 40;
/// The fix's place in a warning where the fix itself does not fit.
const FIX_POINTER: &str = " (fix: counsel check --fix -f <file>)";

/// The object as warnings name it: `Deployment shop/web`, shortened.
pub fn warning_subject(object: &ObjectRef) -> String {
    shorten(&one_line(&object.describe()), MAX_OBJECT_CHARS)
}

/// Every warning of a report, most severe first, within the limits: warn-mode
/// violations by descending severity, then policies that failed under
/// `failurePolicy: ignore`, then the policies' own advice.
pub fn warnings(report: &Report) -> Vec<String> {
    let subject = warning_subject(&report.object);
    cap(report_warnings(report, &subject), &subject)
}

/// The warnings of `/mutate`'s answer: one per applied fix, saying what it
/// changed and why, then fixes that disagree or could not be applied, then
/// the warnings of the report answered with; all within the limits.
pub fn mutation_warnings(mutation: &Mutation) -> Vec<String> {
    let subject = warning_subject(&mutation.report.object);
    let mut all: Vec<String> = mutation
        .applied
        .iter()
        .map(|finding| applied_warning(finding, &subject))
        .collect();
    all.extend(mutation.conflicts.iter().map(|conflict| {
        plain_warning(
            "[counsel]",
            &subject,
            &format!("not fixed: {}", conflict.brief()),
        )
    }));
    if let Some(why) = &mutation.not_applied {
        all.push(plain_warning(
            "[counsel]",
            &subject,
            &format!("fixes not applied: {why}"),
        ));
    }
    all.extend(report_warnings(&mutation.report, &subject));
    cap(all, &subject)
}

/// `[policy/rule] Deployment shop/web: set spec...privileged=false: <why,
/// its first sentence>`; `subject` is [`warning_subject`]. The edits stay
/// whole (grouped under their common parent when they are long), the
/// reason gives way.
pub fn applied_warning(finding: &Finding, subject: &str) -> String {
    let edits: Vec<String> = finding
        .fixes_with_fields()
        .map(|(edit, field)| match edit {
            Edit::Set { value, .. } => format!("set {field}={value}"),
            Edit::Remove { .. } => format!("remove {field}"),
        })
        .collect();
    let mut head = format!(
        "{} {subject}: {}",
        finding.label(),
        one_line(&edits.join(", "))
    );
    // Grouped under their parent when that leaves the reason its room.
    if chars(&head) + 2 + MIN_MESSAGE_CHARS > MAX_WARNING_CHARS
        && let Some(grouped) = grouped_edits(finding, "=", ", ")
    {
        head = format!("{} {subject}: {}", finding.label(), one_line(&grouped));
    }
    let why = finding
        .why
        .split_once(". ")
        .map_or(finding.why.as_str(), |(first, _)| first)
        .trim_end_matches('.');
    // The hint (what to do if the change does not suit the workload) is
    // what enforce mode shows too; it goes before the reason.
    let why = match &finding.hint {
        Some(hint) if why.is_empty() => format!("hint: {hint}"),
        Some(hint) => format!("hint: {hint} {why}"),
        None => why.to_owned(),
    };
    let room = MAX_WARNING_CHARS.saturating_sub(chars(&head) + 2);
    if why.is_empty() || room < MIN_MESSAGE_CHARS {
        return shorten(&head, MAX_WARNING_CHARS);
    }
    format!("{head}: {}", shorten(&one_line(&why), room))
}

/// `[policy/rule] Deployment shop/web: message (fix: ...)`, at most 256
/// characters; `subject` is [`warning_subject`]. The fix stays whole
/// (grouped under its common parent when long) while the message keeps 40
/// characters; otherwise the warning points at `counsel check --fix`. A
/// hint stands where there is no fix, cut after a word when it is long.
pub fn finding_warning(finding: &Finding, subject: &str) -> String {
    let head = format!("{} {subject}: ", finding.label());
    let message = one_line(&finding.message);
    let Some(fix) = finding.fix_summary() else {
        let tail = match &finding.hint {
            Some(hint) => format!(" (hint: {})", one_line(hint)),
            None => String::new(),
        };
        return shorten(&format!("{head}{message}{tail}"), MAX_WARNING_CHARS);
    };
    // In fix mode a suggestion is not applied by the webhook: say so, and
    // give the hint (what it takes), as enforce mode does.
    let (name, hint) = match &finding.hint {
        Some(hint) if finding.mode == Mode::Fix && finding.fix_safety == FixSafety::Suggestion => (
            "suggested fix, not applied",
            format!("; hint: {}", one_line(hint)),
        ),
        _ => ("fix", String::new()),
    };
    let mut tails = vec![format!(" ({name}: {}{hint})", one_line(&fix))];
    if let Some(grouped) = grouped_edits(finding, ": ", "; ") {
        tails.push(format!(" ({name}: {}{hint})", one_line(&grouped)));
    }
    let fixed = chars(&head);
    // A long hint is cut rather than lost with the fix.
    if !hint.is_empty() {
        let bare = format!(" ({name}: {}; hint: )", one_line(&fix));
        let room = MAX_WARNING_CHARS.saturating_sub(fixed + chars(&message) + chars(&bare));
        if room >= MIN_MESSAGE_CHARS {
            let hint = shorten(hint.trim_start_matches("; hint: "), room);
            tails.push(format!(" ({name}: {}; hint: {hint})", one_line(&fix)));
        }
        // Still a suggestion, not made, when the hint has no room at all.
        tails.push(format!(" ({name}: {})", one_line(&fix)));
    }
    for tail in &tails {
        if fixed + chars(&message) + chars(tail) <= MAX_WARNING_CHARS {
            return format!("{head}{message}{tail}");
        }
    }
    // The message gives way, to the shortest way of saying the fix.
    if let Some(tail) = tails.iter().min_by_key(|tail| chars(tail)) {
        let room = MAX_WARNING_CHARS.saturating_sub(fixed + chars(tail));
        if room >= MIN_MESSAGE_CHARS {
            return format!("{head}{}{tail}", shorten(&message, room));
        }
    }
    let room = MAX_WARNING_CHARS.saturating_sub(chars(FIX_POINTER));
    format!(
        "{}{FIX_POINTER}",
        shorten(&format!("{head}{message}"), room)
    )
}

/// The warning of one finding: its exception's when one lets it through
/// ([`excepted_warning`]), else [`finding_warning`]. Events say the same.
pub fn finding_line(finding: &Finding, subject: &str) -> String {
    match finding.excepted_by() {
        Some(excepted) => excepted_warning(finding, excepted, subject),
        None => finding_warning(finding, subject),
    }
}

/// A warning that is not about a rule: `[source] Deployment shop/web: text`,
/// at most 256 characters.
pub fn plain_warning(source: &str, subject: &str, text: &str) -> String {
    shorten(
        &one_line(&format!("{source} {subject}: {text}")),
        MAX_WARNING_CHARS,
    )
}

/// The fixes of `finding` under their common parent field, as
/// `in spec...securityContext, set privileged: false; set ...`, when there
/// are several and they share one (`sep` between a field and its value,
/// `join` between edits).
fn grouped_edits(finding: &Finding, sep: &str, join: &str) -> Option<String> {
    let mut parent: Option<&str> = None;
    let mut edits = Vec::new();
    for (edit, field) in finding.fixes_with_fields() {
        let (up, key) = field.rsplit_once('.')?;
        // A bracketed key (`["a.b/c"]`) or an index is not split.
        if !key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return None;
        }
        if parent.is_some_and(|p| p != up) {
            return None;
        }
        parent = Some(up);
        edits.push(match edit {
            Edit::Set { value, .. } => format!("set {key}{sep}{value}"),
            Edit::Remove { .. } => format!("remove {key}"),
        });
    }
    let parent = parent?;
    (edits.len() > 1).then(|| format!("in {parent}, {}", edits.join(join)))
}

/// Every warning of a report, uncapped.
fn report_warnings(report: &Report, subject: &str) -> Vec<String> {
    // Fix-mode findings are warnings wherever their fix is not applied (by
    // `/validate`, or when a fix-mode violation has no machine fix).
    let mut findings: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|finding| matches!(finding.mode, Mode::Warn | Mode::Fix))
        .collect();
    // Stable: equal severities keep the report's order.
    findings.sort_by_key(|finding| std::cmp::Reverse(finding.severity));
    let mut all: Vec<String> = findings
        .iter()
        .map(|finding| finding_line(finding, subject))
        .collect();
    // Whom ops tell, once, after the findings it is about (denials say it
    // in each block).
    if let Some(owner) = findings.iter().find_map(|finding| finding.owner.as_deref()) {
        all.push(plain_warning(
            "[counsel]",
            subject,
            &format!("owner: {owner}"),
        ));
    }
    all.extend(
        report
            .failures
            .iter()
            .filter(|failure| failure.failure_policy == FailurePolicy::Ignore)
            .map(|failure| {
                plain_warning(
                    &format!("[{}]", failure.policy),
                    subject,
                    &failure.sentence(),
                )
            }),
    );
    all.extend(
        report
            .warnings
            .iter()
            .map(|advice| plain_warning(&format!("[{}]", advice.policy), subject, &advice.message)),
    );
    all
}

/// The warning that replaces `count` warnings that did not fit.
pub fn left_out_line(count: usize, subject: &str) -> String {
    let noun = if count == 1 { "warning" } else { "warnings" };
    plain_warning(
        "[counsel]",
        subject,
        &format!(
            "{count} more {noun} left out (Kubernetes passes on at most 4096 characters of warnings); to see them all: counsel check -f <file>"
        ),
    )
}

/// Keeps warnings in order while they fit in [`MAX_TOTAL_CHARS`], leaving
/// room for the left-out warning when one is needed. Every warning is made
/// one line first: Kubernetes drops one with a control character.
pub fn cap(all: Vec<String>, subject: &str) -> Vec<String> {
    let all: Vec<String> = all.iter().map(|warning| one_line(warning)).collect();
    let total: usize = all.iter().map(|warning| chars(warning)).sum();
    if total <= MAX_TOTAL_CHARS {
        return all;
    }
    // The left-out warning is longest when its count has the most digits.
    let reserve = chars(&left_out_line(all.len(), subject));
    let mut kept = Vec::new();
    let mut used = 0;
    for warning in &all {
        let length = chars(warning);
        if used + length + reserve > MAX_TOTAL_CHARS {
            break;
        }
        used += length;
        kept.push(warning.clone());
    }
    let left_out = all.len() - kept.len();
    kept.push(left_out_line(left_out, subject));
    kept
}
