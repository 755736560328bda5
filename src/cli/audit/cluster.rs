//! `counsel audit` against a live cluster: the cluster found as `counsel
//! serve` finds it (`--kubeconfig`, `KUBECONFIG`, in-cluster), then
//! Namespaces (labels for `namespaceSelector`, owner annotations) and
//! Counsel's exception objects (applied as the webhook applies them), then
//! one paginated list per kind the policies name, found by discovery at its
//! group's most stable version. Each page is judged as it arrives, so memory
//! follows a page, not the cluster. Objects are read as raw JSON, never
//! through typed structs; a kind served by two groups (Ingress in
//! `extensions` and `networking.k8s.io`) is judged once, by uid.

use std::collections::{BTreeSet, HashSet};
use std::time::SystemTime;

use anyhow::Context as _;
use counsel::audit::Served;
use counsel::cluster;
use counsel::exceptions::{CLUSTER_KIND, Exceptions, GROUP, NAMESPACED_KIND};
use counsel::rollout::Auditor;
use kube::api::{ApiResource, DynamicObject, ListParams};
use kube::discovery::{Discovery, verbs};
use kube::{Client, Resource};
use serde_json::Value;

use super::super::check::namespaces::KnownNamespaces;
use super::{AuditArgs, Notes};

/// Objects asked for per list request.
const PAGE: u32 = 500;

/// Lists and judges everything the policies match.
pub fn audit(
    args: &AuditArgs,
    kinds: &BTreeSet<String>,
    auditor: &mut Auditor<'_>,
    exceptions: &mut Exceptions,
    now: SystemTime,
    notes: &mut Notes,
) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the Kubernetes client")?;
    runtime.block_on(audit_cluster(args, kinds, auditor, exceptions, now, notes))
}

async fn audit_cluster(
    args: &AuditArgs,
    kinds: &BTreeSet<String>,
    auditor: &mut Auditor<'_>,
    exceptions: &mut Exceptions,
    now: SystemTime,
    notes: &mut Notes,
) -> anyhow::Result<()> {
    let connection = cluster::connect(args.kubeconfig.as_deref())
        .await
        .context("connecting to the cluster")?
        .ok_or_else(|| {
            anyhow::anyhow!(
                "no cluster to audit: {}; give --kubeconfig FILE, or -f FILE to audit manifests",
                cluster::NOT_CONFIGURED
            )
        })?;
    let client = connection.client;
    let discovery = Discovery::new(client.clone())
        .run()
        .await
        .with_context(|| format!("cannot reach the cluster ({})", connection.source))?;
    let lists = resources(&discovery, kinds, &args.kind, notes);

    let namespaces = KnownNamespaces::new(&[]);
    let namespace_resource = ApiResource::erase::<k8s_openapi::api::core::v1::Namespace>(&());
    let mut pages = Pages::new(&client, &namespace_resource, None, None);
    while let Some(page) = pages.next().await? {
        for object in &page {
            namespaces.learn(object);
        }
    }

    let settings = *exceptions.settings();
    for kind in [NAMESPACED_KIND, CLUSTER_KIND] {
        let Some(resource) = discovery
            .get(GROUP)
            .and_then(|group| group.recommended_kind(kind))
            .map(|(resource, _)| resource)
        else {
            notes.notes.push(format!(
                "the cluster does not serve {kind} (Counsel's CRDs are not installed): no exceptions of that kind"
            ));
            continue;
        };
        let mut pages = Pages::new(&client, &resource, None, None);
        while let Some(page) = pages.next().await? {
            for object in page {
                match counsel::exceptions::check(&object, None, auditor.reviewer(), &settings, now)
                {
                    Ok(exception) => exceptions.insert(exception),
                    Err(error) => notes.notes.push(format!("exception ignored: {error}")),
                }
            }
        }
    }

    let mut seen = HashSet::new();
    for listed in &lists {
        let scopes: Vec<Option<&str>> = match (listed.namespaced, args.namespace.is_empty()) {
            (_, true) => vec![None],
            (true, false) => args.namespace.iter().map(|n| Some(n.as_str())).collect(),
            // Cluster-scoped objects are in no namespace -n names.
            (false, false) => continue,
        };
        for namespace in scopes {
            let mut pages = Pages::new(
                &client,
                &listed.resource,
                namespace,
                args.selector.as_deref(),
            );
            while let Some(page) = pages.next().await? {
                for object in page {
                    let uid = object.pointer("/metadata/uid").and_then(Value::as_str);
                    if let Some(uid) = uid
                        && !seen.insert(uid.to_owned())
                    {
                        continue;
                    }
                    super::judge(auditor, object, &namespaces, exceptions, now);
                }
            }
        }
    }
    Ok(())
}

