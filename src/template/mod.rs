//! Renders Ansible's Jinja the way ansible-core 2.19 does: strict undefined variables,
//! variables templated lazily when read (with cycle detection), `{{ expr }}` alone keeping its
//! native type, `!unsafe` never templated, and Ansible's filters, tests and lookups.
//!
//! Callers hand in their variables through [`Vars`]; nothing outside this module sees minijinja.

pub mod error;
mod filters;
mod literal_escapes;
mod lookups;
mod native;
mod tests;
mod trust;
mod vars_object;
pub mod version;

pub use error::{Error, ErrorKind, Result};
pub use trust::{untrusted, untrusted_map, untrusted_result};

use crate::value::Value;
use minijinja::Environment;
use minijinja::value::Value as MjValue;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use vars_object::{Marker, NATIVE_VAR, Session};

/// Where variables come from. Values are raw (untemplated); the templar templates them when
/// a template reads them.
pub trait Vars: Send + Sync {
    /// A top-level variable, raw.
    fn get(&self, name: &str) -> Option<Value>;
    /// All visible variable names (for `vars` and `lookup('vars')`).
    fn names(&self) -> Vec<String>;
    /// The variables of another host; backs `hostvars[host]`.
    fn host(&self, _host: &str) -> Option<Arc<dyn Vars>> {
        None
    }
    /// Every inventory host name (the keys of `hostvars`).
    fn host_names(&self) -> Vec<String> {
        Vec::new()
    }
}

/// A plain map of variables, optionally layered over another `Vars` (loop variables over
/// host variables, for example).
#[derive(Default)]
pub struct MapVars {
    pub vars: crate::value::Map,
    pub parent: Option<Arc<dyn Vars>>,
}

impl MapVars {
    pub fn new(vars: crate::value::Map) -> MapVars {
        MapVars { vars, parent: None }
    }

    pub fn over(parent: Arc<dyn Vars>, vars: crate::value::Map) -> MapVars {
        MapVars {
            vars,
            parent: Some(parent),
        }
    }
}

impl Vars for MapVars {
    fn get(&self, name: &str) -> Option<Value> {
        self.vars.get(name).cloned().or_else(|| self.parent.as_ref()?.get(name))
    }
    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.parent.as_ref().map(|p| p.names()).unwrap_or_default();
        let seen: HashSet<String> = names.iter().cloned().collect();
        names.extend(self.vars.keys().filter(|k| !seen.contains(*k)).cloned());
        names
    }
    fn host(&self, host: &str) -> Option<Arc<dyn Vars>> {
        self.parent.as_ref()?.host(host)
    }
    fn host_names(&self) -> Vec<String> {
        self.parent.as_ref().map(|p| p.host_names()).unwrap_or_default()
    }
}

/// What the templar needs to know about the run, fixed for its lifetime.
#[derive(Debug, Clone, Default)]
pub struct TemplarContext {
    /// Directories searched by `lookup('file')`, `lookup('template')` and `first_found`
    /// (each also through its `files/` or `templates/` subdirectory), after the `role_path`
    /// variable and before the `playbook_dir` variable. `ansible_search_path`, when set,
    /// replaces all of these.
    pub search_dirs: Vec<PathBuf>,
    /// The playbook's directory, used when the `playbook_dir` variable is not set.
    pub playbook_dir: Option<PathBuf>,
    /// Extra environment for `lookup('env')`, checked before the process environment.
    pub env: HashMap<String, String>,
}

/// Why an expression that came from a host (or `!unsafe`) is not evaluated; ansible-core's words.
pub const UNTRUSTED: &str = "Encountered untrusted template or expression. Templates and expressions must be defined by trusted sources such as playbooks or roles, not untrusted sources such as module results.";

/// The placeholder `omit` renders to; map entries equal to it are dropped by [`strip_omit`].
pub const OMIT: &str = "__omit_place_holder__6d1f4e2a9c";

/// Drops map entries and list items whose value is the `omit` placeholder, at any depth.
pub fn strip_omit(v: Value) -> Value {
    match v {
        Value::Map(m) => Value::Map(
            m.into_iter()
                .filter(|(_, v)| !is_omit(v))
                .map(|(k, v)| (k, strip_omit(v)))
                .collect(),
        ),
        Value::List(l) => Value::List(l.into_iter().filter(|v| !is_omit(v)).map(strip_omit).collect()),
        other => other,
    }
}

