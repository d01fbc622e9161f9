//! `find`: files below some directories that match name patterns, age, size, content and
//! mode. One `find -printf` round trip lists everything ([`super::find_walk`]); the filters
//! run on the controller in the order Ansible's module applies them. A second round trip
//! reads file contents only for `contains`, a third computes checksums only for
//! `get_checksum`.

use super::args::{Args, Mode};
use super::find_walk::{self, Entry, Listing, Step, Walk};
use super::remote_file::expand_user;
use super::{ModuleCtx, Outcome, py_re};
use crate::connection::quote::quote;
use crate::connection::{self, BoxFuture};
use crate::value::{Map, Value};
use std::collections::HashMap;

const KNOWN: &[&str] = &[
    "paths",
    "name",
    "path",
    "patterns",
    "pattern",
    "excludes",
    "exclude",
    "contains",
    "read_whole_file",
    "file_type",
    "age",
    "age_stamp",
    "size",
    "recurse",
    "hidden",
    "follow",
    "get_checksum",
    "checksum_algorithm",
    "checksum",
    "checksum_algo",
    "use_regex",
    "depth",
    "mode",
    "exact_mode",
    "encoding",
    "limit",
];

#[derive(Clone, Copy, PartialEq)]
enum FileType {
    Any,
    Directory,
    File,
    Link,
}

enum Pattern {
    Glob(regex::Regex),
    Re(regex::Regex),
}

impl Pattern {
    fn matches(&self, name: &str) -> bool {
        match self {
            Pattern::Glob(r) | Pattern::Re(r) => r.is_match(name),
        }
    }
}

struct Task {
    paths: Vec<String>,
    patterns: Vec<Pattern>,
    excludes: Vec<Pattern>,
    contains: Option<regex::Regex>,
    read_whole_file: bool,
    file_type: FileType,
    age: Option<f64>,
    age_stamp: String,
    size: Option<i64>,
    recurse: bool,
    hidden: bool,
    follow: bool,
    checksum: Option<&'static str>,
    depth: Option<usize>,
    mode: Option<u32>,
    exact_mode: bool,
    limit: Option<usize>,
}

/// `fnmatch.translate`: `*`, `?`, `[seq]`, `[!seq]`, the whole name.
pub fn glob_regex(pat: &str) -> Result<regex::Regex, String> {
    let chars: Vec<char> = pat.chars().collect();
    let mut out = String::from("(?s)\\A(?:");
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        i += 1;
        match c {
            '*' => out.push_str(".*"),
            '?' => out.push('.'),
            '[' => {
                let mut j = i;
                if chars.get(j) == Some(&'!') {
                    j += 1;
                }
                if chars.get(j) == Some(&']') {
                    j += 1;
                }
                while chars.get(j).is_some_and(|c| *c != ']') {
                    j += 1;
                }
                if j >= chars.len() {
                    out.push_str("\\[");
                    continue;
                }
                let mut body: String = chars.get(i..j).unwrap_or_default().iter().collect();
                i = j + 1;
                let negate = body.starts_with('!');
                if negate {
                    body.remove(0);
                }
                let escaped: String = body
                    .chars()
                    .map(|c| {
                        if matches!(c, '\\' | '[' | '&' | '~' | '|' | '^') {
                            format!("\\{c}")
                        } else {
                            c.to_string()
                        }
                    })
                    .collect();
                out.push('[');
                if negate {
                    out.push('^');
                }
                out.push_str(&escaped);
                out.push(']');
            }
            c => out.push_str(&regex::escape(&c.to_string())),
        }
    }
    out.push_str(")\\z");
    regex::Regex::new(&out).map_err(|e| format!("bad pattern {pat:?}: {e}"))
}

fn unit_number(text: &str, units: &[(char, i64)]) -> Option<i64> {
    let t = text.to_lowercase();
    let (num, mult) = match t.chars().last() {
        Some(c) if c.is_ascii_alphabetic() => {
            let (_, m) = units.iter().find(|(u, _)| *u == c)?;
            (t.get(..t.len() - 1)?.to_string(), *m)
        }
        _ => (t.clone(), 1),
    };
    let digits = num.strip_prefix('-').unwrap_or(&num);
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    num.parse::<i64>().ok().map(|n| n * mult)
}

