//! The rule catalog: one rule per Pod Security Standards control, with the
//! reason a developer who has never heard of the standards understands.

use counsel_policy::{FixSafety, Rule, Severity};

/// The baseline level's controls. Rules that both levels constrain
/// (capabilities, seccomp, procMount) link it from the catalog, and each of
/// their violations links the level it is about.
pub const BASELINE_DOCS: &str =
    "https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline";
/// The restricted level's controls.
pub const RESTRICTED_DOCS: &str =
    "https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted";

/// `securityContext.privileged`.
pub const PRIVILEGED: Rule = Rule::new(
    "privileged",
    "Containers must not run privileged",
    "A privileged container can do anything root on the node can: it sees every device, \
     can mount the node's disks and load kernel modules. Whoever gets code running in it \
     (through a bug in your app or a poisoned dependency) owns the node and every pod on it.",
)
.docs(BASELINE_DOCS)
.severity(Severity::Critical)
// Privileged mode gives device and kernel access that ordinary programs never
// use; the pod starts the same without it.
.fix_safety(FixSafety::Safe);

/// `securityContext.allowPrivilegeEscalation` (restricted).
pub const ALLOW_PRIVILEGE_ESCALATION: Rule = Rule::new(
    "allow-privilege-escalation",
    "Containers must set allowPrivilegeEscalation: false",
    "Unless it is false, a process can gain more privileges than it started with, for \
     example through a setuid program such as sudo or su in the image. An attacker who \
     gets a shell as your app's user can then become root in the container, the first \
     step out of it. A normal app loses nothing when it is false.",
)
.docs(RESTRICTED_DOCS)
.severity(Severity::Medium)
// Only setuid programs and file capabilities stop working, which services do not
// use; the pod starts the same.
.fix_safety(FixSafety::Safe);

/// `runAsNonRoot` (restricted).
pub const RUN_AS_NON_ROOT: Rule = Rule::new(
    "run-as-non-root",
    "Containers must run as a non-root user (runAsNonRoot: true)",
    "Many images run as root unless told otherwise, and root in a container is the same \
     user id as root on the node: any escape (a kernel bug, a mounted socket, a shared \
     file) lands as root on the node. With runAsNonRoot: true the kubelet refuses to \
     start a container whose user is root.",
)
.docs(RESTRICTED_DOCS)
.severity(Severity::Medium)
// Many images (nginx, most official ones) run as root: the kubelet would refuse
// to start them.
.fix_safety(FixSafety::Suggestion);

/// `runAsUser: 0` (restricted).
pub const RUN_AS_USER: Rule = Rule::new(
    "run-as-user",
    "Containers must not run as user id 0 (root)",
    "runAsUser: 0 runs the container as root, the same user id as root on the node, so an \
     attacker who breaks out of the container or reaches a file shared with the node does \
     so as root. Any other user id keeps a compromise contained.",
)
.docs(RESTRICTED_DOCS)
.severity(Severity::High)
// No machine fix: which user id the image works with is the developer's call.
.fix_safety(FixSafety::Suggestion);

/// `securityContext.capabilities` (baseline adds; restricted drop ALL).
/// Each violation links the level it is about.
pub const CAPABILITIES: Rule = Rule::new(
    "capabilities",
    "Containers must not add powerful Linux capabilities (restricted: drop ALL)",
    "Capabilities are slices of root's power: SYS_ADMIN is nearly full root, NET_ADMIN \
     rewires the network, SYS_PTRACE reads other processes' memory. Each one is a tool for \
     an attacker who gets code running in your container. Baseline forbids adding \
     dangerous ones; restricted requires dropping ALL and adding back at most \
     NET_BIND_SERVICE (ports below 1024).",
)
.docs(BASELINE_DOCS)
.severity(Severity::High)
// Dropping ALL breaks images that start as root and switch user (nginx needs
// CHOWN, SETUID, SETGID) or bind ports below 1024; removing an added capability
// breaks the program that uses it.
.fix_safety(FixSafety::Suggestion);