/// True for the `omit` placeholder.
pub fn is_omit(v: &Value) -> bool {
    matches!(v, Value::Str(s) | Value::Unsafe(s) if s == OMIT)
}

const INLINE_PREFIX: &str = "\u{1}";
const NATIVE_PREFIX: &str = "\u{2}";
/// A bare conditional (`when: x == 'a'`), evaluated like NATIVE_PREFIX but escapes decoded.
const CONDITION_PREFIX: &str = "\u{3}";

/// The templating stage. Cheap to clone; one instance serves a whole run and caches every
/// template text it compiled.
#[derive(Clone)]
pub struct Templar {
    inner: Arc<Inner>,
}

struct Inner {
    env: Environment<'static>,
    ctx: TemplarContext,
    globals: HashSet<String>,
}

impl Templar {
    pub fn new(ctx: TemplarContext) -> Templar {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        env.set_trim_blocks(true);
        env.set_keep_trailing_newline(true);
        env.set_recursion_limit(400);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.set_formatter(format_value);
        let search = ctx.search_dirs.clone();
        env.set_loader(move |name| load_template(name, &search));
        env.set_path_join_callback(join_template_path);
        env.add_global("omit", OMIT);
        filters::register(&mut env);
        tests::register(&mut env);
        lookups::register(&mut env);
        let globals = env.globals().map(|(k, _)| k.to_string()).collect();
        Templar {
            inner: Arc::new(Inner { env, ctx, globals }),
        }
    }

    pub fn context(&self) -> &TemplarContext {
        &self.inner.ctx
    }

    pub(crate) fn is_global(&self, name: &str) -> bool {
        self.inner.globals.contains(name)
    }

    /// True when the text holds Jinja syntax and so needs rendering.
    pub fn is_template(text: &str) -> bool {
        native::is_template(text)
    }

    /// Renders one string. A string that is exactly one `{{ expr }}` yields the expression's
    /// own type; anything else yields a string. Plain strings never reach the engine.
    pub fn render_str(&self, text: &str, vars: &Arc<dyn Vars>) -> Result<Value> {
        if !native::is_template(text) {
            return Ok(Value::Str(text.to_string()));
        }
        let session = Session::new(self, vars.clone());
        render_in(&session, text)
    }

    /// Renders every string inside a value (lists and maps recursively); `!unsafe` strings
    /// are kept as written.
    pub fn render_value(&self, v: &Value, vars: &Arc<dyn Vars>) -> Result<Value> {
        if !needs_render(v) {
            return Ok(v.clone());
        }
        let session = Session::new(self, vars.clone());
        render_value_in(&session, v)
    }

    /// Evaluates a bare conditional expression (`when:`, `failed_when:`, `that:`).
    pub fn eval_condition(&self, expr: &str, vars: &Arc<dyn Vars>) -> Result<bool> {
        let trimmed = expr.trim();
        let session = Session::new(self, vars.clone());
        let v = if native::single_expression(trimmed).is_some() {
            render_in(&session, trimmed)
        } else {
            // A bare expression: 2.19 decodes escapes in its literals ('a\nb' is 3 characters
            // here, 4 inside `{{ }}`).
            session
                .root
                .render_condition(trimmed)
                .and_then(|v| to_value_checked(&session, &v, trimmed))
        }
        .map_err(|e| e.in_template(expr))?;
        Ok(truthy(&v))
    }

