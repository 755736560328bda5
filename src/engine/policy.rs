//! A loaded policy, and calls into it under its limits.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::{Store, StoreContextMut, Trap, UpdateDeadline};

use super::bindings::{self, State};
use super::cache::CompiledFrom;
use super::oversight::{self, Overseer};
use super::verdict;
use super::{CONTRACT_VERSION, Engine, Failure, Limits, LoadError, Metadata, Ticker, Verdict};

/// The package every import of a policy must come from.
const CONTRACT_PACKAGE: &str = "counsel:policy/";
/// The interfaces of the contract a policy may import.
const GRANTED_INTERFACES: [&str; 2] = ["types", "host"];

/// A policy ready to evaluate requests. Cheap to share between threads:
/// every call instantiates it afresh.
pub struct Policy {
    runner: Runner,
    metadata: Metadata<String>,
    compiled_from: CompiledFrom,
}

/// What it takes to call into a policy.
struct Runner {
    name: Arc<str>,
    limits: Limits,
    engine: wasmtime::Engine,
    pre: bindings::PolicyPre<State>,
    // The clock that interrupts a call at its deadline; held here so that it
    // runs as long as this policy can be called, whatever became of the
    // `Engine` that loaded it.
    _ticker: Arc<Ticker>,
}

impl Policy {
    /// The name the policy was loaded under.
    pub fn name(&self) -> &str {
        &self.runner.name
    }

    /// What the policy says about itself.
    pub fn metadata(&self) -> &Metadata<String> {
        &self.metadata
    }

    /// Adds rules defined by ops in the policy's settings to its catalog
    /// (see `review/settings_rules.rs`). Refuses an id already in it.
    pub fn add_settings_rules(&mut self, rules: Vec<super::Rule<String>>) -> Result<(), String> {
        for rule in rules {
            if self.metadata.rule(&rule.id).is_some() {
                return Err(format!("the rule id {:?} is used twice", rule.id));
            }
            self.metadata.rules.push(rule);
        }
        Ok(())
    }

    /// The limits every call runs under.
    pub fn limits(&self) -> Limits {
        self.runner.limits
    }

    /// Whether the machine code was compiled now or read from the cache.
    pub fn compiled_from(&self) -> CompiledFrom {
        self.compiled_from
    }

    /// Asks the policy whether `settings` (JSON) are valid. `Ok(Err(..))` is
    /// the policy's own explanation of what is wrong with them.
    pub fn validate_settings(&self, settings: &str) -> Result<Result<(), String>, Failure> {
        self.runner
            .call(self.runner.limits.timeout, |policy, store| {
                policy.call_validate_settings(store, settings)
            })
    }

    /// Validates one request (`AdmissionRequest` JSON) with the given
    /// settings (JSON). `budget` narrows the policy's own deadline, e.g. to
    /// what is left of the API server's timeout.
    pub fn evaluate(
        &self,
        request: &str,
        settings: &str,
        budget: Option<Duration>,
    ) -> Result<Verdict, Failure> {
        let timeout = budget.map_or(self.runner.limits.timeout, |b| {
            b.min(self.runner.limits.timeout)
        });
        let verdict = self.runner.call(timeout, |policy, store| {
            policy.call_validate(store, request, settings)
        })?;
        verdict::verdict(verdict, &self.metadata, self.runner.limits.verdict_size)
    }
}

