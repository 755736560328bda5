//! Loading the policies the server reviews with, and reloading them when
//! `counsel.yaml` or a module it names changes.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::metrics::Reloaded;
use super::state::{Policies, ServerState};
use crate::config::{Config, ConfigError, Module};
use crate::engine::Engine;
use crate::review::Reviewer;

/// Where policies come from: a configuration file, or the built-in
/// configuration (bundled policies, never reloaded).
pub struct PolicySource {
    config_path: Option<PathBuf>,
    engine: Arc<Engine>,
    /// What the policies being served were loaded from.
    loaded_from: Mutex<Option<Fingerprint>>,
}

type Fingerprint = [u8; 32];

impl PolicySource {
    /// Policies from `config_path` (the built-in configuration when
    /// `None`), compiled by `engine`.
    pub fn new(config_path: Option<PathBuf>, engine: Arc<Engine>) -> Self {
        PolicySource {
            config_path,
            engine,
            loaded_from: Mutex::new(None),
        }
    }

    /// Reads the configuration and loads every policy. Blocking and slow
    /// (compiles modules missing from the cache).
    pub fn load(&self) -> Result<Policies, ConfigError> {
        // The file is hashed before it is read: a change in between is seen
        // as a change by the next look.
        let text_digest = self.config_digest();
        let config = match &self.config_path {
            Some(path) => Config::load(path)?,
            None => Config::builtin(),
        };
        let reviewer = Reviewer::load(&config, self.engine.clone())?;
        *self
            .loaded_from
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(fingerprint(text_digest, &config));
        Ok(Policies { config, reviewer })
    }

    fn config_digest(&self) -> Fingerprint {
        let mut hasher = Sha256::new();
        if let Some(path) = &self.config_path {
            match std::fs::read(path) {
                Ok(text) => hasher.update(&text),
                Err(error) => hasher.update(error.to_string()),
            }
        }
        hasher.finalize().into()
    }

    /// Whether the configuration or a module it names differs from what the
    /// served policies were loaded from.
    fn changed(&self, served: &Config) -> bool {
        let now = fingerprint(self.config_digest(), served);
        *self
            .loaded_from
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            != Some(now)
    }

    /// Looks at the configuration every `interval` and, when it or a module
    /// changed, loads it again and swaps it in. A configuration that does
    /// not load is logged and counted, once per change; the policies loaded
    /// before stay. Runs until the task is dropped; returns at once for the
    /// built-in configuration.
    pub async fn watch(self: Arc<Self>, state: Arc<ServerState>, interval: Duration) {
        if self.config_path.is_none() {
            return;
        }
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut refused: Option<Fingerprint> = None;
        loop {
            ticks.tick().await;
            let Some(served) = state.policies() else {
                continue;
            };
            let this = self.clone();
            let state = state.clone();
            let seen = refused;
            let step = tokio::task::spawn_blocking(move || {
                if !this.changed(&served.config) {
                    return seen;
                }
                let now = fingerprint(this.config_digest(), &served.config);
                if seen == Some(now) {
                    return seen;
                }
                match this.load() {
                    Ok(policies) => {
                        let count = policies.reviewer.policies().count();
                        state.set_policies(policies);
                        state.metrics().record_reload(Reloaded::Config, true);
                        tracing::info!("configuration reloaded: {count} policies");
                        None
                    }
                    Err(error) => {
                        state.metrics().record_reload(Reloaded::Config, false);
                        tracing::error!(
                            "configuration change refused, still using the previous policies: {error}"
                        );
                        Some(now)
                    }
                }
            });
            match step.await {
                Ok(now_refused) => refused = now_refused,
                Err(error) => tracing::error!("configuration watcher failed: {error}"),
            }
        }
    }
}

/// The configuration's digest plus, for each module file it names, its
/// path, size and modification time (modules are large and replaced rather
/// than edited in place).
fn fingerprint(config_digest: Fingerprint, config: &Config) -> Fingerprint {
    let mut hasher = Sha256::new();
    hasher.update(config_digest);
    for policy in &config.policies {
        if let Module::Path(path) = &policy.module {
            hasher.update(path.as_os_str().as_encoded_bytes());
            if let Ok(metadata) = std::fs::metadata(path) {
                hasher.update(metadata.len().to_le_bytes());
                if let Ok(modified) = metadata.modified() {
                    hasher.update(format!("{modified:?}"));
                }
            }
        }
    }
    hasher.finalize().into()
}
