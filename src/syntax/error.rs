//! The syntax stage's one error type: what went wrong, where, and what to do about it.

use super::span::Span;
use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Debug)]
pub struct Error {
    pub kind: ErrorKind,
    /// Where the problem is; `None` only for problems that have no place (a missing file).
    pub span: Option<Span>,
    /// What the user can do about it.
    pub help: Option<String>,
}

#[derive(Debug)]
pub enum ErrorKind {
    /// A file could not be read.
    Io { path: PathBuf, message: String },
    /// A file is not UTF-8 text.
    NotUtf8 { path: PathBuf },
    /// The YAML itself is malformed.
    Yaml { message: String },
    /// A YAML tag we do not know (`!foo`).
    UnknownTag { tag: String },
    /// A keyword that does not belong where it was written.
    UnknownKeyword {
        keyword: String,
        context: &'static str,
        suggestion: Option<String>,
    },
    /// A task names a module (or action) that does not exist.
    UnknownModule { name: String, suggestion: Option<String> },
    /// A value of the wrong shape (`hosts: [1, 2]` where a pattern was expected...).
    WrongType {
        what: String,
        expected: &'static str,
        found: &'static str,
    },
    /// A value of the right shape but not allowed (`strategy: fastest`).
    InvalidValue { what: String, message: String },
    /// Something that must be given is missing (`hosts` on a play).
    Missing { what: String, context: &'static str },
    /// More than one of a set of mutually exclusive things (`loop` and `with_items`).
    Conflict { message: String },
    /// A role, task file, vars file or template that cannot be found.
    NotFound {
        what: &'static str,
        name: String,
        searched: Vec<PathBuf>,
    },
    /// Roles that depend on each other in a circle.
    RoleCycle { chain: Vec<String> },
    /// Task files or playbooks that import each other in a circle.
    ImportCycle { chain: Vec<String> },
    /// An inventory or host pattern problem.
    Inventory { message: String },
    /// Vault data that cannot be decrypted: no password, the wrong one, or tampered data.
    Vault { message: String },
}

impl Error {
    pub fn new(kind: ErrorKind, span: Option<Span>) -> Error {
        Error { kind, span, help: None }
    }

    pub fn at(kind: ErrorKind, span: &Span) -> Error {
        Error {
            kind,
            span: Some(span.clone()),
            help: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Error {
        self.help = Some(help.into());
        self
    }

    fn message(&self) -> String {
        match &self.kind {
            ErrorKind::Io { path, message } => format!("cannot read {}: {message}", path.display()),
            ErrorKind::NotUtf8 { path } => format!("{} is not UTF-8 text", path.display()),
            ErrorKind::Yaml { message } => format!("invalid YAML: {message}"),
            ErrorKind::UnknownTag { tag } => format!("unknown YAML tag {tag}"),
            ErrorKind::UnknownKeyword {
                keyword,
                context,
                suggestion,
            } => match suggestion {
                Some(s) => {
                    format!("'{keyword}' is not a valid keyword for {context}; did you mean '{s}'?")
                }
                None => format!("'{keyword}' is not a valid keyword for {context}"),
            },
            ErrorKind::UnknownModule { name, suggestion } => match suggestion {
                Some(s) => format!("no module or action named '{name}'; did you mean '{s}'?"),
                None => format!("no module or action named '{name}'"),
            },
            ErrorKind::WrongType { what, expected, found } => format!("{what} must be {expected}, not {found}"),
            ErrorKind::InvalidValue { what, message } => format!("invalid {what}: {message}"),
            ErrorKind::Missing { what, context } => format!("{context} has no '{what}'"),
            ErrorKind::Conflict { message } => message.clone(),
            ErrorKind::NotFound { what, name, searched } => {
                let mut m = format!("{what} '{name}' not found");
                if !searched.is_empty() {
                    m.push_str("; looked in:");
                    for p in searched.iter().map(|p| {
                        if p.as_os_str().is_empty() {
                            Path::new(".")
                        } else {
                            p.as_path()
                        }
                    }) {
                        m.push_str(&format!("\n    {}", p.display()));
                    }
                }
                m
            }
            ErrorKind::RoleCycle { chain } => {
                format!("role dependencies form a cycle: {}", chain.join(" -> "))
            }
            ErrorKind::ImportCycle { chain } => {
                format!("imports form a cycle: {}", chain.join(" -> "))
            }
            ErrorKind::Inventory { message } => message.clone(),
            ErrorKind::Vault { message } => message.clone(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::syntax::span::write_diagnostic(f, self.span.as_ref(), &self.message(), self.help.as_deref())
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;
