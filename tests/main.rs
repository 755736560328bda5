//! Counsel's integration tests, one binary: each module is the tests of one
//! part, as a user meets it; `support` is what they share. One binary links
//! wasmtime once and shares one compiled-policy cache.

mod audit;
mod audit_reports;
mod cel;
mod chart;
mod check;
mod check_exceptions;
mod cluster;
mod cluster_audit;
mod cluster_events;
mod cluster_exceptions;
mod cluster_install;
mod cluster_watch;
mod config;
mod engine;
mod fix;
mod fix_closure;
mod install;
mod leader;
mod new_command;
mod outputs;
mod pod_security;
mod reports;
mod run_command;
mod server_certs;
mod server_exceptions;
mod server_fairness;
mod server_limits;
mod server_messages;
mod server_mutate;
mod server_process;
mod server_reload;
mod server_review;
mod server_transport;
mod server_update;
mod source;
mod support;
mod test_command;