fn parse(ctx: &ModuleCtx<'_>) -> Result<Task, (String, Map)> {
    let plain = |e: String| (e, Map::new());
    let a = Args::new("find", ctx.args);
    a.only(KNOWN).map_err(plain)?;
    let first_list = |keys: &[&str]| -> Result<Option<Vec<String>>, String> {
        for k in keys {
            if let Some(v) = a.list(k)? {
                return Ok(Some(v));
            }
        }
        Ok(None)
    };
    let paths = first_list(&["paths", "name", "path"])
        .map_err(plain)?
        .ok_or_else(|| plain("missing required arguments: paths".into()))?;
    let use_regex = a.bool("use_regex", false).map_err(plain)?;
    let compile = |p: &String| -> Result<Pattern, String> {
        if use_regex {
            // `re.match`: anchored at the start only.
            py_re::compile(&format!("\\A(?:{p})"), false, false).map(Pattern::Re)
        } else {
            glob_regex(p).map(Pattern::Glob)
        }
    };
    let mut patterns = first_list(&["patterns", "pattern"]).map_err(plain)?.unwrap_or_default();
    if patterns.is_empty() {
        patterns.push(if use_regex { ".*".into() } else { "*".into() });
    }
    let patterns = patterns
        .iter()
        .map(compile)
        .collect::<Result<Vec<_>, _>>()
        .map_err(plain)?;
    let excludes = first_list(&["excludes", "exclude"])
        .map_err(plain)?
        .unwrap_or_default()
        .iter()
        .map(compile)
        .collect::<Result<Vec<_>, _>>()
        .map_err(plain)?;
    let file_type = match a.str("file_type").map_err(plain)?.as_deref() {
        None | Some("file") => FileType::File,
        Some("directory") => FileType::Directory,
        Some("link") => FileType::Link,
        Some("any") => FileType::Any,
        Some(o) => {
            return Err(plain(format!(
                "value of file_type must be one of: any, directory, file, link, got: {o}"
            )));
        }
    };
    let age_stamp = a.str("age_stamp").map_err(plain)?.unwrap_or_else(|| "mtime".into());
    if !["atime", "ctime", "mtime"].contains(&age_stamp.as_str()) {
        return Err(plain(format!(
            "value of age_stamp must be one of: atime, ctime, mtime, got: {age_stamp}"
        )));
    }
    let age = match a.str("age").map_err(plain)? {
        None => None,
        Some(t) => {
            let units = [('s', 1), ('m', 60), ('h', 3600), ('d', 86400), ('w', 604800)];
            match unit_number(&t, &units) {
                Some(n) => Some(n as f64),
                None => {
                    let mut m = Map::new();
                    m.insert("age".into(), Value::str(t));
                    return Err(("failed to process age".into(), m));
                }
            }
        }
    };
    let size = match a.str("size").map_err(plain)? {
        None => None,
        Some(t) => {
            let units = [('b', 1), ('k', 1 << 10), ('m', 1 << 20), ('g', 1 << 30), ('t', 1 << 40)];
            match unit_number(&t, &units) {
                Some(n) => Some(n),
                None => {
                    let mut m = Map::new();
                    m.insert("size".into(), Value::str(t));
                    return Err(("failed to process size".into(), m));
                }
            }
        }
    };
    let limit = match a.int("limit").map_err(plain)? {
        Some(n) if n <= 0 => return Err(plain(format!("limit cannot be {n} (use None for unlimited)"))),
        n => n.map(|n| n as usize),
    };
    let checksum = if a.bool("get_checksum", false).map_err(plain)? {
        let mut algo = None;
        for k in ["checksum_algorithm", "checksum", "checksum_algo"] {
            if algo.is_none() {
                algo = a.str(k).map_err(plain)?;
            }
        }
        Some(match algo.as_deref().unwrap_or("sha1") {
            "md5" => "md5sum",
            "sha1" => "sha1sum",
            "sha224" => "sha224sum",
            "sha256" => "sha256sum",
            "sha384" => "sha384sum",
            "sha512" => "sha512sum",
            o => {
                return Err(plain(format!(
                    "value of checksum_algorithm must be one of: md5, sha1, sha224, sha256, sha384, sha512, got: {o}"
                )));
            }
        })
    } else {
        None
    };
    let mode = match a.get("mode") {
        None => None,
        Some(Value::Str(_)) => match a.mode("mode").map_err(plain)? {
            Some(Mode::Bits(b)) => Some(b),
            Some(Mode::Symbolic(s)) => Some(super::file_attrs::symbolic(&s, 0, false).map_err(plain)?),
            None => None,
        },
        Some(v) => {
            return Err(plain(format!(
                "argument 'mode' is not a string and conversion is not allowed, value is of type {}",
                match v {
                    Value::Int(_) => "int",
                    Value::Float(_) => "float",
                    Value::Bool(_) => "bool",
                    Value::List(_) => "list",
                    Value::Map(_) => "dict",
                    _ => "str",
                }
            )));
        }
    };
    if let Some(enc) = a.str("encoding").map_err(plain)?
        && !matches!(enc.to_ascii_lowercase().replace('_', "-").as_str(), "utf-8" | "utf8")
    {
        return Err(plain(format!("encoding {enc} is not supported (only utf-8)")));
    }
    let contains = match a.str("contains").map_err(plain)? {
        None => None,
        Some(c) => Some(py_re::compile(&c, false, false).map_err(plain)?),
    };
    Ok(Task {
        paths,
        patterns,
        excludes,
        contains,
        read_whole_file: a.bool("read_whole_file", false).map_err(plain)?,
        file_type,
        age,
        age_stamp,
        size,
        recurse: a.bool("recurse", false).map_err(plain)?,
        hidden: a.bool("hidden", false).map_err(plain)?,
        follow: a.bool("follow", false).map_err(plain)?,
        checksum,
        depth: a
            .int("depth")
            .map_err(plain)?
            .filter(|d| *d != 0)
            .map(|d| d.max(0) as usize),
        mode,
        exact_mode: a.bool("exact_mode", true).map_err(plain)?,
        limit,
    })
}

