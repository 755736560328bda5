//! Kubernetes' CEL url library: `url('https://example.com:8080/path?a=1')`,
//! `isURL`, and the methods of a URL (`getScheme`, `getHost`,
//! `getHostname`, `getPort`, `getEscapedPath`, `getQuery`). As in
//! Kubernetes, a URL is absolute (`https://...`) or an absolute path
//! (`/healthz`).

use std::any::Any;
use std::collections::HashMap;

use cel_interpreter::common::functions::Function;
use cel_interpreter::common::types::{self, CelBool, CelList, CelMap, CelMapKey, CelString, Type};
use cel_interpreter::common::value::{CowVal, StaticVal, Val};
use cel_interpreter::{DeclarationError, Env, ExecutionError};

const URL: Type = Type::new_unspecified_type("kubernetes.URL");
/// The same, where a `'static` reference is needed.
static URL_TYPE: Type = URL;

/// The functions this library adds.
pub const FUNCTIONS: &[&str] = &[
    "url",
    "isURL",
    "getScheme",
    "getHost",
    "getHostname",
    "getPort",
    "getEscapedPath",
    "getQuery",
];

/// A parsed URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url(http::Uri);

impl Val for Url {
    fn get_type(&self) -> &Type {
        &URL_TYPE
    }

    fn cel_type() -> &'static Type {
        &URL_TYPE
    }

    fn equals(&self, other: &dyn Val) -> bool {
        other.downcast_ref::<Url>() == Some(self)
    }

    fn clone_as_boxed<'v>(&self) -> Box<dyn Val + 'v> {
        Box::new(self.clone())
    }

    fn as_any(&self) -> Option<&dyn Any> {
        Some(self)
    }
}

impl StaticVal for Url {}

/// Parses an absolute URL or an absolute path.
fn parse(text: &str) -> Result<Url, String> {
    let uri: http::Uri = text
        .parse()
        .map_err(|e| format!("{text:?} is not a URL: {e}"))?;
    let absolute = uri.scheme().is_some() && uri.host().is_some();
    let path_only = uri.scheme().is_none() && uri.authority().is_none() && text.starts_with('/');
    if absolute || path_only {
        Ok(Url(uri))
    } else {
        Err(format!(
            "{text:?} is not a URL: it needs a scheme and a host, or must be an absolute path"
        ))
    }
}

fn string_arg<'a>(function: &str, value: &'a dyn Val) -> Result<&'a str, ExecutionError> {
    value
        .downcast_ref::<CelString>()
        .map(CelString::inner)
        .ok_or_else(|| ExecutionError::function_error(function, "expects a string"))
}

fn url_arg<'a>(function: &str, value: &'a dyn Val) -> Result<&'a http::Uri, ExecutionError> {
    value
        .downcast_ref::<Url>()
        .map(|url| &url.0)
        .ok_or_else(|| ExecutionError::function_error(function, "expects a URL"))
}

fn text<'b, 'v>(value: impl Into<String>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    Ok(CowVal::owned(CelString::from(value.into())))
}

fn query<'b, 'v>(uri: &http::Uri) -> CowVal<'b, 'v> {
    let mut values: Vec<(String, Vec<String>)> = Vec::new();
    for (key, value) in form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()) {
        match values.iter_mut().find(|(k, _)| *k == key) {
            Some((_, list)) => list.push(value.into_owned()),
            None => values.push((key.into_owned(), vec![value.into_owned()])),
        }
    }
    let map: HashMap<CelMapKey, Box<dyn Val>> = values
        .into_iter()
        .map(|(key, list)| {
            let list: Vec<Box<dyn Val>> = list
                .into_iter()
                .map(|v| Box::new(CelString::from(v)) as Box<dyn Val>)
                .collect();
            (
                CelMapKey::from(key),
                Box::new(CelList::from(list)) as Box<dyn Val>,
            )
        })
        .collect();
    CowVal::owned(CelMap::from(map))
}

/// Adds the library to `env`.
pub fn extension(env: &mut Env) -> Result<(), DeclarationError> {
    env.add_overload("url", "string_to_url", vec![types::STRING_TYPE], |args| {
        parse(string_arg("url", &*args[0])?)
            .map(CowVal::owned)
            .map_err(|e| ExecutionError::function_error("url", e))
    })?;
    env.add_overload("isURL", "is_url_string", vec![types::STRING_TYPE], |args| {
        let text = string_arg("isURL", &*args[0])?;
        Ok(CowVal::owned(CelBool::from(parse(text).is_ok())))
    })?;
    let methods: [(&str, Function); 6] = [
        ("getScheme", |args| {
            text(url_arg("getScheme", &*args[0])?.scheme_str().unwrap_or(""))
        }),
        ("getHost", |args| {
            let uri = url_arg("getHost", &*args[0])?;
            text(
                uri.authority()
                    .map_or("", |a| a.as_str().rsplit('@').next().unwrap_or("")),
            )
        }),
        ("getHostname", |args| {
            let host = url_arg("getHostname", &*args[0])?.host().unwrap_or("");
            text(host.trim_start_matches('[').trim_end_matches(']'))
        }),
        ("getPort", |args| {
            let uri = url_arg("getPort", &*args[0])?;
            text(
                uri.port()
                    .map_or_else(String::new, |p| p.as_str().to_owned()),
            )
        }),
        ("getEscapedPath", |args| {
            text(url_arg("getEscapedPath", &*args[0])?.path())
        }),
        ("getQuery", |args| {
            Ok(query(url_arg("getQuery", &*args[0])?))
        }),
    ];
    for (name, function) in methods {
        env.add_member_overload(name, &format!("url_{name}"), URL, vec![], function)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_absolute_or_absolute_paths() {
        assert!(parse("https://example.com:8080/path?a=1").is_ok());
        assert!(parse("/healthz").is_ok());
        assert!(parse("example.com/path").is_err());
        assert!(parse("not a url").is_err());
    }
}
