//! What a policy says about an object: violations and warnings.

use counsel_edit::Edit;
use serde_json::Value;

/// One broken rule at one place in the object.
///
/// Build it from its rule's id:
///
/// ```
/// use counsel_contract::{Edit, Violation};
/// use serde_json::json;
///
/// let path = "/spec/containers/0/securityContext/privileged";
/// let v = Violation::new("privileged")
///     .at(path)
///     .message(r#"container "app" runs privileged"#)
///     .found(&json!(true))
///     .fix_set(path, json!(false));
/// assert_eq!(v.rule, "privileged");
/// assert_eq!(v.found, Some(json!(true)));
/// assert_eq!(v.fixes, [Edit::set(path, json!(false))]);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// The rule's id in the catalog.
    pub rule: String,
    /// One line about this object, naming the thing at fault.
    pub message: String,
    /// JSON Pointer to the offending field (where it should be, if missing).
    pub path: String,
    /// The value found at `path`; `None` when the field is missing.
    pub found: Option<Value>,
    /// Edits that, applied together in order, fix this violation.
    pub fixes: Vec<Edit>,
    /// What a person should do when no machine fix exists, or extra context.
    pub hint: Option<String>,
    /// Where to read more about this violation, when more precise than the
    /// rule's docs (e.g. the level of a standard it is about).
    pub docs: Option<String>,
}

impl Violation {
    /// A violation of `rule` at the object's root, with no message yet.
    pub fn new(rule: &str) -> Violation {
        Violation {
            rule: rule.to_owned(),
            message: String::new(),
            path: String::new(),
            found: None,
            fixes: Vec::new(),
            hint: None,
            docs: None,
        }
    }

    /// Sets where the violation is: a JSON Pointer (`&str`, `String`), or a
    /// [`Place`] that also says what was found there (the SDK's field
    /// cursor), which then fills in [`found`](Self::found).
    pub fn at(mut self, place: impl Into<Place>) -> Self {
        let place = place.into();
        self.path = place.pointer;
        if let Some(found) = place.found {
            self.found = found;
        }
        self
    }

    /// Sets the one-line message.
    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.message = message.into();
        self
    }

    /// Records the value found at the path.
    pub fn found(mut self, value: &Value) -> Self {
        self.found = Some(value.clone());
        self
    }

    /// Records the value found at the path, or that it is missing.
    pub fn found_opt(mut self, value: Option<&Value>) -> Self {
        self.found = value.cloned();
        self
    }

    /// Adds a fix: set `pointer` to `value` (creating missing parents).
    pub fn fix_set(mut self, pointer: impl Into<String>, value: Value) -> Self {
        self.fixes.push(Edit::set(pointer, value));
        self
    }

    /// Adds a fix: set the violation's own field (its [`path`](Self::path),
    /// so call it after [`at`](Self::at)) to `value`.
    pub fn fix_to(self, value: impl Into<Value>) -> Self {
        let path = self.path.clone();
        self.fix_set(path, value.into())
    }

    /// Adds a fix: remove `pointer`.
    pub fn fix_remove(mut self, pointer: impl Into<String>) -> Self {
        self.fixes.push(Edit::remove(pointer));
        self
    }

    /// Sets the hint for a person.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Links docs about this violation, when more precise than the rule's.
    pub fn docs(mut self, url: impl Into<String>) -> Self {
        self.docs = Some(url.into());
        self
    }
}

/// Where a violation is, as [`Violation::at`] takes it: a JSON Pointer and,
/// when the place knows it, the value found there (`None` inside: the field
/// is missing).
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    /// RFC 6901 JSON Pointer of the field.
    pub pointer: String,
    /// What was found there, when known; `Some(None)` when missing.
    pub found: Option<Option<Value>>,
}

impl From<String> for Place {
    fn from(pointer: String) -> Place {
        Place {
            pointer,
            found: None,
        }
    }
}

impl From<&str> for Place {
    fn from(pointer: &str) -> Place {
        Place::from(pointer.to_owned())
    }
}

impl From<&String> for Place {
    fn from(pointer: &String) -> Place {
        Place::from(pointer.clone())
    }
}

/// A policy's judgement of one object.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Verdict {
    /// Every broken rule, never only the first.
    pub violations: Vec<Violation>,
    /// Advice not tied to a rule, shown to the developer as is.
    pub warnings: Vec<String>,
}

impl Verdict {
    /// Adds a violation.
    pub fn push(&mut self, violation: Violation) {
        self.violations.push(violation);
    }

    /// Adds a warning.
    pub fn warn(&mut self, warning: impl Into<String>) {
        self.warnings.push(warning.into());
    }

    /// Whether the object passes (no violations; warnings do not count).
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }
}

impl Extend<Violation> for Verdict {
    fn extend<I: IntoIterator<Item = Violation>>(&mut self, violations: I) {
        self.violations.extend(violations);
    }
}