/// See [`Engine::load`].
pub(super) fn load(
    engine: &Engine,
    name: &str,
    bytes: &[u8],
    limits: Limits,
) -> Result<Policy, LoadError> {
    check_header(name, bytes)?;
    let sha256 = hex::encode(Sha256::digest(bytes));
    let cached = engine
        .cache
        .as_ref()
        .and_then(|cache| cache.load(&engine.wasmtime, &sha256));
    let (component, compiled_from) = match cached {
        Some(component) => (component, CompiledFrom::Cache),
        None => {
            let component =
                Component::new(&engine.wasmtime, bytes).map_err(|e| LoadError::Compile {
                    policy: name.into(),
                    reason: format!("is not a valid component: {e:#}"),
                })?;
            if let Some(cache) = &engine.cache {
                cache.store(&sha256, &component);
            }
            (component, CompiledFrom::Source)
        }
    };
    check_imports(name, &component, &engine.wasmtime)?;
    let not_a_policy = |e: wasmtime::Error| LoadError::Compile {
        policy: name.into(),
        reason: format!("does not implement the counsel:policy world: {e:#}"),
    };
    let instance_pre = engine
        .linker
        .instantiate_pre(&component)
        .map_err(not_a_policy)?;
    let pre = bindings::PolicyPre::new(instance_pre).map_err(not_a_policy)?;
    let runner = Runner {
        name: name.into(),
        limits,
        engine: engine.wasmtime.clone(),
        pre,
        _ticker: Arc::clone(&engine.ticker),
    };
    let metadata_error = |reason: String| LoadError::Metadata {
        policy: name.into(),
        reason,
    };
    let metadata = runner
        .call(limits.timeout, |policy, store| policy.call_metadata(store))
        .map_err(|failure| metadata_error(failure.to_string()))?;
    let metadata = verdict::metadata(metadata)
        .map_err(|reason| metadata_error(format!("is invalid: {reason}")))?;
    tracing::debug!(
        policy = name,
        ?compiled_from,
        rules = metadata.rules.len(),
        "policy loaded"
    );
    Ok(Policy {
        runner,
        metadata,
        compiled_from,
    })
}

/// Tells a core module or other file apart from a component, since
/// wasmtime's own message for that is cryptic.
fn check_header(name: &str, bytes: &[u8]) -> Result<(), LoadError> {
    let reason = match bytes.get(..8) {
        Some([0, b'a', b's', b'm', 0x0d, 0, 0x01, 0]) => return Ok(()),
        Some([0, b'a', b's', b'm', 0x01, 0, 0, 0]) => {
            "is a core WebAssembly module, not a component; build policies with policies/build.sh, which turns modules into components"
        }
        Some([0, b'a', b's', b'm', ..]) => {
            "is WebAssembly of an unsupported version; Counsel needs a component"
        }
        _ => "is not WebAssembly (it does not start with the \\0asm magic bytes)",
    };
    Err(LoadError::NotAComponent {
        policy: name.into(),
        reason: reason.into(),
    })
}

/// Every import must be an interface of a compatible version of the
/// contract: that is both the version check and the sandbox's front door.
fn check_imports(
    name: &str,
    component: &Component,
    engine: &wasmtime::Engine,
) -> Result<(), LoadError> {
    let ours = semver::Version::parse(CONTRACT_VERSION).expect("CONTRACT_VERSION is semver");
    for (import, _) in component.component_type().imports(engine) {
        let forbidden = || LoadError::ForbiddenImport {
            policy: name.into(),
            import: import.into(),
        };
        let Some((interface, version)) = import
            .strip_prefix(CONTRACT_PACKAGE)
            .and_then(|rest| rest.split_once('@'))
        else {
            return Err(forbidden());
        };
        let theirs = semver::Version::parse(version).map_err(|_| forbidden())?;
        if !compatible(&ours, &theirs) {
            return Err(LoadError::IncompatibleContract {
                policy: name.into(),
                found: version.into(),
            });
        }
        if !GRANTED_INTERFACES.contains(&interface) {
            return Err(forbidden());
        }
    }
    Ok(())
}

impl Runner {
    /// Calls into a fresh instance with a deadline of `timeout` (wall time,
    /// from now), turning every way it can go wrong into a [`Failure`].
    fn call<R>(
        &self,
        timeout: Duration,
        f: impl FnOnce(&bindings::Policy, &mut Store<State>) -> wasmtime::Result<R>,
    ) -> Result<R, Failure> {
        let memory_limit = usize::try_from(self.limits.memory).unwrap_or(usize::MAX);
        let state = State {
            policy: Arc::clone(&self.name),
            memory_limit,
            memory_exceeded: false,
            log_lines: 0,
            stopped: None,
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| state);
        let overseer = oversight::current();
        let _ended = overseer.clone().map(|overseer| Ended {
            overseer,
            policy: Arc::clone(&self.name),
        });
        store.epoch_deadline_callback(watch(Arc::clone(&self.name), timeout, overseer));
        store.set_epoch_deadline(1);
        let instance = self
            .pre
            .instantiate(&mut store)
            .map_err(|error| self.failure(&error, store.data(), timeout, Failure::Instantiate))?;
        f(&instance, &mut store)
            .map_err(|error| self.failure(&error, store.data(), timeout, Failure::Trap))
    }

