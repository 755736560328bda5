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

/// A size in bytes as ops write it, exactly: `64 MiB`, `512 KiB`, or
/// `1000 bytes` when it is not a whole number of KiB (never rounded, so a
/// limit below 1 MiB never reads as `0 MiB`).
pub fn byte_size(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * KIB;
    const GIB: u64 = 1024 * MIB;
    match bytes {
        0 => "0 bytes".to_owned(),
        b if b % GIB == 0 => format!("{} GiB", b / GIB),
        b if b % MIB == 0 => format!("{} MiB", b / MIB),
        b if b % KIB == 0 => format!("{} KiB", b / KIB),
        1 => "1 byte".to_owned(),
        b => format!("{b} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::byte_size;

    #[test]
    fn sizes_are_exact() {
        assert_eq!(byte_size(64 << 20), "64 MiB");
        assert_eq!(byte_size(512 << 10), "512 KiB");
        assert_eq!(byte_size(1536 << 10), "1536 KiB");
        assert_eq!(byte_size(1 << 30), "1 GiB");
        assert_eq!(byte_size(1000), "1000 bytes");
        assert_eq!(byte_size(1), "1 byte");
        assert_eq!(byte_size(0), "0 bytes");
        // A cap below 1 MiB used to read "0 MiB".
        assert_eq!(
            crate::engine::Failure::Memory(512 << 10).to_string(),
            "exceeded its memory limit of 512 KiB"
        );
    }
}
