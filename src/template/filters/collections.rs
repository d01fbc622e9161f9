//! Filters over lists and dicts: `combine`, `dict2items`, `items2dict`, set operations,
//! `flatten`, `zip_longest`, `product`, `subelements`, `extract`.

use super::{fail, mj, plain, require};
use crate::value::{Map, Value};
use minijinja::value::{Kwargs, Rest, Value as MjValue};
use minijinja::{Environment, Error as MjError};

pub(super) fn register(env: &mut Environment<'static>) {
    env.add_filter("combine", combine);
    env.add_filter("dict2items", dict2items);
    env.add_filter("items2dict", items2dict);
    env.add_filter("union", union);
    env.add_filter("difference", difference);
    env.add_filter("intersect", intersect);
    env.add_filter("symmetric_difference", symmetric_difference);
    env.add_filter("flatten", flatten);
    env.add_filter("zip_longest", zip_longest);
    env.add_filter("product", product);
    env.add_filter("subelements", subelements);
    env.add_filter("extract", extract);
    env.add_filter("unique", unique);
}

fn list(name: &str, v: &MjValue) -> Result<Vec<Value>, MjError> {
    match plain(v)? {
        Value::List(l) => Ok(l),
        Value::Null => Err(fail(name, "expected a list, got None")),
        Value::Map(m) => Ok(m.into_keys().map(Value::Str).collect()),
        Value::Str(s) | Value::Unsafe(s) => Ok(s.chars().map(|c| Value::Str(c.to_string())).collect()),
        other => Err(fail(name, format!("expected a list, got {}", other.type_name()))),
    }
}

fn map(name: &str, v: &MjValue) -> Result<Map, MjError> {
    match plain(v)? {
        Value::Map(m) => Ok(m),
        other => Err(fail(name, format!("expected a dict, got {}", other.type_name()))),
    }
}

#[derive(Clone, Copy, PartialEq)]
enum ListMerge {
    Replace,
    Keep,
    Append,
    Prepend,
    AppendRp,
    PrependRp,
}

fn merge(a: &mut Map, b: Map, recursive: bool, lm: ListMerge) {
    for (k, bv) in b {
        let slot = a.get_mut(&k);
        match (slot, bv) {
            (Some(Value::Map(am)), Value::Map(bm)) if recursive => merge(am, bm, recursive, lm),
            (Some(Value::List(al)), Value::List(bl)) => match lm {
                ListMerge::Replace => *al = bl,
                ListMerge::Keep => {}
                ListMerge::Append => al.extend(bl),
                ListMerge::Prepend => {
                    let mut n = bl;
                    n.append(al);
                    *al = n;
                }
                ListMerge::AppendRp => {
                    al.retain(|x| !bl.contains(x));
                    al.extend(bl);
                }
                ListMerge::PrependRp => {
                    let mut n = bl;
                    n.extend(al.iter().filter(|x| !n.contains(x)).cloned().collect::<Vec<_>>());
                    *al = n;
                }
            },
            (_, bv) => {
                a.insert(k, bv);
            }
        }
    }
}

fn combine(value: MjValue, others: Rest<MjValue>, kwargs: Kwargs) -> Result<MjValue, MjError> {
    let recursive = kwargs.get::<Option<bool>>("recursive")?.unwrap_or(false);
    let lm = match kwargs
        .get::<Option<String>>("list_merge")?
        .as_deref()
        .unwrap_or("replace")
    {
        "replace" => ListMerge::Replace,
        "keep" => ListMerge::Keep,
        "append" => ListMerge::Append,
        "prepend" => ListMerge::Prepend,
        "append_rp" => ListMerge::AppendRp,
        "prepend_rp" => ListMerge::PrependRp,
        other => return Err(fail("combine", format!("unknown list_merge '{other}'"))),
    };
    kwargs.assert_all_used()?;
    let mut dicts = Vec::new();
    for v in std::iter::once(&value).chain(others.iter()) {
        match plain(v)? {
            Value::Map(m) => dicts.push(m),
            Value::List(l) => {
                for item in l {
                    match item {
                        Value::Map(m) => dicts.push(m),
                        other => {
                            return Err(fail("combine", format!("expected dicts, got {}", other.type_name())));
                        }
                    }
                }
            }
            other => {
                return Err(fail("combine", format!("expected dicts, got {}", other.type_name())));
            }
        }
    }
    let mut acc = Map::new();
    for d in dicts {
        merge(&mut acc, d, recursive, lm);
    }
    Ok(mj(&Value::Map(acc)))
}

