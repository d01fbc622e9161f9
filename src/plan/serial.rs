//! `serial`: how a play's hosts are cut into batches, each of which runs the whole play.
//! The arithmetic follows Ansible exactly, float rounding included, because users size
//! rolling upgrades by it.

use super::error::{Error, ErrorKind, Result};
use crate::syntax::Span;
use crate::value::Value;

/// One entry of a play's `serial` list.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SerialSpec {
    /// A host count; zero or negative means "all remaining hosts".
    Count(i64),
    /// A whole-number percentage of the play's hosts (`"30%"`).
    Percent(f64),
}

impl SerialSpec {
    /// The batch size this entry gives for a play of `total` hosts, as Ansible computes it:
    /// `int(p / 100.0 * total)`, and at least 1 when that is zero.
    fn size(self, total: usize) -> i64 {
        match self {
            SerialSpec::Count(n) => n,
            SerialSpec::Percent(p) => {
                // Truncation toward zero, like Python's int() of a float.
                let n = (p / 100.0 * total as f64) as i64;
                if n == 0 { 1 } else { n }
            }
        }
    }
}

/// Parse a play's `serial` value (after templating): a number, a numeric string, a
/// percentage string, or a list of those. `null` and `[]` mean one batch of every host.
pub fn parse(value: &Value, span: Option<&Span>) -> Result<Vec<SerialSpec>> {
    match value {
        Value::Null => Ok(Vec::new()),
        Value::List(items) => items.iter().map(|v| parse_one(v, span)).collect(),
        other => Ok(vec![parse_one(other, span)?]),
    }
}

fn parse_one(value: &Value, span: Option<&Span>) -> Result<SerialSpec> {
    let bad = |message: String| {
        Error::new(ErrorKind::BadSerial { message }, span.cloned())
            .with_help("serial takes a host count (3), a whole percentage (\"30%\") or a list of them ([1, \"30%\"])")
    };
    match value {
        Value::Int(n) => Ok(SerialSpec::Count(*n)),
        Value::Bool(b) => Ok(SerialSpec::Count(i64::from(*b))),
        Value::Float(f) if f.is_finite() => Ok(SerialSpec::Count(f.trunc() as i64)),
        Value::Str(s) | Value::Unsafe(s) => {
            parse_text(s).ok_or_else(|| bad(format!("'{s}' is not a number or a percentage")))
        }
        Value::Vault(_) => Err(bad("a vault-encrypted value cannot be a batch size".into())),
        other => Err(bad(format!("a {} is not a number or a percentage", other.type_name()))),
    }
}

/// Text as Python's `int()` reads it, optionally followed by `%`.
fn parse_text(s: &str) -> Option<SerialSpec> {
    match s.strip_suffix('%') {
        Some(pct) => python_int(pct).map(|p| SerialSpec::Percent(p as f64)),
        None => python_int(s).map(SerialSpec::Count),
    }
}

/// Python's `int(str)`: surrounding whitespace, an optional sign, digits and underscores
/// between digits.
fn python_int(s: &str) -> Option<i64> {
    let t = s.trim();
    let (neg, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    if digits.is_empty() || digits.starts_with('_') || digits.ends_with('_') || digits.contains("__") {
        return None;
    }
    if !digits.chars().all(|c| c.is_ascii_digit() || c == '_') {
        return None;
    }
    let n: i64 = digits.replace('_', "").parse().ok()?;
    Some(if neg { -n } else { n })
}

/// Batch sizes for a play of `hosts` hosts. The last entry of `serial` repeats until every
/// host has a batch; an entry of zero or less puts all remaining hosts in one batch.
pub fn batches(hosts: usize, serial: &[SerialSpec]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut left = hosts;
    let mut i = 0;
    while left > 0 {
        let spec = serial.get(i).or(serial.last()).copied().unwrap_or(SerialSpec::Count(0));
        let size = spec.size(hosts);
        if size <= 0 {
            out.push(left);
            break;
        }
        let take = usize::try_from(size).unwrap_or(usize::MAX).min(left);
        out.push(take);
        left -= take;
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use SerialSpec::{Count, Percent};

    #[test]
    fn batch_sizes_match_ansible() {
        let cases: &[(usize, &[SerialSpec], &[usize])] = &[
            (11, &[Percent(20.0)], &[2, 2, 2, 2, 2, 1]),
            (10, &[Count(1), Percent(30.0)], &[1, 3, 3, 3]),
            (30, &[Count(1), Count(5), Count(10)], &[1, 5, 10, 10, 4]),
            (5, &[Percent(100.0)], &[5]),
            (5, &[Percent(0.0)], &[1, 1, 1, 1, 1]),
            (3, &[Count(10)], &[3]),
            (0, &[Count(2)], &[]),
            (0, &[], &[]),
            (7, &[], &[7]),
            (7, &[Count(0)], &[7]),
            (7, &[Count(-1)], &[7]),
            (7, &[Count(2), Count(0)], &[2, 5]),
            (4, &[Percent(10.0)], &[1, 1, 1, 1]),
            // 29% of 100 is 28.999... in floating point: Ansible cuts batches of 28.
            (100, &[Percent(29.0)], &[28, 28, 28, 16]),
            (100, &[Percent(-10.0)], &[100]),
            (6, &[Count(1), Count(2), Count(3)], &[1, 2, 3]),
            (10, &[Percent(50.0), Count(1)], &[5, 1, 1, 1, 1, 1]),
            (3, &[Percent(150.0)], &[3]),
        ];
        for (hosts, serial, want) in cases {
            assert_eq!(batches(*hosts, serial), *want, "{hosts} hosts, serial {serial:?}");
        }
    }

    #[test]
    fn serial_values_parse_as_ansible_reads_them() {
        let cases: Vec<(Value, Vec<SerialSpec>)> = vec![
            (Value::Int(3), vec![Count(3)]),
            (Value::str("3"), vec![Count(3)]),
            (Value::str(" 3 "), vec![Count(3)]),
            (Value::str("30%"), vec![Percent(30.0)]),
            (Value::str("0%"), vec![Percent(0.0)]),
            (Value::Float(2.7), vec![Count(2)]),
            (Value::Bool(true), vec![Count(1)]),
            (Value::Null, vec![]),
            (Value::List(vec![]), vec![]),
            (
                Value::List(vec![Value::Int(1), Value::str("30%"), Value::str("5")]),
                vec![Count(1), Percent(30.0), Count(5)],
            ),
        ];
        for (value, want) in cases {
            assert_eq!(parse(&value, None).expect("parses"), want, "for {value:?}");
        }
    }

    #[test]
    fn bad_serial_values_are_errors() {
        let cases = vec![
            Value::str("abc"),
            Value::str("30.5%"),
            Value::str("%"),
            Value::str(""),
            Value::str("1_"),
            Value::List(vec![Value::Int(1), Value::str("x%")]),
            Value::Map(Default::default()),
            Value::List(vec![Value::List(vec![])]),
        ];
        for value in cases {
            let e = parse(&value, None).expect_err("must fail");
            assert!(matches!(e.kind, ErrorKind::BadSerial { .. }), "{value:?}: {e}");
            assert!(e.to_string().starts_with("bad serial"), "{e}");
        }
    }
}
