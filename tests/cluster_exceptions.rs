//! Exception objects behind a real kube-apiserver (v1.20, see
//! tests/support/cluster.rs), with Counsel registered as `counsel install`
//! registers it: kubectl refuses an exception Counsel finds wrong with
//! Counsel's own message, and accepts a right one.

use crate::support::times;

use crate::install::manifests::install;
use crate::support::cluster::Cluster;
use crate::support::counsel_process::CounselProcess;

fn exception(namespace: &str, name: &str, rules: &str, expires: &str) -> String {
    format!(
        "\
apiVersion: counsel.dev/v1alpha1
kind: CounselException
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  policy: pod-security
  rules: {rules}
  objects: {{kinds: [Deployment], names: [web]}}
  reason: the vendor agent needs the host's devices until v5
  owner: team-payments
  expires: {expires:?}
"
    )
}

#[test]
fn kubectl_gets_counsel_s_own_message_for_an_exception_it_refuses() {
    let cluster = Cluster::shared();
    let namespace = cluster.namespace("excepting", &[]);
    let installed = install(&["--name", "excepting"]);
    let config = installed.one("ConfigMap")["data"]["counsel.yaml"]
        .as_str()
        .expect("counsel.yaml");
    let counsel = CounselProcess::start(Some(config), &[]);
    let webhooks = installed.webhooks();
    cluster.register_counsel(&counsel, &webhooks, &namespace);

    let unknown = cluster
        .kubectl(&["apply", "-f", "-"])
        .stdin(exception(
            &namespace,
            "typo",
            "[privileged, host-netwrk]",
            &times::from_now(30 * 86_400),
        ))
        .run();
    assert_eq!(unknown.code, Some(1), "{unknown:#?}");
    assert_eq!(
        unknown.stderr,
        format!(
            "The request is invalid: error when creating \"STDIN\": admission webhook \"validate.excepting.counsel.svc\" denied the request: \
             CounselException {namespace}/typo: spec.rules[1]: the policy \"pod-security\" has no rule \"host-netwrk\"; its rules are {}\n",
            pod_security_rules()
        )
    );

    let long = cluster
        .kubectl(&["apply", "-f", "-"])
        .stdin(exception(
            &namespace,
            "forever",
            "[privileged]",
            &times::from_now(365 * 86_400),
        ))
        .run();
    assert_eq!(long.code, Some(1), "{long:#?}");
    assert!(
        long.stderr.contains(&format!(
            "denied the request: CounselException {namespace}/forever: spec.expires: "
        )) && long.stderr.contains(
            " is 365 days from now, beyond the longest lifetime ops allow (90 days, exceptions.maxLifetime in counsel.yaml); expire it by "
        ),
        "{long:#?}"
    );

    let right = cluster
        .kubectl(&["apply", "-f", "-"])
        .stdin(exception(
            &namespace,
            "legacy-agent",
            "[privileged]",
            &times::from_now(30 * 86_400),
        ))
        .run();
    assert_eq!(right.code, Some(0), "{right:#?}");
    assert_eq!(
        right.stdout,
        "counselexception.counsel.dev/legacy-agent created\n"
    );
    let listed = cluster
        .kubectl(&[
            "get",
            "cex",
            "-n",
            &namespace,
            "-o",
            "jsonpath={.items[*].metadata.name}",
        ])
        .success();
    assert_eq!(listed, "legacy-agent");
}

/// The rule ids of the bundled pod-security policy, as Counsel lists them.
fn pod_security_rules() -> &'static str {
    "privileged, allow-privilege-escalation, run-as-non-root, run-as-user, capabilities, seccomp, \
     host-namespaces, host-path-volumes, host-ports, probe-host, app-armor, se-linux, proc-mount, \
     sysctls, restricted-volumes, windows-host-process, invalid-field"
}

#[test]
fn an_exception_in_the_cluster_lets_a_deployment_in_until_it_expires() {
    let cluster = Cluster::shared();
    let namespace = cluster.namespace("granted", &[]);
    let config = "\
policies:
  - name: pod-security
    module: builtin:pod-security
    mode: enforce
    settings: {level: baseline}
";
    let kubeconfig = cluster.kubeconfig.to_str().expect("UTF-8 path");
    let mut counsel = CounselProcess::start(Some(config), &["--kubeconfig", kubeconfig]);
    counsel.wait_synced();
    let installed = install(&["--name", "granted", "--enforce"]);
    let webhooks = installed.webhooks();
    cluster.register_counsel(&counsel, &webhooks, &namespace);
    let reason = "the vendor agent needs the host's devices until v5";
    let grant = |expires: &str| {
        cluster
            .kubectl(&["apply", "-f", "-"])
            .stdin(exception(
                &namespace,
                "legacy-agent",
                "[privileged]",
                expires,
            ))
            .success()
    };

    // Without an exception: denied.
    let denied = cluster.create_until(&namespace, |output| output.code == Some(1));
    assert!(
        denied.stderr.contains(&format!(
            "denied the request: Deployment {namespace}/web violates 1 rule:\n\n[pod-security/privileged]"
        )),
        "{denied:#?}"
    );

    // Granted for 30 days: in, with one warning naming the exception.
    grant(&times::from_now(30 * 86_400));
    let admitted = cluster.create_until(&namespace, |output| output.code == Some(0));
    assert_eq!(
        admitted.stdout,
        "deployment.apps/web created (server dry run)\n"
    );
    let warnings: Vec<&str> = admitted
        .stderr
        .lines()
        .filter(|line| line.starts_with("Warning: [pod-security/"))
        .collect();
    assert_eq!(
        warnings,
        [format!(
            "Warning: [pod-security/privileged] Deployment {namespace}/web: excepted by CounselException {namespace}/legacy-agent (owner: team-payments; expires in 30 days): {reason}"
        )],
        "{admitted:#?}"
    );

    // Five days left: the warning says what happens then.
    grant(&times::from_now(5 * 86_400));
    let soon = cluster.create_until(&namespace, |output| output.stderr.contains("expires soon"));
    assert_eq!(soon.code, Some(0), "{soon:#?}");
    assert!(
        soon.stderr.lines().any(|line| line == format!(
            "Warning: [pod-security/privileged] Deployment {namespace}/web: excepted by CounselException {namespace}/legacy-agent (owner: team-payments; expires soon, in 5 days; then this is denied): {reason}"
        )),
        "{soon:#?}"
    );

    // Expired: denied again, and the denial names the exception.
    grant(&times::from_now(2));
    let expired = cluster.create_until(&namespace, |output| output.code == Some(1));
    assert!(
        expired.stderr.contains(&format!(
            "(the exception CounselException {namespace}/legacy-agent (owner: team-payments) expired "
        )),
        "{expired:#?}"
    );
}
