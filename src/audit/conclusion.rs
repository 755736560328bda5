//! What the audit keeps of a review: only what its readers say (reports,
//! Events, metrics), with what the findings of one rule share held once.
//!
//! A full `explain::Report` copies the rule's title, reason and docs into
//! every finding and carries the fixes as edits; at 20,000 objects that is
//! some 150,000 findings held for as long as the objects stand. Kept here
//! instead are each finding's texts, made once when it is judged (the
//! ones that recur from object to object shared), and an `Arc` of its
//! rule's [`RuleFacts`].

use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;

use counsel_contract::Severity;

use crate::config::Mode;
use crate::explain::{Finding, Outcome, Report};
use crate::server::{finding_line, warning_subject};

/// Most characters of a found value kept; a whole ConfigMap's data would
/// make one finding larger than many others together.
pub const MAX_FOUND_CHARS: usize = 256;

/// How many distinct [`RuleFacts`] an interner holds before it starts
/// afresh (owners and hints can vary per namespace and finding; what was
/// handed out stays valid, only no longer shared).
const MAX_INTERNED: usize = 4096;

/// How many distinct texts an interner holds before it starts afresh.
const MAX_INTERNED_TEXTS: usize = 65_536;

/// One object the audit judged, and what it concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audited {
    /// The object's `metadata.uid`.
    pub uid: String,
    /// The object's `metadata.resourceVersion` when it was judged.
    pub resource_version: String,
    /// Policies that judged the object and found nothing.
    pub passed: u32,
    /// Findings in every mode (`audit` included), excepted ones marked.
    pub findings: Vec<KeptFinding>,
    /// Policies that failed to judge it.
    pub failures: Vec<KeptFailure>,
}

/// What the findings of one rule share (under one owner and hint).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct RuleFacts {
    /// The policy's configured name.
    pub policy: String,
    /// The rule's id.
    pub rule: String,
    /// How much it matters.
    pub severity: Severity,
    /// Where to read more.
    pub docs: Option<String>,
    /// Whom to ask.
    pub contact: Option<String>,
    /// Who owns the object's namespace.
    pub owner: Option<String>,
    /// What a person should do.
    pub hint: Option<String>,
}

/// One finding as the audit keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptFinding {
    /// Its rule's shared facts.
    pub facts: Arc<RuleFacts>,
    /// Its mode; for an excepted finding, the mode it has without the
    /// exception.
    pub mode: Mode,
    /// The field as a developer reads it.
    pub field: Arc<str>,
    /// The value found as compact JSON (`(not set)`), cut after
    /// [`MAX_FOUND_CHARS`] characters.
    pub found: Arc<str>,
    /// The fixes as readable edits; `None` when there is no machine fix.
    pub fix: Option<Arc<str>>,
    /// What is wrong, in one line.
    pub message: Arc<str>,
    /// The live exception that lets it through.
    pub exception: Option<KeptException>,
    /// Its warning line, as kubectl would show it: what an Event says.
    pub line: Box<str>,
}

/// The live exception that lets a kept finding through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptException {
    /// `CounselException shop/legacy-root`.
    pub exception: Box<str>,
    /// The whole story in one line (`Excepted::sentence`).
    pub sentence: Box<str>,
}

/// A policy that failed to judge the object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptFailure {
    /// The policy's configured name.
    pub policy: Box<str>,
    /// One sentence saying the policy, not the object, is at fault.
    pub sentence: Box<str>,
    /// Whom to ask.
    pub contact: Option<Box<str>>,
}

impl KeptFinding {
    /// The message, followed by the exception's story when one lets it
    /// through.
    pub fn message_with_exception(&self) -> String {
        match &self.exception {
            Some(excepted) => format!("{} ({})", self.message, excepted.sentence),
            None => self.message.to_string(),
        }
    }
}

impl Audited {
    /// Whether nothing in it needs saying: no policy matched the object.
    pub fn is_empty(&self) -> bool {
        self.passed == 0 && self.findings.is_empty() && self.failures.is_empty()
    }
}

