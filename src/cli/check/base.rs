//! Where files are, for tools that show findings on a repository's files
//! (SARIF, GitHub annotations): paths relative to the repository root, or to
//! the directory `--sarif-base` names.

use std::path::{Component, Path, PathBuf};

use super::File;

/// The directory file locations are relative to.
#[derive(Debug, Clone)]
pub struct Base {
    /// Absolute, without `.` or `..`.
    dir: PathBuf,
    /// The current directory, absolute.
    current: PathBuf,
}

impl Base {
    /// `dir` (relative to the current directory), or else the git
    /// repository holding the current directory (the nearest directory with
    /// a `.git`), or else the current directory.
    pub fn new(dir: Option<&Path>) -> anyhow::Result<Base> {
        let current = std::env::current_dir()
            .map_err(|e| anyhow::anyhow!("cannot read the current directory: {e}"))?;
        let dir = match dir {
            Some(dir) => normal(&current.join(dir)),
            None => current
                .ancestors()
                .find(|dir| dir.join(".git").exists())
                .unwrap_or(&current)
                .to_path_buf(),
        };
        Ok(Base { dir, current })
    }

    /// The base as a `file:` URI, ending with `/`.
    pub fn uri(&self) -> String {
        let mut uri = format!("file://{}", encode(&self.dir.to_string_lossy()));
        if !uri.ends_with('/') {
            uri.push('/');
        }
        uri
    }

    /// The file's path relative to the base, with `/` between names; `None`
    /// for standard input and for files outside the base.
    pub fn relative(&self, file: &File) -> Option<String> {
        let path = file.path.as_ref()?;
        let absolute = normal(&self.current.join(path));
        let relative = absolute.strip_prefix(&self.dir).ok()?;
        let names: Vec<String> = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        Some(names.join("/"))
    }

    /// The file as a URI: relative to the base (`uriBaseId` `%SRCROOT%`)
    /// when it is inside, else absolute; `None` for standard input.
    pub fn file_uri(&self, file: &File) -> Option<(String, bool)> {
        if let Some(relative) = self.relative(file) {
            return Some((encode(&relative), true));
        }
        let path = normal(&self.current.join(file.path.as_ref()?));
        Some((format!("file://{}", encode(&path.to_string_lossy())), false))
    }
}

/// The path without `.` and `..` (read as written, links not followed, so
/// a file is named as the developer named it).
fn normal(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Percent-encodes what a URI path cannot hold as it is (RFC 3986: every
/// byte but unreserved characters, `/` and the sub-delimiters safe in paths).
fn encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normal_and_encoded() {
        assert_eq!(normal(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
        assert_eq!(encode("dir name/a#b%.yaml"), "dir%20name/a%23b%25.yaml");
        assert_eq!(encode("café"), "caf%C3%A9");
    }
}
