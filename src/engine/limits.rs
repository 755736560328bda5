//! The limits one evaluation of a policy runs under.

use std::time::Duration;

/// Limits applied to every evaluation of one policy. A policy that reaches
/// one fails (see [`super::Failure`]); it never stalls or crashes Counsel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock time one call may take.
    pub timeout: Duration,
    /// Linear memory the policy may grow to, in bytes.
    pub memory: u64,
    /// Total size of the texts in a verdict, in bytes.
    pub verdict_size: usize,
}

impl Limits {
    /// The memory cap when configuration sets none.
    pub const DEFAULT_MEMORY: u64 = 64 * 1024 * 1024;
    /// The deadline when configuration sets none.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);
    /// The verdict size cap when configuration sets none.
    pub const DEFAULT_VERDICT_SIZE: usize = 1024 * 1024;
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Self::DEFAULT_TIMEOUT,
            memory: Self::DEFAULT_MEMORY,
            verdict_size: Self::DEFAULT_VERDICT_SIZE,
        }
    }
}
