//! One request through every policy that matches it: match, evaluate,
//! explain. The webhook and `counsel check` both go through here, so a
//! developer's laptop and the cluster cannot disagree. What a request is
//! judged on when its object already exists is decided here too
//! (`updates.rs`).

mod context;
mod settings_rules;
mod updates;

pub use context::{Context, Namespace, OWNER_ANNOTATION};

use std::time::{Duration, Instant};

use crate::config::{Config, ConfigError, FailurePolicy, Origin, PolicyConfig, Updates};
use crate::engine::{Engine, Policy};
use crate::exceptions;
use crate::explain::{
    Evaluation, Finding, ObjectRef, Outcome, PolicyFailure, PolicyWarning, Report,
};
use crate::matching;
use crate::request::{Admission, Operation, Request};

/// The rule the SDK adds to every catalog.
const INVALID_FIELD: &str = "invalid-field";

/// The loaded policies of a configuration, ready to review requests.
/// `Send + Sync`: share it in an `Arc`; `review` is CPU-bound and
/// synchronous, so async callers run it on a blocking pool.
pub struct Reviewer {
    policies: Vec<Loaded>,
}

struct Loaded {
    config: PolicyConfig,
    policy: Policy,
    settings: String,
}

/// Which policies a review runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope<'a> {
    /// Every policy whose match selects the request.
    All,
    /// Only this policy (still subject to its match).
    Policy(&'a str),
}

/// Why a review could not be made at all.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReviewError {
    /// The scope names a policy that is not configured.
    #[error("no policy named {0:?} is configured")]
    UnknownPolicy(String),
}

impl Reviewer {
    /// Loads every policy of `config`: reads and compiles its module, checks
    /// its settings with the policy itself, and checks that rule overrides
    /// name rules the policy has. The first problem stops the load.
    pub fn load(config: &Config, engine: &Engine) -> Result<Reviewer, ConfigError> {
        let mut policies = Vec::with_capacity(config.policies.len());
        for policy_config in &config.policies {
            policies.push(load_policy(config, policy_config, engine)?);
        }
        Ok(Reviewer { policies })
    }

    /// The configured policy names, in order.
    pub fn policies(&self) -> impl Iterator<Item = &str> {
        self.policies.iter().map(|p| p.config.name.as_str())
    }

    /// The loaded policy of that name.
    pub fn policy(&self, name: &str) -> Option<&Policy> {
        self.policies
            .iter()
            .find(|p| p.config.name == name)
            .map(|p| &p.policy)
    }

    /// The kinds the policies match, as the background audit and `counsel
    /// audit` need them: which kinds to list.
    pub fn kinds(&self) -> MatchedKinds {
        let mut kinds = MatchedKinds::default();
        for loaded in &self.policies {
            let named =
                (loaded.config.matcher.kinds.as_deref()).unwrap_or(&loaded.policy.metadata().kinds);
            if named.is_empty() || named.iter().any(|kind| kind == "*") {
                kinds.every = true;
            } else {
                kinds.named.extend(named.iter().cloned());
            }
        }
        kinds
    }

