//! Reading Helm templates without Helm: the YAML outside template
//! directives, with the simplest directives filled in from values.yaml.
//!
//! Lines that hold only directives (`if`, `with`, `end`, assignments) are
//! dropped, so every branch stays in (the default values take the branches
//! that matter here). A directive alone on its line that is
//! `toYaml .Values.X | nindent N` or `include "NAME" . | nindent N` is
//! replaced by the value (as JSON, which is YAML) or by the helper's own
//! skeleton, indented. Inline, `.Values.X` (optionally `| quote`) becomes the
//! value; any other directive becomes [`HOLE`], which matches anything.

use std::collections::BTreeMap;

use serde_json::Value;

/// What an unknown directive becomes.
pub const HOLE: char = '§';

/// The chart's helpers (`define` blocks of `_helpers.tpl`), by name.
pub fn helpers(text: &str) -> BTreeMap<String, String> {
    let mut helpers = BTreeMap::new();
    let mut current: Option<(String, Vec<&str>)> = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("{{- define \"") {
            let name = rest.split('"').next().unwrap_or_default().to_owned();
            current = Some((name, Vec::new()));
        } else if line == "{{- end }}" && current.is_some() {
            if let Some((name, body)) = current.take() {
                helpers.insert(name, body.join("\n"));
            }
        } else if let Some((_, body)) = current.as_mut() {
            body.push(line);
        }
    }
    helpers
}

/// The skeleton of `text` as YAML text.
pub fn skeleton(text: &str, values: &Value, helpers: &BTreeMap<String, String>) -> String {
    let mut out = Vec::new();
    for line in join_directives(text).lines() {
        let (indent, rest) = line.split_at(line.len() - line.trim_start().len());
        let directives = directives_of(rest.trim_end());
        if directives.is_empty() {
            out.push(line.to_owned());
        } else if is_whole(rest) {
            if let [only] = directives.as_slice() {
                out.extend(expand_block(only, values, helpers).unwrap_or_default());
            }
        } else {
            out.push(format!("{indent}{}", fill_inline(rest, values)));
        }
    }
    out.join("\n")
}

/// Multi-line directives (comments) on one line, so lines can be judged.
fn join_directives(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find("}}") else {
            panic!("unterminated directive: {}", &rest[start..]);
        };
        out.push_str(&rest[start..start + end + 2].replace('\n', " "));
        rest = &rest[start + end + 2..];
    }
    out.push_str(rest);
    out
}

/// The directives of a line, without `{{`, `}}` and trim markers.
fn directives_of(line: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(start) = rest.find("{{") {
        let end = rest[start..].find("}}").expect("joined") + start;
        let inner = rest[start + 2..end]
            .trim_start_matches('-')
            .trim_end_matches('-')
            .trim();
        found.push(inner.to_owned());
        rest = &rest[end + 2..];
    }
    found
}

/// Whether `line` holds nothing but directives.
fn is_whole(line: &str) -> bool {
    let mut rest = line.trim();
    while let Some(after) = rest.strip_prefix("{{") {
        let Some(end) = after.find("}}") else {
            return false;
        };
        rest = after[end + 2..].trim();
    }
    rest.is_empty()
}

/// A directive alone on its line: `toYaml .Values.X | nindent N` or
/// `include "NAME" . | nindent N` expand to lines; others vanish.
fn expand_block(
    directive: &str,
    values: &Value,
    helpers: &BTreeMap<String, String>,
) -> Option<Vec<String>> {
    let (call, indent) = match directive.rsplit_once("| nindent ") {
        Some((call, n)) => (call.trim(), n.trim().parse::<usize>().ok()?),
        // `{{ include "x" . }}` at the start of a helper line.
        None => (directive, 0),
    };
    let pad = " ".repeat(indent);
    if let Some(path) = call.strip_prefix("toYaml .Values.") {
        let value = lookup(values, path)?;
        let empty = match value {
            Value::Null => true,
            Value::Object(members) => members.is_empty(),
            Value::Array(items) => items.is_empty(),
            _ => false,
        };
        // Helm would write `{}`; the templates only do so where it is
        // guarded by an `if`, which the skeleton keeps.
        return Some(if empty {
            Vec::new()
        } else {
            vec![format!("{pad}{value}")]
        });
    }
    let name = call.strip_prefix("include \"")?.strip_suffix("\" .")?;
    let body = helpers.get(name)?;
    let expanded = skeleton(body, values, helpers);
    Some(
        expanded
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| format!("{pad}{line}"))
            .collect(),
    )
}

