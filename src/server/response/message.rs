//! The denial message: what kubectl prints after
//! `admission webhook "..." denied the request: `, and what the API server
//! logs and stores with the request.
//!
//! One block per broken rule, most severe first: a rule broken once is one
//! block (`[policy/rule] message`, then field, why, fix, hint, docs,
//! contact); a rule broken in several places says its reason, docs and
//! contact once, below the list of its violations. The message stays within
//! [`MAX_MESSAGE_BYTES`]: each line has a length cap (text is cut after a
//! whole word); when the blocks do not all fit, the most severe rules keep
//! theirs, the next violations get one line each, and a last paragraph
//! counts what is left out and points at `counsel check` for the report.

mod block;

use std::collections::HashMap;

use self::block::{RuleBlock, brief_line};
use super::text::{one_line, shorten};
use crate::config::{FailurePolicy, Mode};
use crate::explain::{Finding, Report};

/// The last line of a denial: how to see the same report locally.
pub const CHECK_LOCALLY: &str =
    "To see this report locally, pointing at the lines of your file: counsel check -f <file>";

/// Most bytes in a denial message.
pub const MAX_MESSAGE_BYTES: usize = 4096;

/// Longest line about a policy that failed.
const MAX_FAILURE_CHARS: usize = 500;
/// Longest list of left-out rules in the last paragraph.
const MAX_LEFT_OUT_LIST_BYTES: usize = 400;
/// The heading of the one-line violations.
const BRIEF_HEADING: &str = "Also broken:";

/// A denial: the message, and the enforced findings it shows (in the order
/// shown); the others are only counted.
#[derive(Debug, Clone)]
pub struct Denial<'a> {
    /// The `status.message`.
    pub message: String,
    /// The enforced findings the message shows.
    pub shown: Vec<&'a Finding>,
    /// How many enforced findings it leaves out.
    pub left_out: usize,
}

/// What a denial shows of the rules, in order: the first rules in blocks
/// (`detailed`: how many violations each block shows, all but the last
/// whole), then one line for each of `brief` (rule, violation).
struct Plan {
    detailed: Vec<usize>,
    brief: Vec<(usize, usize)>,
}

/// The denial of `report`: a summary line, one block per broken rule (most
/// severe first), one line per policy that failed under `failurePolicy:
/// fail`, what was left out when not everything fits in
/// [`MAX_MESSAGE_BYTES`], and how to get the report locally.
pub fn denial(report: &Report) -> Denial<'_> {
    let groups = rule_groups(report);
    let failures: Vec<String> = report
        .failures
        .iter()
        .filter(|failure| failure.failure_policy == FailurePolicy::Fail)
        .map(|failure| {
            let line = format!("[{}] {}", failure.policy, failure.sentence());
            shorten(&one_line(&line), MAX_FAILURE_CHARS)
        })
        .collect();
    let summary = if groups.is_empty() {
        let policies = if failures.len() == 1 {
            "policy"
        } else {
            "policies"
        };
        format!(
            "{} could not be checked: {} {policies} failed:",
            one_line(&report.object.describe()),
            failures.len()
        )
    } else {
        one_line(&report.summary_line())
    };
    let closing = if groups.is_empty() { "" } else { CHECK_LOCALLY };
    let blocks: Vec<RuleBlock> = groups.iter().map(|group| RuleBlock::new(group)).collect();

    // Everything, when it fits.
    let all: Vec<String> = blocks.iter().map(|b| b.render(b.count)).collect();
    let whole = assemble(&summary, &all, &failures, closing);
    if whole.len() <= MAX_MESSAGE_BYTES {
        return Denial {
            message: whole,
            shown: groups.into_iter().flatten().collect(),
            left_out: 0,
        };
    }

    // Otherwise failures first (there are few, and they say why a request
    // may be denied with nothing wrong in it), then rules in blocks while
    // the violations after them still fit in one line each (or in a third
    // of the room, when there are many), then one line per violation.
    let mut room = MAX_MESSAGE_BYTES.saturating_sub(summary.len() + closing.len() + 4);
    let mut kept_failures = Vec::new();
    for failure in &failures {
        if failure.len() + 2 > room / 2 {
            break;
        }
        room -= failure.len() + 2;
        kept_failures.push(failure.clone());
    }
    // The one-line violations of every rule after each one.
    let mut briefs_after = vec![0; groups.len()];
    for at in (0..groups.len().saturating_sub(1)).rev() {
        let next: usize = groups[at + 1]
            .iter()
            .map(|finding| brief_line(finding).len() + 1)
            .sum();
        briefs_after[at] = briefs_after[at + 1] + next;
    }
    let mut plan = Plan {
        detailed: Vec::new(),
        brief: Vec::new(),
    };
    let mut used = 0;
    for (block, after) in blocks.iter().zip(&briefs_after) {
        let briefs = if *after == 0 {
            0
        } else {
            (BRIEF_HEADING.len() + 2 + after).min(room / 3)
        };
        let whole = block.len(block.count) + 2;
        if used + whole + briefs <= room {
            used += whole;
            plan.detailed.push(block.count);
            continue;
        }
        if plan.detailed.is_empty() {
            let take = block.fitting(room.saturating_sub(briefs));
            if take > 0 {
                used += block.len(take) + 2;
                plan.detailed.push(take);
            }
        }
        break;
    }
    let first_brief = plan.detailed.len();
    let mut brief_used = BRIEF_HEADING.len() + 2;
    'brief: for (at, group) in groups.iter().enumerate().skip(first_brief) {
        for (index, finding) in group.iter().enumerate() {
            brief_used += brief_line(finding).len() + 1;
            if used + brief_used > room {
                break 'brief;
            }
            plan.brief.push((at, index));
        }
    }
    // The last paragraph's length depends on what is left out: give up
    // one-line violations, then violations in blocks, then policies that
    // failed, until it fits.
    loop {
        let denial = render(
            &summary,
            &groups,
            &blocks,
            &plan,
            &kept_failures,
            failures.len(),
        );
        if denial.message.len() <= MAX_MESSAGE_BYTES {
            return denial;
        }
        // Policies that failed go last (they take little room); with
        // nothing left to give up, the message is as short as it gets.
        if !plan.shrink() && kept_failures.pop().is_none() {
            return denial;
        }
    }
}