fn dict2items(value: MjValue, kwargs: Kwargs) -> Result<MjValue, MjError> {
    let kn = kwargs
        .get::<Option<String>>("key_name")?
        .unwrap_or_else(|| "key".into());
    let vn = kwargs
        .get::<Option<String>>("value_name")?
        .unwrap_or_else(|| "value".into());
    kwargs.assert_all_used()?;
    let m = map("dict2items", &value)?;
    let items = m
        .into_iter()
        .map(|(k, v)| Value::Map(Map::from_iter([(kn.clone(), Value::Str(k)), (vn.clone(), v)])))
        .collect();
    Ok(mj(&Value::List(items)))
}

fn items2dict(value: MjValue, kwargs: Kwargs) -> Result<MjValue, MjError> {
    let kn = kwargs
        .get::<Option<String>>("key_name")?
        .unwrap_or_else(|| "key".into());
    let vn = kwargs
        .get::<Option<String>>("value_name")?
        .unwrap_or_else(|| "value".into());
    kwargs.assert_all_used()?;
    let mut out = Map::new();
    for item in list("items2dict", &value)? {
        let Value::Map(m) = item else {
            return Err(fail("items2dict", "expected a list of dicts"));
        };
        let k = m
            .get(&kn)
            .ok_or_else(|| fail("items2dict", format!("an item has no '{kn}'")))?;
        let v = m
            .get(&vn)
            .ok_or_else(|| fail("items2dict", format!("an item has no '{vn}'")))?;
        out.insert(
            k.as_str().map(str::to_string).unwrap_or_else(|| k.to_string()),
            v.clone(),
        );
    }
    Ok(mj(&Value::Map(out)))
}

fn dedup(items: impl IntoIterator<Item = Value>) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

fn unique(value: MjValue, kwargs: Kwargs) -> Result<MjValue, MjError> {
    let case_sensitive = kwargs.get::<Option<bool>>("case_sensitive")?.unwrap_or(true);
    let attribute: Option<String> = kwargs.get("attribute")?;
    kwargs.assert_all_used()?;
    let items = list("unique", &value)?;
    let mut seen: Vec<Value> = Vec::new();
    let mut out = Vec::new();
    for item in items {
        let mut key = match &attribute {
            Some(a) => item.as_map().and_then(|m| m.get(a)).cloned().unwrap_or(Value::Null),
            None => item.clone(),
        };
        if !case_sensitive && let Some(s) = key.as_str() {
            key = Value::Str(s.to_lowercase());
        }
        if !seen.contains(&key) {
            seen.push(key);
            out.push(item);
        }
    }
    Ok(mj(&Value::List(out)))
}

fn union(a: MjValue, b: MjValue) -> Result<MjValue, MjError> {
    let mut l = list("union", &a)?;
    l.extend(list("union", &b)?);
    Ok(mj(&Value::List(dedup(l))))
}

fn difference(a: MjValue, b: MjValue) -> Result<MjValue, MjError> {
    let b = list("difference", &b)?;
    Ok(mj(&Value::List(dedup(
        list("difference", &a)?.into_iter().filter(|x| !b.contains(x)),
    ))))
}

fn intersect(a: MjValue, b: MjValue) -> Result<MjValue, MjError> {
    let b = list("intersect", &b)?;
    Ok(mj(&Value::List(dedup(
        list("intersect", &a)?.into_iter().filter(|x| b.contains(x)),
    ))))
}

fn symmetric_difference(a: MjValue, b: MjValue) -> Result<MjValue, MjError> {
    let a = list("symmetric_difference", &a)?;
    let b = list("symmetric_difference", &b)?;
    let mut out: Vec<Value> = a.iter().filter(|x| !b.contains(x)).cloned().collect();
    out.extend(b.iter().filter(|x| !a.contains(x)).cloned());
    Ok(mj(&Value::List(dedup(out))))
}

