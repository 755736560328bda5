//! Kubernetes' CEL regex library: `s.find(re)` (the first match, or `''`)
//! and `s.findAll(re)`, `s.findAll(re, n)` (every match, or the first n).

use cel_interpreter::common::types::{self, CelInt, CelList, CelString};
use cel_interpreter::common::value::{CowVal, Val};
use cel_interpreter::{DeclarationError, Env, ExecutionError};

fn string<'a>(function: &str, value: &'a dyn Val) -> Result<&'a str, ExecutionError> {
    value
        .downcast_ref::<CelString>()
        .map(CelString::inner)
        .ok_or_else(|| ExecutionError::function_error(function, "expects a string"))
}

fn compile(function: &str, pattern: &str) -> Result<::regex::Regex, ExecutionError> {
    ::regex::Regex::new(pattern).map_err(|e| {
        ExecutionError::function_error(function, format!("'{pattern}' is not a valid regex: {e}"))
    })
}

fn find<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let text = string("find", &*args[0])?;
    let re = compile("find", string("find", &*args[1])?)?;
    let found = re.find(text).map_or("", |m| m.as_str());
    Ok(CowVal::owned(CelString::from(found.to_owned())))
}

fn find_all_limit(
    args: &[CowVal<'_, '_>],
    limit: Option<i64>,
) -> Result<CelList<'static>, ExecutionError> {
    let text = string("findAll", &*args[0])?;
    let re = compile("findAll", string("findAll", &*args[1])?)?;
    // A negative limit means all matches, as in Kubernetes.
    let limit = limit
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(usize::MAX);
    let found: Vec<Box<dyn Val>> = re
        .find_iter(text)
        .take(limit)
        .map(|m| Box::new(CelString::from(m.as_str().to_owned())) as Box<dyn Val>)
        .collect();
    Ok(CelList::from(found))
}

/// The functions this library adds.
pub const FUNCTIONS: &[&str] = &["find", "findAll"];

/// Adds the library to `env`.
pub fn extension(env: &mut Env) -> Result<(), DeclarationError> {
    let string = || types::STRING_TYPE;
    env.add_member_overload("find", "string_find_string", string(), vec![string()], find)?;
    env.add_member_overload(
        "findAll",
        "string_find_all_string",
        string(),
        vec![string()],
        |args| find_all_limit(&args, None).map(CowVal::owned),
    )?;
    env.add_member_overload(
        "findAll",
        "string_find_all_string_int",
        string(),
        vec![string(), types::INT_TYPE],
        |args| {
            let limit = args[2].downcast_ref::<CelInt>().map(|n| i64::from(*n));
            find_all_limit(&args, limit).map(CowVal::owned)
        },
    )?;
    Ok(())
}
