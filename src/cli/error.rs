//! The cli stage's one error type: configuration files, environment settings, options that
//! do not fit together, and `-e` values.

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
    /// `ansible.cfg` is not a valid INI file.
    ConfigSyntax { message: String },
    /// A setting (from the cfg file, the environment or the command line) has a bad value.
    BadSetting {
        setting: String,
        origin: String,
        message: String,
    },
    /// Options that do not go together, or a value out of range.
    BadOption { message: String },
    /// An `-e` value that cannot be read.
    ExtraVars { arg: String, message: String },
    /// A file named by an option could not be read.
    Io { what: String, message: String },
    /// A YAML or vault problem in a file the command line pointed at.
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
            ErrorKind::ConfigSyntax { message } => format!("invalid configuration file: {message}"),
            ErrorKind::BadSetting {
                setting,
                origin,
                message,
            } => format!("invalid {setting} (from {origin}): {message}"),
            ErrorKind::BadOption { message } => message.clone(),
            ErrorKind::ExtraVars { arg, message } => {
                format!("invalid extra vars '{arg}': {message}")
            }
            ErrorKind::Io { what, message } => format!("cannot read {what}: {message}"),
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
            write!(f, "{e}")?;
            if let Some(help) = &self.help {
                write!(f, "\n  = help: {help}")?;
            }
            return Ok(());
        }
        crate::syntax::span::write_diagnostic(f, self.span.as_ref(), &self.message(), self.help.as_deref())
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;
