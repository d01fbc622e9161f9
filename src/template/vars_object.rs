//! The lazy render context. Variables are fetched from `Vars` only when a template reads
//! them and templated then (strings inside lists and maps only when that element is read);
//! a stack of the variables being templated turns circular definitions into an error
//! instead of a stack overflow. `hostvars` resolves one host at a time.
//!
//! Errors found inside minijinja callbacks (which can only return a value) are parked in the
//! innermost active "slot" and win over whatever the render returned.

use super::error::{Error, ErrorKind, Result};
use super::native::{is_template, single_expression};
use super::{Templar, Vars};
use crate::value::Value;
use minijinja::value::{Enumerator, Object, ObjectRepr, Value as MjValue};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

/// The name under which a render context exposes its scope to our functions and filters.
pub(crate) const SCOPE_KEY: &str = "__play_scope__";
/// The variable the native-expression wrapper template assigns.
pub(crate) const NATIVE_VAR: &str = "__play_native__";
/// Deeper than this, templating variables through variables is surely runaway.
const MAX_DEPTH: usize = 256;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// State shared by every scope of one top-level render call.
pub(crate) struct Shared {
    pub templar: Templar,
    pub root: Arc<dyn Vars>,
    stack: Mutex<Vec<String>>,
    slots: Mutex<Vec<Option<Error>>>,
    hostvars: Mutex<Option<MjValue>>,
    hosts: Mutex<HashMap<String, Option<Arc<Scope>>>>,
    scopes: Mutex<Vec<Arc<Scope>>>,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Shared")
    }
}

impl Shared {
    /// Parks an error in the innermost active render; the first one wins.
    pub fn record(&self, e: Error) {
        let mut slots = lock(&self.slots);
        if let Some(slot) = slots.last_mut()
            && slot.is_none()
        {
            *slot = Some(e);
        }
    }

    pub fn push_slot(&self) {
        lock(&self.slots).push(None);
    }

    pub fn pop_slot(&self) -> Option<Error> {
        lock(&self.slots).pop().flatten()
    }

    fn hostvars(self: &Arc<Self>) -> MjValue {
        let mut hv = lock(&self.hostvars);
        hv.get_or_insert_with(|| MjValue::from_object(HostVars { shared: self.clone() }))
            .clone()
    }

    /// The scope of one host for `hostvars[host]`; asks `Vars::host` once per host and render.
    fn host_scope(self: &Arc<Self>, host: &str) -> Option<Arc<Scope>> {
        if let Some(s) = lock(&self.hosts).get(host) {
            return s.clone();
        }
        let scope = self
            .root
            .host(host)
            .map(|vars| Scope::new(self, vars, format!("hostvars['{host}']")));
        lock(&self.hosts).insert(host.to_string(), scope.clone());
        scope
    }
}

/// A session owns the shared state of one top-level call and breaks the reference cycles
/// (scope -> cached object -> scope) when it ends.
pub(crate) struct Session {
    pub shared: Arc<Shared>,
    pub root: Arc<Scope>,
}

impl Session {
    pub fn new(templar: &Templar, vars: Arc<dyn Vars>) -> Session {
        let shared = Arc::new(Shared {
            templar: templar.clone(),
            root: vars.clone(),
            stack: Mutex::new(Vec::new()),
            slots: Mutex::new(Vec::new()),
            hostvars: Mutex::new(None),
            hosts: Mutex::new(HashMap::new()),
            scopes: Mutex::new(Vec::new()),
        });
        let root = Scope::new(&shared, vars, String::new());
        Session { shared, root }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        for scope in lock(&self.shared.scopes).drain(..) {
            lock(&scope.cache).clear();
        }
        lock(&self.shared.hosts).clear();
        *lock(&self.shared.hostvars) = None;
    }
}

/// Variables of one host (the play's host, or one reached through `hostvars`).
pub(crate) struct Scope {
    pub shared: Arc<Shared>,
    pub vars: Arc<dyn Vars>,
    /// How paths inside this scope are named in messages: "" or "hostvars['h1']".
    label: String,
    cache: Mutex<HashMap<String, MjValue>>,
}

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Scope({})", self.label)
    }
}

impl Scope {
    fn new(shared: &Arc<Shared>, vars: Arc<dyn Vars>, label: String) -> Arc<Scope> {
        let scope = Arc::new(Scope {
            shared: shared.clone(),
            vars,
            label,
            cache: Mutex::new(HashMap::new()),
        });
        lock(&shared.scopes).push(scope.clone());
        scope
    }

