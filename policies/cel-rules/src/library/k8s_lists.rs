//! Kubernetes' CEL list library: `isSorted()`, `sum()`, `min()`, `max()`,
//! `indexOf(x)`, `lastIndexOf(x)` on lists.

use std::cmp::Ordering;

use cel_interpreter::common::types::{self, CelBool, CelInt};
use cel_interpreter::common::value::{CowVal, Val};
use cel_interpreter::{DeclarationError, Env, ExecutionError};

/// The elements of the list `value`.
fn elements<'b, 'v>(
    function: &str,
    value: &'b (dyn Val + 'v),
) -> Result<Vec<&'b (dyn Val + 'v)>, ExecutionError> {
    let list = value
        .as_iterable()
        .ok_or_else(|| ExecutionError::function_error(function, "expects a list"))?;
    let mut items = list.iter();
    let mut out = Vec::new();
    while let Some(item) = items.next() {
        out.push(item);
    }
    Ok(out)
}

fn compare(function: &str, a: &dyn Val, b: &dyn Val) -> Result<Ordering, ExecutionError> {
    a.as_comparer()
        .ok_or_else(|| {
            ExecutionError::function_error(
                function,
                format!("cannot order {} values", a.get_type().name()),
            )
        })?
        .compare(b)
}

fn is_sorted<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let items = elements("isSorted", &*args[0])?;
    for pair in items.windows(2) {
        if compare("isSorted", pair[0], pair[1])? == Ordering::Greater {
            return Ok(CowVal::owned(CelBool::from(false)));
        }
    }
    Ok(CowVal::owned(CelBool::from(true)))
}

fn sum<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let items = elements("sum", &*args[0])?;
    let Some((first, rest)) = items.split_first() else {
        return Ok(CowVal::owned(CelInt::from(0)));
    };
    let mut total = first.clone_as_boxed();
    for item in rest {
        let adder = total
            .as_adder()
            .ok_or_else(|| ExecutionError::function_error("sum", "cannot add these values"))?;
        total = adder.add(*item)?.into_owned();
    }
    Ok(CowVal::Owned(total))
}

fn extreme<'b, 'v>(
    function: &str,
    args: Vec<CowVal<'b, 'v>>,
    keep: Ordering,
) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let items = elements(function, &*args[0])?;
    let mut best = *items
        .first()
        .ok_or_else(|| ExecutionError::function_error(function, "the list is empty"))?;
    for item in &items[1..] {
        if compare(function, *item, best)? == keep {
            best = *item;
        }
    }
    Ok(CowVal::Owned(best.clone_as_boxed()))
}

fn position<'b, 'v>(
    args: Vec<CowVal<'b, 'v>>,
    last: bool,
) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let items = elements("indexOf", &*args[0])?;
    let wanted = &*args[1];
    let found = if last {
        items.iter().rposition(|item| item.equals(wanted))
    } else {
        items.iter().position(|item| item.equals(wanted))
    };
    Ok(CowVal::owned(CelInt::from(found.map_or(-1, |i| i as i64))))
}

/// The functions this library adds.
pub const FUNCTIONS: &[&str] = &["isSorted", "sum", "min", "max", "indexOf", "lastIndexOf"];

/// Adds the library to `env`.
pub fn extension(env: &mut Env) -> Result<(), DeclarationError> {
    let list = || types::LIST_TYPE;
    env.add_member_overload("isSorted", "list_is_sorted", list(), vec![], is_sorted)?;
    env.add_member_overload("sum", "list_sum", list(), vec![], sum)?;
    env.add_member_overload("min", "list_min", list(), vec![], |args| {
        extreme("min", args, Ordering::Less)
    })?;
    env.add_member_overload("max", "list_max", list(), vec![], |args| {
        extreme("max", args, Ordering::Greater)
    })?;
    env.add_member_overload(
        "indexOf",
        "list_index_of",
        list(),
        vec![types::DYN_TYPE],
        |args| position(args, false),
    )?;
    env.add_member_overload(
        "lastIndexOf",
        "list_last_index_of",
        list(),
        vec![types::DYN_TYPE],
        |args| position(args, true),
    )?;
    Ok(())
}
