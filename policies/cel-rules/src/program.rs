//! Compiling CEL expressions, and checking them when settings are loaded.
//!
//! Evaluation parses with cel-rust's hand-written (Pratt) parser, a few
//! microseconds per expression: every evaluation runs in a fresh instance,
//! so expressions are parsed every time. The check at load parses with the
//! reference (ANTLR) parser too, which records where every node is, and
//! walks the tree for what cel-rust would only find when evaluating: names
//! that are not declared, operands of the wrong type, an expression of the
//! wrong type. cel-rust has no type checker; this one knows the types of
//! literals and of the standard operators and functions, and treats what
//! comes from the object (`dyn`) as anything.

use cel_interpreter::IdedExpr;
use cel_interpreter::common::ast::{EntryExpr, Expr, LiteralValue, SourceInfo};
use cel_interpreter::parser::PrattParser;

/// An expression that could not be compiled: where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    /// Line inside the expression, from 1.
    pub line: usize,
    /// Column inside that line, from 1.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for CompileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line > 1 {
            write!(f, "line {}, ", self.line)?;
        }
        write!(f, "column {}: {}", self.column, self.message)
    }
}

/// The type an expression must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// `bool` (a validation, a match condition).
    Bool,
    /// `string` (a message).
    String,
    /// Anything (a variable, a fix's value).
    Any,
}

/// Parses `source` for evaluation.
pub fn parse(source: &str) -> Result<IdedExpr, CompileError> {
    PrattParser::default()
        .enable_optional_syntax(true)
        .parse(source)
        .map_err(|errors| {
            let first = errors.errors.first();
            CompileError {
                line: first.map_or(1, |e| e.pos.0.max(1) as usize),
                column: first.map_or(1, |e| e.pos.1.max(1) as usize),
                message: first.map_or_else(|| "syntax error".to_owned(), |e| e.msg.clone()),
            }
        })
}

/// Checks `source` at load: it parses, names only `declared` variables
/// (and those its macros bind), and has the `expect`ed type when that can
/// be known without the object.
pub fn check(source: &str, declared: &[&str], expect: Expect) -> Result<(), CompileError> {
    parse(source)?;
    let program = cel_interpreter::Program::compile(source).map_err(|errors| {
        let first = errors.errors.first();
        CompileError {
            line: first.map_or(1, |e| e.pos.0.max(1) as usize),
            column: first.map_or(1, |e| e.pos.1.max(1) as usize),
            message: first.map_or_else(|| "syntax error".to_owned(), |e| e.msg.clone()),
        }
    })?;
    let checker = Checker {
        source,
        info: program.source_info(),
    };
    let mut scope: Vec<&str> = declared.to_vec();
    let found = checker.infer(program.expression(), &mut scope)?;
    let wanted = match expect {
        Expect::Bool => Type::Bool,
        Expect::String => Type::String,
        Expect::Any => return Ok(()),
    };
    if found != Type::Dyn && found != wanted {
        return Err(checker.error(
            program.expression(),
            format!(
                "the expression is a {}, but it must be a {}",
                found.name(),
                wanted.name()
            ),
        ));
    }
    Ok(())
}

/// The types the checker tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Type {
    Bool,
    Int,
    Uint,
    Double,
    String,
    Bytes,
    Null,
    List,
    Map,
    /// Unknown until evaluated.
    Dyn,
}

impl Type {
    fn name(self) -> &'static str {
        match self {
            Type::Bool => "bool",
            Type::Int => "int",
            Type::Uint => "uint",
            Type::Double => "double",
            Type::String => "string",
            Type::Bytes => "bytes",
            Type::Null => "null",
            Type::List => "list",
            Type::Map => "map",
            Type::Dyn => "dyn",
        }
    }

    fn numeric(self) -> bool {
        matches!(self, Type::Int | Type::Uint | Type::Double)
    }
}

struct Checker<'a> {
    source: &'a str,
    info: &'a SourceInfo,
}

