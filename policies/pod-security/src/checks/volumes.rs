//! hostPathVolumes (baseline) and restrictedVolumes (restricted).

use counsel_policy::{Findings, Node, violation};

use crate::pod::Pod;
use crate::rules::{HOST_PATH_VOLUMES, RESTRICTED_VOLUMES};

/// Volume sources a restricted pod may use.
const ALLOWED: [&str; 9] = [
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "image",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

/// Every other volume source Kubernetes knows, in the order Pod Security
/// Admission names the first one it finds.
const RESTRICTED: [&str; 21] = [
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "nfs",
    "iscsi",
    "glusterfs",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "fc",
    "azureFile",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "portworxVolume",
    "scaleIO",
    "storageos",
];

const HOST_PATH_HINT: &str = "Use a volume scoped to the pod instead: emptyDir for scratch space, \
     a persistentVolumeClaim for data that must survive the pod, a configMap or secret for files \
     you ship with it. If the workload really needs the node's files (a log or metrics agent), \
     ops must run it under an exemption.";

/// Reports every known source that is set but not an object. The checks
/// still count it as set; the `invalid-field` violation fails the object.
fn report_malformed_sources(volume: &Node<'_>, out: &mut Findings) {
    for source in ALLOWED.iter().chain(RESTRICTED.iter()) {
        if volume.has(source) {
            volume.field(source).object(out);
        }
    }
}

fn name<'a>(volume: &Node<'a>, out: &mut Findings) -> &'a str {
    volume.field("name").str(out).unwrap_or("")
}

/// hostPathVolumes: no volume has a `hostPath` source.
pub fn host_path_volumes(pod: &Pod<'_>, out: &mut Findings) {
    for volume in &pod.volumes {
        report_malformed_sources(volume, out);
        let host_path = volume.field("hostPath");
        let Some(found) = host_path.value() else {
            continue;
        };
        let name = name(volume, out);
        let path = found.get("path").and_then(|p| p.as_str()).unwrap_or("");
        out.push(
            violation(&HOST_PATH_VOLUMES)
                .at(&host_path)
                .message(format!(
                    "volume {name:?} must not mount the node's directory {path:?} (hostPath)"
                ))
                .hint(HOST_PATH_HINT),
        );
    }
}

/// restrictedVolumes: every volume uses an allowed source. A volume with no
/// known source at all is what the API server defaults to `emptyDir` before
/// Pod Security Admission sees it, so it passes here too.
pub fn restricted_volumes(pod: &Pod<'_>, out: &mut Findings) {
    for volume in &pod.volumes {
        report_malformed_sources(volume, out);
        if ALLOWED.iter().any(|source| volume.has(source)) {
            continue;
        }
        let Some(source) = RESTRICTED.iter().find(|source| volume.has(source)) else {
            continue;
        };
        let name = name(volume, out);
        let hint = if *source == "hostPath" {
            HOST_PATH_HINT.to_owned()
        } else {
            format!(
                "Mount {source} storage through a PersistentVolume that ops define and a \
                 persistentVolumeClaim in this pod (or a csi volume), so Kubernetes controls who \
                 gets it. Allowed volume types: {}.",
                ALLOWED.join(", ")
            )
        };
        out.push(
            violation(&RESTRICTED_VOLUMES)
                .at(&volume.field(source))
                .message(format!(
                    "volume {name:?} must not use the restricted volume type {source:?}"
                ))
                .hint(hint),
        );
    }
}
