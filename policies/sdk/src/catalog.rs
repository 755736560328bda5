//! What a policy says about itself: its metadata and rule catalog.
//!
//! The types are the contract's own (`counsel-contract`), shared with
//! Counsel: a rule declared here is the rule Counsel reads.

pub use counsel_contract::{FixSafety, INVALID_FIELD, Metadata, Rule, Severity};