impl Task {
    fn name_ok(&self, name: &str) -> bool {
        self.patterns.iter().any(|p| p.matches(name)) && !self.excludes.iter().any(|e| e.matches(name))
    }

    fn age_ok(&self, e: &Entry, now: f64) -> bool {
        let Some(age) = self.age else { return true };
        let t = match self.age_stamp.as_str() {
            "atime" => e.atime,
            "ctime" => e.ctime,
            _ => e.mtime,
        };
        if age >= 0.0 {
            now - t >= age.abs()
        } else {
            now - t <= age.abs()
        }
    }

    fn size_ok(&self, e: &Entry) -> bool {
        match self.size {
            None => true,
            Some(s) if s >= 0 => e.size as i64 >= s,
            Some(s) => e.size as i64 <= s.abs(),
        }
    }

    fn mode_ok(&self, e: &Entry) -> bool {
        match self.mode {
            None | Some(0) => true,
            Some(m) if self.exact_mode => e.mode & 0o7777 == m & 0o7777,
            Some(m) => e.mode & m & 0o7777 != 0,
        }
    }

    /// Every filter but `contains`, by the type the task asks for.
    fn wants(&self, e: &Entry, name: &str, now: f64) -> bool {
        let common = self.name_ok(name) && self.age_ok(e, now) && self.mode_ok(e);
        match self.file_type {
            FileType::Any => common && (e.kind != 'f' || self.size_ok(e)),
            FileType::Directory => e.kind == 'd' && common,
            FileType::File => e.kind == 'f' && common && self.size_ok(e),
            FileType::Link => e.kind == 'l' && common,
        }
    }

