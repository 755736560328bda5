//! The functions expressions may call: CEL's standard library, cel-rust's
//! strings and lists extensions, and Kubernetes' libraries that admission
//! rules use (lists, regex, quantity).

mod k8s_lists;
pub mod quantity;
mod regex;

use cel_interpreter::{DeclarationError, Env, extensions};

/// The environment every expression is evaluated in.
pub fn env() -> Result<Env, DeclarationError> {
    let mut env = Env::stdlib();
    env.add_extension(extensions::strings)?;
    env.add_extension(extensions::lists)?;
    env.add_extension(k8s_lists::extension)?;
    env.add_extension(regex::extension)?;
    env.add_extension(quantity::extension)?;
    Ok(env)
}
