//! The configuration `counsel install` ships: counsel.yaml exactly as ops
//! wrote it, and the policy modules it names by relative path, so that the
//! paths resolve inside the container just as they do on the laptop.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, bail};
use counsel::config::Config;
use counsel::source;
use serde_json::Value;

use super::layout::{CONFIG_FILE, CONFIG_MAP_LIMIT};

/// The configuration `counsel install` ships when no `--config` is given:
/// the built-in policies, with pod-security in `MODE` (`warn` for a new
/// install, `enforce` with `--enforce`). `counsel serve` and `counsel
/// check` without a configuration enforce (`config/default.yaml`); a
/// cluster starts by warning, so that nothing running is denied on its
/// next rollout before its owners have seen the findings.
const INSTALL_CONFIG: &str = "\
# The configuration `counsel install` deploys: the bundled Pod Security
# Standards at the restricted level in MODE mode, and workload hygiene as
# warnings. kube-system is left alone. Modes: audit (metrics and logs only),
# warn (kubectl shows the findings, nothing is denied), enforce (denied).
policies:
  - name: pod-security
    module: builtin:pod-security
    settings:
      level: restricted
    mode: MODE
    match:
      namespaces:
        exclude: [kube-system]
  - name: workload-hygiene
    module: builtin:workload-hygiene
    mode: warn
    match:
      namespaces:
        exclude: [kube-system]
";

/// What goes into Counsel's ConfigMap.
#[derive(Debug)]
pub struct ConfigBundle {
    /// counsel.yaml, as written.
    pub text: String,
    /// The configuration as read, for what the manifests depend on.
    pub raw: Value,
    /// Module files: ConfigMap key → (path relative to counsel.yaml, bytes).
    pub modules: BTreeMap<String, (String, Vec<u8>)>,
}

impl ConfigBundle {
    /// The built-in policies, pod-security in `mode`.
    pub fn builtin(mode: &str) -> anyhow::Result<ConfigBundle> {
        let text = INSTALL_CONFIG.replace("MODE", mode);
        Ok(ConfigBundle {
            raw: raw_value(&text, Path::new("<built-in configuration>"))?,
            text,
            modules: BTreeMap::new(),
        })
    }

    /// Reads and checks `path`, and the module files it names.
    pub fn load(path: &Path) -> anyhow::Result<ConfigBundle> {
        // The same checks `counsel serve` makes, so that a configuration the
        // pods would refuse never reaches the cluster.
        Config::load(path)?;
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let raw = raw_value(&text, path)?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut modules = BTreeMap::new();
        let mut keys_by_path = BTreeMap::new();
        let policies = raw.get("policies").and_then(Value::as_array);
        for policy in policies.into_iter().flatten() {
            let name = policy.get("name").and_then(Value::as_str).unwrap_or("?");
            let Some(module) = policy.get("module").and_then(Value::as_str) else {
                continue;
            };
            if module.starts_with("builtin:") {
                continue;
            }
            let relative = relative_module_path(module).with_context(|| {
                format!("{}: policy {name:?}: module {module:?}", path.display())
            })?;
            if keys_by_path.contains_key(&relative) {
                continue;
            }
            let file = base.join(&relative);
            let bytes = std::fs::read(&file).with_context(|| {
                format!("cannot read policy {name:?}'s module {}", file.display())
            })?;
            let key = unique_key(&relative, &modules);
            keys_by_path.insert(relative.clone(), key.clone());
            modules.insert(key, (relative, bytes));
        }
        let bundle = ConfigBundle { text, raw, modules };
        bundle.check_size(path)?;
        Ok(bundle)
    }

    fn check_size(&self, path: &Path) -> anyhow::Result<()> {
        let size = self.text.len()
            + self
                .modules
                .values()
                .map(|(_, bytes)| bytes.len())
                .sum::<usize>();
        if size > CONFIG_MAP_LIMIT {
            bail!(
                "{} and its {} module file(s) take {} KiB, more than the {} KiB a ConfigMap can hold; \
                 put the modules in a volume and install with the Helm chart (value `policies.volume`)",
                path.display(),
                self.modules.len(),
                size.div_ceil(1024),
                CONFIG_MAP_LIMIT / 1024
            );
        }
        Ok(())
    }

    /// Whether a policy, or a rule of one, is in `fix` mode: then the
    /// mutating webhook is needed too.
    pub fn uses_fix_mode(&self) -> bool {
        let is_fix = |value: Option<&Value>| value.and_then(Value::as_str) == Some("fix");
        let policies = self.raw.get("policies").and_then(Value::as_array);
        policies.into_iter().flatten().any(|policy| {
            is_fix(policy.get("mode"))
                || policy
                    .get("rules")
                    .and_then(Value::as_object)
                    .is_some_and(|rules| rules.values().any(|rule| is_fix(rule.get("mode"))))
        })
    }