    /// Names the cause of `error`; `otherwise` wraps causes that are
    /// neither a limit nor a trap.
    fn failure(
        &self,
        error: &wasmtime::Error,
        state: &State,
        timeout: Duration,
        otherwise: fn(String) -> Failure,
    ) -> Failure {
        if state.memory_exceeded {
            return Failure::Memory(self.limits.memory);
        }
        if let Some(stop) = &state.stopped {
            return Failure::Stopped(stop.clone());
        }
        match error.downcast_ref::<Trap>() {
            Some(Trap::Interrupt) => Failure::Deadline(timeout),
            Some(Trap::StackOverflow) => Failure::StackOverflow,
            // Compiled Rust keeps its stack in linear memory, below the data:
            // runaway recursion runs off its bottom rather than overflowing
            // the wasm stack.
            Some(trap @ Trap::MemoryOutOfBounds) => Failure::Trap(format!(
                "{trap} (in a Rust policy usually runaway recursion that overflowed its stack)"
            )),
            Some(trap) => Failure::Trap(trap.to_string()),
            None => otherwise(format!("{error:#}")),
        }
    }
}

/// Whether a policy built for contract `theirs` can run on `ours`: semver
/// compatibility, where a 0.x minor version is a breaking one.
fn compatible(ours: &semver::Version, theirs: &semver::Version) -> bool {
    theirs.major == ours.major && (ours.major != 0 || theirs.minor == ours.minor)
}

/// What runs at every epoch tick while a policy runs: the deadline is
/// checked against the clock, not counted in ticks, so ticks that come late
/// (the ticker thread competes for the CPU like everything else) cannot add
/// up to an overshoot; then the thread's overseer, if any, has its say.
fn watch(
    policy: Arc<str>,
    timeout: Duration,
    overseer: Option<Arc<dyn Overseer>>,
) -> impl FnMut(StoreContextMut<'_, State>) -> wasmtime::Result<UpdateDeadline> + Send + Sync + 'static
{
    let started = Instant::now();
    // A deadline too far to represent is no deadline.
    let deadline = started.checked_add(timeout);
    move |mut store| {
        let now = Instant::now();
        if deadline.is_some_and(|deadline| now >= deadline) {
            return Err(Trap::Interrupt.into());
        }
        if let Some(overseer) = &overseer
            && let Err(stop) = overseer.tick(&policy, now.saturating_duration_since(started))
        {
            store.data_mut().stopped = Some(stop);
            return Err(Trap::Interrupt.into());
        }
        Ok(UpdateDeadline::Continue(1))
    }
}

/// Tells the overseer that an evaluation ended, however it ended.
struct Ended {
    overseer: Arc<dyn Overseer>,
    policy: Arc<str>,
}

impl Drop for Ended {
    fn drop(&mut self) {
        self.overseer.ended(&self.policy);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_versions_are_compatible_as_semver_says() {
        let v = |s: &str| semver::Version::parse(s).expect("semver");
        assert!(compatible(&v(CONTRACT_VERSION), &v(CONTRACT_VERSION)));
        assert!(compatible(&v("0.1.0"), &v("0.1.7")));
        assert!(!compatible(&v("0.1.0"), &v("0.2.0")));
        assert!(!compatible(&v("0.1.0"), &v("1.1.0")));
        assert!(compatible(&v("1.2.0"), &v("1.0.3")));
        assert!(!compatible(&v("2.0.0"), &v("1.9.0")));
    }
}
