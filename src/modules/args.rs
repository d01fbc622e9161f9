//! Reading a module's arguments with Ansible's conversions (`"yes"` is true, `"0644"` is a
//! mode, numbers may be strings). A wrong argument is a task failure with a message naming
//! the argument, not an engine error.

use crate::value::{Map, Value};

/// Typed access to one module's arguments. Every getter returns `Err(message)` for a value of
/// the wrong type; modules turn it into `Outcome::fail`.
pub struct Args<'a> {
    module: &'a str,
    map: &'a Map,
}

pub type ArgResult<T> = std::result::Result<T, String>;

impl<'a> Args<'a> {
    pub fn new(module: &'a str, map: &'a Map) -> Args<'a> {
        Args { module, map }
    }

    /// Refuse arguments the module does not know (Ansible: "Unsupported parameters").
    pub fn only(&self, known: &[&str]) -> ArgResult<()> {
        let unknown: Vec<&str> = self
            .map
            .keys()
            .map(String::as_str)
            .filter(|k| !known.contains(k) && !k.starts_with('_'))
            .collect();
        if unknown.is_empty() {
            Ok(())
        } else {
            let mut supported = known.to_vec();
            supported.sort_unstable();
            Err(format!(
                "Unsupported parameters for ({}) module: {}. Supported parameters include: {}.",
                self.module,
                unknown.join(", "),
                supported.join(", ")
            ))
        }
    }

    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    /// A string argument; numbers and booleans are accepted as their text.
    pub fn str(&self, key: &str) -> ArgResult<Option<String>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::List(_)) | Some(Value::Map(_)) => Err(format!(
                "argument '{key}' of {} must be a string, not a {}",
                self.module,
                self.get(key).map(Value::type_name).unwrap_or("value")
            )),
            Some(v) => Ok(Some(v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))),
        }
    }

    pub fn required_str(&self, key: &str) -> ArgResult<String> {
        self.str(key)?
            .ok_or_else(|| format!("missing required arguments: {key}"))
    }

    /// A boolean with Ansible's spellings (`yes/no/true/false/on/off/1/0`).
    pub fn bool(&self, key: &str, default: bool) -> ArgResult<bool> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v.as_bool_loose().ok_or_else(|| {
                format!(
                    "argument '{key}' of {} is of type {} and we were unable to convert to bool",
                    self.module,
                    v.type_name()
                )
            }),
        }
    }

    pub fn int(&self, key: &str) -> ArgResult<Option<i64>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Int(i)) => Ok(Some(*i)),
            Some(Value::Float(f)) if f.fract() == 0.0 => Ok(Some(*f as i64)),
            Some(v) => v
                .as_str()
                .and_then(|s| s.trim().parse().ok())
                .map(Some)
                .ok_or_else(|| format!("argument '{key}' of {} must be an integer", self.module)),
        }
    }

    /// A list argument; a comma-separated string is split as Ansible does.
    pub fn list(&self, key: &str) -> ArgResult<Option<Vec<String>>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::List(items)) => Ok(Some(
                items
                    .iter()
                    .map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))
                    .collect(),
            )),
            Some(v) => Ok(Some(
                v.to_string()
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect(),
            )),
        }
    }

    /// A file mode: an octal string (`"0644"`, `"644"`), an integer as YAML read it (`0644`
    /// is already 420), or a symbolic mode (`u=rw,g=r,o=r`), returned as written for `chmod`.
    pub fn mode(&self, key: &str) -> ArgResult<Option<Mode>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Int(i)) if (0..=0o7777).contains(i) => Ok(Some(Mode::Bits(*i as u32))),
            Some(v) => {
                let text = v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
                let t = text.trim();
                if !t.is_empty() && t.chars().all(|c| c.is_ascii_digit()) {
                    return u32::from_str_radix(t, 8)
                        .ok()
                        .filter(|m| *m <= 0o7777)
                        .map(|m| Some(Mode::Bits(m)))
                        .ok_or_else(|| format!("mode '{t}' is not a valid octal mode"));
                }
                if t.chars().all(|c| "ugoa+-=rwxXstST,".contains(c)) && !t.is_empty() {
                    return Ok(Some(Mode::Symbolic(t.to_string())));
                }
                Err(format!("mode must be in octal or symbolic form, got '{t}'"))
            }
        }
    }
}

/// A file mode argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    Bits(u32),
    Symbolic(String),
}

impl Mode {
    /// The argument `chmod` takes.
    pub fn chmod_arg(&self) -> String {
        match self {
            Mode::Bits(b) => format!("{b:04o}"),
            Mode::Symbolic(s) => s.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_as_ansible_reads_them() {
        let mut m = Map::new();
        m.insert("a".into(), Value::str("0644"));
        m.insert("b".into(), Value::Int(0o755));
        m.insert("c".into(), Value::str("u=rw,g=r"));
        m.insert("d".into(), Value::str("0999"));
        m.insert("e".into(), Value::str("644"));
        let a = Args::new("file", &m);
        assert_eq!(a.mode("a"), Ok(Some(Mode::Bits(0o644))));
        assert_eq!(a.mode("b"), Ok(Some(Mode::Bits(0o755))));
        assert_eq!(a.mode("c"), Ok(Some(Mode::Symbolic("u=rw,g=r".into()))));
        assert!(a.mode("d").is_err());
        assert_eq!(a.mode("e"), Ok(Some(Mode::Bits(0o644))));
    }

    #[test]
    fn unknown_arguments_are_named() {
        let mut m = Map::new();
        m.insert("path".into(), Value::str("/x"));
        m.insert("bogus".into(), Value::Bool(true));
        let e = Args::new("file", &m).only(&["path", "state"]).err().unwrap_or_default();
        assert!(e.contains("bogus") && e.contains("file"), "{e}");
    }
}
