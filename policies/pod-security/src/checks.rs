//! The Pod Security Admission checks, which of them run at a level and
//! version, and in what order.

mod app_armor;
mod capabilities;
mod host;
mod identity;
mod privilege;
mod se_linux;
mod seccomp;
mod volumes;

use crate::pod::Pod;
use crate::settings::Level;
use counsel_policy::Findings;

/// The policy version and level a check runs at.
#[derive(Debug, Clone, Copy)]
pub struct Ctx {
    /// The level being enforced.
    pub level: Level,
    /// The effective minor policy version (`v1.N` → N).
    pub minor: u32,
}

/// One check of Pod Security Admission. Several checks can report the same
/// rule id (the baseline and restricted variants of capabilities, seccomp and
/// procMount): at any level and version only one of each pair runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    AppArmorProfile,
    CapabilitiesBaseline,
    HostNamespaces,
    HostPathVolumes,
    HostPorts,
    HostProbesAndHostLifecycle,
    Privileged,
    ProcMount,
    SeLinuxOptions,
    SeccompProfileBaseline,
    Sysctls,
    WindowsHostProcess,
    AllowPrivilegeEscalation,
    CapabilitiesRestricted,
    ProcMountRestricted,
    RestrictedVolumes,
    RunAsNonRoot,
    RunAsUser,
    SeccompProfileRestricted,
}

/// Baseline checks in Pod Security Admission's order (IDs sorted bytewise).
const BASELINE: [Check; 12] = [
    Check::AppArmorProfile,
    Check::CapabilitiesBaseline,
    Check::HostNamespaces,
    Check::HostPathVolumes,
    Check::HostPorts,
    Check::HostProbesAndHostLifecycle,
    Check::Privileged,
    Check::ProcMount,
    Check::SeLinuxOptions,
    Check::SeccompProfileBaseline,
    Check::Sysctls,
    Check::WindowsHostProcess,
];

/// Restricted-only checks in Pod Security Admission's order.
const RESTRICTED: [Check; 7] = [
    Check::AllowPrivilegeEscalation,
    Check::CapabilitiesRestricted,
    Check::ProcMountRestricted,
    Check::RestrictedVolumes,
    Check::RunAsNonRoot,
    Check::RunAsUser,
    Check::SeccompProfileRestricted,
];

impl Check {
    /// The first policy version (minor) the check applies at.
    fn since(self) -> u32 {
        match self {
            Check::HostProbesAndHostLifecycle => 34,
            Check::AllowPrivilegeEscalation => 8,
            Check::CapabilitiesRestricted => 22,
            Check::ProcMountRestricted => 35,
            Check::RunAsUser => 23,
            Check::SeccompProfileRestricted => 19,
            _ => 0,
        }
    }

    /// The baseline check this restricted check replaces at restricted, from
    /// the version the restricted check applies.
    fn overrides(self) -> Option<Check> {
        match self {
            Check::CapabilitiesRestricted => Some(Check::CapabilitiesBaseline),
            Check::RestrictedVolumes => Some(Check::HostPathVolumes),
            Check::SeccompProfileRestricted => Some(Check::SeccompProfileBaseline),
            Check::ProcMountRestricted => Some(Check::ProcMount),
            _ => None,
        }
    }