    /// `contains` on a file's bytes (`None`: unreadable, which Ansible treats as no match).
    fn content_ok(&self, fsname: &str, data: Option<&Vec<u8>>) -> Result<bool, String> {
        let (Some(re), Some(data)) = (&self.contains, data) else {
            return Ok(self.contains.is_none());
        };
        let text = std::str::from_utf8(data).map_err(|_| {
            format!(
                "Failed to read the file {fsname} due to an encoding error. current encoding: None (default determined by the Python built-in function \"open\")"
            )
        })?;
        if self.read_whole_file {
            return Ok(re.is_match(text));
        }
        // Text mode: `\r\n` read as `\n`; `re.match` at each line's start.
        let text = text.replace("\r\n", "\n");
        Ok(text.split_inclusive('\n').any(|line| {
            let body = line.strip_suffix('\n').unwrap_or(line);
            re.find(body).is_some_and(|m| m.start() == 0)
        }))
    }
}

fn file_fields(fsname: &str, e: &Entry) -> Map {
    let mut m = Map::new();
    let kind = |c: char| Value::Bool(e.kind == c);
    let bit = |b: u32| Value::Bool(e.mode & b != 0);
    m.insert("path".into(), Value::str(fsname));
    m.insert("mode".into(), Value::str(format!("{:04o}", e.mode & 0o7777)));
    m.insert("isdir".into(), kind('d'));
    m.insert("ischr".into(), kind('c'));
    m.insert("isblk".into(), kind('b'));
    m.insert("isreg".into(), kind('f'));
    m.insert("isfifo".into(), kind('p'));
    m.insert("islnk".into(), kind('l'));
    m.insert("issock".into(), kind('s'));
    m.insert("uid".into(), Value::Int(e.uid as i64));
    m.insert("gid".into(), Value::Int(e.gid as i64));
    m.insert("size".into(), Value::Int(e.size as i64));
    m.insert("inode".into(), Value::Int(e.inode as i64));
    m.insert("dev".into(), Value::Int(e.dev as i64));
    m.insert("nlink".into(), Value::Int(e.nlink as i64));
    m.insert("atime".into(), Value::Float(e.atime));
    m.insert("mtime".into(), Value::Float(e.mtime));
    m.insert("ctime".into(), Value::Float(e.ctime));
    m.insert("gr_name".into(), Value::str(&e.group));
    m.insert("pw_name".into(), Value::str(&e.user));
    for (k, b) in [
        ("wusr", 0o200),
        ("rusr", 0o400),
        ("xusr", 0o100),
        ("wgrp", 0o020),
        ("rgrp", 0o040),
        ("xgrp", 0o010),
        ("woth", 0o002),
        ("roth", 0o004),
        ("xoth", 0o001),
        ("isuid", 0o4000),
        ("isgid", 0o2000),
    ] {
        m.insert(k.into(), bit(b));
    }
    m
}

/// The outcome of replaying the module's loop over the listings.
#[derive(Default)]
struct Found {
    files: Vec<(String, Map, bool)>,
    looked: usize,
    msg: &'static str,
    skipped: Map,
    warnings: Vec<String>,
    /// Regular files that pass every filter but `contains`.
    candidates: Vec<String>,
}

fn search(t: &Task, now: f64, listings: &[(String, Listing)], contents: &HashMap<String, Option<Vec<u8>>>) -> Found {
    let mut f = Found {
        msg: "All paths examined",
        ..Found::default()
    };
    for (npath, listing) in listings {
        let entries = match listing {
            Listing::NotDir => {
                let why = format!("'{npath}' is not a directory");
                f.warnings
                    .push(format!("Skipped '{npath}' path due to this access issue: {why}\n"));
                f.skipped.insert(npath.clone(), Value::str(why));
                continue;
            }
            Listing::Entries(e) => e,
        };
        let walk = Walk::new(entries);
        let mut failure = None;
        walk.walk("", t.recurse, t.follow, &mut |list| {
            f.looked += list.len();
            let mut step = Step::Next;
            for e in list {
                let fsname = find_walk::normpath(&format!("{npath}/{}", e.rel));
                if t.depth.is_some_and(|d| e.depth > d) {
                    step = Step::Prune;
                    continue;
                }
                let name = e.rel.rsplit('/').next().unwrap_or_default();
                if name.starts_with('.') && !t.hidden {
                    continue;
                }
                if t.wants(e, name, now) {
                    let ok = if t.file_type == FileType::File && t.contains.is_some() {
                        f.candidates.push(fsname.clone());
                        t.content_ok(&fsname, contents.get(&fsname).and_then(Option::as_ref))
                    } else {
                        Ok(true)
                    };
                    match ok {
                        Ok(true) => f.files.push((fsname.clone(), file_fields(&fsname, e), e.kind == 'f')),
                        Ok(false) => {}
                        Err(why) => {
                            failure = Some(why);
                            return Step::Stop;
                        }
                    }
                }
                if Some(f.files.len()) == t.limit {
                    f.msg = "Limit of matches reached";
                    return Step::Stop;
                }
            }
            step
        });
        if let Some(why) = failure {
            f.warnings
                .push(format!("Skipped '{npath}' path due to this access issue: {why}\n"));
            f.skipped.insert(npath.clone(), Value::str(why));
        }
    }
    if !f.warnings.is_empty() {
        f.msg = "Not all paths examined, check warnings for details";
    }
    f
}

