//! JSON as CEL values, and back.
//!
//! The object under review is not converted up front: cel-rust's own
//! conversion copies every node (half a millisecond for a 10 KB Deployment,
//! more than the whole evaluation of a Rust policy). A JSON object is
//! wrapped instead ([`JsonObject`]) and its members are converted when an
//! expression reaches them; strings are borrowed, never copied.

use std::sync::OnceLock;

use cel_interpreter::ExecutionError;
use cel_interpreter::common::traits::{self, Container, Indexer, Iterable, Sizer};
use cel_interpreter::common::types::{
    self, CelBool, CelDouble, CelInt, CelList, CelNull, CelString, CelUInt, Type,
};
use cel_interpreter::common::value::{CowVal, Val};
use serde_json::{Map, Value};

/// A JSON value as a CEL value: scalars and arrays converted (arrays one
/// level deep: their objects stay wrapped), objects wrapped.
pub fn to_val<'v>(value: &'v Value) -> Box<dyn Val + 'v> {
    match value {
        Value::Null => Box::new(CelNull),
        Value::Bool(b) => Box::new(CelBool::from(*b)),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Box::new(CelInt::from(i)),
            (None, Some(u)) => Box::new(CelUInt::from(u)),
            _ => Box::new(CelDouble::from(n.as_f64().unwrap_or(f64::NAN))),
        },
        Value::String(s) => Box::new(CelString::from(s.as_str())),
        Value::Array(items) => {
            Box::new(CelList::from(items.iter().map(to_val).collect::<Vec<_>>()))
        }
        Value::Object(map) => Box::new(JsonObject::new(map)),
    }
}

/// A JSON object, read member by member as expressions reach them.
#[derive(Debug)]
pub struct JsonObject<'v> {
    map: &'v Map<String, Value>,
    /// The member names as CEL strings, made when something iterates.
    keys: OnceLock<Vec<CelString<'v>>>,
}

impl<'v> JsonObject<'v> {
    /// Wraps `map`.
    pub fn new(map: &'v Map<String, Value>) -> JsonObject<'v> {
        JsonObject {
            map,
            keys: OnceLock::new(),
        }
    }

    fn member(&self, key: &dyn Val) -> Result<Option<&'v Value>, ExecutionError> {
        match key.downcast_ref::<CelString>() {
            Some(name) => Ok(self.map.get(name.inner())),
            None => Err(ExecutionError::UnexpectedType {
                got: key.get_type().name().to_owned(),
                want: "string".to_owned(),
            }),
        }
    }
}

impl Val for JsonObject<'_> {
    fn get_type(&self) -> &Type {
        &types::MAP_TYPE
    }

    fn cel_type() -> &'static Type {
        &types::MAP_TYPE
    }

    fn as_container(&self) -> Option<&dyn Container> {
        Some(self)
    }

    fn as_indexer<'b, 'w>(&'b self) -> Option<&'b (dyn Indexer + 'w)>
    where
        Self: 'w,
    {
        Some(self)
    }

    fn as_iterable<'b, 'w>(&'b self) -> Option<&'b (dyn Iterable + 'w)>
    where
        Self: 'w,
    {
        Some(self)
    }

    fn as_sizer(&self) -> Option<&dyn Sizer> {
        Some(self)
    }

    /// Maps are equal when they have the same keys with equal values,
    /// whatever their representation (a map literal, or another object).
    fn equals(&self, other: &dyn Val) -> bool {
        if other.get_type() != &types::MAP_TYPE {
            return false;
        }
        let (Some(sizer), Some(indexer)) = (other.as_sizer(), other.as_indexer()) else {
            return false;
        };
        i64::from(sizer.size()) == self.map.len() as i64
            && self.map.iter().all(|(key, value)| {
                indexer
                    .get(&CelString::from(key.as_str()))
                    .is_ok_and(|theirs| to_val(value).equals(&*theirs))
            })
    }

    fn clone_as_boxed<'w>(&self) -> Box<dyn Val + 'w>
    where
        Self: 'w,
    {
        Box::new(JsonObject::new(self.map))
    }
}

impl Container for JsonObject<'_> {
    fn contains(&self, key: &dyn Val) -> Result<bool, ExecutionError> {
        self.member(key).map(|member| member.is_some())
    }
}

impl<'v> Indexer for JsonObject<'v> {
    fn get<'b, 'w>(&'b self, key: &dyn Val) -> Result<CowVal<'b, 'w>, ExecutionError>
    where
        Self: 'w,
    {
        match self.member(key)? {
            Some(value) => Ok(CowVal::Owned(to_val(value))),
            None => Err(ExecutionError::NoSuchKey(
                key.downcast_ref::<CelString>()
                    .map(|k| k.inner().to_owned())
                    .unwrap_or_default()
                    .into(),
            )),
        }
    }

    fn steal<'w>(self: Box<Self>, key: &dyn Val) -> Result<Box<dyn Val + 'w>, ExecutionError>
    where
        Self: 'w,
    {
        self.get(key).map(CowVal::into_owned)
    }
}

impl<'v> Iterable for JsonObject<'v> {
    fn iter<'b, 'w>(&'b self) -> Box<dyn traits::Iterator<'b, 'w> + 'b>
    where
        Self: 'w,
    {
        let keys = self.keys.get_or_init(|| {
            self.map
                .keys()
                .map(|k| CelString::from(k.as_str()))
                .collect()
        });
        Box::new(Keys(keys.iter()))
    }
}

struct Keys<'b, 'v>(std::slice::Iter<'b, CelString<'v>>);

impl<'b, 'v: 'w, 'w> traits::Iterator<'b, 'w> for Keys<'b, 'v> {
    fn next(&mut self) -> Option<&'b (dyn Val + 'w)> {
        self.0.next().map(|key| key as &dyn Val)
    }
}

impl Sizer for JsonObject<'_> {
    fn size(&self) -> CelInt {
        CelInt::from(self.map.len() as i64)
    }
}

/// A CEL value as JSON (a fix's value), or why it has none.
pub fn to_json(value: &dyn Val) -> Result<Value, String> {
    let kind = value.get_type();
    if kind == &types::MAP_TYPE {
        let (Some(keys), Some(indexer)) = (value.as_iterable(), value.as_indexer()) else {
            return Err("a map that cannot be read".into());
        };
        let mut map = Map::new();
        let mut iter = keys.iter();
        while let Some(key) = iter.next() {
            let Some(name) = key.downcast_ref::<CelString>() else {
                return Err(format!(
                    "a map with a {} key; JSON keys are strings",
                    key.get_type().name()
                ));
            };
            let member = indexer.get(key).map_err(|e| e.to_string())?;
            map.insert(name.inner().to_owned(), to_json(&*member)?);
        }
        return Ok(Value::Object(map));
    }
    if kind == &types::LIST_TYPE {
        let Some(items) = value.as_iterable() else {
            return Err("a list that cannot be read".into());
        };
        let mut list = Vec::new();
        let mut iter = items.iter();
        while let Some(item) = iter.next() {
            list.push(to_json(item)?);
        }
        return Ok(Value::Array(list));
    }
    let owned = cel_interpreter::Value::try_from(value).map_err(|e| format!("{e:?}"))?;
    owned
        .json()
        .map_err(|_| format!("a {} value, which JSON cannot hold", kind.name()))
}
