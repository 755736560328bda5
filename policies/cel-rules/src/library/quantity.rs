//! Kubernetes' CEL quantity library: `quantity('500Mi')`, `isQuantity`,
//! and the methods of a quantity (`isLessThan`, `compareTo`, `add`, ...).
//!
//! A quantity is kept exactly, in billionths (the finest suffix, `n`), so
//! `quantity('1.5Gi') == quantity('1536Mi')` as in Kubernetes.

use std::any::Any;
use std::cmp::Ordering;

use cel_interpreter::common::functions::Function;
use cel_interpreter::common::traits::Comparer;
use cel_interpreter::common::types::{self, CelBool, CelDouble, CelInt, CelString, Type};
use cel_interpreter::common::value::{CowVal, StaticVal, Val};
use cel_interpreter::{DeclarationError, Env, ExecutionError};

/// The CEL type of quantities.
const QUANTITY: Type = Type::new_unspecified_type("kubernetes.Quantity");
/// The same, where a `'static` reference is needed.
static QUANTITY_TYPE: Type = QUANTITY;

/// Billionths in one unit.
const NANO: i128 = 1_000_000_000;

/// A Kubernetes resource quantity, in billionths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Quantity(i128);

impl Val for Quantity {
    fn get_type(&self) -> &Type {
        &QUANTITY_TYPE
    }

    fn cel_type() -> &'static Type {
        &QUANTITY_TYPE
    }

    fn as_comparer(&self) -> Option<&dyn Comparer> {
        Some(self)
    }

    fn equals(&self, other: &dyn Val) -> bool {
        other.downcast_ref::<Quantity>() == Some(self)
    }

    fn clone_as_boxed<'v>(&self) -> Box<dyn Val + 'v> {
        Box::new(*self)
    }

    fn as_any(&self) -> Option<&dyn Any> {
        Some(self)
    }
}

impl StaticVal for Quantity {}

impl Comparer for Quantity {
    fn compare(&self, rhs: &dyn Val) -> Result<Ordering, ExecutionError> {
        Ok(self.cmp(quantity_arg("compare", rhs)?))
    }
}

/// Parses a quantity as Kubernetes' `quantity()` does (the SDK's
/// [`counsel_policy::Quantity`], the API server's own parser).
pub fn parse(text: &str) -> Result<Quantity, String> {
    counsel_policy::Quantity::parse(text)
        .map(|quantity| Quantity(quantity.nanos()))
        .map_err(|err| err.to_string())
}

fn quantity_arg<'a>(function: &str, value: &'a dyn Val) -> Result<&'a Quantity, ExecutionError> {
    value
        .downcast_ref::<Quantity>()
        .ok_or_else(|| ExecutionError::function_error(function, "expects a quantity"))
}

fn string_arg<'a>(function: &str, value: &'a dyn Val) -> Result<&'a str, ExecutionError> {
    value
        .downcast_ref::<CelString>()
        .map(CelString::inner)
        .ok_or_else(|| ExecutionError::function_error(function, "expects a string"))
}

/// The quantity of an operand of `add`/`sub`: a quantity, or an int.
fn operand(function: &str, value: &dyn Val) -> Result<Quantity, ExecutionError> {
    if let Some(int) = value.downcast_ref::<CelInt>() {
        return Ok(Quantity(i128::from(i64::from(*int)) * NANO));
    }
    quantity_arg(function, value).copied()
}

/// The functions this library adds.
pub const FUNCTIONS: &[&str] = &[
    "quantity",
    "isQuantity",
    "isInteger",
    "asInteger",
    "asApproximateFloat",
    "sign",
    "isGreaterThan",
    "isLessThan",
    "compareTo",
    "add",
    "sub",
];

fn add<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let (a, b) = (quantity_arg("add", &*args[0])?, operand("add", &*args[1])?);
    a.0.checked_add(b.0)
        .map(|sum| CowVal::owned(Quantity(sum)))
        .ok_or_else(|| ExecutionError::function_error("add", "the sum overflows"))
}

fn sub<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let (a, b) = (quantity_arg("sub", &*args[0])?, operand("sub", &*args[1])?);
    a.0.checked_sub(b.0)
        .map(|sum| CowVal::owned(Quantity(sum)))
        .ok_or_else(|| ExecutionError::function_error("sub", "the difference overflows"))
}