    /// The configuration of each policy in `scope` whose match selects
    /// `request`, in order: the policies a review of it runs.
    pub fn matching<'s>(
        &'s self,
        request: &'s Request,
        scope: Scope<'s>,
        namespace: Option<&'s Namespace>,
    ) -> impl Iterator<Item = &'s PolicyConfig> {
        self.matching_loaded(request, scope, namespace)
            .map(|loaded| &loaded.config)
    }

    fn matching_loaded<'s>(
        &'s self,
        request: &'s Request,
        scope: Scope<'s>,
        namespace: Option<&'s Namespace>,
    ) -> impl Iterator<Item = &'s Loaded> {
        self.policies.iter().filter(move |loaded| {
            !matches!(scope, Scope::Policy(name) if name != loaded.config.name)
                && matching::matches(
                    &loaded.config.matcher,
                    &loaded.policy.metadata().kinds,
                    request,
                    namespace,
                )
        })
    }

    /// Reviews a request with nothing known besides it (see
    /// [`Reviewer::review_in`]).
    pub fn review<'r>(
        &self,
        request: impl Into<Admission<'r>>,
        scope: Scope<'_>,
        budget: Option<Duration>,
    ) -> Result<Report, ReviewError> {
        self.review_in(request, scope, budget, &Context::alone())
    }

    /// Reviews a request in `context`. A failing policy never makes this
    /// fail: it is reported as a [`PolicyFailure`]. `budget` bounds the
    /// time all policies together may take (e.g. below the API server's
    /// timeout).
    pub fn review_in<'r>(
        &self,
        request: impl Into<Admission<'r>>,
        scope: Scope<'_>,
        budget: Option<Duration>,
        context: &Context<'_>,
    ) -> Result<Report, ReviewError> {
        self.review_admission(request.into(), scope, budget, context)
    }

    fn review_admission(
        &self,
        admission: Admission<'_>,
        scope: Scope<'_>,
        budget: Option<Duration>,
        context: &Context<'_>,
    ) -> Result<Report, ReviewError> {
        let request = admission.request();
        if let Scope::Policy(name) = scope
            && !self.policies.iter().any(|p| p.config.name == name)
        {
            return Err(ReviewError::UnknownPolicy(name.to_owned()));
        }
        let started = Instant::now();
        let mut report = Report {
            object: ObjectRef::of(request.subject(), request.namespace.as_deref()),
            findings: Vec::new(),
            warnings: Vec::new(),
            failures: Vec::new(),
            evaluations: Vec::new(),
        };
        // Explained once every policy has spoken, against an object read as
        // far as all their pointers reach.
        let mut violations = Vec::new();
        // Serialised at most once, however many policies run.
        let mut request_json = None;
        for loaded in self.matching_loaded(request, scope, context.namespace) {
            let request_json: &str = request_json.get_or_insert_with(|| admission.to_json());
            let remaining = budget.map(|b| b.saturating_sub(started.elapsed()));
            let began = Instant::now();
            let outcome = match loaded
                .policy
                .evaluate(request_json, &loaded.settings, remaining)
            {
                Ok(verdict) => {
                    let outcome = if verdict.violations.is_empty() {
                        Outcome::Pass
                    } else {
                        Outcome::Violations
                    };
                    violations.extend(verdict.violations.into_iter().map(|v| (loaded, v)));
                    report
                        .warnings
                        .extend(verdict.warnings.into_iter().map(|message| PolicyWarning {
                            policy: loaded.config.name.clone(),
                            message,
                        }));
                    outcome
                }
                Err(failure) => {
                    tracing::warn!(policy = %loaded.config.name, cause = failure.cause(), "policy failed: {failure}");
                    report.failures.push(PolicyFailure {
                        policy: loaded.config.name.clone(),
                        failure,
                        failure_policy: loaded.config.failure_policy,
                        contact: loaded.config.contact.clone(),
                    });
                    Outcome::Failure
                }
            };
            report.evaluations.push(Evaluation {
                policy: loaded.config.name.clone(),
                outcome,
                duration: began.elapsed(),
            });
        }
        if !violations.is_empty() {
            let pointers = violations.iter().flat_map(|(_, v)| {
                std::iter::once(v.path.as_str()).chain(v.fixes.iter().map(|edit| edit.path()))
            });
            // Exceptions may name containers: their names are read too.
            let exceptions = context.exceptions.filter(|e| !e.is_empty());
            let names: Vec<String> = match exceptions {
                Some(_) => violations
                    .iter()
                    .filter_map(|(_, v)| exceptions::container_name_pointer(&v.path))
                    .collect(),
                None => Vec::new(),
            };
            let subject =
                admission.subject_reaching(pointers.chain(names.iter().map(String::as_str)));
            let owner = context.namespace.and_then(Namespace::owner);
            for (loaded, violation) in violations {
                // The engine has checked that every rule is in the catalog.
                if let Some(rule) = loaded.policy.metadata().rule(&violation.rule) {
                    let mut finding =
                        Finding::new(&loaded.config, rule, violation, subject.as_deref());
                    finding.owner.clone_from(&owner);
                    report.findings.push(finding);
                }
            }
            if let Some(exceptions) = exceptions {
                let target = exceptions::target(request, context);
                exceptions.apply(
                    &mut report.findings,
                    &target,
                    subject.as_deref(),
                    context.now,
                );
            }
        }
        let remaining = || budget.map(|b| b.saturating_sub(started.elapsed()));
        self.excuse(admission, &mut report, remaining);
        Ok(report)
    }

    /// Excuses what the request did not make (see `updates.rs`). Reads and
    /// evaluates the stored object only when something would deny or be
    /// fixed, and only with the policies concerned.
    fn excuse(
        &self,
        admission: Admission<'_>,
        report: &mut Report,
        remaining: impl Fn() -> Option<Duration>,
    ) {
        let failing = report
            .failures
            .iter()
            .any(|failure| failure.failure_policy == FailurePolicy::Fail);
        if !failing && !report.findings.iter().any(Finding::binds) {
            return;
        }
        let request = admission.request();
        if updates::cannot_change(request) {
            return updates::excuse_all(report);
        }
        if request.operation != Operation::Update {
            return;
        }
        let whole = match admission.whole() {
            Ok(whole) => whole,
            Err(error) => {
                // Read once already; should it fail now, nothing is excused.
                tracing::warn!("the objects of an UPDATE could not be read again: {error}");
                return;
            }
        };
        let (Some(new), Some(old)) = (&whole.object, &whole.old_object) else {
            return;
        };
        if updates::only_removes_finalizers(old, new) {
            return updates::excuse_all(report);
        }
        let concerned: Vec<&Loaded> = self
            .policies
            .iter()
            .filter(|loaded| {
                loaded.config.updates == Updates::Changed
                    && report
                        .findings
                        .iter()
                        .any(|f| f.policy == loaded.config.name && f.binds())
            })
            .collect();
        if concerned.is_empty() {
            return;
        }
        let created = updates::as_created(whole.into_owned());
        let json = created.to_json();
        for loaded in concerned {
            let before = match loaded.policy.evaluate(&json, &loaded.settings, remaining()) {
                Ok(verdict) => verdict.violations,
                Err(failure) => {
                    // Without its answer nothing can be shown to predate the
                    // change: the findings stand.
                    tracing::warn!(policy = %loaded.config.name, cause = failure.cause(), "policy failed on the stored object: {failure}");
                    continue;
                }
            };
            for finding in &mut report.findings {
                if finding.policy == loaded.config.name
                    && finding.binds()
                    && updates::was_there(finding, &before)
                {
                    finding.predates();
                }
            }
        }
    }
}

