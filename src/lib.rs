//! Counsel: a Kubernetes admission webhook that runs ops-written WebAssembly
//! policies and explains every decision to the developer who made the request.

pub mod certs;
