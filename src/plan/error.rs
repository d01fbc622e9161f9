//! The plan stage's one error type: host patterns, variable layering, role expansion, batches.

use crate::syntax::Span;
use std::fmt;

#[derive(Debug)]
pub struct Error {
    pub kind: ErrorKind,
    pub span: Option<Span>,
    pub help: Option<String>,
}

#[derive(Debug)]
pub enum ErrorKind {
    /// A host pattern that cannot be parsed (`a[1:`, `~(`).
    BadPattern { pattern: String, message: String },
    /// A `serial` value that is not an integer, a percentage or a list of them.
    BadSerial { message: String },
    /// A template in a play keyword or file name failed.
    Template { message: String },
    /// Roles that depend on each other in a circle.
    RoleCycle { chain: Vec<String> },
    /// A role reference whose role was not loaded with the playbook (an engine bug).
    RoleNotLoaded { name: String },
    /// A task names a module this engine does not run yet.
    ModuleNotImplemented { module: String },
    /// A task gives a module an argument it does not take (`not_yet`: Ansible's module takes
    /// it, this engine does not read it yet).
    UnknownArgument {
        module: String,
        argument: String,
        suggestion: Option<String>,
        not_yet: bool,
    },
    /// Free text given to a module that takes only `key=value` arguments.
    FreeFormNotTaken { module: String },
    /// Arguments written as one template (`args: "{{ x }}"`): their names are unknown until
    /// the run, so they cannot be checked before it.
    TemplatedArguments { module: String },
    /// Anything the syntax stage reported while the plan loaded more files.
    Syntax(Box<crate::syntax::Error>),
}

impl Error {
    pub fn new(kind: ErrorKind, span: Option<Span>) -> Error {
        Error { kind, span, help: None }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Error {
        self.help = Some(help.into());
        self
    }

    fn message(&self) -> String {
        match &self.kind {
            ErrorKind::BadPattern { pattern, message } => {
                format!("bad host pattern '{pattern}': {message}")
            }
            ErrorKind::BadSerial { message } => format!("bad serial: {message}"),
            ErrorKind::Template { message } => message.clone(),
            ErrorKind::RoleCycle { chain } => {
                format!("role dependencies form a cycle: {}", chain.join(" -> "))
            }
            ErrorKind::RoleNotLoaded { name } => {
                format!("role '{name}' was not loaded with the playbook")
            }
            ErrorKind::ModuleNotImplemented { module } => {
                format!("module '{module}' is not implemented by play yet")
            }
            ErrorKind::UnknownArgument {
                module,
                argument,
                suggestion,
                not_yet,
            } => {
                let mut m = if *not_yet {
                    format!("module '{module}' does not support the argument '{argument}' yet")
                } else {
                    format!("module '{module}' has no argument '{argument}'")
                };
                if let Some(s) = suggestion {
                    m.push_str(&format!("; did you mean '{s}'?"));
                }
                m
            }
            ErrorKind::FreeFormNotTaken { module } => {
                format!("module '{module}' takes no free-form text, only key=value arguments")
            }
            ErrorKind::TemplatedArguments { module } => {
                format!("the arguments of '{module}' are one template, so they cannot be checked before the run")
            }
            ErrorKind::Syntax(e) => e.to_string(),
        }
    }
}

impl From<crate::syntax::Error> for Error {
    fn from(e: crate::syntax::Error) -> Error {
        Error::new(ErrorKind::Syntax(Box::new(e)), None)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let ErrorKind::Syntax(e) = &self.kind {
            return write!(f, "{e}");
        }
        crate::syntax::span::write_diagnostic(f, self.span.as_ref(), &self.message(), self.help.as_deref())
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;
