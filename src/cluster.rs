//! Counsel's view of the cluster, beside the review path: a kube client
//! (`connect.rs`), watches of Namespaces and of Counsel's exception objects
//! (`watch.rs`), and the state they keep (`state.rs`), from which the
//! webhook takes what a review needs (`review::Context`) before it starts.
//! Beside them, `lease.rs` elects the one replica that writes reports and
//! audit Events, and `events.rs` writes Events from a queue the review
//! path only hands them to.
//! The review path never talks to the API server: a review reads a
//! snapshot, so a slow or absent API server never slows a review.

mod connect;
pub mod events;
pub mod lease;
mod state;
mod watch;

pub use connect::{ConnectError, Connection, NOT_CONFIGURED, connect};
pub use state::{ClusterState, ExceptionObjects, Kind, Namespaces};
pub use watch::{Watches, start};
