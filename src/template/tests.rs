//! Ansible's Jinja tests: `version`, `match`/`search`/`regex`, `defined`/`undefined` (which
//! know our undefined markers), task-result tests, set tests, path tests, `truthy`/`falsy`.

use super::filters::{plain as plain_value, text as text_of};
use super::vars_object::is_undefined;
use super::version;
use crate::value::Value;
use minijinja::value::{Kwargs, Value as MjValue};
use minijinja::{Environment, Error as MjError, ErrorKind as MjKind};
use std::path::Path;

pub(super) fn register(env: &mut Environment<'static>) {
    env.add_test("defined", |v: MjValue| !is_undefined(&v));
    env.add_test("undefined", |v: MjValue| is_undefined(&v));
    env.add_test("version", version_test);
    env.add_test("version_compare", version_test);
    env.add_test("match", |v: MjValue, p: String, k: Kwargs| regex_test(v, p, k, "match"));
    env.add_test("search", |v: MjValue, p: String, k: Kwargs| {
        regex_test(v, p, k, "search")
    });
    env.add_test("regex", |v: MjValue, p: String, k: Kwargs| {
        let mt = k
            .get::<Option<String>>("match_type")?
            .unwrap_or_else(|| "search".into());
        regex_test(v, p, k, &mt)
    });
    env.add_test("failed", |v: MjValue| result_flag(&v, "failed"));
    env.add_test("failure", |v: MjValue| result_flag(&v, "failed"));
    env.add_test("succeeded", |v: MjValue| result_flag(&v, "failed").map(|f| !f));
    env.add_test("success", |v: MjValue| result_flag(&v, "failed").map(|f| !f));
    env.add_test("successful", |v: MjValue| result_flag(&v, "failed").map(|f| !f));
    env.add_test("changed", |v: MjValue| result_flag(&v, "changed"));
    env.add_test("change", |v: MjValue| result_flag(&v, "changed"));
    env.add_test("skipped", |v: MjValue| result_flag(&v, "skipped"));
    env.add_test("skip", |v: MjValue| result_flag(&v, "skipped"));
    env.add_test("unreachable", |v: MjValue| result_flag(&v, "unreachable"));
    env.add_test("reachable", |v: MjValue| result_flag(&v, "unreachable").map(|f| !f));
    env.add_test("finished", |v: MjValue| {
        let m = plain_value(&v)?;
        Ok::<bool, MjError>(
            m.as_map()
                .and_then(|m| m.get("finished"))
                .is_none_or(|f| f.as_bool_loose().unwrap_or(false)),
        )
    });
    env.add_test("started", |v: MjValue| {
        let m = plain_value(&v)?;
        Ok::<bool, MjError>(
            m.as_map()
                .and_then(|m| m.get("started"))
                .is_none_or(|f| f.as_bool_loose().unwrap_or(false)),
        )
    });
    env.add_test("subset", |a: MjValue, b: MjValue| {
        Ok::<bool, MjError>(
            list(&a)?
                .iter()
                .all(|x| list(&b).map(|l| l.contains(x)).unwrap_or(false)),
        )
    });
    env.add_test("superset", |a: MjValue, b: MjValue| {
        let a = list(&a)?;
        Ok::<bool, MjError>(list(&b)?.iter().all(|x| a.contains(x)))
    });
    env.add_test("contains", |a: MjValue, x: MjValue| {
        Ok::<bool, MjError>(list(&a)?.contains(&plain_value(&x)?))
    });
    env.add_test("any", |a: MjValue| {
        Ok::<bool, MjError>(list(&a)?.iter().any(super::truthy))
    });
    env.add_test("all", |a: MjValue| {
        Ok::<bool, MjError>(list(&a)?.iter().all(super::truthy))
    });
    env.add_test("truthy", |v: MjValue| {
        Ok::<bool, MjError>(super::truthy(&plain_value(&v)?))
    });
    env.add_test("falsy", |v: MjValue| {
        Ok::<bool, MjError>(!super::truthy(&plain_value(&v)?))
    });
    env.add_test("bool", |v: MjValue| {
        matches!(v.kind(), minijinja::value::ValueKind::Bool)
    });
    env.add_test("abs", |v: MjValue| {
        Ok::<bool, MjError>(Path::new(&text_of(&v)?).is_absolute())
    });
    env.add_test("exists", |v: MjValue| {
        Ok::<bool, MjError>(Path::new(&text_of(&v)?).exists())
    });
    env.add_test("file", |v: MjValue| {
        Ok::<bool, MjError>(Path::new(&text_of(&v)?).is_file())
    });
    env.add_test("directory", |v: MjValue| {
        Ok::<bool, MjError>(Path::new(&text_of(&v)?).is_dir())
    });
    env.add_test("link", |v: MjValue| {
        Ok::<bool, MjError>(Path::new(&text_of(&v)?).is_symlink())
    });
    env.add_test("nan", |v: MjValue| f64::try_from(v).is_ok_and(f64::is_nan));
}

fn list(v: &MjValue) -> Result<Vec<Value>, MjError> {
    match plain_value(v)? {
        Value::List(l) => Ok(l),
        Value::Map(m) => Ok(m.into_keys().map(Value::Str).collect()),
        other => Err(MjError::new(
            MjKind::InvalidOperation,
            format!("expected a list, got {}", other.type_name()),
        )),
    }
}

