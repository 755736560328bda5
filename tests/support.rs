//! What the integration tests share: spawning `counsel`, an in-process
//! server, HTTPS clients, a real API server, the compiled-policy cache.

pub mod cli;
pub mod client;
pub mod cluster;
pub mod counsel_process;
pub mod harness;
pub mod policy_cache;
pub mod times;
