//! Loading the policies the server reviews with, and reloading them when
//! `counsel.yaml` or a module or settings file it names changes.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::metrics::Reloaded;
use super::state::{Policies, ServerState};
use super::watch::{Fingerprint, Look, Watcher};
use crate::config::{Config, ConfigError, Module, Origin};
use crate::engine::Engine;
use crate::review::Reviewer;

/// Where policies come from: a configuration file, or the built-in
/// configuration (bundled policies, never reloaded).
///
/// A change to the file or to a module it names is loaded once it is
/// stable (see [`watch`](super::watch)).
pub struct PolicySource {
    config_path: Option<PathBuf>,
    engine: Arc<Engine>,
    watcher: Watcher,
}

impl PolicySource {
    /// Policies from `config_path` (the built-in configuration when
    /// `None`), compiled by `engine`.
    pub fn new(config_path: Option<PathBuf>, engine: Arc<Engine>) -> Self {
        PolicySource {
            config_path,
            engine,
            watcher: Watcher::default(),
        }
    }

    /// Whether there is a file to watch (not the built-in configuration).
    pub fn is_file(&self) -> bool {
        self.config_path.is_some()
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
        self.watcher.served(fingerprint);
        Ok(Policies { config, reviewer })
    }

    /// Looks at the configuration once (blocking): when it or a module it
    /// names changed and is the same as on the last look, loads it and
    /// swaps it in; a change that does not load is logged and counted once.
    /// [`Look::Reloaded`] says how many policies are served.
    pub fn look(&self, state: &ServerState) -> Look<usize> {
        let (Some(path), Some(served)) = (&self.config_path, state.policies()) else {
            return Look::Idle;
        };
        state.metrics().record_reload_check(Reloaded::Config);
        let read = Read::file(path);
        let parsed = read.parse(path);
        // With the modules of the configuration read, or of the served one
        // when it does not parse (it is refused either way).
        let now = fingerprint(read.digest, parsed.as_ref().unwrap_or(&served.config));
        let look = self.watcher.look(now, || {
            let config = parsed.map_err(|error| error.to_string())?;
            let reviewer =
                Reviewer::load(&config, &self.engine).map_err(|error| error.to_string())?;
            let count = reviewer.policies().count();
            state.set_policies(Policies { config, reviewer });
            Ok(count)
        });
        match &look {
            Look::Reloaded(count) => {
                state.metrics().record_reload(Reloaded::Config, true);
                tracing::info!("configuration reloaded: {count} policies");
            }
            Look::Refused(error) => {
                state.metrics().record_reload(Reloaded::Config, false);
                tracing::error!(
                    "configuration change refused, still using the previous policies: {error}"
                );
            }
            Look::Unchanged | Look::Settling | Look::Idle => {}
        }
        look
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
/// than edited in place), and the text of each settings file it names
/// (small, and edited in place like counsel.yaml), so that editing the
/// rules of a `settingsFile` alone reloads too.
fn fingerprint(config_digest: Fingerprint, config: &Config) -> Fingerprint {
    let mut hasher = Sha256::new();
    hasher.update(config_digest);
    for policy in &config.policies {
        if let Some(path) = &policy.settings_file {
            hasher.update(path.as_os_str().as_encoded_bytes());
            // Unreadable now: the reload that follows says why.
            if let Ok(text) = std::fs::read(path) {
                hasher.update(Sha256::digest(text));
            }
        }
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