/// A settings error, at the line of the setting at `pointer` (into the
/// settings), in the file the settings came from.
fn settings_error(
    config: &Config,
    policy: &PolicyConfig,
    pointer: &str,
    message: &str,
) -> ConfigError {
    let origin = match &policy.settings_file {
        Some(path) => Origin::File(path.clone()),
        None => config.origin.clone(),
    };
    ConfigError {
        origin,
        line: policy.settings_line(pointer).or(policy.line),
        message: format!("policy {:?}: settings: {message}", policy.name),
    }
}

fn load_policy(
    config: &Config,
    policy: &PolicyConfig,
    engine: &Engine,
) -> Result<Loaded, ConfigError> {
    let error = |line: Option<usize>, message: String| ConfigError {
        origin: config.origin.clone(),
        line: line.or(policy.line),
        message: format!("policy {:?}: {message}", policy.name),
    };
    let bytes = policy
        .module
        .read()
        .map_err(|e| error(None, format!("module: cannot read {}: {e}", policy.module)))?;
    let mut loaded = engine
        .load(&policy.name, &bytes, policy.limits)
        .map_err(|e| ConfigError {
            origin: config.origin.clone(),
            line: policy.line,
            message: format!("{e} (module {})", policy.module),
        })?;
    let settings = policy.settings.to_string();
    match loaded.validate_settings(&settings) {
        Ok(Ok(())) => {}
        Ok(Err(message)) => {
            let at = settings_rules::error_pointer(&message).unwrap_or_default();
            return Err(settings_error(config, policy, &at, &message));
        }
        Err(failure) => {
            return Err(error(
                None,
                format!("settings could not be checked: the policy {failure}"),
            ));
        }
    }
    // Only a policy with no rules of its own takes its rules from its
    // settings (the SDK's built-in `invalid-field` aside).
    if loaded
        .metadata()
        .rules
        .iter()
        .all(|r| r.id == INVALID_FIELD)
    {
        let rules = settings_rules::catalog(&policy.settings)
            .map_err(|e| settings_error(config, policy, &e.pointer, &e.message))?;
        loaded
            .add_settings_rules(rules)
            .map_err(|message| settings_error(config, policy, "", &message))?;
    }
    for (id, rule) in &policy.rules {
        if loaded.metadata().rule(id).is_none() {
            let known: Vec<&str> = loaded
                .metadata()
                .rules
                .iter()
                .map(|r| r.id.as_str())
                .collect();
            return Err(error(
                rule.line,
                format!(
                    "rules: the policy has no rule {id:?}; its rules are {}",
                    known.join(", ")
                ),
            ));
        }
    }
    Ok(Loaded {
        config: policy.clone(),
        policy: loaded,
        settings,
    })
}

/// The kinds a configuration's policies match ([`Reviewer::kinds`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MatchedKinds {
    /// Kinds some policy names (`Deployment`).
    pub named: std::collections::BTreeSet<String>,
    /// Some policy matches every kind (no kinds, or `*`).
    pub every: bool,
}
