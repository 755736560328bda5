//! Runs policy components: load, compile (or fetch from the cache), and call
//! them under limits.
//!
//! The engine knows nothing of HTTP, configuration files or explanations: it
//! takes component bytes and JSON text and returns checked verdicts or a
//! [`Failure`]. Every call gets a fresh store and instance from the pooling
//! allocator, so nothing can leak from one request into the next.

mod bindings;
mod cache;
mod limits;
mod oversight;
mod policy;
mod verdict;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, InstanceAllocationStrategy, PoolingAllocationConfig};

pub use cache::CompiledFrom;
pub use limits::{Limits, byte_size};
pub use oversight::{Overseer, Stop, oversee};
pub use policy::Policy;
// The contract's vocabulary, as the engine's API hands it out (a policy's
// catalog as `Metadata<String>` and `Rule<String>`).
pub use counsel_contract::{FixSafety, Metadata, Rule, Severity, Verdict, Violation};

use bindings::State;

/// The version of the policy contract (`wit/counsel.wit`) this engine speaks.
pub const CONTRACT_VERSION: &str = "0.2.0";

/// How often the epoch advances. At every tick a running policy's deadline
/// is compared with the clock, so deadlines are wall time, honoured to
/// within about one tick however late the ticks come.
const TICK: Duration = Duration::from_millis(2);

/// Settings of the engine as a whole (per-policy limits are [`Limits`]).
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Where compiled policies are cached; `None` compiles on every start.
    pub cache_dir: Option<PathBuf>,
    /// Precompiled policies (`counsel precompile`), read before
    /// `cache_dir` and never written to: an image's bundled policies.
    pub precompiled_dir: Option<PathBuf>,
    /// How many evaluations may run at once (instance slots in the pool).
    pub max_concurrent: u32,
    /// The largest memory limit any policy may be given, in bytes.
    pub max_memory: u64,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            cache_dir: default_cache_dir(),
            precompiled_dir: None,
            max_concurrent: 64,
            max_memory: 1024 * 1024 * 1024,
        }
    }
}

/// The cache directory used when none is configured:
/// `$XDG_CACHE_HOME/counsel/compiled`, else `$HOME/.cache/counsel/compiled`.
pub fn default_cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(|home| PathBuf::from(home).join(".cache"))
        })?;
    Some(base.join("counsel").join("compiled"))
}

/// Why the engine could not be created.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// wasmtime refused the configuration.
    #[error("could not configure the WebAssembly engine: {0}")]
    Configure(String),
}

/// Why a policy could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The bytes are not a WebAssembly component.
    #[error("policy {policy}: {reason}")]
    NotAComponent {
        /// The policy's configured name.
        policy: String,
        /// What is wrong with the bytes.
        reason: String,
    },
    /// The component was built against another version of the contract.
    #[error(
        "policy {policy} was built for the policy contract counsel:policy@{found}, but this Counsel speaks counsel:policy@{CONTRACT_VERSION}; rebuild the policy with a counsel-policy SDK of a matching version"
    )]
    IncompatibleContract {
        /// The policy's configured name.
        policy: String,
        /// The contract version the policy imports.
        found: String,
    },
    /// The component imports something Counsel does not grant.
    #[error(
        "policy {policy} imports {import:?}, which Counsel does not grant; a policy may import only counsel:policy/host (log) and the contract's types"
    )]
    ForbiddenImport {
        /// The policy's configured name.
        policy: String,
        /// The import's name.
        import: String,
    },
    /// wasmtime could not compile or link it.
    #[error("policy {policy}: {reason}")]
    Compile {
        /// The policy's configured name.
        policy: String,
        /// wasmtime's explanation.
        reason: String,
    },
    /// Its `metadata()` failed or returned nonsense.
    #[error("policy {policy}: metadata() {reason}")]
    Metadata {
        /// The policy's configured name.
        policy: String,
        /// What went wrong.
        reason: String,
    },
    /// Its memory limit exceeds what the engine was configured for.
    #[error(
        "policy {policy}: a memory limit of {requested} bytes is over the engine's maximum of {maximum} bytes"
    )]
    MemoryLimit {
        /// The policy's configured name.
        policy: String,
        /// The limit asked for.
        requested: u64,
        /// The engine's ceiling.
        maximum: u64,
    },
}

