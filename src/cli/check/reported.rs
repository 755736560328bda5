//! A report made elsewhere, rendered as `counsel check` renders a file's:
//! `counsel run --request` reviews the object of an AdmissionReview as the
//! webhook does, and shows it pointing at the lines of the review file.

use std::io::Write as _;
use std::process::ExitCode;

use counsel::explain::Report;
use counsel::source;
use serde_json::Value;

use super::inputs::{self, Checked};
use super::{FailOn, File, Format, Renderer, Sink, Totals, exit_code, json, pretty};

/// Renders the report of an object reviewed elsewhere (`counsel run
/// --request`: the object of an AdmissionReview) as `counsel check` renders
/// a file's: `file` is the text it is in, and `prefix` its pointer there
/// (`/request/object`). Returns the exit code `counsel check` would.
pub fn render_report(
    output: Format,
    (name, text): (String, String),
    prefix: &str,
    object: Value,
    report: Report,
) -> anyhow::Result<ExitCode> {
    let renderer: Box<dyn Renderer> = match output {
        Format::Json => Box::new(json::Json::new()),
        _ => Box::new(pretty::Pretty::new(false, false)),
    };
    let stdout = std::io::stdout();
    let mut sink = Sink {
        renderer,
        out: std::io::BufWriter::new(stdout.lock()),
        buffer: String::new(),
        totals: Totals::default(),
        fail_on: FailOn::Enforce,
    };
    let file = File::new(name, text, source::Encoding::Utf8, None);
    let document = source::parse(&file.text)
        .map_err(|e| anyhow::anyhow!("{}:{}: {}", file.name, e.line, e.message))?
        .into_iter()
        .next()
        .ok_or_else(|| anyhow::anyhow!("{} is empty", file.name))?;
    sink.renderer.start(&mut sink.buffer);
    let checked = Checked {
        object: inputs::Object {
            prefix: prefix.to_owned(),
            value: object,
        },
        report,
        fixes: Vec::new(),
    };
    sink.checked(&file, &document, &checked);
    sink.file_done(&file);
    let totals = std::mem::take(&mut sink.totals);
    sink.renderer.finish(&mut sink.buffer, &totals, None);
    sink.flush()?;
    sink.out.flush()?;
    Ok(exit_code(&totals))
}
