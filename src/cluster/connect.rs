//! Where the cluster is: `--kubeconfig`, then `KUBECONFIG`, then the pod's
//! service account (in-cluster). A developer's `~/.kube/config` is never
//! read unasked: `counsel serve` on a laptop stays a plain webhook.

use std::path::Path;

use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};

/// A client and where its configuration came from (for the log).
#[derive(Clone)]
pub struct Connection {
    /// The client.
    pub client: kube::Client,
    /// `--kubeconfig /path`, `KUBECONFIG`, `in-cluster service account`.
    pub source: String,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

/// Why a configured cluster cannot be reached.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The kubeconfig file could not be read or used.
    #[error("kubeconfig {source_name}")]
    Kubeconfig {
        /// Which kubeconfig.
        source_name: String,
        /// What is wrong with it.
        #[source]
        error: KubeconfigError,
    },
    /// The pod's service account could not be read.
    #[error("in-cluster configuration: {0}")]
    InCluster(#[from] kube::config::InClusterError),
    /// The client could not be built from the configuration.
    #[error("building the Kubernetes client from {source_name}")]
    Client {
        /// Which configuration.
        source_name: String,
        /// What went wrong.
        #[source]
        error: kube::Error,
    },
}

/// Why there is no cluster when [`connect`] finds none configured.
pub const NOT_CONFIGURED: &str =
    "no --kubeconfig, no KUBECONFIG, and not in a pod (KUBERNETES_SERVICE_HOST is unset)";

/// The configured cluster, or `None` when none is configured
/// ([`NOT_CONFIGURED`]). A configuration that is given but broken is an
/// error.
pub async fn connect(kubeconfig: Option<&Path>) -> Result<Option<Connection>, ConnectError> {
    let (config, source) = if let Some(path) = kubeconfig {
        let source = format!("--kubeconfig {}", path.display());
        let config = from_kubeconfig(Kubeconfig::read_from(path), &source).await?;
        (config, source)
    } else if std::env::var_os("KUBECONFIG").is_some_and(|v| !v.is_empty()) {
        let source = "KUBECONFIG".to_owned();
        let read = Kubeconfig::from_env().map(Option::unwrap_or_default);
        (from_kubeconfig(read, &source).await?, source)
    } else if std::env::var_os("KUBERNETES_SERVICE_HOST").is_some() {
        (
            kube::Config::incluster()?,
            "the pod's service account (in-cluster)".to_owned(),
        )
    } else {
        return Ok(None);
    };
    let client = kube::Client::try_from(config).map_err(|error| ConnectError::Client {
        source_name: source.clone(),
        error,
    })?;
    Ok(Some(Connection { client, source }))
}

async fn from_kubeconfig(
    read: Result<Kubeconfig, KubeconfigError>,
    source: &str,
) -> Result<kube::Config, ConnectError> {
    let error = |error| ConnectError::Kubeconfig {
        source_name: source.to_owned(),
        error,
    };
    kube::Config::from_custom_kubeconfig(read.map_err(error)?, &KubeConfigOptions::default())
        .await
        .map_err(error)
}