    /// Kinds policies are configured to match (`match.kinds`) that the
    /// webhooks are not sent, by policy; `*` included.
    pub fn kinds_outside(&self, sent: &[&str]) -> Vec<(String, String)> {
        let mut outside = Vec::new();
        let policies = self.raw.get("policies").and_then(Value::as_array);
        for policy in policies.into_iter().flatten() {
            let name = policy.get("name").and_then(Value::as_str).unwrap_or("?");
            let kinds = policy
                .pointer("/match/kinds")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str);
            for kind in kinds.filter(|kind| !sent.contains(kind)) {
                outside.push((name.to_owned(), kind.to_owned()));
            }
        }
        outside
    }

    /// The ConfigMap volume's `items` when modules are shipped (each key to
    /// its path under the configuration's folder); `None` when the
    /// ConfigMap holds only counsel.yaml and every key is projected as is.
    pub fn volume_items(&self) -> Option<Vec<(String, String)>> {
        if self.modules.is_empty() {
            return None;
        }
        let mut items = vec![(CONFIG_FILE.to_owned(), CONFIG_FILE.to_owned())];
        items.extend(
            self.modules
                .iter()
                .map(|(key, (relative, _))| (key.clone(), relative.clone())),
        );
        Some(items)
    }
}

fn raw_value(text: &str, path: &Path) -> anyhow::Result<Value> {
    let documents = source::parse(text)
        .map_err(|e| anyhow::anyhow!("{}:{}: {}", path.display(), e.line, e.message))?;
    Ok(documents
        .into_iter()
        .next()
        .map(|document| document.value)
        .unwrap_or(Value::Null))
}

/// The module's path as a ConfigMap item path: relative, normalised, and
/// inside the configuration's folder (Kubernetes refuses `..` in item paths).
fn relative_module_path(module: &str) -> anyhow::Result<String> {
    let path = PathBuf::from(module);
    let mut parts = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => match part.to_str() {
                Some(part) => parts.push(part),
                None => bail!("the path is not valid UTF-8"),
            },
            Component::CurDir => {}
            Component::ParentDir => bail!(
                "counsel install ships module files next to counsel.yaml and needs them in \
                 its folder or below; move the module there, or mount it yourself with the \
                 Helm chart (value `policies.volume`)"
            ),
            Component::RootDir | Component::Prefix(_) => bail!(
                "counsel install ships module files with counsel.yaml and needs their paths \
                 relative to it; write the path relative to counsel.yaml, or mount the module \
                 yourself with the Helm chart (value `policies.volume`)"
            ),
        }
    }
    if parts.is_empty() {
        bail!("the path names no file");
    }
    Ok(parts.join("/"))
}

/// A ConfigMap key for `relative` (keys allow `[-._a-zA-Z0-9]`), distinct
/// from counsel.yaml and from the keys taken already.
fn unique_key(relative: &str, taken: &BTreeMap<String, (String, Vec<u8>)>) -> String {
    let base: String = relative
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut key = base.clone();
    let mut n = 2;
    while key == CONFIG_FILE || taken.contains_key(&key) {
        key = format!("{n}-{base}");
        n += 1;
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundle(text: &str) -> ConfigBundle {
        ConfigBundle {
            text: text.to_owned(),
            raw: raw_value(text, Path::new("counsel.yaml")).expect("parses"),
            modules: BTreeMap::new(),
        }
    }

    #[test]
    fn the_builtin_configuration_loads_in_both_modes() {
        for mode in ["warn", "enforce"] {
            let bundle = ConfigBundle::builtin(mode).expect("parses");
            assert_eq!(bundle.raw["policies"][0]["mode"], mode);
            assert_eq!(bundle.raw["policies"][1]["mode"], "warn");
            Config::parse(
                &bundle.text,
                counsel::config::Origin::Builtin,
                Path::new(""),
            )
            .expect("a valid configuration");
        }
    }

    #[test]
    fn fix_mode_is_found_on_policies_and_rules() {
        let none = "policies:\n  - {name: a, module: builtin:pod-security, mode: enforce}\n";
        let policy = "policies:\n  - {name: a, module: builtin:pod-security, mode: fix}\n";
        let rule = "policies:\n  - name: a\n    module: builtin:pod-security\n    rules:\n      privileged: {mode: fix}\n";
        assert!(!bundle(none).uses_fix_mode());
        assert!(bundle(policy).uses_fix_mode());
        assert!(bundle(rule).uses_fix_mode());
    }

    #[test]
    fn kinds_the_webhook_is_not_sent_are_named_with_their_policy() {
        let text = "policies:\n  - {name: a, module: builtin:pod-security, match: {kinds: [Pod, Ingress, '*']}}\n";
        assert_eq!(
            bundle(text).kinds_outside(&["Pod"]),
            vec![("a".into(), "Ingress".into()), ("a".into(), "*".into())]
        );
    }

    #[test]
    fn module_paths_must_stay_below_the_configuration() {
        assert_eq!(
            relative_module_path("./policies/a.wasm").expect("fine"),
            "policies/a.wasm"
        );
        let up = relative_module_path("../a.wasm").expect_err("refused");
        assert!(up.to_string().contains("in its folder or below"), "{up}");
        let absolute = relative_module_path("/opt/a.wasm").expect_err("refused");
        assert!(
            absolute.to_string().contains("relative to it"),
            "{absolute}"
        );
    }

    #[test]
    fn keys_are_valid_and_distinct() {
        let mut taken = BTreeMap::new();
        assert_eq!(unique_key("policies/a b.wasm", &taken), "policies_a_b.wasm");
        taken.insert("policies_a.wasm".to_owned(), (String::new(), Vec::new()));
        assert_eq!(unique_key("policies/a.wasm", &taken), "2-policies_a.wasm");
        assert_eq!(unique_key("counsel.yaml", &taken), "2-counsel.yaml");
    }
}
