//! The hash of everything a policy component is built from, recorded beside
//! it as `dist/NAME.inputs` and checked by `--verify`.
//!
//! A policy's inputs are, relative to the repository root: its crate
//! (`policies/NAME/{Cargo.toml,build.rs,src/}`), the SDK, the contract and
//! the edit crate (the same three of `policies/sdk`, `policies/contract` and
//! `policies/edit`),
//! `policies/Cargo.toml`, `policies/Cargo.lock`, `policies/build.sh` (its
//! compiler and linker flags shape the output), and `wit/`. Tests outside
//! `src/` do not change the component and are left out. Hidden files and
//! directories are skipped.
//!
//! The hash is SHA-256 over the files sorted by relative path (with `/`),
//! each as: the path, a NUL byte, the content's length as 8 little-endian
//! bytes, the content.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

/// Crates whose `Cargo.toml`, `build.rs` and `src/` every policy is built from.
const SHARED_CRATES: [&str; 3] = ["sdk", "contract", "edit"];

/// The layout of a checkout: the repository root and the policies workspace.
#[derive(Debug, Clone)]
pub struct Checkout {
    root: PathBuf,
    policies: PathBuf,
}

impl Checkout {
    /// The checkout whose policies workspace is `policies` (its parent is the
    /// repository root, holding `wit/`).
    pub fn new(policies: &Path) -> Result<Checkout> {
        if !policies.join("Cargo.toml").is_file() {
            bail!(
                "{} is not the policies workspace (it has no Cargo.toml); pass --policies DIR",
                policies.display()
            );
        }
        let policies = policies
            .canonicalize()
            .with_context(|| format!("cannot resolve {}", policies.display()))?;
        let root = policies
            .parent()
            .with_context(|| format!("{} has no parent directory", policies.display()))?
            .to_path_buf();
        Ok(Checkout { root, policies })
    }

    /// `policies/dist`.
    pub fn dist(&self) -> PathBuf {
        self.policies.join("dist")
    }

    /// A path as shown to people: relative to the repository root.
    pub fn show(&self, path: &Path) -> String {
        relative(&self.root, path).unwrap_or_else(|| path.display().to_string())
    }

    /// Every input file of policy `name`, as (relative path, absolute path),
    /// sorted by relative path.
    pub fn input_files(&self, name: &str) -> Result<Vec<(String, PathBuf)>> {
        let crate_dir = self.policies.join(name);
        if name.is_empty() || name.contains(['/', '\\']) || SHARED_CRATES.contains(&name) {
            bail!("`{name}` is not a policy name");
        }
        if !crate_dir.join("Cargo.toml").is_file() {
            bail!(
                "there is no policy crate {} (no Cargo.toml); a policy's directory is named \
                 after its crate",
                self.show(&crate_dir)
            );
        }
        let mut files = Vec::new();
        for dir in std::iter::once(crate_dir).chain(
            SHARED_CRATES
                .iter()
                .map(|shared| self.policies.join(shared)),
        ) {
            files.push(dir.join("Cargo.toml"));
            if dir.join("build.rs").is_file() {
                files.push(dir.join("build.rs"));
            }
            walk(&dir.join("src"), &mut files)?;
        }
        files.push(self.policies.join("Cargo.toml"));
        files.push(self.policies.join("Cargo.lock"));
        files.push(self.policies.join("build.sh"));
        walk(&self.root.join("wit"), &mut files)?;

        let mut named = files
            .into_iter()
            .map(|path| match relative(&self.root, &path) {
                Some(rel) => Ok((rel, path)),
                None => bail!("{} has a name that is not UTF-8", path.display()),
            })
            .collect::<Result<Vec<_>>>()?;
        named.sort();
        named.dedup();
        Ok(named)
    }

    /// `sha256:<hex>` over the inputs of policy `name`.
    pub fn hash(&self, name: &str) -> Result<String> {
        let mut hasher = Sha256::new();
        for (rel, path) in self.input_files(name)? {
            let content =
                fs::read(&path).with_context(|| format!("cannot read the input {rel}"))?;
            hasher.update(rel.as_bytes());
            hasher.update([0]);
            hasher.update((content.len() as u64).to_le_bytes());
            hasher.update(&content);
        }
        Ok(format!("sha256:{}", hex::encode(hasher.finalize())))
    }

    /// The text of `dist/NAME.inputs`.
    pub fn record(&self, name: &str) -> Result<String> {
        Ok(format!(
            "{}\n# sha256 over paths and contents of policies/{name}/{{Cargo.toml,build.rs,src/}}, \
             policies/{{sdk,contract,edit}}/{{Cargo.toml,build.rs,src/}}, policies/Cargo.toml, \
             policies/Cargo.lock, policies/build.sh and wit/, by counsel-componentize (policies/build.sh); \
             check with policies/build.sh --verify\n",
            self.hash(name)?
        ))
    }
}

/// The hash recorded in the text of an `.inputs` file.
pub fn recorded_hash(text: &str) -> Option<&str> {
    text.lines()
        .map(str::trim)
        .find(|line| !line.is_empty() && !line.starts_with('#'))
        .filter(|line| line.starts_with("sha256:"))
}

/// Adds every file below `dir` (which must exist), skipping hidden entries.
fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    let entries = fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        // Follows symlinks: what cargo reads is what counts.
        let meta =
            fs::metadata(&path).with_context(|| format!("cannot read {}", path.display()))?;
        if meta.is_dir() {
            walk(&path, files)?;
        } else {
            files.push(path);
        }
    }
    Ok(())
}

/// `path` relative to `root`, with `/` separators; `None` if outside it or
/// not UTF-8.
fn relative(root: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(root).ok()?;
    let parts: Option<Vec<&str>> = rel.components().map(|c| c.as_os_str().to_str()).collect();
    Some(parts?.join("/"))
}

#[cfg(test)]
mod tests;
