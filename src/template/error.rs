//! The template stage's one error type: what failed while rendering Jinja, and in which text.

use crate::syntax::Span;
use std::fmt;

#[derive(Debug, Clone)]
pub struct Error {
    pub kind: ErrorKind,
    /// Where the template came from, when the caller knows it.
    pub span: Option<Span>,
    /// The template text that failed, for context.
    pub template: Option<String>,
    pub help: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ErrorKind {
    /// A variable (or attribute, or key) that is not defined was used.
    Undefined { name: String, detail: Option<String> },
    /// The Jinja text itself is malformed.
    Syntax { message: String },
    /// Variables whose templates refer to each other in a circle.
    Cycle { chain: Vec<String> },
    /// A filter or test refused its input.
    Filter { name: String, message: String },
    /// A lookup plugin failed (missing file, failing command...).
    Lookup { name: String, message: String },
    /// A vault value was used but no vault password was given.
    Vault { name: String },
    /// `mandatory` with a message of the user's own.
    Mandatory { message: String },
    /// Any other failure while evaluating (bad operand types, unknown filter...).
    Render { message: String },
}

impl Error {
    pub fn new(kind: ErrorKind) -> Error {
        Error {
            kind,
            span: None,
            template: None,
            help: None,
        }
    }

    pub fn undefined(name: impl Into<String>) -> Error {
        Error::new(ErrorKind::Undefined {
            name: name.into(),
            detail: None,
        })
    }

    pub fn filter(name: &str, message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Filter {
            name: name.to_string(),
            message: message.into(),
        })
    }

    pub fn lookup(name: &str, message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Lookup {
            name: name.to_string(),
            message: message.into(),
        })
    }

    pub fn render(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Render {
            message: message.into(),
        })
    }

    pub fn with_span(mut self, span: Span) -> Error {
        self.span = Some(span);
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Error {
        self.help = Some(help.into());
        self
    }

    /// Records the template text the first time (the innermost text that failed wins).
    pub fn in_template(mut self, text: &str) -> Error {
        if self.template.is_none() {
            self.template = Some(text.to_string());
        }
        self
    }

    pub fn is_undefined(&self) -> bool {
        matches!(self.kind, ErrorKind::Undefined { .. })
    }

    pub fn message(&self) -> String {
        match &self.kind {
            ErrorKind::Undefined { name, detail: None } => format!("'{name}' is undefined"),
            ErrorKind::Undefined { name, detail: Some(d) } => format!("'{name}' is undefined: {d}"),
            ErrorKind::Syntax { message } => format!("template syntax error: {message}"),
            ErrorKind::Cycle { chain } => format!("recursive loop detected in template: {}", chain.join(" -> ")),
            ErrorKind::Filter { name, message } => format!("{name}: {message}"),
            ErrorKind::Lookup { name, message } => format!("lookup('{name}') failed: {message}"),
            ErrorKind::Vault { name } => {
                format!("'{name}' is vault-encrypted and no vault password was given")
            }
            ErrorKind::Mandatory { message } => message.clone(),
            ErrorKind::Render { message } => message.clone(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.span {
            Some(span) => write!(f, "{span}: {}", self.message())?,
            None => write!(f, "{}", self.message())?,
        }
        if let Some(t) = &self.template {
            write!(f, "\n  in template: {t}")?;
        }
        if let Some(span) = &self.span {
            let snippet = span.snippet();
            if !snippet.is_empty() {
                write!(f, "\n{snippet}")?;
            }
        }
        if let Some(help) = &self.help {
            write!(f, "\n  = help: {help}")?;
        } else if let ErrorKind::Vault { .. } = self.kind {
            write!(f, "\n  = help: pass --ask-vault-pass or --vault-password-file")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_what_failed() {
        let cases = [
            (Error::undefined("foo"), "'foo' is undefined"),
            (
                Error::new(ErrorKind::Cycle {
                    chain: vec!["a".into(), "b".into(), "a".into()],
                }),
                "recursive loop detected in template: a -> b -> a",
            ),
            (
                Error::new(ErrorKind::Vault { name: "pw".into() }),
                "'pw' is vault-encrypted and no vault password was given",
            ),
            (
                Error::lookup("file", "x not found"),
                "lookup('file') failed: x not found",
            ),
        ];
        for (e, want) in cases {
            assert_eq!(e.message(), want);
        }
    }

    #[test]
    fn display_shows_template_text() {
        let e = Error::undefined("foo").in_template("{{ foo }}").in_template("outer");
        assert_eq!(e.to_string(), "'foo' is undefined\n  in template: {{ foo }}");
    }
}