fn result_flag(v: &MjValue, key: &str) -> Result<bool, MjError> {
    match plain_value(v)? {
        Value::Map(m) => Ok(m.get(key).and_then(Value::as_bool_loose).unwrap_or(false)),
        other => Err(MjError::new(
            MjKind::InvalidOperation,
            format!(
                "the '{key}' test expects a task result (a dictionary), got {}",
                other.type_name()
            ),
        )),
    }
}

fn version_test(value: MjValue, other: MjValue, op: Option<String>, kwargs: Kwargs) -> Result<bool, MjError> {
    let strict = kwargs.get::<Option<bool>>("strict")?.unwrap_or(false);
    let kind = kwargs
        .get::<Option<String>>("version_type")?
        .unwrap_or_else(|| if strict { "strict".into() } else { "loose".into() });
    let op = match op {
        Some(o) => o,
        None => kwargs.get::<Option<String>>("operator")?.unwrap_or_else(|| "eq".into()),
    };
    kwargs.assert_all_used()?;
    let (a, b) = (text_of(&value)?, text_of(&other)?);
    if a.is_empty() {
        return Err(MjError::new(
            MjKind::InvalidOperation,
            "version: the version to compare is empty",
        ));
    }
    version::compare(&a, &b, &op, &kind).map_err(|e| MjError::new(MjKind::InvalidOperation, e.message()))
}

fn regex_test(value: MjValue, pattern: String, kwargs: Kwargs, how: &str) -> Result<bool, MjError> {
    let ic = kwargs.get::<Option<bool>>("ignorecase")?.unwrap_or(false);
    let ml = kwargs.get::<Option<bool>>("multiline")?.unwrap_or(false);
    let _: Option<String> = kwargs.get("match_type")?;
    kwargs.assert_all_used()?;
    let s = text_of(&value)?;
    let pattern = match how {
        "match" => format!(r"\A(?:{pattern})"),
        "fullmatch" => format!(r"\A(?:{pattern})\z"),
        _ => pattern,
    };
    let re = super::filters::compile_regex(how, &pattern, ic, ml)?;
    Ok(re.is_match(&s))
}

#[cfg(test)]
mod table {
    use crate::template::filters::testutil::check;

    #[test]
    fn jinja_tests() {
        check(
            r#"{"kube_version": "v1.29.4", "r_ok": {"changed": true, "failed": false}, "r_bad": {"failed": true}, "r_skip": {"skipped": true, "changed": false},
                "d": {"a": 1}, "l": [1, 2, 3], "s": "abc"}"#,
            &[
                ("{{ kube_version is version('v1.29.0', '>=') }}", "true"),
                ("{{ kube_version is version('1.29.10', '<') }}", "true"),
                ("{{ kube_version is version_compare('v1.30.0', 'lt') }}", "true"),
                (
                    "{{ '1.30.0-rc.1' is version('1.30.0', '<', version_type='semver') }}",
                    "true",
                ),
                ("{{ '1.2' is version('1.2.0', '==', strict=True) }}", "true"),
                ("{{ 'abc' is match('b') }}", "false"),
                ("{{ 'abc' is search('b') }}", "true"),
                ("{{ 'ABC' is match('a', ignorecase=True) }}", "true"),
                ("{{ 'abc' is regex('^a.c$') }}", "true"),
                ("{{ nope is defined }}", "false"),
                ("{{ nope is undefined }}", "true"),
                ("{{ nope.deeper is undefined }}", "true"),
                ("{{ d.missing is defined }}", "false"),
                ("{{ r_ok is changed }}", "true"),
                ("{{ r_ok is succeeded }}", "true"),
                ("{{ r_ok is success }}", "true"),
                ("{{ r_bad is failed }}", "true"),
                ("{{ r_bad is failure }}", "true"),
                ("{{ r_skip is skipped }}", "true"),
                ("{{ r_skip is change }}", "false"),
                ("{{ r_ok is reachable }}", "true"),
                ("{{ r_ok is finished }}", "true"),
                ("{{ [1, 2] is subset(l) }}", "true"),
                ("{{ l is superset([3]) }}", "true"),
                ("{{ l is contains(2) }}", "true"),
                ("{{ 2 is in(l) }}", "true"),
                ("{{ s is string }}", "true"),
                ("{{ 1 is number }}", "true"),
                ("{{ d is mapping }}", "true"),
                ("{{ l is sequence }}", "true"),
                ("{{ true is boolean }}", "true"),
                ("{{ 'yes' is truthy }}", "true"),
                ("{{ 0 is falsy }}", "true"),
                ("{{ '/etc' is abs }}", "true"),
                ("{{ '/' is directory }}", "true"),
                ("{{ '/' is exists }}", "true"),
                ("{{ '/definitely/not/here' is file }}", "false"),
                ("{{ l | select('version', '2', '>=') | list | length }}", "2"),
                (
                    "{{ ['1.2', '1.10'] | select('version', '1.5', '>=') | list }}",
                    r#"["1.10"]"#,
                ),
            ],
        );
    }
}
