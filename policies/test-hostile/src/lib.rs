//! A policy that misbehaves on purpose. It is a test fixture for the
//! engine's limits and checks, never a policy to deploy.
//!
//! Its settings choose the misbehaviour of `validate`:
//! `{"behaviour": "loop" | "memory-bomb" | "recursion" | "trap" |
//! "huge-verdict" | "malformed-found" | "unknown-rule" | "bad-pointer" |
//! "omitted" | "omitted-unknown-rule" | "deny" | "allow"}`. `omitted`
//! denies once and counts 41 more violations as left out. `deny` and `allow` behave well, so the same component
//! also serves as a healthy policy in tests.

#![cfg(target_arch = "wasm32")]

use std::hint::black_box;

wit_bindgen::generate!({
    path: "../../wit",
    world: "policy",
});

use counsel::policy::host::log;
use counsel::policy::types::{FixSafety, LogLevel, Omitted, Rule, Severity, Violation};

const BEHAVIOURS: [&str; 12] = [
    "loop",
    "memory-bomb",
    "recursion",
    "trap",
    "huge-verdict",
    "malformed-found",
    "unknown-rule",
    "bad-pointer",
    "omitted",
    "omitted-unknown-rule",
    "deny",
    "allow",
];

struct Hostile;

/// The behaviour named in the settings text, found without a JSON parser
/// to keep this fixture small.
fn behaviour(settings: &str) -> Option<&'static str> {
    BEHAVIOURS.iter().copied().find(|b| {
        settings.contains(&format!("\"behaviour\":\"{b}\""))
            || settings.contains(&format!("\"behaviour\": \"{b}\""))
    })
}

fn violation(rule: &str, path: &str, found: Option<&str>) -> Violation {
    Violation {
        rule: rule.into(),
        message: "the object's name is not allowed".into(),
        path: path.into(),
        found: found.map(Into::into),
        fixes: Vec::new(),
        hint: None,
        docs: None,
    }
}

fn recurse(depth: u64) -> u64 {
    let frame = black_box([depth; 64]);
    if black_box(depth) == u64::MAX {
        frame[0]
    } else {
        1 + recurse(depth + 1) + frame[63]
    }
}

impl Guest for Hostile {
    fn metadata() -> Metadata {
        Metadata {
            name: "test-hostile".into(),
            version: "0.1.0".into(),
            description: "Test fixture that misbehaves on purpose.".into(),
            kinds: Vec::new(),
            rules: vec![Rule {
                id: "hostile".into(),
                title: "Objects must not be named".into(),
                why: "This fixture denies on request.".into(),
                docs: None,
                severity: Severity::High,
                fix_safety: FixSafety::Suggestion,
            }],
        }
    }

    fn validate_settings(settings: String) -> Result<(), String> {
        match behaviour(&settings) {
            Some(_) => Ok(()),
            None => Err(format!(
                "behaviour: must be one of {}",
                BEHAVIOURS.join(", ")
            )),
        }
    }

    fn validate(_request: String, settings: String) -> Verdict {
        log(LogLevel::Debug, "validating");
        let mut violations = Vec::new();
        let mut omitted = Vec::new();
        match behaviour(&settings).unwrap_or("allow") {
            "loop" => loop {
                black_box(());
            },
            "memory-bomb" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1; 1 << 20]);
                    black_box(&hoard);
                }
            }
            "recursion" => {
                black_box(recurse(0));
            }
            "trap" => panic!("deliberate trap"),
            "huge-verdict" => violations.push(Violation {
                message: "x".repeat(4 << 20),
                ..violation("hostile", "/metadata/name", None)
            }),
            "malformed-found" => {
                violations.push(violation("hostile", "/metadata/name", Some("{not json")))
            }
            "unknown-rule" => violations.push(violation("no-such-rule", "/metadata/name", None)),
            "bad-pointer" => violations.push(violation("hostile", "metadata/name", None)),
            "omitted" => {
                violations.push(violation("hostile", "/metadata/name", Some("\"web\"")));
                omitted.push(Omitted {
                    rule: "hostile".into(),
                    count: 41,
                });
            }
            "omitted-unknown-rule" => omitted.push(Omitted {
                rule: "no-such-rule".into(),
                count: 1,
            }),
            "deny" => violations.push(violation("hostile", "/metadata/name", Some("\"web\""))),
            _ => {}
        }
        Verdict {
            violations,
            omitted,
            warnings: Vec::new(),
        }
    }
}

export!(Hostile);
