//! The webhook's exceptions: the exception objects it was given (from the
//! cluster's watch), indexed against the policies loaded now and again on
//! every reload; and the answer to a request that creates or changes an
//! exception object, which Counsel checks itself instead of asking policies.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::SystemTime;

use kube_core::admission::AdmissionResponse;
use kube_core::response::Status;
use serde_json::Value;

use super::state::Policies;
use crate::config::ExceptionSettings;
use crate::exceptions::{self, CLUSTER_KIND, ExceptionError, Exceptions, GROUP, NAMESPACED_KIND};
use crate::request::{Operation, Received};

/// The exception objects and their index.
#[derive(Default)]
pub struct ExceptionStore {
    current: RwLock<Current>,
}

#[derive(Default)]
struct Current {
    objects: Arc<Vec<Value>>,
    index: Arc<Exceptions>,
}

impl ExceptionStore {
    /// The index reviews use now.
    pub fn index(&self) -> Arc<Exceptions> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .index
            .clone()
    }

    /// Replaces the exception objects and indexes them against `policies`
    /// (none loaded yet: indexed once they are). Returns the objects that
    /// cannot be used, each logged too.
    pub fn set_objects(
        &self,
        objects: Vec<Value>,
        policies: Option<&Policies>,
    ) -> Vec<ExceptionError> {
        let objects = Arc::new(objects);
        let (index, errors) = build(&objects, policies);
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Current { objects, index };
        errors
    }

    /// Indexes the objects again against newly loaded `policies`.
    pub fn reindex(&self, policies: &Policies) {
        let objects = self
            .current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .objects
            .clone();
        let (index, _) = build(&objects, Some(policies));
        self.current
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .index = index;
    }
}

fn build(objects: &[Value], policies: Option<&Policies>) -> (Arc<Exceptions>, Vec<ExceptionError>) {
    let Some(policies) = policies else {
        return (Arc::new(Exceptions::default()), Vec::new());
    };
    let (index, errors) = Exceptions::from_objects(
        objects,
        &policies.reviewer,
        policies.config.exceptions,
        SystemTime::now(),
    );
    for error in &errors {
        // Refused at admission when the webhook saw it; here when it was
        // made before, or the policies changed since.
        tracing::warn!(
            exception = error.object.as_str(),
            "exception ignored: {error}"
        );
    }
    (Arc::new(index), errors)
}

/// Counsel's own answer when the request creates or changes an exception
/// object; `None` for every other request.
pub fn admit(received: &Received, policies: &Policies) -> Option<AdmissionResponse> {
    let request = received.request();
    if request.kind.group != GROUP
        || !matches!(request.kind.kind.as_str(), NAMESPACED_KIND | CLUSTER_KIND)
    {
        return None;
    }
    let mut response = AdmissionResponse::invalid("");
    response.uid = request.uid.clone();
    response.allowed = true;
    response.result = Status::success();
    if !matches!(request.operation, Operation::Create | Operation::Update) {
        return Some(response);
    }
    let problem = match received.whole() {
        Ok(whole) => match &whole.object {
            Some(object) => check(
                object,
                request.namespace.as_deref(),
                policies,
                &policies.config.exceptions,
            )
            .err()
            .map(|e| e.to_string()),
            None => Some(format!(
                "the request carries no {} object",
                request.kind.kind
            )),
        },
        Err(error) => Some(format!("the object cannot be read: {error}")),
    };
    if let Some(message) = problem {
        response.allowed = false;
        response.result = Status::failure(&message, "Invalid").with_code(422);
    }
    Some(response)
}

fn check(
    object: &Value,
    namespace: Option<&str>,
    policies: &Policies,
    settings: &ExceptionSettings,
) -> Result<(), ExceptionError> {
    exceptions::check(
        object,
        namespace,
        &policies.reviewer,
        settings,
        SystemTime::now(),
    )
    .map(drop)
}
