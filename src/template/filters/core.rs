//! Type and default filters: `default`/`d`, `bool`, `int`, `float`, `string`, `ternary`,
//! `mandatory`, `type_debug`, `sum`, `human_to_bytes`, `human_readable`.

use super::{fail, require, text, undefined};
use crate::template::error::{Error, ErrorKind};
use crate::template::vars_object::scope_of;
use minijinja::value::{Kwargs, Value as MjValue, ValueKind};
use minijinja::{Environment, Error as MjError, ErrorKind as MjKind, State};

pub(super) fn register(env: &mut Environment<'static>) {
    env.add_filter("default", default);
    env.add_filter("d", default);
    env.add_filter("bool", to_bool);
    env.add_filter("int", to_int);
    env.add_filter("float", to_float);
    env.add_filter("string", string);
    env.add_filter("ternary", ternary);
    env.add_filter("mandatory", mandatory);
    env.add_filter("type_debug", type_debug);
    env.add_filter("sum", sum);
    env.add_filter("human_to_bytes", human_to_bytes);
    env.add_filter("human_readable", human_readable);
}

fn default(value: MjValue, def: Option<MjValue>, boolean: Option<bool>) -> MjValue {
    let def = def.unwrap_or_else(|| MjValue::from(""));
    if undefined(&value) || (boolean.unwrap_or(false) && !value.is_true()) {
        def
    } else {
        value
    }
}

fn to_bool(value: MjValue) -> Result<bool, MjError> {
    require(&value)?;
    Ok(match value.kind() {
        ValueKind::Bool => value.is_true(),
        ValueKind::None => false,
        ValueKind::String => matches!(
            value.as_str().unwrap_or_default().to_lowercase().trim(),
            "yes" | "on" | "1" | "true"
        ),
        ValueKind::Number => value.as_i64() == Some(1) || f64::try_from(value.clone()).ok() == Some(1.0),
        _ => false,
    })
}

fn to_int(value: MjValue, default: Option<i64>, base: Option<u32>, kwargs: Kwargs) -> Result<MjValue, MjError> {
    require(&value)?;
    let def = default.or(kwargs.get("default")?).unwrap_or(0);
    let base = base.or(kwargs.get("base")?).unwrap_or(10);
    kwargs.assert_all_used()?;
    Ok(MjValue::from(match value.kind() {
        ValueKind::Bool => i64::from(value.is_true()),
        ValueKind::Number => match value.as_i64() {
            Some(i) => i,
            None => f64::try_from(value.clone()).map(|f| f.trunc() as i64).unwrap_or(def),
        },
        ValueKind::String => {
            let s = value.as_str().unwrap_or_default().trim().replace('_', "");
            let digits = match base {
                16 => s.trim_start_matches("0x").trim_start_matches("0X").to_string(),
                8 => s.trim_start_matches("0o").trim_start_matches("0O").to_string(),
                2 => s.trim_start_matches("0b").trim_start_matches("0B").to_string(),
                _ => s.clone(),
            };
            i64::from_str_radix(&digits, base)
                .ok()
                .or_else(|| {
                    (base == 10)
                        .then(|| s.parse::<f64>().ok().map(|f| f.trunc() as i64))
                        .flatten()
                })
                .unwrap_or(def)
        }
        _ => def,
    }))
}

fn to_float(value: MjValue, default: Option<f64>, kwargs: Kwargs) -> Result<MjValue, MjError> {
    require(&value)?;
    let def = default.or(kwargs.get("default")?).unwrap_or(0.0);
    kwargs.assert_all_used()?;
    Ok(MjValue::from(match value.kind() {
        ValueKind::Bool => f64::from(u8::from(value.is_true())),
        ValueKind::Number => f64::try_from(value.clone()).unwrap_or(def),
        ValueKind::String => value.as_str().unwrap_or_default().trim().parse::<f64>().unwrap_or(def),
        _ => def,
    }))
}

fn string(value: MjValue) -> Result<MjValue, MjError> {
    if value.is_safe() {
        return Ok(value);
    }
    Ok(MjValue::from(text(&value)?))
}

fn ternary(value: MjValue, yes: MjValue, no: MjValue, none: Option<MjValue>) -> Result<MjValue, MjError> {
    require(&value)?;
    Ok(match none {
        Some(n) if value.is_none() => n,
        _ if value.is_true() => yes,
        _ => no,
    })
}

fn mandatory(state: &State, value: MjValue, msg: Option<String>, kwargs: Kwargs) -> Result<MjValue, MjError> {
    let msg = match msg {
        Some(m) => Some(m),
        None => kwargs.get("msg")?,
    };
    kwargs.assert_all_used()?;
    if !undefined(&value) {
        return Ok(value);
    }
    let message = msg.unwrap_or_else(|| "Mandatory variable not defined.".to_string());
    if let Some(scope) = scope_of(state) {
        scope.shared.record(Error::new(ErrorKind::Mandatory {
            message: message.clone(),
        }));
    }
    Err(MjError::new(MjKind::UndefinedError, message))
}

fn type_debug(value: MjValue) -> &'static str {
    if undefined(&value) {
        return "AnsibleUndefined";
    }
    match value.kind() {
        ValueKind::None => "NoneType",
        ValueKind::Bool => "bool",
        ValueKind::Number if value.as_i64().is_some() => "int",
        ValueKind::Number => "float",
        // ansible-core 2.19 says `str` for `!unsafe` and host data too.
        ValueKind::String => "str",
        ValueKind::Bytes => "bytes",
        ValueKind::Seq | ValueKind::Iterable => "list",
        ValueKind::Map => "dict",
        _ => "object",
    }
}