fn flatten_into(items: Vec<Value>, levels: Option<i64>, skip_nulls: bool, out: &mut Vec<Value>) {
    for item in items {
        match item {
            Value::List(inner) if levels.is_none_or(|l| l > 0) => {
                flatten_into(inner, levels.map(|l| l - 1), skip_nulls, out)
            }
            Value::Null if skip_nulls => {}
            other => out.push(other),
        }
    }
}

fn flatten(value: MjValue, levels: Option<i64>, kwargs: Kwargs) -> Result<MjValue, MjError> {
    let skip_nulls = kwargs.get::<Option<bool>>("skip_nulls")?.unwrap_or(true);
    let levels = match kwargs.get::<Option<i64>>("levels")? {
        Some(l) => Some(l),
        None => levels,
    };
    kwargs.assert_all_used()?;
    let mut out = Vec::new();
    flatten_into(list("flatten", &value)?, levels, skip_nulls, &mut out);
    Ok(mj(&Value::List(out)))
}

fn zip_longest(value: MjValue, others: Rest<MjValue>, kwargs: Kwargs) -> Result<MjValue, MjError> {
    let fill = kwargs
        .get::<Option<MjValue>>("fillvalue")?
        .map(|v| plain(&v))
        .transpose()?
        .unwrap_or(Value::Null);
    kwargs.assert_all_used()?;
    let mut lists = vec![list("zip_longest", &value)?];
    for o in others.iter() {
        lists.push(list("zip_longest", o)?);
    }
    let n = lists.iter().map(Vec::len).max().unwrap_or(0);
    let rows = (0..n)
        .map(|i| {
            Value::List(
                lists
                    .iter()
                    .map(|l| l.get(i).cloned().unwrap_or_else(|| fill.clone()))
                    .collect(),
            )
        })
        .collect();
    Ok(mj(&Value::List(rows)))
}

fn product(value: MjValue, others: Rest<MjValue>) -> Result<MjValue, MjError> {
    let mut rows: Vec<Vec<Value>> = list("product", &value)?.into_iter().map(|v| vec![v]).collect();
    for o in others.iter() {
        let l = list("product", o)?;
        rows = rows
            .into_iter()
            .flat_map(|r| l.iter().map(move |x| r.iter().cloned().chain([x.clone()]).collect()))
            .collect();
    }
    Ok(mj(&Value::List(rows.into_iter().map(Value::List).collect())))
}

fn subelements(value: MjValue, key: String, skip_missing: Option<MjValue>) -> Result<MjValue, MjError> {
    let skip = match skip_missing.map(|v| plain(&v)).transpose()? {
        Some(Value::Map(m)) => m.get("skip_missing").map(crate::template::truthy).unwrap_or(false),
        Some(v) => crate::template::truthy(&v),
        None => false,
    };
    let mut out = Vec::new();
    for item in list("subelements", &value)? {
        let mut node = Some(&item);
        for part in key.split('.') {
            node = node.and_then(|n| n.as_map()).and_then(|m| m.get(part));
        }
        match node {
            Some(Value::List(subs)) => {
                for s in subs {
                    out.push(Value::List(vec![item.clone(), s.clone()]));
                }
            }
            Some(_) => return Err(fail("subelements", format!("'{key}' is not a list"))),
            None if skip => {}
            None => return Err(fail("subelements", format!("an item has no '{key}'"))),
        }
    }
    Ok(mj(&Value::List(out)))
}