/// Adds the library to `env`.
pub fn extension(env: &mut Env) -> Result<(), DeclarationError> {
    env.add_overload(
        "quantity",
        "quantity_string",
        vec![types::STRING_TYPE],
        |args| {
            let text = string_arg("quantity", &*args[0])?;
            parse(text)
                .map(CowVal::owned)
                .map_err(|e| ExecutionError::function_error("quantity", e))
        },
    )?;
    env.add_overload(
        "isQuantity",
        "is_quantity_string",
        vec![types::STRING_TYPE],
        |args| {
            let text = string_arg("isQuantity", &*args[0])?;
            Ok(CowVal::owned(CelBool::from(parse(text).is_ok())))
        },
    )?;
    let unary: [(&str, Function); 4] = [
        ("isInteger", |args| {
            let q = quantity_arg("isInteger", &*args[0])?;
            Ok(CowVal::owned(CelBool::from(
                q.0 % NANO == 0 && i64::try_from(q.0 / NANO).is_ok(),
            )))
        }),
        ("asInteger", |args| {
            let q = quantity_arg("asInteger", &*args[0])?;
            if q.0 % NANO != 0 {
                return Err(ExecutionError::function_error(
                    "asInteger",
                    "the quantity is not an integer",
                ));
            }
            i64::try_from(q.0 / NANO)
                .map(|i| CowVal::owned(CelInt::from(i)))
                .map_err(|_| {
                    ExecutionError::function_error("asInteger", "the quantity overflows an int")
                })
        }),
        ("asApproximateFloat", |args| {
            let q = quantity_arg("asApproximateFloat", &*args[0])?;
            Ok(CowVal::owned(CelDouble::from(q.0 as f64 / NANO as f64)))
        }),
        ("sign", |args| {
            let q = quantity_arg("sign", &*args[0])?;
            Ok(CowVal::owned(CelInt::from(q.0.signum() as i64)))
        }),
    ];
    for (name, function) in unary {
        env.add_member_overload(
            name,
            &format!("quantity_{name}"),
            QUANTITY,
            vec![],
            function,
        )?;
    }
    let binary: [(&str, Function); 5] = [
        ("isGreaterThan", |args| {
            let (a, b) = (
                quantity_arg("isGreaterThan", &*args[0])?,
                quantity_arg("isGreaterThan", &*args[1])?,
            );
            Ok(CowVal::owned(CelBool::from(a > b)))
        }),
        ("isLessThan", |args| {
            let (a, b) = (
                quantity_arg("isLessThan", &*args[0])?,
                quantity_arg("isLessThan", &*args[1])?,
            );
            Ok(CowVal::owned(CelBool::from(a < b)))
        }),
        ("compareTo", |args| {
            let (a, b) = (
                quantity_arg("compareTo", &*args[0])?,
                quantity_arg("compareTo", &*args[1])?,
            );
            Ok(CowVal::owned(CelInt::from(a.cmp(b) as i64)))
        }),
        ("add", add),
        ("sub", sub),
    ];
    for (name, function) in binary {
        env.add_member_overload(
            name,
            &format!("quantity_{name}_quantity"),
            QUANTITY,
            vec![QUANTITY],
            function,
        )?;
    }
    for (name, function) in [("add", add as Function), ("sub", sub)] {
        env.add_member_overload(
            name,
            &format!("quantity_{name}_int"),
            QUANTITY,
            vec![types::INT_TYPE],
            function,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_parse_exactly_as_kubernetes_writes_them() {
        let q = |s: &str| parse(s).unwrap().0;
        assert_eq!(q("1"), NANO);
        assert_eq!(q("500m"), NANO / 2);
        assert_eq!(q("1.5Gi"), q("1536Mi"));
        assert_eq!(q("2e3"), q("2k"));
        assert_eq!(q("-1.25"), -(NANO + NANO / 4));
        assert_eq!(q("1E"), NANO * NANO * NANO);
        // As the API server: a suffix alone is zero, and finer than a
        // billionth rounds up.
        assert_eq!(q("Mi"), 0);
        assert_eq!(q("1.0000000001"), NANO + 1);
        for bad in ["", "1.2.3", "1x", "1e", "--1"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