    fn path_of(&self, name: &str) -> String {
        if self.label.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.label)
        }
    }

    /// The root render context for this scope.
    pub fn context(self: &Arc<Self>) -> MjValue {
        MjValue::from_object(Ctx {
            scope: self.clone(),
            root: true,
        })
    }

    /// A variable as templates see it: templated, cached for this render. `None` when the
    /// name is unknown (the caller decides whether that is an undefined marker).
    pub fn lookup(self: &Arc<Self>, name: &str) -> Option<MjValue> {
        if let Some(v) = lock(&self.cache).get(name) {
            return Some(v.clone());
        }
        let v = match self.vars.get(name) {
            Some(raw) => self.lift(&Arc::new(raw), Vec::new(), self.path_of(name)),
            None => match name {
                "hostvars" => self.shared.hostvars(),
                "vars" => MjValue::from_object(Ctx {
                    scope: self.clone(),
                    root: false,
                }),
                _ => return None,
            },
        };
        lock(&self.cache).insert(name.to_string(), v.clone());
        Some(v)
    }

    /// A raw value (the node at `segs` inside `root`) as a template sees it.
    fn lift(self: &Arc<Self>, root: &Arc<Value>, segs: Vec<Seg>, path: String) -> MjValue {
        let Some(node) = walk(root, &segs) else {
            return MjValue::UNDEFINED;
        };
        match node {
            Value::Str(s) if is_template(s) => self.template_var(s, path),
            Value::Str(s) => MjValue::from(s.as_str()),
            Value::Unsafe(s) => MjValue::from_safe_string(s.clone()),
            Value::Vault(v) => match &v.plaintext {
                Some(p) => MjValue::from_safe_string(p.clone()),
                None => {
                    let e = Error::new(ErrorKind::Vault { name: path });
                    self.shared.record(e.clone());
                    Marker::value(&self.shared, e)
                }
            },
            Value::List(_) | Value::Map(_) => {
                let is_map = matches!(node, Value::Map(_));
                MjValue::from_object(Lazy {
                    scope: self.clone(),
                    root: root.clone(),
                    segs,
                    path,
                    is_map,
                })
            }
            other => super::native::from_value(other),
        }
    }

    /// Templates the string value of variable `path`, guarding against cycles.
    fn template_var(self: &Arc<Self>, text: &str, path: String) -> MjValue {
        {
            let mut stack = lock(&self.shared.stack);
            if let Some(pos) = stack.iter().position(|p| *p == path) {
                let mut chain: Vec<String> = stack.get(pos..).unwrap_or_default().to_vec();
                chain.push(path);
                drop(stack);
                let e = Error::new(ErrorKind::Cycle { chain });
                self.shared.record(e.clone());
                return Marker::value(&self.shared, e);
            }
            if stack.len() >= MAX_DEPTH {
                drop(stack);
                let e = Error::render(format!(
                    "templating '{path}' nests more than {MAX_DEPTH} variables deep"
                ));
                self.shared.record(e.clone());
                return Marker::value(&self.shared, e);
            }
            stack.push(path.clone());
        }
        let result = self.render(text, true);
        lock(&self.shared.stack).pop();
        match result {
            Ok(v) => v,
            // A variable whose template uses something undefined is itself undefined
            // (so `is defined` and `default` still work on it).
            Err(e) if e.is_undefined() => Marker::value(&self.shared, e),
            Err(e) => {
                self.shared.record(e.clone());
                Marker::value(&self.shared, e)
            }
        }
    }

    /// Evaluates a bare conditional expression in this scope (its own type kept).
    pub fn render_condition(self: &Arc<Self>, expr: &str) -> Result<MjValue> {
        self.parked(expr, |templar, ctx| templar.run_condition(expr, ctx))
    }

    /// Renders `text` in this scope: natively (keeping the expression's type) when `native`
    /// and the text is one `{{ expr }}`, else to a string.
    pub fn render(self: &Arc<Self>, text: &str, native: bool) -> Result<MjValue> {
        self.parked(text, |templar, ctx| {
            templar.run(text, native.then(|| single_expression(text)).flatten(), ctx)
        })
    }

    /// Runs `f`, reporting first an error parked while lazy values were read during it.
    fn parked(
        self: &Arc<Self>,
        text: &str,
        f: impl FnOnce(&super::Templar, MjValue) -> std::result::Result<MjValue, minijinja::Error>,
    ) -> Result<MjValue> {
        self.shared.push_slot();
        let result = f(&self.shared.templar, self.context());
        if let Some(e) = self.shared.pop_slot() {
            return Err(e.in_template(text));
        }
        result.map_err(|e| super::convert_error(e, text))
    }
}

#[derive(Debug, Clone)]
enum Seg {
    Key(String),
    Idx(usize),
}

fn walk<'a>(root: &'a Value, segs: &[Seg]) -> Option<&'a Value> {
    let mut node = root;
    for seg in segs {
        node = match (seg, node) {
            (Seg::Key(k), Value::Map(m)) => m.get(k)?,
            (Seg::Idx(i), Value::List(l)) => l.get(*i)?,
            _ => return None,
        };
    }
    Some(node)
}

/// The root context of a render (`root: true`: unknown names are undefined markers so
/// `foo.bar | default(1)` works), or `vars` / `hostvars[h]` (unknown names are absent, so
/// `'x' in hostvars[h]` is false).
#[derive(Debug)]
pub(crate) struct Ctx {
    pub scope: Arc<Scope>,
    root: bool,
}