/// Inline directives: values from values.yaml, holes for the rest.
fn fill_inline(line: &str, values: &Value) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("}}").expect("joined") + start;
        let inner = rest[start + 2..end]
            .trim_start_matches('-')
            .trim_end_matches('-')
            .trim();
        out.push_str(&inline_value(inner, values).unwrap_or_else(|| HOLE.to_string()));
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

fn inline_value(directive: &str, values: &Value) -> Option<String> {
    let (path, quoted) = match directive.strip_suffix("| quote") {
        Some(path) => (path.trim(), true),
        None => (directive, false),
    };
    let value = lookup(values, path.strip_prefix(".Values.")?)?;
    Some(match value {
        Value::String(text) if !quoted => text.clone(),
        other => other.to_string(),
    })
}

/// `a.b.c` in values.yaml (only plain field paths).
fn lookup<'a>(values: &'a Value, path: &str) -> Option<&'a Value> {
    if path.contains(|c: char| c.is_whitespace() || c == '(' || c == '|') {
        return None;
    }
    path.split('.')
        .try_fold(values, |value, key| value.get(key))
}

/// Whether a chart value matches what `counsel install` produced: holes
/// match anything, a string with holes matches by pattern, `null` (an
/// expansion left empty) matches anything, mappings and sequences match
/// member by member. Named list items (`name:`) match by name; chart items
/// named in `chart_only` may be missing from `install`. Errors name the
/// JSON Pointer at fault.
pub fn agrees(chart: &Value, install: &Value, at: &str, chart_only: &[&str]) -> Result<(), String> {
    match (chart, install) {
        (Value::Null, _) => Ok(()),
        (Value::String(pattern), _) if pattern.contains(HOLE) => {
            let text = match install {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            if matches_pattern(pattern, &text) {
                Ok(())
            } else {
                Err(format!("{at}: chart {pattern:?}, install {text:?}"))
            }
        }
        (Value::Object(chart_map), Value::Object(install_map)) => {
            for (key, value) in install_map {
                let here = format!("{at}/{key}");
                match chart_map.get(key) {
                    Some(chart_value) => agrees(chart_value, value, &here, chart_only)?,
                    None => return Err(format!("{here}: only in install")),
                }
            }
            for (key, value) in chart_map {
                let optional = value.is_null() || *value == Value::String(HOLE.to_string());
                if !install_map.contains_key(key) && !optional {
                    return Err(format!("{at}/{key}: only in the chart"));
                }
            }
            Ok(())
        }
        (Value::Array(chart_items), Value::Array(install_items)) => {
            let named = |items: &[Value]| items.iter().all(|item| item.get("name").is_some());
            if named(chart_items) && named(install_items) && !install_items.is_empty() {
                for item in install_items {
                    let name = &item["name"];
                    let here = format!("{at}/name={name}");
                    let found = chart_items
                        .iter()
                        .find(|c| agrees(&c["name"], name, &here, chart_only).is_ok());
                    match found {
                        Some(chart_item) => agrees(chart_item, item, &here, chart_only)?,
                        None => return Err(format!("{here}: only in install")),
                    }
                }
                for item in chart_items {
                    let name = item["name"].as_str().unwrap_or_default();
                    let known = install_items
                        .iter()
                        .any(|i| agrees(&item["name"], &i["name"], at, chart_only).is_ok());
                    if !known && !chart_only.contains(&name) {
                        return Err(format!("{at}/name={name}: only in the chart"));
                    }
                }
                return Ok(());
            }
            if chart_items.len() != install_items.len() {
                return Err(format!(
                    "{at}: chart has {} items, install {}",
                    chart_items.len(),
                    install_items.len()
                ));
            }
            for (index, (c, i)) in chart_items.iter().zip(install_items).enumerate() {
                agrees(c, i, &format!("{at}/{index}"), chart_only)?;
            }
            Ok(())
        }
        _ if chart == install => Ok(()),
        _ => Err(format!("{at}: chart {chart}, install {install}")),
    }
}

/// `pattern` with each [`HOLE`] standing for any text (possibly empty).
pub fn matches_pattern(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split(HOLE).collect();
    let (first, rest) = parts.split_first().expect("split yields one part");
    let Some(mut remaining) = text.strip_prefix(first) else {
        return false;
    };
    for (index, part) in rest.iter().enumerate() {
        let last = index == rest.len() - 1;
        if last {
            return remaining.ends_with(part);
        }
        match remaining.find(part) {
            Some(at) => remaining = &remaining[at + part.len()..],
            None => return false,
        }
    }
    remaining.is_empty()
}
