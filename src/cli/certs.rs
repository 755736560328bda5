//! `counsel certs`: a CA and a serving certificate for the webhook.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use counsel::certs::{self, CertFiles, SubjectNames};

/// Write a CA and a serving certificate signed by it, and print the CA as
/// the webhook configuration's `caBundle`.
///
/// When DIR already holds a CA (`ca.crt` and `ca.key`), it is kept and only
/// a new serving certificate is issued: the `caBundle` stays the same, and a
/// running `counsel serve` picks the new certificate up by itself.
#[derive(Debug, clap::Args)]
pub struct CertsArgs {
    /// Directory for ca.crt, ca.key, tls.crt and tls.key (created if
    /// missing; keys are written with mode 0600).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// A DNS name the serving certificate is valid for, e.g.
    /// counsel.counsel.svc (repeat for more).
    #[arg(long = "dns", value_name = "NAME")]
    pub dns: Vec<String>,
    /// An IP address the serving certificate is valid for (repeat for more).
    #[arg(long = "ip", value_name = "IP")]
    pub ip: Vec<IpAddr>,
}

/// Writes the files and prints the `caBundle` on stdout (alone, for
/// scripts); what was written goes to stderr.
pub fn run(args: CertsArgs) -> anyhow::Result<ExitCode> {
    let names = SubjectNames {
        dns: args.dns,
        ips: args.ip,
    };
    let existing = CertFiles::in_dir(&args.out);
    let generated = if existing.ca_cert.is_file() && existing.ca_key.is_file() {
        let read = |path: &PathBuf| {
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the existing CA {}", path.display()))
        };
        let ca_cert = read(&existing.ca_cert)?;
        let ca_key = read(&existing.ca_key)?;
        let generated = certs::generate_with_ca(&names, &ca_cert, &ca_key, &existing.ca_cert)?;
        eprintln!(
            "kept the CA in {}; issued a new serving certificate",
            existing.ca_cert.display()
        );
        generated
    } else {
        certs::generate(&names)?
    };
    let files = generated.write(&args.out)?;
    let mut covered: Vec<String> = names.dns.clone();
    covered.extend(names.ips.iter().map(ToString::to_string));
    eprintln!(
        "wrote {} (CA), {} (CA key), {} (serving certificate for {}), {} (serving key)",
        files.ca_cert.display(),
        files.ca_key.display(),
        files.cert.display(),
        covered.join(", "),
        files.key.display()
    );
    eprintln!(
        "caBundle for the webhook configuration (also: base64 -w0 {}):",
        files.ca_cert.display()
    );
    println!("{}", generated.ca_bundle());
    Ok(ExitCode::SUCCESS)
}