/// The resources to list for `kinds` (see [`counsel::audit::resolve_in`]);
/// a kind `--kind` asked for that the cluster does not serve is noted
/// (policies name kinds that many clusters lack).
fn resources(
    discovery: &Discovery,
    kinds: &BTreeSet<String>,
    asked: &[String],
    notes: &mut Notes,
) -> Vec<Served> {
    let resolved = counsel::audit::resolve_in(discovery, kinds, &[verbs::LIST]);
    for kind in asked
        .iter()
        .filter(|kind| resolved.unserved.contains(*kind))
    {
        notes
            .notes
            .push(format!("the cluster serves no kind {kind}; none listed"));
    }
    resolved.resources
}

/// The pages of one list, raw JSON, each item with its apiVersion and kind.
struct Pages<'c> {
    client: &'c Client,
    resource: &'c ApiResource,
    url: String,
    params: ListParams,
    done: bool,
}

impl<'c> Pages<'c> {
    fn new(
        client: &'c Client,
        resource: &'c ApiResource,
        namespace: Option<&str>,
        selector: Option<&str>,
    ) -> Pages<'c> {
        Pages {
            client,
            resource,
            url: DynamicObject::url_path(resource, namespace),
            params: ListParams {
                label_selector: selector.map(str::to_owned),
                limit: Some(PAGE),
                ..ListParams::default()
            },
            done: false,
        }
    }

    async fn next(&mut self) -> anyhow::Result<Option<Vec<Value>>> {
        if self.done {
            return Ok(None);
        }
        let request = kube::core::Request::new(&self.url)
            .list(&self.params)
            .with_context(|| format!("listing {}", self.describe()))?;
        let list: Value = self
            .client
            .request(request)
            .await
            .map_err(|error| self.error(error))?;
        let token = list
            .pointer("/metadata/continue")
            .and_then(Value::as_str)
            .filter(|token| !token.is_empty());
        self.params.continue_token = token.map(str::to_owned);
        self.done = token.is_none();
        let items = match list {
            Value::Object(mut map) => match map.remove("items") {
                Some(Value::Array(items)) => items,
                _ => Vec::new(),
            },
            _ => Vec::new(),
        };
        Ok(Some(
            items
                .into_iter()
                .map(|mut item| {
                    if let Some(map) = item.as_object_mut() {
                        let (api_version, kind) = (&self.resource.api_version, &self.resource.kind);
                        map.entry("apiVersion")
                            .or_insert_with(|| Value::String(api_version.clone()));
                        map.entry("kind")
                            .or_insert_with(|| Value::String(kind.clone()));
                    }
                    // The API server's bookkeeping, which no policy judges.
                    if let Some(metadata) = item.get_mut("metadata").and_then(Value::as_object_mut)
                    {
                        metadata.remove("managedFields");
                    }
                    item
                })
                .collect(),
        ))
    }

    /// `deployments.apps (Deployment)`.
    fn describe(&self) -> String {
        let resource = self.resource;
        let name = if resource.group.is_empty() {
            resource.plural.clone()
        } else {
            format!("{}.{}", resource.plural, resource.group)
        };
        format!("{name} ({})", resource.kind)
    }

    fn error(&self, error: kube::Error) -> anyhow::Error {
        match &error {
            kube::Error::Api(status) if status.code == 403 => anyhow::anyhow!(
                "cannot list {}: forbidden: {}; counsel audit needs list on every kind the policies match, on namespaces and on Counsel's exceptions",
                self.describe(),
                status.message
            ),
            _ => anyhow::Error::new(error).context(format!("cannot list {}", self.describe())),
        }
    }
}