    /// Runs the check on one pod spec.
    pub fn run(self, pod: &Pod<'_>, ctx: Ctx, out: &mut Findings) {
        match self {
            Check::AppArmorProfile => app_armor::app_armor_profile(pod, out),
            Check::CapabilitiesBaseline => capabilities::baseline(pod, out),
            Check::HostNamespaces => host::host_namespaces(pod, out),
            Check::HostPathVolumes => volumes::host_path_volumes(pod, out),
            Check::HostPorts => host::host_ports(pod, out),
            Check::HostProbesAndHostLifecycle => host::host_probes_and_lifecycle(pod, out),
            Check::Privileged => privilege::privileged(pod, out),
            Check::ProcMount => privilege::proc_mount(pod, ctx, false, out),
            Check::SeLinuxOptions => se_linux::se_linux_options(pod, ctx, out),
            Check::SeccompProfileBaseline => seccomp::baseline(pod, ctx, out),
            Check::Sysctls => privilege::sysctls(pod, ctx, out),
            Check::WindowsHostProcess => privilege::windows_host_process(pod, out),
            Check::AllowPrivilegeEscalation => privilege::allow_privilege_escalation(pod, ctx, out),
            Check::CapabilitiesRestricted => capabilities::restricted(pod, ctx, out),
            Check::ProcMountRestricted => privilege::proc_mount(pod, ctx, true, out),
            Check::RestrictedVolumes => volumes::restricted_volumes(pod, out),
            Check::RunAsNonRoot => identity::run_as_non_root(pod, ctx, out),
            Check::RunAsUser => identity::run_as_user(pod, ctx, out),
            Check::SeccompProfileRestricted => seccomp::restricted(pod, ctx, out),
        }
    }
}

/// The checks that run at `ctx`, in the order Pod Security Admission runs
/// them: every applicable baseline check (at restricted, minus those an
/// applicable restricted check replaces), then the restricted checks.
pub fn plan(ctx: Ctx) -> Vec<Check> {
    let applies = |check: &Check| check.since() <= ctx.minor;
    let restricted: Vec<Check> = match ctx.level {
        Level::Baseline => Vec::new(),
        Level::Restricted => RESTRICTED.into_iter().filter(applies).collect(),
    };
    let replaced: Vec<Check> = restricted.iter().filter_map(|c| c.overrides()).collect();
    BASELINE
        .into_iter()
        .filter(applies)
        .filter(|check| !replaced.contains(check))
        .chain(restricted)
        .collect()
}

/// Runs every check of `ctx` on `pod`.
pub fn run(pod: &Pod<'_>, ctx: Ctx, out: &mut Findings) {
    for check in plan(ctx) {
        check.run(pod, ctx, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_at(level: Level, minor: u32) -> Vec<Check> {
        plan(Ctx { level, minor })
    }

    #[test]
    fn baseline_at_latest_runs_every_baseline_check_in_order() {
        assert_eq!(plan_at(Level::Baseline, 37), BASELINE.to_vec());
    }

    #[test]
    fn restricted_at_latest_replaces_four_baseline_checks() {
        use Check::*;
        assert_eq!(
            plan_at(Level::Restricted, 37),
            [
                AppArmorProfile,
                HostNamespaces,
                HostPorts,
                HostProbesAndHostLifecycle,
                Privileged,
                SeLinuxOptions,
                Sysctls,
                WindowsHostProcess,
                AllowPrivilegeEscalation,
                CapabilitiesRestricted,
                ProcMountRestricted,
                RestrictedVolumes,
                RunAsNonRoot,
                RunAsUser,
                SeccompProfileRestricted,
            ]
        );
    }

    #[test]
    fn older_versions_run_the_baseline_variant_until_the_override_applies() {
        use Check::*;
        let v18 = plan_at(Level::Restricted, 18);
        assert!(v18.contains(&SeccompProfileBaseline) && !v18.contains(&SeccompProfileRestricted));
        assert!(v18.contains(&CapabilitiesBaseline) && !v18.contains(&CapabilitiesRestricted));
        assert!(!v18.contains(&RunAsUser) && !v18.contains(&HostProbesAndHostLifecycle));
        assert!(!v18.contains(&HostPathVolumes) && v18.contains(&RestrictedVolumes));
        let v34 = plan_at(Level::Restricted, 34);
        assert!(v34.contains(&ProcMount) && !v34.contains(&ProcMountRestricted));
        assert!(v34.contains(&HostProbesAndHostLifecycle));
        assert!(!plan_at(Level::Restricted, 7).contains(&AllowPrivilegeEscalation));
        assert!(plan_at(Level::Restricted, 8).contains(&AllowPrivilegeEscalation));
        assert!(!plan_at(Level::Baseline, 33).contains(&HostProbesAndHostLifecycle));
    }
}
