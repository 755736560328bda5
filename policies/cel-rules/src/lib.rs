//! # cel: rules written in CEL, and Kubernetes ValidatingAdmissionPolicies
//!
//! For ops who do not write Rust: the rules are this policy's settings, in
//! counsel.yaml. Each rule has an id, a title and a reason (Counsel's host
//! reads those into the catalog, see `src/review/settings_rules.rs`), and a
//! `validate` expression in CEL over `object`, `oldObject`, `request` and
//! `params`. With `forEach: containers` it is evaluated for every
//! container, init and ephemeral container of every pod spec of every
//! workload kind (as `container`, with `podSpec`), found by the SDK's
//! workload helpers exactly as Rust rules find them; `message` is a CEL
//! string, `path` says where (relative to the container), `fixes` set or
//! remove fields with values computed by CEL, `hint` says what to do.
//!
//! ValidatingAdmissionPolicies are accepted as Kubernetes defines them
//! (`validatingAdmissionPolicies[].policy`), with params given inline, and
//! each validation runs as a rule (see `vap.rs`).
//!
//! Expressions are checked when settings are loaded (`check.rs`); every
//! evaluation parses them again, as it runs in a fresh instance.

mod check;
mod evaluate;
mod json;
pub mod library;
pub mod program;
pub mod settings;
mod vap;

use std::sync::Arc;

use cel_interpreter::Context;
use counsel_policy::{Metadata, Policy, Request, Verdict, export_policy};

pub use settings::Settings;

/// The policy.
pub struct Cel;

impl Policy for Cel {
    type Settings = Settings;

    fn metadata() -> Metadata {
        Metadata {
            name: "cel".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Rules written in CEL in counsel.yaml, and Kubernetes \
                          ValidatingAdmissionPolicies, explained and with fixes."
                .into(),
            kinds: Vec::new(),
            // The rules are the settings': Counsel adds them to the catalog.
            rules: Vec::new(),
        }
    }

    fn validate_settings(settings: &Settings) -> Result<(), String> {
        check::settings(settings)
    }

    fn validate(request: &Request, settings: &Settings) -> Verdict {
        let mut verdict = Verdict::default();
        let env = match library::env(settings.expressions()) {
            Ok(env) => Arc::new(env),
            Err(e) => {
                verdict.warn(format!("the CEL library could not be set up: {e}"));
                return verdict;
            }
        };
        let mut ctx = Context::with_env(env);
        evaluate::bind_request(&mut ctx, request);
        for rule in &settings.rules {
            let mut scope = ctx.new_inner_scope();
            evaluate::bind_params(&mut scope, rule.params.as_ref());
            evaluate::rule(rule, request, &scope, &mut verdict);
        }
        for entry in &settings.validating_admission_policies {
            let mut scope = ctx.new_inner_scope();
            evaluate::bind_params(&mut scope, entry.params.as_ref());
            scope.add_variable_as_val(
                "namespaceObject",
                Box::new(cel_interpreter::common::types::CelNull),
            );
            vap::run(entry, request, &scope, &mut verdict);
        }
        verdict
    }
}

export_policy!(Cel);