/// `seccompProfile` (baseline: not Unconfined; restricted: must be set).
/// Each violation links the level it is about.
pub const SECCOMP: Rule = Rule::new(
    "seccomp",
    "Containers must run with the RuntimeDefault or a Localhost seccomp profile",
    "Seccomp filters the kernel system calls a container may make. Unconfined, an \
     attacker in your container can reach hundreds of rarely used system calls, which is \
     where most container-escape kernel bugs live. RuntimeDefault blocks those and does \
     not affect normal apps; restricted requires it to be set explicitly.",
)
.docs(BASELINE_DOCS)
.severity(Severity::High)
// RuntimeDefault blocks only rarely used system calls; it is Docker's long-
// standing default, under which ordinary programs run.
.fix_safety(FixSafety::Safe);

/// `hostNetwork`, `hostPID`, `hostIPC`.
pub const HOST_NAMESPACES: Rule = Rule::new(
    "host-namespaces",
    "Pods must not share the node's network, process or IPC namespace",
    "hostNetwork lets the pod see the node's network traffic and reach services that \
     listen only on the node; hostPID lets it see and signal every process on the node \
     and read their environment, secrets included; hostIPC lets it read other processes' \
     shared memory. Each removes a wall between your pod and everything else on the node.",
)
.docs(BASELINE_DOCS)
.severity(Severity::High)
// Leaving the node's network changes the pod's address and ports, and agents
// that watch the node's processes stop seeing them.
.fix_safety(FixSafety::Suggestion);

/// `hostPath` volumes (baseline; at restricted `restricted-volumes` covers them).
pub const HOST_PATH_VOLUMES: Rule = Rule::new(
    "host-path-volumes",
    "Pods must not mount directories of the node (hostPath volumes)",
    "A hostPath volume hands the container a directory of the node itself. Depending on \
     the path, an attacker in the container reads other pods' secrets or the kubelet's \
     credentials, or talks to the container runtime's socket, and from there takes over \
     the node.",
)
.docs(BASELINE_DOCS)
.severity(Severity::Critical)
// No machine fix: what replaces the node's directory is the developer's call.
.fix_safety(FixSafety::Suggestion);

/// `ports[*].hostPort`.
pub const HOST_PORTS: Rule = Rule::new(
    "host-ports",
    "Containers must not open ports on the node (hostPort)",
    "A hostPort opens the port on the node's own address, outside the Services and \
     NetworkPolicies that guard your pod, and pins the pod to nodes where the port is \
     free. Anyone who can reach the node reaches your container.",
)
.docs(BASELINE_DOCS)
.severity(Severity::Medium)
// Clients that reach the container through the node's port lose it.
.fix_safety(FixSafety::Suggestion);

/// `host` of httpGet/tcpSocket probes and lifecycle hooks.
pub const PROBE_HOST: Rule = Rule::new(
    "probe-host",
    "Probes and lifecycle hooks must not name another host",
    "The kubelet runs httpGet and tcpSocket probes and hooks from the node, with the \
     node's network access. With `host` set it connects wherever you say, including \
     places your pod itself cannot reach (the node's localhost, cloud metadata \
     endpoints), which an attacker can use to probe or hit them. Without `host` the \
     kubelet checks the pod's own address, which is what a probe is for.",
)
.docs(BASELINE_DOCS)
.severity(Severity::Medium)
// Without `host` the probe checks the pod's own address, which may not answer
// the same: a failing probe restarts or unreadies the pod.
.fix_safety(FixSafety::Suggestion);

/// AppArmor profile fields and annotations.
pub const APP_ARMOR: Rule = Rule::new(
    "app-armor",
    "Pods must not turn off or replace the default AppArmor profile",
    "AppArmor is a kernel guard that limits which files, mounts and capabilities a \
     container's processes can use. Unconfined removes that guard, so an attacker in your \
     container meets one barrier less on the way to the node. RuntimeDefault or a profile \
     installed on the node (Localhost) keep it.",
)
.docs(BASELINE_DOCS)
.severity(Severity::High)
// RuntimeDefault confines only what ordinary programs never do (like seccomp's default).
.fix_safety(FixSafety::Safe);

