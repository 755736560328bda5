//! Where certificates live on disk, and writing them so that a reader (the
//! hot-reloading server) never sees a half-written file or a readable key.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::{CertError, GeneratedCertificates, SubjectNames, generate};

/// The four files of a generated certificate set, named as in a Kubernetes
/// TLS Secret (`tls.crt`, `tls.key`) plus the CA (`ca.crt`, `ca.key`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertFiles {
    /// The CA certificate (`DIR/ca.crt`).
    pub ca_cert: PathBuf,
    /// The CA private key (`DIR/ca.key`).
    pub ca_key: PathBuf,
    /// The serving certificate (`DIR/tls.crt`).
    pub cert: PathBuf,
    /// The serving private key (`DIR/tls.key`).
    pub key: PathBuf,
}

impl CertFiles {
    /// The files' paths inside `dir`.
    pub fn in_dir(dir: &Path) -> Self {
        CertFiles {
            ca_cert: dir.join("ca.crt"),
            ca_key: dir.join("ca.key"),
            cert: dir.join("tls.crt"),
            key: dir.join("tls.key"),
        }
    }
}

impl GeneratedCertificates {
    /// Writes the set into `dir` (created if missing): certificates with mode
    /// 0644, private keys with mode 0600. Each file is written to a temporary
    /// file in the same directory and renamed into place, so a watcher sees
    /// either the old or the new content, never a mix.
    pub fn write(&self, dir: &Path) -> Result<CertFiles, CertError> {
        fs::create_dir_all(dir).map_err(|source| CertError::Write {
            path: dir.to_owned(),
            source,
        })?;
        let files = CertFiles::in_dir(dir);
        write_atomically(&files.ca_key, self.ca_key_pem.as_bytes(), PRIVATE)?;
        write_atomically(&files.ca_cert, self.ca_cert_pem.as_bytes(), PUBLIC)?;
        write_atomically(&files.key, self.key_pem.as_bytes(), PRIVATE)?;
        write_atomically(&files.cert, self.cert_pem.as_bytes(), PUBLIC)?;
        Ok(files)
    }
}

const PRIVATE: u32 = 0o600;
const PUBLIC: u32 = 0o644;

/// Writes `contents` to `path` through a temporary file and a rename; the
/// temporary file gets `mode` before any byte is written.
pub(crate) fn write_atomically(path: &Path, contents: &[u8], mode: u32) -> Result<(), CertError> {
    let write_error = |source| CertError::Write {
        path: path.to_owned(),
        source,
    };
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut file = tempfile::Builder::new()
        .prefix(".counsel-")
        .tempfile_in(dir)
        .map_err(write_error)?;
    set_mode(file.as_file(), mode).map_err(write_error)?;
    file.write_all(contents).map_err(write_error)?;
    file.as_file().sync_all().map_err(write_error)?;
    file.persist(path)
        .map_err(|error| write_error(error.error))?;
    Ok(())
}

#[cfg(unix)]
fn set_mode(file: &fs::File, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    file.set_permissions(fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_file: &fs::File, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

/// The development certificates `counsel serve` uses when it is given none.
#[derive(Debug, Clone)]
pub struct DevCertificates {
    /// Where they are.
    pub files: CertFiles,
    /// Whether they were generated just now (rather than found).
    pub generated: bool,
}

/// Makes sure `dir` holds a serving certificate and key: when either is
/// missing, generates a new CA and a certificate for localhost, 127.0.0.1
/// and ::1 there. Existing files are used as they are.
pub fn ensure_dev_certificates(dir: &Path) -> Result<DevCertificates, CertError> {
    let files = CertFiles::in_dir(dir);
    if files.cert.is_file() && files.key.is_file() {
        return Ok(DevCertificates {
            files,
            generated: false,
        });
    }
    let files = generate(&SubjectNames::localhost())?.write(dir)?;
    Ok(DevCertificates {
        files,
        generated: true,
    })
}
