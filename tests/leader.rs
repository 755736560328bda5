//! Leader election between two `counsel serve` processes against a real
//! kube-apiserver: one holds the Lease; killed, the other takes over once
//! the Lease expires; stopped gracefully, the leader releases it.

use crate::support::cluster::Cluster;
use crate::support::counsel_process::CounselProcess;

const CONFIG: &str =
    "policies:\n  - name: pod-security\n    module: builtin:pod-security\n    mode: warn\n";

/// `became the leader (Lease NS/NAME, holder ID): ...` → `ID`.
fn holder_in(message: &str) -> String {
    let start = message.find("holder ").expect("holder") + "holder ".len();
    let end = message[start..].find(')').expect(")") + start;
    message[start..end].to_owned()
}

fn became_leader(message: &str) -> bool {
    message.starts_with("became the leader (Lease ")
}

#[test]
fn another_replica_takes_over_when_the_leader_dies() {
    let cluster = Cluster::shared();
    let namespace = cluster.namespace("leader-failover", &[]);
    let kubeconfig = cluster.kubeconfig.to_str().expect("UTF-8 path");
    let args = [
        "--kubeconfig",
        kubeconfig,
        "--lease-namespace",
        &namespace,
        "--lease-duration",
        "3",
        "--lease-renew",
        "1",
        "--no-events",
    ];
    let mut first = CounselProcess::start(Some(CONFIG), &args);
    let message = first.wait_for_message(became_leader);
    let leader = holder_in(&message);
    assert_eq!(
        message,
        format!(
            "became the leader (Lease {namespace}/counsel-audit, holder {leader}): this replica writes reports and audit Events"
        )
    );
    let holder = || {
        cluster
            .kubectl(&[
                "get",
                "lease",
                "counsel-audit",
                "-n",
                &namespace,
                "-o",
                "jsonpath={.spec.holderIdentity} {.spec.leaseDurationSeconds} {.spec.leaseTransitions}",
            ])
            .success()
    };
    assert_eq!(holder(), format!("{leader} 3 0"));
    assert_eq!(
        first
            .ops_get("/metrics")
            .lines()
            .find(|l| l.starts_with("counsel_leader ")),
        Some("counsel_leader 1")
    );

    // A second replica does not lead while the first renews.
    let mut second = CounselProcess::start(Some(CONFIG), &args);
    assert_eq!(
        second
            .ops_get("/metrics")
            .lines()
            .find(|l| l.starts_with("counsel_leader ")),
        Some("counsel_leader 0")
    );

    // Killed, the first renews no more: the second takes over.
    first.kill();
    let message = second.wait_for_message(became_leader);
    let successor = holder_in(&message);
    assert_ne!(successor, leader);
    assert_eq!(holder(), format!("{successor} 3 1"));

    // Stopped gracefully, the leader gives the Lease up at once.
    assert_eq!(second.terminate(), Some(0));
    assert!(
        second
            .log()
            .contains(&format!("released the Lease {namespace}/counsel-audit")),
        "{}",
        second.log()
    );
    assert_eq!(holder(), " 3 1");
}