/// `seLinuxOptions`.
pub const SE_LINUX: Rule = Rule::new(
    "se-linux",
    "Pods must not set a custom SELinux type, user or role",
    "SELinux labels decide which files and processes of the node a container may touch. \
     A custom type such as spc_t (super-privileged container), user or role lifts that \
     confinement, so a compromised container reaches what belongs to the node and other \
     pods. Only the container types and the level may be set.",
)
.docs(BASELINE_DOCS)
.severity(Severity::High)
// Without a custom type, user or role the container runs as container_t, the
// label ordinary containers run under.
.fix_safety(FixSafety::Safe);

/// `securityContext.procMount` (both levels; each violation links its own).
pub const PROC_MOUNT: Rule = Rule::new(
    "proc-mount",
    "Containers must use the default, masked /proc",
    "The container runtime hides or makes read-only the sensitive parts of /proc (kernel \
     keys, timers, sysrq-trigger and more). procMount: Unmasked shows them to the \
     container, giving an attacker there insight into, and levers on, the node's kernel.",
)
.docs(BASELINE_DOCS)
.severity(Severity::High)
// Only nested container runtimes need an unmasked /proc.
.fix_safety(FixSafety::Safe);

/// `securityContext.sysctls`.
pub const SYSCTLS: Rule = Rule::new(
    "sysctls",
    "Pods may set only the safe, pod-scoped sysctls",
    "Sysctls are kernel settings. The allowed ones affect only the pod's own network \
     namespace; any other changes the kernel for every pod on the node (memory, \
     scheduling, networking), so one pod can degrade or attack its neighbours.",
)
.docs(BASELINE_DOCS)
.severity(Severity::Medium)
// The pod starts with the node's kernel settings instead; tuning those is the
// node's business.
.fix_safety(FixSafety::Safe);

/// Volume types (restricted).
pub const RESTRICTED_VOLUMES: Rule = Rule::new(
    "restricted-volumes",
    "Pods may use only pod-scoped volume types (configMap, secret, emptyDir, PVC, ...)",
    "Volume types other than configMap, csi, downwardAPI, emptyDir, ephemeral, image, \
     persistentVolumeClaim, projected and secret reach outside the pod: the node's files, \
     or network storage mounted with the node's credentials and no Kubernetes access \
     control. An attacker in your container could read or overwrite data that belongs to \
     others.",
)
.docs(RESTRICTED_DOCS)
.severity(Severity::Medium)
// No machine fix: what replaces the volume is the developer's call.
.fix_safety(FixSafety::Suggestion);

/// `windowsOptions.hostProcess`.
pub const WINDOWS_HOST_PROCESS: Rule = Rule::new(
    "windows-host-process",
    "Windows pods must not run HostProcess containers",
    "A Windows HostProcess container runs directly on the node, with the node's network \
     and file system, as a node administrator: the Windows twin of a privileged \
     container. Whoever controls it controls the node.",
)
.docs(BASELINE_DOCS)
.severity(Severity::Critical)
// A HostProcess image is built to run on the node; as an ordinary container it
// does not work.
.fix_safety(FixSafety::Suggestion);

/// Every rule this policy reports (the SDK appends `invalid-field`).
///
/// Fix safety (whether the mutating webhook may apply a rule's fixes without
/// a person; ops can override it per rule): `Safe` where a typical workload
/// keeps starting and working with the fix, whatever its image, because the
/// fix takes away something ordinary programs never use; `Suggestion` where
/// it depends on the image or the program (its user, its files, how it is
/// reached), so the fix would make pods that fail to start or to serve.
pub fn catalog() -> Vec<Rule> {
    vec![
        PRIVILEGED,
        ALLOW_PRIVILEGE_ESCALATION,
        RUN_AS_NON_ROOT,
        RUN_AS_USER,
        CAPABILITIES,
        SECCOMP,
        HOST_NAMESPACES,
        HOST_PATH_VOLUMES,
        HOST_PORTS,
        PROBE_HOST,
        APP_ARMOR,
        SE_LINUX,
        PROC_MOUNT,
        SYSCTLS,
        RESTRICTED_VOLUMES,
        WINDOWS_HOST_PROCESS,
    ]
}
