//! `counsel check --exceptions PATH`: exception objects read from files and
//! checked as the webhook checks them; and `--draft-exception`: the
//! exception objects that would let each object's findings through.

use std::path::PathBuf;
use std::time::SystemTime;

use anyhow::bail;
use counsel::config::{ExceptionSettings, lifetime};
use counsel::exceptions::{self, Draft, Exceptions};
use counsel::review::Reviewer;
use counsel::source;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::inputs;

/// Reads every exception object in `paths` (files, or directories searched
/// as for `-f`) and checks it against the loaded policies; any problem
/// stops the run, each named at its file and line.
pub fn load(
    paths: &[PathBuf],
    namespace: Option<&str>,
    reviewer: &Reviewer,
    settings: ExceptionSettings,
    now: SystemTime,
) -> anyhow::Result<Exceptions> {
    let mut exceptions = Exceptions::new(settings);
    let mut problems = Vec::new();
    let found = inputs::find(paths);
    for error in &found.errors {
        problems.push(describe(error));
    }
    for input in &found.inputs {
        let file = match inputs::read(input) {
            Ok(file) => file,
            Err(error) => {
                problems.push(describe(&error));
                continue;
            }
        };
        let documents = match source::parse(&file.text) {
            Ok(documents) => documents,
            Err(error) => {
                problems.push(format!(
                    "{}:{}:{}: {}",
                    file.name, error.line, error.column, error.message
                ));
                continue;
            }
        };
        for document in &documents {
            let mut errors = Vec::new();
            for object in inputs::objects(&file.name, document, &mut errors) {
                match exceptions::check(&object.value, namespace, reviewer, &settings, now) {
                    Ok(exception) => exceptions.insert(exception),
                    Err(error) => {
                        for problem in &error.problems {
                            let pointer = format!("{}{}", object.prefix, problem.pointer);
                            let (span, _) = inputs::point(document, &pointer);
                            let field = counsel::explain::field_path(&problem.pointer, None);
                            problems.push(format!(
                                "{}:{}: {}: {field}: {}",
                                file.name, span.start.line, error.object, problem.message
                            ));
                        }
                    }
                }
            }
            problems.extend(errors.iter().map(describe));
        }
    }
    if !problems.is_empty() {
        bail!(
            "--exceptions: {} cannot be used:\n{}",
            if problems.len() == 1 {
                "an exception"
            } else {
                "exceptions"
            },
            problems.join("\n")
        );
    }
    Ok(exceptions)
}

fn describe(error: &inputs::InputError) -> String {
    match error.line {
        Some(line) => format!("{}:{line}: {}", error.file, error.message),
        None => format!("{}: {}", error.file, error.message),
    }
}

/// What `--draft-exception` was given.
pub fn draft_request(
    reason: Option<&str>,
    owner: Option<&str>,
    expires: Option<&str>,
    ticket: Option<&str>,
    now: SystemTime,
) -> anyhow::Result<Draft> {
    let (Some(reason), Some(owner), Some(expires)) = (reason, owner, expires) else {
        bail!(
            "--draft-exception needs --reason (why), --owner (who answers for it) and --expires (e.g. 30d)"
        );
    };
    let expires = match OffsetDateTime::parse(expires, &Rfc3339) {
        Ok(time) => SystemTime::from(time),
        Err(_) => {
            let lifetime = lifetime(expires).map_err(|e| {
                anyhow::anyhow!("--expires: {e}, or an RFC 3339 time (2026-12-31T00:00:00Z)")
            })?;
            now + lifetime
        }
    };
    Ok(Draft {
        reason: reason.to_owned(),
        owner: owner.to_owned(),
        expires,
        ticket: ticket.map(str::to_owned),
    })
}

/// `--draft-exception`: for every object with violations, the exception
/// objects that would let them through (those already let through by
/// `--exceptions` aside), each checked as the webhook would check it.
pub(super) fn draft(
    checker: &super::Checker,
    args: &super::CheckArgs,
    config: &counsel::config::Config,
) -> anyhow::Result<std::process::ExitCode> {
    let request = draft_request(
        args.reason.as_deref(),
        args.owner.as_deref(),
        args.expires.as_deref(),
        args.ticket.as_deref(),
        checker.now,
    )?;
    let mut drafts = Vec::new();
    let found = inputs::find(&args.files);
    if let Some(error) = found.errors.first() {
        bail!("{}", describe(error));
    }
    for input in &found.inputs {
        let file = inputs::read(input).map_err(|e| anyhow::anyhow!("{}", describe(&e)))?;
        let documents = source::parse(&file.text)
            .map_err(|e| anyhow::anyhow!("{}:{}:{}: {}", file.name, e.line, e.column, e.message))?;
        for document in &documents {
            let mut errors = Vec::new();
            for object in inputs::objects(&file.name, document, &mut errors) {
                let mut report = checker.review(&object.value)?;
                report.findings.retain(|f| f.excepted_by().is_none());
                if let Some(text) = exceptions::draft(&report, &object.value, &request) {
                    drafts.push(text);
                }
            }
            if let Some(error) = errors.first() {
                bail!("{}", describe(error));
            }
        }
    }
    if drafts.is_empty() {
        eprintln!("nothing to draft: no violations to except");
        return Ok(std::process::ExitCode::SUCCESS);
    }
    let text = drafts.join("---\n");
    // What is printed must be what the webhook accepts.
    for document in source::parse(&text)? {
        if let Err(error) = exceptions::check(
            &document.value,
            None,
            &checker.reviewer,
            &config.exceptions,
            checker.now,
        ) {
            bail!("the drafted exception would be refused: {error}");
        }
    }
    print!("{text}");
    Ok(std::process::ExitCode::SUCCESS)
}
