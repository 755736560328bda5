//! Host bindings generated from `wit/counsel.wit`, and the one import a
//! policy is granted: `log`.

wasmtime::component::bindgen!({
    path: "wit",
    world: "policy",
});

pub use self::counsel::policy::types;

/// The most log lines one evaluation may write; a chatty or hostile policy
/// must not be able to flood the log.
const MAX_LOG_LINES: u32 = 64;
/// The longest log line kept, in bytes.
const MAX_LOG_LINE: usize = 2048;

/// What a store carries for one evaluation.
pub struct State {
    /// The policy's name, for its log lines.
    pub policy: std::sync::Arc<str>,
    /// The most linear memory the policy may have, in bytes.
    pub memory_limit: usize,
    /// Set when the policy tried to grow past `memory_limit`, so that the
    /// resulting trap is reported as what it is.
    pub memory_exceeded: bool,
    /// Log lines written so far.
    pub log_lines: u32,
    /// Set when the thread's overseer stopped the evaluation, so that the
    /// resulting interrupt is reported as what it is.
    pub stopped: Option<super::Stop>,
}

/// The most table elements a policy may have; tables hold function
/// references, and no honest policy needs more.
const MAX_TABLE_ELEMENTS: usize = 100_000;

impl wasmtime::ResourceLimiter for State {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_limit {
            // Trap rather than fail the grow: a Rust guest would abort on a
            // failed allocation anyway, and the trap names the cause.
            self.memory_exceeded = true;
            wasmtime::bail!("policy exceeded its memory limit");
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}

impl types::Host for State {}

impl self::counsel::policy::host::Host for State {
    fn log(&mut self, level: types::LogLevel, message: String) {
        self.log_lines += 1;
        if self.log_lines > MAX_LOG_LINES {
            return;
        }
        // What a policy logs may quote the object: escaped, so that it
        // cannot start a line of its own in a text log.
        let message = truncate(&message, MAX_LOG_LINE).escape_debug();
        let policy = &*self.policy;
        match level {
            types::LogLevel::Trace => tracing::trace!(policy, "{message}"),
            types::LogLevel::Debug => tracing::debug!(policy, "{message}"),
            types::LogLevel::Info => tracing::info!(policy, "{message}"),
            types::LogLevel::Warn => tracing::warn!(policy, "{message}"),
            types::LogLevel::Error => tracing::error!(policy, "{message}"),
        }
        if self.log_lines == MAX_LOG_LINES {
            tracing::warn!(
                policy,
                "policy wrote {MAX_LOG_LINES} log lines; further lines of this evaluation are dropped"
            );
        }
    }
}

/// `text` cut to at most `max` bytes on a character boundary.
pub(crate) fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}
