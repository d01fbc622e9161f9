//! The data model every stage shares: what a variable, a fact or a module argument holds.
//! It is JSON plus two markers Ansible users rely on: `!unsafe` strings, which are never
//! templated, and `!vault` strings, which decrypt only when a vault password is known.

use indexmap::IndexMap;
use std::fmt;
use std::sync::Arc;

pub type Map = IndexMap<String, Value>;

#[derive(Clone, Debug, PartialEq, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// `!unsafe`: used as written, never templated.
    Unsafe(String),
    /// `!vault`: an inline vault value.
    Vault(Arc<VaultValue>),
    List(Vec<Value>),
    Map(Map),
}

/// An inline `!vault` value. `plaintext` is filled in when the vault password was known at
/// load time; using the value without it is an error at that point.
#[derive(Clone, PartialEq)]
pub struct VaultValue {
    pub ciphertext: String,
    pub plaintext: Option<String>,
}

impl fmt::Debug for VaultValue {
    // Never print the plaintext, not even in debug output.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VaultValue(<encrypted>)")
    }
}

impl Value {
    pub fn str(s: impl Into<String>) -> Value {
        Value::Str(s.into())
    }

    /// The text of a string-like value (plain, unsafe or decrypted vault).
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) | Value::Unsafe(s) => Some(s),
            Value::Vault(v) => v.plaintext.as_deref(),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&Map> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// A short name of the type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "integer",
            Value::Float(_) => "float",
            Value::Str(_) | Value::Unsafe(_) | Value::Vault(_) => "string",
            Value::List(_) => "list",
            Value::Map(_) => "mapping",
        }
    }

    /// Ansible's truthiness for `bool`-ish keywords given as strings (`yes`, `on`, `1`, ...).
    pub fn as_bool_loose(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            Value::Int(i) => Some(*i != 0),
            Value::Float(f) => Some(*f != 0.0),
            Value::Str(s) | Value::Unsafe(s) => match s.trim().to_ascii_lowercase().as_str() {
                "yes" | "on" | "true" | "1" | "y" | "t" => Some(true),
                "no" | "off" | "false" | "0" | "n" | "f" | "" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    /// Merge `other` into `self` the way Ansible's default `hash_behaviour=replace` does:
    /// a key from `other` replaces the whole value.
    pub fn overlay(&mut self, other: &Value) {
        match (self, other) {
            (Value::Map(a), Value::Map(b)) => {
                for (k, v) in b {
                    a.insert(k.clone(), v.clone());
                }
            }
            (slot, v) => *slot = v.clone(),
        }
    }
}

impl fmt::Display for Value {
    /// How a value prints when it is interpolated into text: strings as they are,
    /// everything else as JSON-ish (as Jinja would print Python objects is not our aim).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str(""),
            Value::Bool(b) => write!(f, "{}", if *b { "True" } else { "False" }),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Str(s) | Value::Unsafe(s) => f.write_str(s),
            Value::Vault(v) => f.write_str(v.plaintext.as_deref().unwrap_or("<vault>")),
            other => write!(f, "{}", serde_json::to_string(other).unwrap_or_default()),
        }
    }
}

impl serde::Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(i) => s.serialize_i64(*i),
            Value::Float(x) => s.serialize_f64(*x),
            Value::Str(t) | Value::Unsafe(t) => s.serialize_str(t),
            Value::Vault(v) => s.serialize_str(v.plaintext.as_deref().unwrap_or("<vault>")),
            Value::List(l) => l.serialize(s),
            Value::Map(m) => m.serialize(s),
        }
    }
}

impl From<serde_json::Value> for Value {
    fn from(j: serde_json::Value) -> Value {
        match j {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(0.0)),
            },
            serde_json::Value::String(s) => Value::Str(s),
            serde_json::Value::Array(a) => Value::List(a.into_iter().map(Value::from).collect()),
            serde_json::Value::Object(o) => Value::Map(o.into_iter().map(|(k, v)| (k, Value::from(v))).collect()),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Str(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(s)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(i)
    }
}
impl From<Map> for Value {
    fn from(m: Map) -> Value {
        Value::Map(m)
    }
}
impl From<Vec<Value>> for Value {
    fn from(l: Vec<Value>) -> Value {
        Value::List(l)
    }
}
