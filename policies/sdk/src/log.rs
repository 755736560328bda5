//! Writing to Counsel's log from a policy.
//!
//! On wasm32 each function calls the host's `log` import, which tags the line
//! with the policy's name. Natively (unit tests) there is no host, and the
//! functions do nothing.

/// Log levels, as in `wit/counsel.wit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Step-by-step detail.
    Trace,
    /// Detail useful when debugging the policy.
    Debug,
    /// Normal operation.
    Info,
    /// Something unexpected the policy coped with.
    Warn,
    /// Something the policy could not cope with.
    Error,
}

/// Writes `message` at `level`.
pub fn write(level: Level, message: &str) {
    #[cfg(target_arch = "wasm32")]
    crate::guest::log(level, message);
    #[cfg(not(target_arch = "wasm32"))]
    let _ = (level, message);
}

/// Writes `message` at trace level.
pub fn trace(message: &str) {
    write(Level::Trace, message);
}

/// Writes `message` at debug level.
pub fn debug(message: &str) {
    write(Level::Debug, message);
}

/// Writes `message` at info level.
pub fn info(message: &str) {
    write(Level::Info, message);
}

/// Writes `message` at warn level.
pub fn warn(message: &str) {
    write(Level::Warn, message);
}

/// Writes `message` at error level.
pub fn error(message: &str) {
    write(Level::Error, message);
}