/// `groups['etcd'] | map('extract', hostvars, 'ip')`: `container[item][morekeys...]`.
fn extract(item: MjValue, container: MjValue, morekeys: Option<MjValue>) -> Result<MjValue, MjError> {
    require(&item)?;
    let mut v = container.get_item(&item)?;
    if let Some(keys) = morekeys {
        let keys: Vec<MjValue> = if keys.as_str().is_some() || keys.as_i64().is_some() {
            vec![keys]
        } else {
            keys.try_iter()?.collect()
        };
        for k in keys {
            v = v.get_item(&k)?;
        }
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::check;

    #[test]
    fn collection_filters() {
        check(
            r#"{"a": {"x": 1, "n": {"p": 1, "l": [1, 2]}}, "b": {"y": 2, "n": {"q": 2, "l": [2, 3]}},
                "users": [{"name": "u1", "groups": ["g1", "g2"]}, {"name": "u2"}],
                "hosts": {"h1": {"ip": "10.0.0.1"}, "h2": {"ip": "10.0.0.2"}}}"#,
            &[
                ("{{ a | combine(b) }}", r#"{"x":1,"n":{"q":2,"l":[2,3]},"y":2}"#),
                (
                    "{{ a | combine(b, recursive=True) }}",
                    r#"{"x":1,"n":{"p":1,"l":[2,3],"q":2},"y":2}"#,
                ),
                (
                    "{{ a | combine(b, recursive=True, list_merge='append') }}",
                    r#"{"x":1,"n":{"p":1,"l":[1,2,2,3],"q":2},"y":2}"#,
                ),
                (
                    "{{ a | combine(b, recursive=True, list_merge='append_rp') }}",
                    r#"{"x":1,"n":{"p":1,"l":[1,2,3],"q":2},"y":2}"#,
                ),
                (
                    "{{ a | combine(b, recursive=True, list_merge='prepend') }}",
                    r#"{"x":1,"n":{"p":1,"l":[2,3,1,2],"q":2},"y":2}"#,
                ),
                (
                    "{{ a | combine(b, recursive=True, list_merge='keep') }}",
                    r#"{"x":1,"n":{"p":1,"l":[1,2],"q":2},"y":2}"#,
                ),
                ("{{ {'a': 1} | combine({'b': 2}, {'a': 3}) }}", r#"{"a":3,"b":2}"#),
                ("{{ {'k': 'v'} | dict2items }}", r#"[{"key":"k","value":"v"}]"#),
                (
                    "{{ {'k': 'v'} | dict2items(key_name='n', value_name='d') }}",
                    r#"[{"n":"k","d":"v"}]"#,
                ),
                ("{{ [{'key': 'k', 'value': 1}] | items2dict }}", r#"{"k":1}"#),
                ("{{ [1, 2, 2, 3] | unique }}", "[1,2,3]"),
                ("{{ [1, 2] | union([2, 3]) }}", "[1,2,3]"),
                ("{{ [1, 2, 3] | difference([2]) }}", "[1,3]"),
                ("{{ [1, 2, 3] | intersect([2, 3, 4]) }}", "[2,3]"),
                ("{{ [1, 2] | symmetric_difference([2, 3]) }}", "[1,3]"),
                ("{{ [1, [2, [3, [4]]]] | flatten }}", "[1,2,3,4]"),
                ("{{ [1, [2, [3, [4]]]] | flatten(levels=1) }}", "[1,2,[3,[4]]]"),
                ("{{ [1, 2] | zip(['a', 'b']) | list }}", r#"[[1,"a"],[2,"b"]]"#),
                ("{{ [1, 2] | zip_longest(['a']) }}", r#"[[1,"a"],[2,null]]"#),
                ("{{ [1, 2] | product(['a']) }}", r#"[[1,"a"],[2,"a"]]"#),
                (
                    "{{ users | subelements('groups', skip_missing=True) | map(attribute='1') | list }}",
                    r#"["g1","g2"]"#,
                ),
                (
                    "{{ ['h1', 'h2'] | map('extract', hosts, 'ip') | list }}",
                    r#"["10.0.0.1","10.0.0.2"]"#,
                ),
                (
                    "{{ users | selectattr('groups', 'defined') | map(attribute='name') | list }}",
                    r#"["u1"]"#,
                ),
                (
                    "{{ users | selectattr('name', 'equalto', 'u2') | map(attribute='name') | first }}",
                    "u2",
                ),
                (
                    "{{ users | rejectattr('name', 'match', 'u1') | map(attribute='name') | join(',') }}",
                    "u2",
                ),
            ],
        );
    }
}