/// Each file's bytes (`None` when unreadable), for `contains`.
async fn read_contents(
    ctx: &ModuleCtx<'_>,
    files: &[String],
) -> connection::Result<Result<HashMap<String, Option<Vec<u8>>>, String>> {
    let mut line = String::new();
    for f in files {
        let q = match quote(f) {
            Ok(q) => q,
            Err(e) => return Ok(Err(e.to_string())),
        };
        line.push_str(&format!(
            "f={q}; if [ -r \"$f\" ] && n=$(wc -c < \"$f\"); then printf '%s\\n' \"$n\"; head -c \"$n\" -- \"$f\"; else printf 'x\\n'; fi; "
        ));
    }
    let out = ctx.exec(line).await?;
    let mut rest = out.stdout.as_slice();
    let mut map = HashMap::new();
    for f in files {
        let Some(nl) = rest.iter().position(|b| *b == b'\n') else {
            break;
        };
        let head = String::from_utf8_lossy(rest.get(..nl).unwrap_or_default())
            .trim()
            .to_string();
        rest = rest.get(nl + 1..).unwrap_or_default();
        match head.parse::<usize>() {
            Ok(n) => {
                let n = n.min(rest.len());
                map.insert(f.clone(), rest.get(..n).map(<[u8]>::to_vec));
                rest = rest.get(n..).unwrap_or_default();
            }
            Err(_) => {
                map.insert(f.clone(), None);
            }
        }
    }
    Ok(Ok(map))
}

/// `<algo>sum` of each file, in order (empty when unreadable).
async fn checksums(ctx: &ModuleCtx<'_>, tool: &str, files: &[&str]) -> connection::Result<Result<Vec<String>, String>> {
    let mut line = String::new();
    for f in files {
        match quote(f) {
            Ok(q) => line.push_str(&format!("{{ {tool} < {q} 2>/dev/null || echo -; }}; ")),
            Err(e) => return Ok(Err(e.to_string())),
        }
    }
    let out = ctx.exec(line).await?;
    Ok(Ok(out
        .stdout_lossy()
        .lines()
        .map(|l| {
            l.split_whitespace()
                .next()
                .filter(|s| *s != "-")
                .unwrap_or_default()
                .to_string()
        })
        .collect()))
}

