//! The functions expressions may call: CEL's standard library, cel-rust's
//! strings and lists extensions, and Kubernetes' libraries that admission
//! rules use (lists, regex, quantity, url, format).
//!
//! Every evaluation builds its environment afresh (a fresh instance has no
//! state), and registering a library costs about as much as evaluating a
//! rule; so a library is registered only when an expression names one of
//! its functions. The test is by word, on the source: a name that only
//! appears in a string literal costs a needless registration, never a
//! missing function.

mod format;
mod k8s_lists;
pub mod quantity;
mod regex;
mod url;

use std::collections::HashSet;

use cel_interpreter::{DeclarationError, Env, extensions};

/// A library: the names of its functions, and how to register it.
type Library = (
    &'static [&'static str],
    fn(&mut Env) -> Result<(), DeclarationError>,
);

/// cel-rust's strings extension (its function names, as registered).
const STRINGS: &[&str] = &[
    "charAt",
    "indexOf",
    "lastIndexOf",
    "join",
    "lowerAscii",
    "upperAscii",
    "trim",
    "replace",
    "split",
    "substring",
    "format",
    "quote",
    "reverse",
];

/// cel-rust's lists extension.
const LISTS: &[&str] = &["distinct", "flatten", "range", "reverse", "slice", "sort"];

const LIBRARIES: [Library; 7] = [
    (STRINGS, extensions::strings),
    (LISTS, extensions::lists),
    (k8s_lists::FUNCTIONS, k8s_lists::extension),
    (regex::FUNCTIONS, regex::extension),
    (quantity::FUNCTIONS, quantity::extension),
    (url::FUNCTIONS, url::extension),
    (format::FUNCTIONS, format::extension),
];

/// The environment for expressions `sources`: the standard library, and
/// each library one of them names a function of.
pub fn env<'a>(sources: impl Iterator<Item = &'a str>) -> Result<Env, DeclarationError> {
    let mut words = HashSet::new();
    for source in sources {
        words.extend(
            source
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .filter(|word| !word.is_empty()),
        );
    }
    let mut env = Env::stdlib();
    for (names, register) in LIBRARIES {
        if names.iter().any(|name| words.contains(name)) {
            env.add_extension(register)?;
        }
    }
    Ok(env)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libraries_are_registered_when_named() {
        let runs = |named: &str, source: &str| {
            let env = env(std::iter::once(named)).expect("env");
            let program = env.compile(source).expect("parses");
            let mut context = cel_interpreter::Context::with_env(std::sync::Arc::new(env));
            context.add_variable_from_value("x", "a:latest");
            program.execute(&context).is_ok()
        };
        let compiles = |source: &str| runs(source, source);
        assert!(compiles("x.replace(':latest', '') == 'a'"));
        assert!(compiles("x.replace (':latest', '') == 'a'"));
        assert!(compiles("quantity('1Gi').isGreaterThan(quantity('1Mi'))"));
        assert!(compiles("x.find('[a-z]+') == 'a'"));
        // What no expression names is not registered.
        assert!(!runs("size(x) > 0", "x.lowerAscii() == 'a:latest'"));
    }
}