impl Object for Ctx {
    fn get_value(self: &Arc<Self>, key: &MjValue) -> Option<MjValue> {
        let name = key.as_str()?;
        if name == SCOPE_KEY {
            return Some(MjValue::from_dyn_object(self.clone()));
        }
        if let Some(v) = self.scope.lookup(name) {
            return Some(v);
        }
        if !self.root || self.scope.shared.templar.is_global(name) {
            return None;
        }
        Some(Marker::value(&self.scope.shared, Error::undefined(name)))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.scope.vars.names().into_iter().map(MjValue::from).collect())
    }
}

/// `hostvars`: a mapping of host names whose values are built only when read.
#[derive(Debug)]
struct HostVars {
    shared: Arc<Shared>,
}

impl Object for HostVars {
    fn get_value(self: &Arc<Self>, key: &MjValue) -> Option<MjValue> {
        let scope = self.shared.host_scope(key.as_str()?)?;
        Some(MjValue::from_object(Ctx { scope, root: false }))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.shared.root.host_names().into_iter().map(MjValue::from).collect())
    }
}

/// A list or map variable whose string elements are templated when read.
#[derive(Debug)]
struct Lazy {
    scope: Arc<Scope>,
    root: Arc<Value>,
    segs: Vec<Seg>,
    path: String,
    is_map: bool,
}

impl Lazy {
    fn node(&self) -> Option<&Value> {
        walk(&self.root, &self.segs)
    }

    fn child(&self, seg: Seg) -> MjValue {
        let path = match &seg {
            Seg::Key(k) => format!("{}.{k}", self.path),
            Seg::Idx(i) => format!("{}[{i}]", self.path),
        };
        let mut segs = self.segs.clone();
        segs.push(seg);
        self.scope.lift(&self.root, segs, path)
    }
}

impl Object for Lazy {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        if self.is_map { ObjectRepr::Map } else { ObjectRepr::Seq }
    }

    fn get_value(self: &Arc<Self>, key: &MjValue) -> Option<MjValue> {
        match self.node()? {
            Value::Map(m) => {
                let k = match key.as_str() {
                    Some(k) => k.to_string(),
                    None => key.to_string(),
                };
                m.contains_key(&k).then(|| self.child(Seg::Key(k)))
            }
            Value::List(l) => {
                let i = usize::try_from(key.as_i64()?).ok()?;
                (i < l.len()).then(|| self.child(Seg::Idx(i)))
            }
            _ => None,
        }
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        match self.node() {
            Some(Value::Map(m)) => Enumerator::Values(m.keys().map(|k| MjValue::from(k.as_str())).collect()),
            Some(Value::List(l)) => Enumerator::Seq(l.len()),
            _ => Enumerator::Empty,
        }
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        match self.node() {
            Some(Value::Map(m)) => Some(m.len()),
            Some(Value::List(l)) => Some(l.len()),
            _ => Some(0),
        }
    }
}

/// An undefined variable that remembers why it is undefined. Attribute access keeps the
/// marker (so chains end in `default`), `defined`/`default` see it as undefined, and any
/// other use parks the error.
#[derive(Debug)]
pub(crate) struct Marker {
    shared: Arc<Shared>,
    error: Error,
}

impl Marker {
    pub fn value(shared: &Arc<Shared>, error: Error) -> MjValue {
        MjValue::from_object(Marker {
            shared: shared.clone(),
            error,
        })
    }

    pub fn error(&self) -> Error {
        self.error.clone()
    }

    /// Parks this marker's error: it was used where a real value is needed.
    pub fn used(&self) {
        self.shared.record(self.error.clone());
    }
}

/// True for minijinja's undefined and for our markers.
pub(crate) fn is_undefined(v: &MjValue) -> bool {
    v.is_undefined() || v.downcast_object_ref::<Marker>().is_some()
}

impl Object for Marker {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, _key: &MjValue) -> Option<MjValue> {
        Some(MjValue::from_dyn_object(self.clone()))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        self.used();
        Enumerator::Empty
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        self.used();
        None
    }

    fn is_true(self: &Arc<Self>) -> bool {
        self.used();
        false
    }

    fn call(
        self: &Arc<Self>,
        _state: &minijinja::State<'_, '_>,
        _args: &[MjValue],
    ) -> std::result::Result<MjValue, minijinja::Error> {
        self.used();
        Err(minijinja::Error::new(
            minijinja::ErrorKind::UndefinedError,
            self.error.message(),
        ))
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &minijinja::State<'_, '_>,
        _method: &str,
        _args: &[MjValue],
    ) -> std::result::Result<MjValue, minijinja::Error> {
        self.used();
        Err(minijinja::Error::new(
            minijinja::ErrorKind::UndefinedError,
            self.error.message(),
        ))
    }

    fn render(self: &Arc<Self>, _f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.used();
        Ok(())
    }
}

/// The scope a filter or function runs in (found through the render context).
pub(crate) fn scope_of(state: &minijinja::State<'_, '_>) -> Option<Arc<Scope>> {
    let v = state.lookup(SCOPE_KEY)?;
    v.downcast_object_ref::<Ctx>().map(|c| c.scope.clone())
}