impl Checker<'_> {
    fn error(&self, expr: &IdedExpr, message: String) -> CompileError {
        let offset = self
            .info
            .offset_for(expr.id)
            .map_or(0, |(start, _)| start as usize);
        // Offsets count characters (code points) of the source.
        let before: String = self.source.chars().take(offset).collect();
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        CompileError {
            line,
            column,
            message,
        }
    }

    fn infer<'e>(
        &self,
        expr: &'e IdedExpr,
        scope: &mut Vec<&'e str>,
    ) -> Result<Type, CompileError> {
        match &expr.expr {
            Expr::Literal(literal) => Ok(match literal {
                LiteralValue::Boolean(_) => Type::Bool,
                LiteralValue::Bytes(_) => Type::Bytes,
                LiteralValue::Double(_) => Type::Double,
                LiteralValue::Int(_) => Type::Int,
                LiteralValue::Null => Type::Null,
                LiteralValue::String(_) => Type::String,
                LiteralValue::UInt(_) => Type::Uint,
            }),
            Expr::Ident(name) => {
                if scope.iter().any(|declared| declared == name) || is_namespace(name) {
                    Ok(Type::Dyn)
                } else {
                    Err(self.error(
                        expr,
                        format!(
                            "undeclared reference to `{name}` (declared here: {})",
                            scope.join(", ")
                        ),
                    ))
                }
            }
            Expr::Select(select) => {
                self.infer(&select.operand, scope)?;
                Ok(if select.test { Type::Bool } else { Type::Dyn })
            }
            Expr::List(list) => {
                for element in &list.elements {
                    self.infer(element, scope)?;
                }
                Ok(Type::List)
            }
            Expr::Map(map) => {
                for entry in &map.entries {
                    if let EntryExpr::MapEntry(entry) = &entry.expr {
                        self.infer(&entry.key, scope)?;
                        self.infer(&entry.value, scope)?;
                    }
                }
                Ok(Type::Map)
            }
            Expr::Struct(_) | Expr::Unspecified => Ok(Type::Dyn),
            Expr::Comprehension(comprehension) => {
                self.infer(&comprehension.iter_range, scope)?;
                self.infer(&comprehension.accu_init, scope)?;
                let depth = scope.len();
                scope.push(&comprehension.iter_var);
                if let Some(second) = &comprehension.iter_var2 {
                    scope.push(second);
                }
                scope.push(&comprehension.accu_var);
                self.infer(&comprehension.loop_cond, scope)?;
                self.infer(&comprehension.loop_step, scope)?;
                let result = self.infer(&comprehension.result, scope);
                scope.truncate(depth);
                result
            }
            Expr::Call(call) => {
                let target = match &call.target {
                    Some(target) => Some(self.infer(target, scope)?),
                    None => None,
                };
                let mut args = Vec::with_capacity(call.args.len());
                for arg in &call.args {
                    args.push(self.infer(arg, scope)?);
                }
                self.call(expr, &call.func_name, target, &args)
            }
        }
    }

    /// The type of a call, or the error of a call that cannot work.
    fn call(
        &self,
        expr: &IdedExpr,
        function: &str,
        target: Option<Type>,
        args: &[Type],
    ) -> Result<Type, CompileError> {
        let known = |t: &Type| *t != Type::Dyn;
        let operator = |symbol: &str| {
            self.error(
                expr,
                format!(
                    "`{symbol}` cannot be applied to {}",
                    args.iter()
                        .map(|t| t.name())
                        .collect::<Vec<_>>()
                        .join(" and ")
                ),
            )
        };
        match (function, args) {
            ("_&&_" | "_||_", [a, b]) | ("@not_strictly_false", [a, b]) => {
                if [a, b].iter().any(|t| known(t) && **t != Type::Bool) {
                    return Err(operator(if function == "_&&_" { "&&" } else { "||" }));
                }
                Ok(Type::Bool)
            }
            ("!_", [a]) => {
                if known(a) && *a != Type::Bool {
                    return Err(operator("!"));
                }
                Ok(Type::Bool)
            }
            ("_?_:_", [condition, a, b]) => {
                if known(condition) && *condition != Type::Bool {
                    return Err(self.error(
                        expr,
                        format!(
                            "the condition of `? :` is a {}, not a bool",
                            condition.name()
                        ),
                    ));
                }
                Ok(if a == b { *a } else { Type::Dyn })
            }
            ("_+_" | "_-_" | "_*_" | "_/_" | "_%_", [a, b]) => {
                let symbol = &function[1..2];
                if known(a) && known(b) && a != b {
                    return Err(operator(symbol));
                }
                let result = if known(a) { *a } else { *b };
                let allowed = match symbol {
                    "+" => !matches!(result, Type::Bool | Type::Null | Type::Map),
                    _ => result.numeric() || result == Type::Dyn,
                };
                if !allowed {
                    return Err(operator(symbol));
                }
                Ok(result)
            }
            ("_<_" | "_<=_" | "_>_" | "_>=_", [a, b]) => {
                let comparable = a == b || (a.numeric() && b.numeric());
                if known(a) && known(b) && !comparable {
                    let symbol = function.trim_matches('_');
                    return Err(operator(symbol));
                }
                Ok(Type::Bool)
            }
            ("_==_" | "_!=_" | "@in", _) => Ok(Type::Bool),
            ("size", _) => Ok(Type::Int),
            ("startsWith" | "endsWith" | "contains" | "matches", [pattern]) => {
                if target.is_some_and(|t| known(&t) && t != Type::String)
                    || (known(pattern) && *pattern != Type::String)
                {
                    return Err(self.error(
                        expr,
                        format!(
                            "`{function}` takes a string and is called on a string, not {} and {}",
                            target.unwrap_or(Type::Dyn).name(),
                            pattern.name()
                        ),
                    ));
                }
                Ok(Type::Bool)
            }
            ("string", _) => Ok(Type::String),
            ("int", _) => Ok(Type::Int),
            ("double", _) => Ok(Type::Double),
            _ => Ok(Type::Dyn),
        }
    }
}

/// Names that start a qualified function name rather than a variable
/// (`optional.of`, `strings.quote`, `lists.range`, `format.named`).
fn is_namespace(name: &str) -> bool {
    matches!(name, "optional" | "strings" | "lists" | "math" | "format")
}
