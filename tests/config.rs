//! Configuration errors name the file, the line, the policy and the field.

use std::path::{Path, PathBuf};

use counsel::config::{Config, Mode, Module, Origin, Unfixable, Updates};
use counsel::engine::{Engine, EngineOptions};
use counsel::review::Reviewer;

fn hostile() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/dist/test-hostile.wasm")
}

/// Writes `yaml` to a `counsel.yaml` and loads it with its policies.
fn load(yaml: &str) -> Result<Reviewer, String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("counsel.yaml");
    std::fs::write(
        &path,
        yaml.replace("HOSTILE", &hostile().display().to_string()),
    )
    .expect("write");
    let engine = Engine::new(EngineOptions {
        cache_dir: None,
        max_concurrent: 4,
        ..EngineOptions::default()
    })
    .expect("engine");
    let config = Config::load(&path).map_err(|e| {
        e.to_string()
            .replace(&path.display().to_string(), "counsel.yaml")
    })?;
    Reviewer::load(&config, &engine).map_err(|e| {
        e.to_string()
            .replace(&path.display().to_string(), "counsel.yaml")
    })
}

fn error(yaml: &str) -> String {
    load(yaml).err().expect("the configuration must be refused")
}

#[test]
fn an_unknown_field_is_named_with_its_line() {
    let message = error("policies:\n  - name: p\n    module: HOSTILE\n    mood: enforce\n");
    assert!(
        message.starts_with("counsel.yaml:4: policy \"p\": mood: unknown field `mood`, expected one of `name`, `module`"),
        "{message}"
    );
}

#[test]
fn a_bad_module_path_is_named() {
    let message = error("policies:\n  - name: p\n    module: missing/policy.wasm\n");
    assert!(
        message.starts_with("counsel.yaml:3: policy \"p\": module: "),
        "{message}"
    );
    assert!(
        message.ends_with("missing/policy.wasm does not exist or is not a file"),
        "{message}"
    );
    let message = error("policies:\n  - name: p\n    module: builtin:nope\n");
    assert!(message.starts_with("counsel.yaml:3: policy \"p\": module: there is no bundled policy \"nope\"; bundled are builtin:"), "{message}");
}

#[test]
fn invalid_settings_are_explained_by_the_policy() {
    let message =
        error("policies:\n  - name: h\n    module: HOSTILE\n    settings: {behaviour: fly}\n");
    assert_eq!(
        message,
        "counsel.yaml:4: policy \"h\": settings: behaviour: must be one of loop, memory-bomb, recursion, trap, huge-verdict, malformed-found, unknown-rule, bad-pointer, omitted, omitted-unknown-rule, deny, allow"
    );
}

#[test]
fn an_override_of_an_unknown_rule_is_refused() {
    let message = error(
        "policies:\n  - name: h\n    module: HOSTILE\n    settings: {behaviour: deny}\n    rules:\n      hostile: {why: fine}\n      nope: {why: typo}\n",
    );
    assert_eq!(
        message,
        "counsel.yaml:7: policy \"h\": rules: the policy has no rule \"nope\"; its rules are hostile"
    );
}

#[test]
fn wrong_values_and_syntax_errors_name_their_place() {
    let message = error("policies:\n  - name: p\n    module: HOSTILE\n    mode: block\n");
    assert_eq!(
        message,
        "counsel.yaml:4: policy \"p\": mode: unknown variant `block`, expected one of `enforce`, `warn`, `audit`, `fix`"
    );
    let message = error("policies:\n  - name: p\n    module: HOSTILE\n    timeout: soon\n");
    assert_eq!(
        message,
        "counsel.yaml:4: policy \"p\": timeout: \"soon\" is not a duration; write e.g. \"250ms\", \"2s\" or \"1m\""
    );
    let message =
        error("policies:\n  - name: p\n    module: HOSTILE\n  - name: p\n    module: HOSTILE\n");
    assert_eq!(
        message,
        "counsel.yaml:4: policy \"p\" is configured twice; policy names must be unique"
    );
    let message = error("policies:\n  - name: [p\n");
    assert!(message.starts_with("counsel.yaml:"), "{message}");
    let message = error("policy: []\n");
    assert!(
        message.starts_with("counsel.yaml:1: policy: unknown field `policy`, expected `policies`"),
        "{message}"
    );
}

#[test]
fn a_good_configuration_loads_with_defaults() {
    let reviewer = load(
        "policies:\n  - name: h\n    module: HOSTILE\n    settings: {behaviour: deny}\n    mode: warn\n    memory: 32Mi\n",
    )
    .expect("loads");
    assert_eq!(reviewer.policies().collect::<Vec<_>>(), ["h"]);
    assert_eq!(
        reviewer.policy("h").expect("loaded").limits().memory,
        32 << 20
    );
}

#[test]
fn the_builtin_configuration_uses_bundled_policies() {
    let config = Config::builtin();
    assert!(!config.policies.is_empty());
    for policy in &config.policies {
        assert!(
            matches!(policy.module, Module::Bundled(_)),
            "{}",
            policy.name
        );
        assert!(
            policy
                .matcher
                .exclude_namespaces
                .contains(&"kube-system".to_owned())
        );
    }
    assert_eq!(config.policies[0].mode, Mode::Enforce);
    let engine = Engine::new(EngineOptions {
        cache_dir: None,
        max_concurrent: 4,
        ..EngineOptions::default()
    })
    .expect("engine");
    Reviewer::load(&config, &engine).expect("the bundled policies load");
}

#[test]
fn updates_and_unfixable_are_checked_like_every_field() {
    let message = error("policies:\n  - name: p\n    module: HOSTILE\n    updates: sometimes\n");
    assert_eq!(
        message,
        "counsel.yaml:4: policy \"p\": updates: unknown variant `sometimes`, expected `changed` or `strict`"
    );
    let message = error("policies:\n  - name: p\n    module: HOSTILE\n    unfixable: allow\n");
    assert_eq!(
        message,
        "counsel.yaml:4: policy \"p\": unfixable: unknown variant `allow`, expected `deny` or `warn`"
    );
    let message = error(
        "policies:\n  - name: p\n    module: HOSTILE\n    rules:\n      hostile:\n        unfixable: ignore\n",
    );
    assert_eq!(
        message,
        "counsel.yaml:6: policy \"p\": rules.hostile.unfixable: unknown variant `ignore`, expected `deny` or `warn`"
    );
}

#[test]
fn updates_are_judged_on_what_changes_and_fix_mode_denies_what_it_cannot_fix_by_default() {
    let config = Config::parse(
        "policies:\n  - name: a\n    module: builtin:pod-security\n  - name: b\n    module: builtin:pod-security\n    updates: strict\n    unfixable: warn\n    rules:\n      run-as-user: {unfixable: deny}\n",
        Origin::Builtin,
        Path::new(""),
    )
    .expect("valid");
    let (a, b) = (&config.policies[0], &config.policies[1]);
    assert_eq!(
        (a.updates, a.unfixable),
        (Updates::Changed, Unfixable::Deny)
    );
    assert_eq!((b.updates, b.unfixable), (Updates::Strict, Unfixable::Warn));
    assert_eq!(b.rules["run-as-user"].unfixable, Some(Unfixable::Deny));
}