pub fn run<'a>(ctx: &'a ModuleCtx<'a>) -> BoxFuture<'a, connection::Result<Outcome>> {
    Box::pin(async move {
        let mut t = match parse(ctx) {
            Ok(t) => t,
            Err((msg, data)) => {
                let mut o = Outcome::fail(msg);
                o.data = data;
                return Ok(o);
            }
        };
        for p in &mut t.paths {
            *p = match expand_user(ctx, p).await? {
                Ok(x) => x,
                Err(e) => return Ok(Outcome::fail(e)),
            };
        }
        // One level deeper than `depth` is listed: Ansible counts it in `examined`.
        let max_depth = if !t.recurse { Some(1) } else { t.depth.map(|d| d + 1) };
        let line = match find_walk::command(&t.paths, t.follow, max_depth) {
            Ok(l) => l,
            Err(e) => return Ok(Outcome::fail(e)),
        };
        let out = ctx.exec(line).await?;
        let (now, listings) = match find_walk::parse(&out.stdout) {
            Ok(r) => r,
            Err(e) => return Ok(Outcome::fail(e)),
        };
        let listings: Vec<(String, Listing)> = t.paths.iter().cloned().zip(listings).collect();
        let mut contents = HashMap::new();
        if t.contains.is_some() && t.file_type == FileType::File {
            let mut all = t.limit.take();
            let first = search(&t, now, &listings, &contents);
            std::mem::swap(&mut t.limit, &mut all);
            if !first.candidates.is_empty() {
                contents = match read_contents(ctx, &first.candidates).await? {
                    Ok(c) => c,
                    Err(e) => return Ok(Outcome::fail(e)),
                };
            }
        }
        let mut found = search(&t, now, &listings, &contents);
        for (path, why) in find_walk::walk_errors(&out.stderr_lossy()) {
            found.skipped.insert(path, Value::str(why));
        }
        if let Some(tool) = t.checksum {
            let regular: Vec<&str> = found.files.iter().filter(|f| f.2).map(|f| f.0.as_str()).collect();
            if !regular.is_empty() {
                let sums = match checksums(ctx, tool, &regular).await? {
                    Ok(s) => s,
                    Err(e) => return Ok(Outcome::fail(e)),
                };
                let mut sums = sums.into_iter();
                for f in found.files.iter_mut().filter(|f| f.2) {
                    f.1.insert("checksum".into(), Value::str(sums.next().unwrap_or_default()));
                }
            }
        }
        let matched = found.files.len() as i64;
        let files: Vec<Value> = found.files.into_iter().map(|f| Value::Map(f.1)).collect();
        let mut o = Outcome::ok()
            .msg(found.msg)
            .with("files", Value::List(files))
            .with("matched", matched)
            .with("examined", found.looked as i64)
            .with("skipped_paths", Value::Map(found.skipped));
        if !found.warnings.is_empty() {
            o = o.with(
                "warnings",
                Value::List(found.warnings.into_iter().map(Value::str).collect()),
            );
        }
        Ok(o)
    })
}

#[cfg(test)]
mod tests {
    use super::run;
    use crate::modules::file_tests::{HOSTILE, Harness, p, tmp};
    use crate::value::Value;
    use serde_json::json;