    /// A conditional as written in YAML: a boolean, an expression, or a list of them (all
    /// must hold).
    pub fn eval_when(&self, cond: &Value, vars: &Arc<dyn Vars>) -> Result<bool> {
        match cond {
            Value::Null => Ok(true),
            Value::Str(s) => self.eval_condition(s, vars),
            // Host output or `!unsafe`: never evaluated as an expression, as in ansible-core.
            Value::Unsafe(_) => Err(Error::render(UNTRUSTED)),
            Value::List(items) => {
                for item in items {
                    if !self.eval_when(item, vars)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            other => Ok(truthy(other)),
        }
    }

    /// Renders a template file (for the `template` module and `lookup('template')`).
    /// `{% include %}` names are looked up beside the file, then in the search dirs.
    pub fn render_template_file(&self, path: &Path, vars: &Arc<dyn Vars>) -> Result<String> {
        let session = Session::new(self, vars.clone());
        render_file_in(&session, path)
    }

    /// Runs one template text in a context: natively for `native_expr`, else to a string.
    pub(crate) fn run(
        &self,
        text: &str,
        native_expr: Option<&str>,
        ctx: MjValue,
    ) -> std::result::Result<MjValue, minijinja::Error> {
        if let Some(expr) = native_expr {
            match self.evaluate(NATIVE_PREFIX, expr, &ctx) {
                // Not an expression after all (`{{ a }} }}`): render it as text.
                Err(e) if e.kind() == minijinja::ErrorKind::SyntaxError => {}
                other => return other,
            }
        }
        let t = self.inner.env.get_template(&format!("{INLINE_PREFIX}{text}"))?;
        Ok(MjValue::from(t.render(&ctx)?))
    }

    /// Evaluates a bare conditional expression natively, its literals' escapes decoded.
    pub(crate) fn run_condition(&self, expr: &str, ctx: MjValue) -> std::result::Result<MjValue, minijinja::Error> {
        self.evaluate(CONDITION_PREFIX, expr, &ctx)
    }

    /// One expression's own value, loaded under `prefix` (which says how its literals read).
    fn evaluate(&self, prefix: &str, expr: &str, ctx: &MjValue) -> std::result::Result<MjValue, minijinja::Error> {
        let t = self.inner.env.get_template(&format!("{prefix}{expr}"))?;
        let captured = t.render_captured(ctx)?;
        Ok(captured.state().lookup(NATIVE_VAR).unwrap_or(MjValue::UNDEFINED))
    }

    fn run_file(&self, path: &Path, ctx: MjValue) -> std::result::Result<String, minijinja::Error> {
        let t = self.inner.env.get_template(&path.to_string_lossy())?;
        t.render(&ctx)
    }
}

fn render_in(session: &Session, text: &str) -> Result<Value> {
    let v = session.root.render(text, true)?;
    to_value_checked(session, &v, text)
}

fn render_file_in(session: &Session, path: &Path) -> Result<String> {
    let shown = path.display().to_string();
    // Loaded by absolute name: the loader does not search the working directory.
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let path = absolute.as_path();
    if !path.is_file() {
        return Err(Error::lookup("template", format!("template file {shown} not found")));
    }
    session.shared.push_slot();
    let result = session.shared.templar.run_file(path, session.root.context());
    if let Some(e) = session.shared.pop_slot() {
        return Err(e.in_template(&shown));
    }
    result.map_err(|e| convert_error(e, &shown))
}

/// Converts a render result, catching errors parked while lazy elements were read.
fn to_value_checked(session: &Session, v: &MjValue, text: &str) -> Result<Value> {
    session.shared.push_slot();
    let converted = native::to_value(v);
    if let Some(e) = session.shared.pop_slot() {
        return Err(e.in_template(text));
    }
    converted.map_err(|e| match e.kind {
        // A bare `{{ d.missing }}`: name the expression rather than "value".
        ErrorKind::Undefined { ref name, detail: None } if name == "value" => {
            Error::undefined(native::single_expression(text).unwrap_or(text).trim()).in_template(text)
        }
        _ => e.in_template(text),
    })
}

fn render_value_in(session: &Session, v: &Value) -> Result<Value> {
    Ok(match v {
        Value::Str(s) if native::is_template(s) => render_in(session, s)?,
        Value::Vault(vv) if vv.plaintext.is_none() => {
            return Err(Error::new(ErrorKind::Vault { name: "value".into() }));
        }
        Value::List(l) => Value::List(l.iter().map(|x| render_value_in(session, x)).collect::<Result<_>>()?),
        Value::Map(m) => Value::Map(
            m.iter()
                .map(|(k, x)| Ok((k.clone(), render_value_in(session, x)?)))
                .collect::<Result<_>>()?,
        ),
        other => other.clone(),
    })
}

fn needs_render(v: &Value) -> bool {
    match v {
        Value::Str(s) => native::is_template(s),
        Value::Vault(vv) => vv.plaintext.is_none(),
        Value::List(l) => l.iter().any(needs_render),
        Value::Map(m) => m.values().any(needs_render),
        _ => false,
    }
}

/// Python truthiness, with Ansible's boolean strings (`"false"`, `"no"`) read as booleans.
pub(crate) fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Int(i) => *i != 0,
        Value::Float(f) => *f != 0.0,
        Value::Str(s) | Value::Unsafe(s) => v.as_bool_loose().unwrap_or(!s.is_empty()),
        Value::Vault(_) => true,
        Value::List(l) => !l.is_empty(),
        Value::Map(m) => !m.is_empty(),
    }
}

