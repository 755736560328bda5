//! Loading the policies the server reviews with, and reloading them when
//! `counsel.yaml` or a module it names changes.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::metrics::Reloaded;
use super::state::{Policies, ServerState};
use crate::config::{Config, ConfigError, Module, Origin};
use crate::engine::Engine;
use crate::review::Reviewer;

/// Where policies come from: a configuration file, or the built-in
/// configuration (bundled policies, never reloaded).
///
/// A changed file is loaded only once it is stable: the same on two looks
/// in a row. A file being written in place (whose first part may be a
/// valid configuration on its own) is never served half-written, as long
/// as the writer does not pause longer than the interval between looks;
/// replacing the file by an atomic rename is always safe.
pub struct PolicySource {
    config_path: Option<PathBuf>,
    engine: Arc<Engine>,
    looks: Mutex<Looks>,
}

/// What the looks so far found.
#[derive(Default)]
struct Looks {
    /// What the policies being served were loaded from.
    loaded_from: Option<Fingerprint>,
    /// A change seen by the last look, to load if the next sees it again.
    settling: Option<Fingerprint>,
    /// A change that did not load (logged and counted once).
    refused: Option<Fingerprint>,
}

type Fingerprint = [u8; 32];

/// What one look at the configuration found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Look {
    /// Nothing changed (or the change was refused already).
    Unchanged,
    /// A change, not loaded yet: the next look loads it if it is the same.
    Settling,
    /// A change that stayed the same, loaded and now served: this many
    /// policies.
    Reloaded(usize),
    /// A change that stayed the same but does not load; the previous
    /// policies keep serving.
    Refused(String),
    /// Nothing to look at: the built-in configuration, or no policies
    /// served yet.
    Idle,
}

impl PolicySource {
    /// Policies from `config_path` (the built-in configuration when
    /// `None`), compiled by `engine`.
    pub fn new(config_path: Option<PathBuf>, engine: Arc<Engine>) -> Self {
        PolicySource {
            config_path,
            engine,
            looks: Mutex::new(Looks::default()),
        }
    }

    /// Reads the configuration and loads every policy. Blocking and slow
    /// (compiles modules missing from the cache).
    pub fn load(&self) -> Result<Policies, ConfigError> {
        let (config, fingerprint) = match &self.config_path {
            Some(path) => {
                let read = Read::file(path);
                let config = read.parse(path)?;
                let fingerprint = fingerprint(read.digest, &config);
                (config, fingerprint)
            }
            None => (Config::builtin(), [0; 32]),
        };
        let reviewer = Reviewer::load(&config, &self.engine)?;
        self.looks().loaded_from = Some(fingerprint);
        Ok(Policies { config, reviewer })
    }

    fn looks(&self) -> std::sync::MutexGuard<'_, Looks> {
        self.looks.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Looks at the configuration once (blocking): when it or a module it
    /// names changed and is the same as on the last look, loads it and
    /// swaps it in; a change that does not load is logged and counted once.
    pub fn look(&self, state: &ServerState) -> Look {
        let (Some(path), Some(served)) = (&self.config_path, state.policies()) else {
            return Look::Idle;
        };
        let read = Read::file(path);
        let parsed = read.parse(path);
        // With the modules of the configuration read, or of the served one
        // when it does not parse (it is refused either way).
        let now = fingerprint(read.digest, parsed.as_ref().unwrap_or(&served.config));
        {
            let mut looks = self.looks();
            if looks.loaded_from == Some(now) || looks.refused == Some(now) {
                looks.settling = None;
                return Look::Unchanged;
            }
            if looks.settling != Some(now) {
                looks.settling = Some(now);
                return Look::Settling;
            }
            looks.settling = None;
        }
        let loaded = parsed.and_then(|config| {
            let reviewer = Reviewer::load(&config, &self.engine)?;
            Ok(Policies { config, reviewer })
        });
        match loaded {
            Ok(policies) => {
                let count = policies.reviewer.policies().count();
                state.set_policies(policies);
                self.looks().loaded_from = Some(now);
                state.metrics().record_reload(Reloaded::Config, true);
                tracing::info!("configuration reloaded: {count} policies");
                Look::Reloaded(count)
            }
            Err(error) => {
                self.looks().refused = Some(now);
                state.metrics().record_reload(Reloaded::Config, false);
                tracing::error!(
                    "configuration change refused, still using the previous policies: {error}"
                );
                Look::Refused(error.to_string())
            }
        }
    }

    /// [Looks](PolicySource::look) at the configuration every `interval`
    /// until the task is dropped; returns at once for the built-in
    /// configuration.
    pub async fn watch(self: Arc<Self>, state: Arc<ServerState>, interval: Duration) {
        if self.config_path.is_none() {
            return;
        }
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let this = self.clone();
            let state = state.clone();
            if let Err(error) = tokio::task::spawn_blocking(move || this.look(&state)).await {
                tracing::error!("configuration watcher failed: {error}");
            }
        }
    }
}

/// The configuration file's text as read once (or why it could not be
/// read), and its digest: what is parsed is what was compared.
struct Read {
    text: Result<String, String>,
    digest: Fingerprint,
}

impl Read {
    fn file(path: &Path) -> Read {
        let text = std::fs::read(path)
            .map_err(|error| error.to_string())
            .and_then(|bytes| {
                String::from_utf8(bytes).map_err(|_| "it is not UTF-8 text".to_owned())
            });
        let digest = match &text {
            Ok(text) => Sha256::digest(text.as_bytes()),
            Err(error) => Sha256::digest(error.as_bytes()),
        };
        Read {
            text,
            digest: digest.into(),
        }
    }

    fn parse(&self, path: &Path) -> Result<Config, ConfigError> {
        let origin = Origin::File(path.to_path_buf());
        match &self.text {
            Ok(text) => {
                let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
                Config::parse(text, origin, &base)
            }
            Err(error) => Err(ConfigError {
                origin,
                line: None,
                message: format!("cannot read the configuration: {error}"),
            }),
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