/// Why a call into a policy failed. The policy is at fault, never the object
/// under review; configuration decides whether that denies or allows.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Failure {
    /// It ran past its deadline.
    #[error("did not finish within its deadline of {} ms", .0.as_millis())]
    Deadline(Duration),
    /// It tried to grow its memory past the limit.
    #[error("exceeded its memory limit of {}", limits::byte_size(*.0))]
    Memory(u64),
    /// It recursed too deeply.
    #[error("overflowed its stack (runaway recursion)")]
    StackOverflow,
    /// It trapped (panicked, hit `unreachable`, ...).
    #[error("crashed: {0}")]
    Trap(String),
    /// Its verdict is over the size limit.
    #[error("returned a verdict of {size} bytes, over the limit of {limit} bytes")]
    VerdictTooLarge {
        /// Bytes of text in the verdict.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// Its verdict is not well formed.
    #[error("returned a malformed verdict: {0}")]
    Malformed(String),
    /// It reported a rule that is not in its catalog.
    #[error("reported the rule {0:?}, which is not in its rule catalog")]
    UnknownRule(String),
    /// It could not be instantiated.
    #[error("could not be started: {0}")]
    Instantiate(String),
    /// The thread's [`Overseer`] stopped it before its deadline.
    #[error("was stopped: {0}")]
    Stopped(Stop),
}

impl Failure {
    /// A short, stable label for metrics and logs.
    pub fn cause(&self) -> &'static str {
        match self {
            Failure::Deadline(_) => "deadline",
            Failure::Memory(_) => "memory",
            Failure::StackOverflow => "stack-overflow",
            Failure::Trap(_) => "trap",
            Failure::VerdictTooLarge { .. } => "verdict-too-large",
            Failure::Malformed(_) => "malformed-verdict",
            Failure::UnknownRule(_) => "unknown-rule",
            Failure::Instantiate(_) => "instantiate",
            Failure::Stopped(stop) => stop.cause(),
        }
    }
}

/// The WebAssembly engine all policies run in.
pub struct Engine {
    wasmtime: wasmtime::Engine,
    linker: Linker<State>,
    cache: Option<cache::Cache>,
    max_memory: u64,
    /// Shared with every policy loaded here: the clock runs while any of
    /// them can still be called.
    ticker: Arc<Ticker>,
}

impl Engine {
    /// Creates the engine and starts its deadline clock.
    pub fn new(options: EngineOptions) -> Result<Engine, EngineError> {
        let slots = options.max_concurrent.max(1);
        let mut pool = PoolingAllocationConfig::new();
        pool.total_component_instances(slots)
            // A componentized module brings a few helper instances along.
            .total_core_instances(slots * 4)
            .total_memories(slots)
            .total_tables(slots * 4)
            .max_memory_size(usize::try_from(options.max_memory).unwrap_or(usize::MAX))
            // Most of the cost of a fresh instance is page faults on fresh
            // memory; keeping the first pages resident avoids them.
            .linear_memory_keep_resident(2 * 1024 * 1024)
            .table_keep_resident(64 * 1024)
            .pagemap_scan(wasmtime::Enabled::Auto);
        let mut config = Config::new();
        config
            .wasm_component_model(true)
            .epoch_interruption(true)
            .parallel_compilation(true)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let wasmtime =
            wasmtime::Engine::new(&config).map_err(|e| EngineError::Configure(format!("{e:#}")))?;
        let mut linker = Linker::new(&wasmtime);
        bindings::Policy::add_to_linker::<State, HasSelf<State>>(&mut linker, |state| state)
            .map_err(|e| EngineError::Configure(format!("{e:#}")))?;
        let cache = (options.cache_dir.is_some() || options.precompiled_dir.is_some())
            .then(|| cache::Cache::new(options.cache_dir, options.precompiled_dir, &wasmtime));
        let ticker = Ticker::start(wasmtime.clone()).map(Arc::new).map_err(|e| {
            EngineError::Configure(format!("could not start the deadline clock: {e}"))
        })?;
        Ok(Engine {
            wasmtime,
            linker,
            cache,
            max_memory: options.max_memory,
            ticker,
        })
    }

    /// Loads a policy component: checks it is a policy of a compatible
    /// contract, compiles it (or takes it from the cache), reads its
    /// metadata, and prepares it for instantiation.
    pub fn load(&self, name: &str, component: &[u8], limits: Limits) -> Result<Policy, LoadError> {
        if limits.memory > self.max_memory {
            return Err(LoadError::MemoryLimit {
                policy: name.into(),
                requested: limits.memory,
                maximum: self.max_memory,
            });
        }
        policy::load(self, name, component, limits)
    }
}

/// The thread that advances the epoch every [`TICK`], which is what lets a
/// running policy be interrupted at its deadline. It stops when dropped, so
/// the engine and every policy hold it (in an `Arc`): no policy can outlive
/// the clock that enforces its deadline.
struct Ticker {
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Ticker {
    fn start(engine: wasmtime::Engine) -> std::io::Result<Ticker> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = thread::Builder::new()
            .name("counsel-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    thread::sleep(TICK);
                    engine.increment_epoch();
                }
            })?;
        Ok(Ticker {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