/// Jinja's `sum(attribute=, start=)`: numbers add up, lists concatenate.
fn sum(value: MjValue, kwargs: Kwargs) -> Result<MjValue, MjError> {
    require(&value)?;
    let attribute: Option<String> = kwargs.get("attribute")?;
    let mut acc: MjValue = kwargs.get::<Option<MjValue>>("start")?.unwrap_or(MjValue::from(0));
    kwargs.assert_all_used()?;
    for item in value.try_iter()? {
        let item = match &attribute {
            Some(a) => a.split('.').try_fold(item, |v, part| match part.parse::<i64>() {
                Ok(i) => v.get_item(&MjValue::from(i)),
                Err(_) => v.get_attr(part),
            })?,
            None => item,
        };
        acc = if acc.kind() == ValueKind::Seq && item.kind() == ValueKind::Seq {
            let mut l: Vec<MjValue> = acc.try_iter()?.collect();
            l.extend(item.try_iter()?);
            MjValue::from(l)
        } else {
            add(&acc, &item)?
        };
    }
    Ok(acc)
}

fn add(a: &MjValue, b: &MjValue) -> Result<MjValue, MjError> {
    require(b)?;
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        return Ok(MjValue::from(x.saturating_add(y)));
    }
    match (f64::try_from(a.clone()), f64::try_from(b.clone())) {
        (Ok(x), Ok(y)) => Ok(MjValue::from(x + y)),
        _ => Err(fail("sum", format!("cannot add {} and {}", a.kind(), b.kind()))),
    }
}

const UNITS: [(char, u32); 9] = [
    ('B', 0),
    ('K', 1),
    ('M', 2),
    ('G', 3),
    ('T', 4),
    ('P', 5),
    ('E', 6),
    ('Z', 7),
    ('Y', 8),
];

fn human_to_bytes(value: MjValue, default_unit: Option<String>, isbits: Option<bool>) -> Result<i64, MjError> {
    let s = text(&value)?;
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ' '))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let num: f64 = num
        .trim()
        .parse()
        .map_err(|_| fail("human_to_bytes", format!("cannot read '{s}' as a size")))?;
    let unit = if unit.is_empty() {
        default_unit.unwrap_or_default()
    } else {
        unit.to_string()
    };
    let bits = isbits.unwrap_or(false);
    let letter = unit.chars().next().map(|c| c.to_ascii_uppercase()).unwrap_or('B');
    let power = UNITS
        .iter()
        .find(|(c, _)| *c == letter)
        .map(|(_, p)| *p)
        .ok_or_else(|| fail("human_to_bytes", format!("unknown unit '{unit}'")))?;
    let _ = bits;
    Ok((num * 1024f64.powi(power as i32)) as i64)
}

fn human_readable(value: MjValue, isbits: Option<bool>, unit: Option<String>) -> Result<String, MjError> {
    require(&value)?;
    let n = f64::try_from(value.clone()).or_else(|_| {
        text(&value)?
            .trim()
            .parse::<f64>()
            .map_err(|_| fail("human_readable", "not a number"))
    })?;
    let suffix = if isbits.unwrap_or(false) { "b" } else { "B" };
    let wanted = unit.and_then(|u| u.chars().next()).map(|c| c.to_ascii_uppercase());
    for (letter, power) in UNITS.iter().rev() {
        let limit = 1024f64.powi(*power as i32);
        if wanted == Some(*letter) || (wanted.is_none() && n >= limit) {
            let label = if *power == 0 {
                suffix.to_string()
            } else {
                format!("{letter}{suffix}")
            };
            return Ok(format!("{:.2} {label}", n / limit));
        }
    }
    Ok(format!("{n:.2} {suffix}"))
}

#[cfg(test)]
mod tests {
    use super::super::testutil::check;

    #[test]
    fn core_filters() {
        check(
            r#"{"t": "yes", "n": null, "e": "", "l": [1, 2], "s": "42", "f": "1.5"}"#,
            &[
                ("{{ missing | default('x') }}", "x"),
                ("{{ missing | d('y') }}", "y"),
                ("{{ missing.attr.deeper | default(1) }}", "1"),
                ("{{ e | default('z', true) }}", "z"),
                ("{{ e | default('z') }}", ""),
                ("{{ t | bool }}", "true"),
                ("{{ 'off' | bool }}", "false"),
                ("{{ s | int + 1 }}", "43"),
                ("{{ 'abc' | int(7) }}", "7"),
                ("{{ '0x1f' | int(base=16) }}", "31"),
                ("{{ f | float }}", "1.5"),
                ("{{ l | string }}", "[1, 2]"),
                ("{{ true | ternary('a', 'b') }}", "a"),
                ("{{ n | ternary('a', 'b', 'c') }}", "c"),
                ("{{ s | type_debug }}", "str"),
                ("{{ l | type_debug }}", "list"),
                ("{{ [[1], [2, 3]] | sum(start=[]) }}", "[1,2,3]"),
                ("{{ l | sum }}", "3"),
                ("{{ '1K' | human_to_bytes }}", "1024"),
                ("{{ '2 GB' | human_to_bytes }}", "2147483648"),
                ("{{ 1048576 | human_readable }}", "1.00 MB"),
            ],
        );
    }

    #[test]
    fn mandatory_fails_with_its_message() {
        let t = crate::template::Templar::new(Default::default());
        let e = t
            .render_str(
                "{{ nope | mandatory('set nope please') }}",
                &super::super::testutil::vars("{}"),
            )
            .unwrap_err();
        assert_eq!(
            e.kind,
            crate::template::ErrorKind::Mandatory {
                message: "set nope please".into()
            }
        );
    }
}