impl Plan {
    /// Shows one violation less; false when nothing is shown.
    fn shrink(&mut self) -> bool {
        if self.brief.pop().is_some() {
            return true;
        }
        match self.detailed.last_mut() {
            Some(take) if *take > 1 => *take -= 1,
            Some(_) => {
                self.detailed.pop();
            }
            None => return false,
        }
        true
    }
}

/// The message of `plan`, counting what it leaves out.
fn render<'a>(
    summary: &str,
    groups: &[Vec<&'a Finding>],
    blocks: &[RuleBlock],
    plan: &Plan,
    failures: &[String],
    all_failures: usize,
) -> Denial<'a> {
    let mut shown: Vec<&Finding> = Vec::new();
    let mut shown_per_group = vec![0; groups.len()];
    let mut parts: Vec<String> = Vec::new();
    for (at, &take) in plan.detailed.iter().enumerate() {
        parts.push(blocks[at].render(take));
        shown.extend(&groups[at][..take]);
        shown_per_group[at] = take;
    }
    if !plan.brief.is_empty() {
        let mut brief = BRIEF_HEADING.to_owned();
        for &(at, index) in &plan.brief {
            let finding = groups[at][index];
            brief.push('\n');
            brief.push_str(&brief_line(finding));
            shown.push(finding);
            shown_per_group[at] += 1;
        }
        parts.push(brief);
    }
    let left: Vec<(String, usize)> = groups
        .iter()
        .zip(&shown_per_group)
        .filter(|(group, shown)| group.len() > **shown)
        .map(|(group, shown)| (one_line(&group[0].label()), group.len() - shown))
        .collect();
    let failures_left = all_failures - failures.len();
    let mut closing = Vec::new();
    if !left.is_empty() || failures_left > 0 {
        closing.push(left_out_paragraph(&left, failures_left));
    }
    if !groups.is_empty() {
        closing.push(CHECK_LOCALLY.to_owned());
    }
    let message = assemble(summary, &parts, failures, &closing.join("\n"));
    Denial {
        message,
        shown,
        left_out: left.iter().map(|(_, count)| count).sum(),
    }
}

/// The parts joined by blank lines.
fn assemble(summary: &str, blocks: &[String], failures: &[String], closing: &str) -> String {
    let mut message = summary.to_owned();
    for part in blocks.iter().chain(failures) {
        message.push_str("\n\n");
        message.push_str(part);
    }
    if !closing.is_empty() {
        message.push_str("\n\n");
        message.push_str(closing);
    }
    message
}

/// Enforced findings by rule, in the report's order of first appearance,
/// then the most severe rules first (a stable sort).
fn rule_groups(report: &Report) -> Vec<Vec<&Finding>> {
    let mut index: HashMap<(&str, &str), usize> = HashMap::new();
    let mut groups: Vec<Vec<&Finding>> = Vec::new();
    for finding in report.findings_in(Mode::Enforce) {
        let key = (finding.policy.as_str(), finding.rule.as_str());
        match index.get(&key) {
            Some(&at) => groups[at].push(finding),
            None => {
                index.insert(key, groups.len());
                groups.push(vec![finding]);
            }
        }
    }
    groups.sort_by_key(|group| std::cmp::Reverse(group[0].severity));
    groups
}

/// `12 more violations left out to keep this message short:
/// pod-security/seccomp (5), pod-security/capabilities (7).`, and the
/// policies that failed when some of them are left out too.
fn left_out_paragraph(rules: &[(String, usize)], failures: usize) -> String {
    let violations: usize = rules.iter().map(|(_, count)| count).sum();
    let mut parts = Vec::new();
    if violations > 0 {
        let noun = if violations == 1 {
            "violation"
        } else {
            "violations"
        };
        parts.push(format!("{violations} more {noun}"));
    }
    if failures > 0 {
        let noun = if failures == 1 { "policy" } else { "policies" };
        parts.push(format!("{failures} more {noun} that failed"));
    }
    let mut text = format!(
        "{} left out to keep this message short",
        parts.join(" and ")
    );
    let mut list = String::new();
    for (at, (label, count)) in rules.iter().enumerate() {
        let separator = if at == 0 { "" } else { ", " };
        let entry = format!("{separator}{} ({count})", label.trim_matches(['[', ']']));
        if list.len() + entry.len() > MAX_LEFT_OUT_LIST_BYTES {
            let more = rules.len() - at;
            let noun = if more == 1 { "rule" } else { "rules" };
            list.push_str(&format!(", and {more} more {noun}"));
            break;
        }
        list.push_str(&entry);
    }
    if !list.is_empty() {
        text.push_str(": ");
        text.push_str(&list);
    }
    text.push('.');
    text
}
