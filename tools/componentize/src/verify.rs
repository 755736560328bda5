//! `--verify`: is every committed component built from the sources in the tree?

use std::fs;

use anyhow::{Context, Result, bail};

use crate::inputs::{Checkout, recorded_hash};

/// The outcome for one file in `dist/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// Built from the sources in the tree.
    UpToDate {
        /// `policies/dist/NAME.wasm`
        component: String,
        /// Its inputs' hash.
        hash: String,
    },
    /// Not (or no longer) matching the tree; the text says what and how to fix it.
    Stale(String),
}

/// Checks every `dist/*.wasm` (and every stray `dist/*.inputs`).
pub fn verify(checkout: &Checkout) -> Result<Vec<Finding>> {
    let dist = checkout.dist();
    let shown_dist = checkout.show(&dist);
    let entries = fs::read_dir(&dist).with_context(|| {
        format!("cannot read {shown_dist}; build the policies with policies/build.sh")
    })?;
    let mut names = Vec::new();
    let mut records = Vec::new();
    for entry in entries {
        let path = entry
            .with_context(|| format!("cannot read {shown_dist}"))?
            .path();
        let (Some(stem), Some(ext)) = (
            path.file_stem().and_then(|s| s.to_str()),
            path.extension().and_then(|s| s.to_str()),
        ) else {
            continue;
        };
        match ext {
            "wasm" => names.push(stem.to_owned()),
            "inputs" => records.push(stem.to_owned()),
            _ => {}
        }
    }
    if names.is_empty() {
        bail!("{shown_dist} has no .wasm files to verify; build them with policies/build.sh");
    }
    names.sort();
    records.sort();

    let mut findings = Vec::new();
    for name in &names {
        findings.push(check(checkout, name)?);
    }
    for name in records.iter().filter(|record| !names.contains(record)) {
        findings.push(Finding::Stale(format!(
            "{shown_dist}/{name}.inputs has no {name}.wasm beside it; rebuild it with: \
             policies/build.sh {name} (or delete the .inputs file)"
        )));
    }
    Ok(findings)
}

fn check(checkout: &Checkout, name: &str) -> Result<Finding> {
    let dist = checkout.dist();
    let component = checkout.show(&dist.join(format!("{name}.wasm")));
    let record_path = dist.join(format!("{name}.inputs"));
    let rebuild = format!("rebuild it with: policies/build.sh {name}");
    let record = match fs::read_to_string(&record_path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Finding::Stale(format!(
                "{component} has no {name}.inputs beside it, so nothing says what it was built \
                 from; {rebuild}"
            )));
        }
        Err(err) => {
            return Err(err)
                .with_context(|| format!("cannot read {}", checkout.show(&record_path)));
        }
    };
    let Some(recorded) = recorded_hash(&record) else {
        return Ok(Finding::Stale(format!(
            "{} records no `sha256:` line; {rebuild}",
            checkout.show(&record_path)
        )));
    };
    let current = match checkout.hash(name) {
        Ok(hash) => hash,
        Err(err) => {
            return Ok(Finding::Stale(format!(
                "{component} cannot be checked: {err:#}; {rebuild}, or delete it"
            )));
        }
    };
    Ok(if current == recorded {
        Finding::UpToDate {
            component,
            hash: current,
        }
    } else {
        Finding::Stale(format!(
            "{component} is stale: it was built from inputs hashing to {recorded}, but the \
             sources in the tree hash to {current}; {rebuild}"
        ))
    })
}
