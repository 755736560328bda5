//! Generating a CA and a serving certificate signed by it (rcgen, ECDSA P-256).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use time::{Duration, OffsetDateTime};

use super::{CertError, ca_bundle};

/// How long a generated CA is valid. Long, because replacing it means
/// updating every webhook configuration's `caBundle`.
const CA_VALIDITY: Duration = Duration::days(3650);
/// How long a generated serving certificate is valid; it can be rotated
/// without touching the webhook configuration.
const SERVING_VALIDITY: Duration = Duration::days(365);
/// Certificates start a little in the past so a peer whose clock lags
/// does not see them as not yet valid.
const CLOCK_SKEW: Duration = Duration::hours(1);

/// The names a serving certificate is valid for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectNames {
    /// DNS names (`counsel.counsel.svc`).
    pub dns: Vec<String>,
    /// IP addresses.
    pub ips: Vec<IpAddr>,
}

impl SubjectNames {
    /// `localhost`, `127.0.0.1` and `::1`: what a development certificate
    /// covers.
    pub fn localhost() -> Self {
        SubjectNames {
            dns: vec!["localhost".to_owned()],
            ips: vec![
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(Ipv6Addr::LOCALHOST),
            ],
        }
    }
}

/// A freshly generated CA and serving certificate with their private keys, all
/// PEM.
#[derive(Clone)]
pub struct GeneratedCertificates {
    /// The CA certificate: what goes into the webhook's `caBundle`.
    pub ca_cert_pem: String,
    /// The CA's private key (keep it to sign later certificates).
    pub ca_key_pem: String,
    /// The serving certificate.
    pub cert_pem: String,
    /// The serving certificate's private key.
    pub key_pem: String,
}

impl GeneratedCertificates {
    /// The CA certificate as a webhook configuration's `caBundle`: base64 of
    /// its PEM text.
    pub fn ca_bundle(&self) -> String {
        ca_bundle(self.ca_cert_pem.as_bytes())
    }
}

// Keys must never reach a log by accident.
impl std::fmt::Debug for GeneratedCertificates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeneratedCertificates")
            .finish_non_exhaustive()
    }
}

/// Generates a CA and a serving certificate for `names`, signed by that CA.
pub fn generate(names: &SubjectNames) -> Result<GeneratedCertificates, CertError> {
    let sans = subject_alt_names(names)?;
    let now = OffsetDateTime::now_utc();
    let ca_key = KeyPair::generate().map_err(|source| CertError::Generate {
        what: "CA key",
        source,
    })?;
    let mut ca_params = CertificateParams::default();
    ca_params.distinguished_name = common_name("Counsel webhook CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca_params.not_before = now - CLOCK_SKEW;
    ca_params.not_after = now + CA_VALIDITY;
    let ca_cert = ca_params
        .self_signed(&ca_key)
        .map_err(|source| CertError::Generate {
            what: "CA certificate",
            source,
        })?;
    let ca_cert_pem = ca_cert.pem();
    let ca_key_pem = ca_key.serialize_pem();
    let issuer = Issuer::new(ca_params, ca_key);
    let (cert_pem, key_pem) = issue(sans, &issuer)?;
    Ok(GeneratedCertificates {
        ca_cert_pem,
        ca_key_pem,
        cert_pem,
        key_pem,
    })
}

/// Generates a serving certificate for `names` signed by an existing CA
/// (PEM certificate and key), so that webhook configurations keep their
/// `caBundle`. `ca_cert_path` only names the CA in errors.
pub fn generate_with_ca(
    names: &SubjectNames,
    ca_cert_pem: &str,
    ca_key_pem: &str,
    ca_cert_path: &Path,
) -> Result<GeneratedCertificates, CertError> {
    let sans = subject_alt_names(names)?;
    let bad_ca = |error: rcgen::Error| CertError::BadCertificate {
        path: ca_cert_path.to_owned(),
        reason: format!("cannot sign with this CA: {error}"),
    };
    let ca_key = KeyPair::from_pem(ca_key_pem).map_err(bad_ca)?;
    let issuer = Issuer::from_ca_cert_pem(ca_cert_pem, ca_key).map_err(bad_ca)?;
    let (cert_pem, key_pem) = issue(sans, &issuer)?;
    Ok(GeneratedCertificates {
        ca_cert_pem: ca_cert_pem.to_owned(),
        ca_key_pem: ca_key_pem.to_owned(),
        cert_pem,
        key_pem,
    })
}

fn subject_alt_names(names: &SubjectNames) -> Result<Vec<SanType>, CertError> {
    if names.dns.is_empty() && names.ips.is_empty() {
        return Err(CertError::NoNames);
    }
    let mut sans = Vec::with_capacity(names.dns.len() + names.ips.len());
    for name in &names.dns {
        let invalid = |reason: String| CertError::InvalidDnsName {
            name: name.clone(),
            reason,
        };
        check_dns_name(name).map_err(invalid)?;
        let dns = name
            .clone()
            .try_into()
            .map_err(|error: rcgen::Error| invalid(error.to_string()))?;
        sans.push(SanType::DnsName(dns));
    }
    sans.extend(names.ips.iter().copied().map(SanType::IpAddress));
    Ok(sans)
}

/// Checks a DNS name as RFC 1123 hostnames are written (a leading `*.`
/// wildcard allowed): TLS clients would never match anything else.
fn check_dns_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 253 {
        return Err("a DNS name has 1 to 253 characters".to_owned());
    }
    let labels = name.strip_prefix("*.").unwrap_or(name);
    for label in labels.split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err("each dot-separated label has 1 to 63 characters".to_owned());
        }
        if let Some(bad) = label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
        {
            return Err(format!(
                "{bad:?} is not allowed (letters, digits, '-' and '.' only)"
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err("a label cannot start or end with '-'".to_owned());
        }
    }
    Ok(())
}

/// A serving certificate and its new key, PEM, signed by `issuer`.
fn issue(sans: Vec<SanType>, issuer: &Issuer<'_, KeyPair>) -> Result<(String, String), CertError> {
    let now = OffsetDateTime::now_utc();
    let key = KeyPair::generate().map_err(|source| CertError::Generate {
        what: "serving key",
        source,
    })?;
    let mut params = CertificateParams::default();
    let subject = match sans.first() {
        Some(SanType::DnsName(name)) => name.as_str().to_owned(),
        Some(SanType::IpAddress(ip)) => ip.to_string(),
        _ => "counsel".to_owned(),
    };
    params.distinguished_name = common_name(&subject);
    params.subject_alt_names = sans;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    params.not_before = now - CLOCK_SKEW;
    params.not_after = now + SERVING_VALIDITY;
    let cert = params
        .signed_by(&key, issuer)
        .map_err(|source| CertError::Generate {
            what: "serving certificate",
            source,
        })?;
    Ok((cert.pem(), key.serialize_pem()))
}

fn common_name(name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, name);
    dn
}
