//! Counsel: a Kubernetes admission webhook that runs ops-written WebAssembly
//! policies and explains every decision to the developer who made the request.
//!
//! When a policy says no, the developer reads what is wrong, where (the
//! field and the value found), why ops care, how to fix it (an edit a
//! machine can apply) and where to read more: in kubectl, in CI and in the
//! terminal, from the same engine.
//!
//! # Layout
//!
//! Data flows one way, and each step is one module:
//!
//! - [`source`] reads manifests (YAML or JSON) into values with positions;
//! - [`request`] is the `AdmissionRequest` every policy receives;
//! - [`config`] is `counsel.yaml`: policies, modes, matches, overrides;
//! - [`matching`] decides which policies see a request;
//! - [`engine`] runs policy components under limits (wasmtime);
//! - [`explain`] turns verdicts into explanations;
//! - [`review`] ties match, evaluate and explain together for one request;
//! - [`remedy`] decides which findings get fixed and judges the fixed object
//!   again, for `/mutate` and `counsel check --fix` alike;
//! - [`exceptions`] are findings ops let through, with a reason, an owner and an expiry;
//! - [`fix`] makes fixes in manifest text with minimal edits (`counsel check --fix`);
//! - [`patch`] turns fixes into an RFC 6902 JSON Patch for the mutating webhook;
//! - [`server`] is the HTTPS webhook that answers AdmissionReviews with
//!   those explanations, and [`certs`] makes and loads its certificates;
//! - [`cluster`] watches the cluster (namespaces, exceptions) beside the
//!   review path, for the webhook's review context;
//! - [`audit`] judges the objects already in the cluster in the
//!   background, beside the review path, and publishes what it concludes;
//!   [`reports`] writes it as OpenReports; both keep their bulk work on
//!   [`idle`] threads, which run only on CPU time the webhook leaves;
//! - [`rollout`] is the rollout report (`counsel audit`): what would be
//!   denied if policies were enforced, per rule, namespace and owner.
//!
//! The command line (`counsel check`, `counsel serve`, ...) lives in the
//! binary and renders reports for the terminal or AdmissionReview.

pub mod audit;
pub mod certs;
pub mod cluster;
pub mod config;
pub mod engine;
pub mod exceptions;
pub mod explain;
pub mod fix;
pub mod idle;
pub mod matching;
pub mod patch;
pub mod remedy;
pub mod reports;
pub mod request;
pub mod review;
pub mod rollout;
pub mod server;
pub mod source;