/// Makes [`Audited`]s, sharing each rule's facts between its findings,
/// and texts that recur (fields, values, messages and fixes are mostly
/// the same from one object to the next). One per evaluation thread.
#[derive(Debug, Default)]
pub struct Conclusions {
    /// Facts by the hash of their fields; a few per hash at most.
    facts: HashMap<u64, Vec<Arc<RuleFacts>>>,
    interned: usize,
    texts: HashSet<Arc<str>>,
}

impl Conclusions {
    /// What the audit keeps of `report`, the review of the object `uid`
    /// at `resource_version`.
    pub fn audited(&mut self, uid: &str, resource_version: &str, report: &Report) -> Audited {
        let subject = warning_subject(&report.object);
        Audited {
            uid: uid.to_owned(),
            resource_version: resource_version.to_owned(),
            passed: u32::try_from(
                (report.evaluations.iter())
                    .filter(|evaluation| evaluation.outcome == Outcome::Pass)
                    .count(),
            )
            .unwrap_or(u32::MAX),
            findings: (report.findings.iter())
                .map(|finding| self.finding(finding, &subject))
                .collect(),
            failures: (report.failures.iter())
                .map(|failure| KeptFailure {
                    policy: failure.policy.as_str().into(),
                    sentence: failure.sentence().into(),
                    contact: failure.contact.as_deref().map(Into::into),
                })
                .collect(),
        }
    }

    fn finding(&mut self, finding: &Finding, subject: &str) -> KeptFinding {
        let excepted = finding.excepted_by();
        KeptFinding {
            facts: self.facts(finding),
            mode: excepted.map_or(finding.mode, |excepted| excepted.mode),
            field: self.text(&finding.field),
            found: self.text(&cut(finding.found_text())),
            fix: finding.fix_summary().map(|fix| self.text(&fix)),
            message: self.text(&finding.message),
            exception: excepted.map(|excepted| KeptException {
                exception: excepted.exception.as_str().into(),
                sentence: excepted.sentence().into(),
            }),
            line: finding_line(finding, subject).into(),
        }
    }

    /// `text`, shared with the findings that had it before.
    fn text(&mut self, text: &str) -> Arc<str> {
        if let Some(shared) = self.texts.get(text) {
            return shared.clone();
        }
        if self.texts.len() >= MAX_INTERNED_TEXTS {
            self.texts.clear();
        }
        let shared: Arc<str> = text.into();
        self.texts.insert(shared.clone());
        shared
    }

    /// The facts of `finding`'s rule: the ones handed out before when they
    /// are the same.
    fn facts(&mut self, finding: &Finding) -> Arc<RuleFacts> {
        let fields = (
            &finding.policy,
            &finding.rule,
            finding.severity,
            &finding.docs,
            &finding.contact,
            &finding.owner,
            &finding.hint,
        );
        let mut hasher = DefaultHasher::new();
        fields.hash(&mut hasher);
        let hash = hasher.finish();
        let same = |facts: &&Arc<RuleFacts>| {
            (
                &facts.policy,
                &facts.rule,
                facts.severity,
                &facts.docs,
                &facts.contact,
                &facts.owner,
                &facts.hint,
            ) == fields
        };
        if let Some(facts) = self.facts.get(&hash).and_then(|all| all.iter().find(same)) {
            return facts.clone();
        }
        if self.interned >= MAX_INTERNED {
            self.facts.clear();
            self.interned = 0;
        }
        let facts = Arc::new(RuleFacts {
            policy: finding.policy.clone(),
            rule: finding.rule.clone(),
            severity: finding.severity,
            docs: finding.docs.clone(),
            contact: finding.contact.clone(),
            owner: finding.owner.clone(),
            hint: finding.hint.clone(),
        });
        self.facts.entry(hash).or_default().push(facts.clone());
        self.interned += 1;
        facts
    }
}

/// `text` cut after [`MAX_FOUND_CHARS`] characters, marked with `…`.
fn cut(text: String) -> String {
    match text.char_indices().nth(MAX_FOUND_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}