/// Prints `{{ ... }}` results: undefined values are errors, the rest as Python would.
fn format_value(
    out: &mut minijinja::Output,
    _state: &minijinja::State,
    v: &MjValue,
) -> std::result::Result<(), minijinja::Error> {
    if let Some(m) = v.downcast_object_ref::<Marker>() {
        m.used();
        return Err(minijinja::Error::new(
            minijinja::ErrorKind::UndefinedError,
            m.error().message(),
        ));
    }
    if v.is_undefined() {
        return Err(minijinja::Error::from(minijinja::ErrorKind::UndefinedError));
    }
    let mut s = String::new();
    native::print_top(v, &mut s);
    out.write_str(&s)
        .map_err(|_| minijinja::Error::new(minijinja::ErrorKind::WriteFailure, "cannot write template output"))
}

fn load_template(name: &str, search: &[PathBuf]) -> std::result::Result<Option<String>, minijinja::Error> {
    if let Some(expr) = name.strip_prefix(NATIVE_PREFIX) {
        let wrapped = format!("{{% set {NATIVE_VAR} = ({expr}) %}}");
        return Ok(Some(literal_escapes::keep_backslashes(&wrapped).into_owned()));
    }
    if let Some(expr) = name.strip_prefix(CONDITION_PREFIX) {
        return Ok(Some(format!("{{% set {NATIVE_VAR} = ({expr}) %}}")));
    }
    if let Some(text) = name.strip_prefix(INLINE_PREFIX) {
        return Ok(Some(literal_escapes::keep_backslashes(text).into_owned()));
    }
    let direct = PathBuf::from(name);
    let candidates = direct.is_absolute().then(|| direct.clone()).into_iter().chain(
        search
            .iter()
            .flat_map(|d| [d.join("templates").join(name), d.join(name)]),
    );
    for p in candidates {
        if p.is_file() {
            return std::fs::read_to_string(&p).map(Some).map_err(|e| {
                minijinja::Error::new(
                    minijinja::ErrorKind::TemplateNotFound,
                    format!("cannot read {}: {e}", p.display()),
                )
            });
        }
    }
    Ok(None)
}

/// `{% include 'x' %}` inside a template file: beside that file first.
fn join_template_path<'s>(name: &'s str, parent: &'s str) -> Cow<'s, str> {
    if [INLINE_PREFIX, NATIVE_PREFIX, CONDITION_PREFIX]
        .iter()
        .any(|p| parent.starts_with(p))
        || Path::new(name).is_absolute()
    {
        return Cow::Borrowed(name);
    }
    match Path::new(parent).parent() {
        Some(dir) if dir.join(name).is_file() => Cow::Owned(dir.join(name).to_string_lossy().into_owned()),
        _ => Cow::Borrowed(name),
    }
}

/// Maps a minijinja error to ours, naming the undefined expression when it can.
pub(crate) fn convert_error(e: minijinja::Error, text: &str) -> Error {
    let detail = e.detail().map(str::to_string);
    let err = match e.kind() {
        minijinja::ErrorKind::SyntaxError => {
            let line = e.line().map(|l| format!(" (line {l})")).unwrap_or_default();
            Error::new(ErrorKind::Syntax {
                message: format!("{}{line}", detail.unwrap_or_default()),
            })
        }
        minijinja::ErrorKind::UndefinedError => {
            let snippet = e
                .range()
                .and_then(|r| e.template_source().and_then(|s| s.get(r)))
                .map(|s| s.trim().to_string());
            match (detail, snippet) {
                (Some(d), _) if d.starts_with('\'') => Error::new(ErrorKind::Undefined {
                    name: d.trim_end_matches(" is undefined").trim_matches('\'').to_string(),
                    detail: None,
                }),
                (_, Some(s)) if !s.is_empty() => Error::undefined(s),
                (Some(d), _) => Error::new(ErrorKind::Undefined {
                    name: "value".into(),
                    detail: Some(d),
                }),
                (None, _) => Error::undefined("value"),
            }
        }
        kind => {
            let mut msg = kind.to_string();
            if let Some(d) = detail {
                msg = format!("{msg}: {d}");
            }
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                msg = format!("{msg}: {s}");
                src = s.source();
            }
            Error::render(msg)
        }
    };
    err.in_template(text)
}

#[cfg(test)]
mod render_tests;