    /// `[args, paths (below the root), matched, examined, msg, skipped_paths]` from
    /// ansible-core 2.19.14 on the tree [`tree`] makes.
    const EXPECTED: &str = r#"
[{}, ["/b.conf", "/bin.dat", "/a.txt"], 3, 9, "All paths examined", {}]
[{"recurse": true}, ["/b.conf", "/bin.dat", "/a.txt", "/.hdir/f.txt", "/sub/c.txt", "/sub/deep/d.conf", "/sub/deep/deeper/e.txt"], 7, 15, "All paths examined", {}]
[{"recurse": true, "hidden": true}, ["/.hidden", "/b.conf", "/bin.dat", "/a.txt", "/.hdir/f.txt", "/sub/c.txt", "/sub/deep/d.conf", "/sub/deep/deeper/e.txt"], 8, 15, "All paths examined", {}]
[{"patterns": "*.txt,*.conf", "recurse": true}, ["/b.conf", "/a.txt", "/.hdir/f.txt", "/sub/c.txt", "/sub/deep/d.conf", "/sub/deep/deeper/e.txt"], 6, 15, "All paths examined", {}]
[{"patterns": ["^[a-c]\\..*"], "use_regex": true, "recurse": true}, ["/b.conf", "/a.txt", "/sub/c.txt"], 3, 15, "All paths examined", {}]
[{"patterns": "*", "excludes": "*.conf", "recurse": true, "file_type": "any"}, ["/bin.dat", "/alink", "/a.txt", "/emptydir", "/lnk", "/sub", "/.hdir/f.txt", "/sub/c.txt", "/sub/deep", "/sub/deep/deeper", "/sub/deep/deeper/e.txt"], 11, 15, "All paths examined", {}]
[{"file_type": "directory", "recurse": true, "hidden": true}, ["/emptydir", "/.hdir", "/sub", "/sub/deep", "/sub/deep/deeper"], 5, 15, "All paths examined", {}]
[{"file_type": "link"}, ["/alink", "/lnk"], 2, 9, "All paths examined", {}]
[{"recurse": true, "depth": 2}, ["/b.conf", "/bin.dat", "/a.txt", "/.hdir/f.txt", "/sub/c.txt"], 5, 14, "All paths examined", {}]
[{"contains": "wor", "recurse": true}, ["/a.txt"], 1, 15, "All paths examined", {}]
[{"contains": "^port", "recurse": true, "patterns": "*.conf"}, ["/sub/deep/d.conf"], 1, 15, "All paths examined", {}]
[{"size": "1k", "recurse": true}, ["/sub/c.txt"], 1, 15, "All paths examined", {}]
[{"size": "-1k", "recurse": true}, ["/b.conf", "/bin.dat", "/a.txt", "/.hdir/f.txt", "/sub/deep/d.conf", "/sub/deep/deeper/e.txt"], 6, 15, "All paths examined", {}]
[{"mode": "0600", "recurse": true}, ["/b.conf"], 1, 15, "All paths examined", {}]
[{"mode": "u=rw", "exact_mode": false}, ["/b.conf", "/bin.dat", "/a.txt"], 3, 9, "All paths examined", {}]
[{"recurse": true, "limit": 2}, ["/b.conf", "/bin.dat"], 2, 9, "Limit of matches reached", {}]
[{"age": "-1d", "recurse": true}, ["/b.conf", "/bin.dat", "/a.txt", "/.hdir/f.txt", "/sub/c.txt", "/sub/deep/d.conf", "/sub/deep/deeper/e.txt"], 7, 15, "All paths examined", {}]
[{"age": "1d", "recurse": true}, [], 0, 15, "All paths examined", {}]
[{"recurse": true, "follow": true}, ["/b.conf", "/bin.dat", "/a.txt", "/.hdir/f.txt", "/lnk/c.txt", "/lnk/deep/d.conf", "/lnk/deep/deeper/e.txt", "/sub/c.txt", "/sub/deep/d.conf", "/sub/deep/deeper/e.txt"], 10, 20, "All paths examined", {}]
[{"paths_extra": true}, ["/b.conf", "/bin.dat", "/a.txt"], 3, 9, "Not all paths examined, check warnings for details", {"/nope": "'/nope' is not a directory"}]
"#;

    fn tree(root: &str) {
        for d in ["sub/deep/deeper", ".hdir", "emptydir"] {
            let _ = std::fs::create_dir_all(format!("{root}/{d}"));
        }
        let files = [
            ("a.txt", "hello\nworld\n".to_string()),
            ("b.conf", "key=1\n".into()),
            (".hidden", "x\n".into()),
            ("sub/c.txt", format!("{}\n", "x".repeat(2000))),
            ("sub/deep/d.conf", "port = 80\n".into()),
            ("sub/deep/deeper/e.txt", "e\n".into()),
            (".hdir/f.txt", "f\n".into()),
            ("bin.dat", "\u{ff}\n".into()),
        ];
        for (name, body) in files {
            let _ = std::fs::write(format!("{root}/{name}"), body);
        }
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(format!("{root}/b.conf"), std::fs::Permissions::from_mode(0o600));
        let _ = std::os::unix::fs::symlink("sub", format!("{root}/lnk"));
        let _ = std::os::unix::fs::symlink("a.txt", format!("{root}/alink"));
    }

    fn paths(r: &crate::modules::Outcome, root: &str) -> Vec<String> {
        let Some(Value::List(files)) = r.data.get("files") else {
            return Vec::new();
        };
        files
            .iter()
            .filter_map(|f| f.as_map().and_then(|m| m.get("path")).and_then(Value::as_str))
            .map(|p| p.replacen(root, "", 1))
            .collect()
    }

