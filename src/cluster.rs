//! Counsel's view of the cluster, beside the review path: a kube client
//! (`connect.rs`), watches of Namespaces and of Counsel's exception objects
//! (`watch.rs`), and the state they keep (`state.rs`), from which the
//! webhook takes what a review needs (`review::Context`) before it starts.
//! The review path never talks to the API server: a review reads a
//! snapshot, so a slow or absent API server never slows a review.

mod connect;
mod state;
mod watch;

pub use connect::{ConnectError, Connection, NOT_CONFIGURED, connect};
pub use state::{ClusterState, ExceptionObjects, Kind, Namespaces};
pub use watch::{Watches, start};