    #[test]
    fn results_match_ansible_case_by_case() {
        let d = tmp();
        let root = p(d.path(), HOSTILE);
        tree(&root);
        let h = Harness::new(vec![]);
        for line in EXPECTED.lines().filter(|l| !l.trim().is_empty()) {
            let want: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
            let mut args = want[0].clone();
            let extra = args.get("paths_extra").is_some();
            if let Some(m) = args.as_object_mut() {
                m.remove("paths_extra");
                let paths = if extra {
                    json!([root, format!("{root}/nope")])
                } else {
                    json!(root)
                };
                m.insert("paths".into(), paths);
            }
            for check in [false, true] {
                let r = if check {
                    h.check(run, args.clone())
                } else {
                    h.run(run, args.clone())
                };
                assert!(!r.changed && !r.failed, "{args}: {r:?}");
                // Directory order is the file system's; compare as sets, counts exactly.
                let mut got = paths(&r, &root);
                let mut exp: Vec<String> = want[1]
                    .as_array()
                    .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
                    .unwrap_or_default();
                if want[0].get("limit").is_none() {
                    got.sort();
                    exp.sort();
                    assert_eq!(got, exp, "{args}");
                } else {
                    assert_eq!(got.len(), exp.len(), "{args}");
                }
                assert_eq!(
                    r.data.get("matched"),
                    Some(&Value::Int(want[2].as_i64().unwrap_or(-1))),
                    "{args}"
                );
                assert_eq!(
                    r.data.get("examined"),
                    Some(&Value::Int(want[3].as_i64().unwrap_or(-1))),
                    "{args}"
                );
                assert_eq!(r.msg.as_deref(), want[4].as_str(), "{args}");
                let skipped = r.data.get("skipped_paths").and_then(Value::as_map).map(|m| m.len());
                assert_eq!(skipped, want[5].as_object().map(|m| m.len()), "{args}");
            }
        }
    }

    #[test]
    fn per_file_fields_checksums_and_bad_args() {
        let d = tmp();
        let root = d.path().display().to_string();
        tree(&root);
        let h = Harness::new(vec![]);
        let r = h.run(run, json!({"paths": root, "patterns": "b.conf", "get_checksum": true}));
        let Some(Value::List(files)) = r.data.get("files") else {
            panic!("{r:?}")
        };
        let f = files.first().and_then(Value::as_map).cloned().unwrap_or_default();
        let keys: Vec<&str> = f.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "path", "mode", "isdir", "ischr", "isblk", "isreg", "isfifo", "islnk", "issock", "uid", "gid", "size",
                "inode", "dev", "nlink", "atime", "mtime", "ctime", "gr_name", "pw_name", "wusr", "rusr", "xusr",
                "wgrp", "rgrp", "xgrp", "woth", "roth", "xoth", "isuid", "isgid", "checksum"
            ]
        );
        assert_eq!(f.get("mode"), Some(&Value::str("0600")));
        assert_eq!(f.get("size"), Some(&Value::Int(6)));
        assert_eq!(f.get("rusr"), Some(&Value::Bool(true)));
        assert_eq!(f.get("roth"), Some(&Value::Bool(false)));
        assert_eq!(
            f.get("checksum"),
            Some(&Value::str(crate::modules::write_file::sha1_hex(b"key=1\n")))
        );
        let table = [
            (json!({}), "missing required arguments: paths"),
            (json!({"paths": root, "age": "3x"}), "failed to process age"),
            (json!({"paths": root, "size": "big"}), "failed to process size"),
            (
                json!({"paths": root, "limit": 0}),
                "limit cannot be 0 (use None for unlimited)",
            ),
            (
                json!({"paths": root, "mode": 420}),
                "argument 'mode' is not a string and conversion is not allowed, value is of type int",
            ),
            (
                json!({"paths": root, "file_type": "socket"}),
                "value of file_type must be one of: any, directory, file, link, got: socket",
            ),
        ];
        for (args, msg) in table {
            let r = h.run(run, args.clone());
            assert!(r.failed && r.msg.as_deref() == Some(msg), "{args}: {r:?}");
        }
    }
}
