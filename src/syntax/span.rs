//! Where a piece of user input came from: a file (or a named string such as `-e`) and a
//! 1-based line and column. Every node the syntax stage produces carries one.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A loaded source text, shared by every span that points into it.
#[derive(Debug)]
pub struct SourceFile {
    /// Path as the user would recognise it, or a label like `<extra-vars>`.
    pub path: PathBuf,
    pub text: String,
}

impl SourceFile {
    pub fn new(path: impl Into<PathBuf>, text: impl Into<String>) -> Arc<SourceFile> {
        Arc::new(SourceFile {
            path: path.into(),
            text: text.into(),
        })
    }

    /// The text of 1-based line `line`, without its newline.
    pub fn line_text(&self, line: u32) -> Option<&str> {
        if line == 0 {
            return None;
        }
        self.text.lines().nth(line as usize - 1)
    }
}

/// How many characters of a source line an error shows.
const SNIPPET_WIDTH: usize = 120;

/// A position in a source file. Cheap to clone.
#[derive(Clone)]
pub struct Span {
    pub source: Arc<SourceFile>,
    pub line: u32,
    pub col: u32,
}

impl Span {
    pub fn new(source: Arc<SourceFile>, line: u32, col: u32) -> Span {
        Span { source, line, col }
    }

    /// A span for values that have no position of their own (built-in defaults, the CLI).
    pub fn synthetic(label: &str) -> Span {
        Span {
            source: SourceFile::new(label, ""),
            line: 0,
            col: 0,
        }
    }

    pub fn path(&self) -> &Path {
        &self.source.path
    }

    /// `path:line:col` followed by the offending line and a caret under the column.
    pub fn snippet(&self) -> String {
        let Some(text) = self.source.line_text(self.line) else {
            return String::new();
        };
        let num = self.line.to_string();
        let pad = " ".repeat(num.len());
        // A very long line (minified or machine-made data) is shown as a window around the
        // column, so the error stays readable.
        let col = self.col.saturating_sub(1) as usize;
        let skip = col.saturating_sub(SNIPPET_WIDTH / 2);
        let total = text.chars().count();
        let shown: String = text.chars().skip(skip).take(SNIPPET_WIDTH).collect();
        let lead = if skip > 0 { "..." } else { "" };
        let tail = if skip + SNIPPET_WIDTH < total { "..." } else { "" };
        let caret_at = lead
            .chars()
            .chain(text.chars().skip(skip).take(col - skip))
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect::<String>();
        format!("{pad} |\n{num} | {lead}{shown}{tail}\n{pad} | {caret_at}^")
    }
}

/// A path as the user would type it: relative to the current directory when it is under it.
pub fn display_path(path: &Path) -> String {
    if path.is_absolute()
        && let Ok(cwd) = std::env::current_dir()
        && let Ok(rel) = path.strip_prefix(&cwd)
    {
        return rel.display().to_string();
    }
    path.display().to_string()
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = display_path(&self.source.path);
        if self.line == 0 {
            write!(f, "{path}")
        } else {
            write!(f, "{path}:{}:{}", self.line, self.col)
        }
    }
}

impl fmt::Debug for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl PartialEq for Span {
    fn eq(&self, other: &Span) -> bool {
        self.line == other.line && self.col == other.col && self.source.path == other.source.path
    }
}

/// The one way every stage prints an error: `path:line:col: message`, the line with a caret
/// under the column, then what to do.
pub fn write_diagnostic(
    f: &mut fmt::Formatter<'_>,
    span: Option<&Span>,
    message: &str,
    help: Option<&str>,
) -> fmt::Result {
    match span {
        Some(span) => {
            write!(f, "{span}: {message}")?;
            let snippet = span.snippet();
            if !snippet.is_empty() {
                write!(f, "\n{snippet}")?;
            }
        }
        None => write!(f, "{message}")?,
    }
    if let Some(help) = help {
        write!(f, "\n  = help: {help}")?;
    }
    Ok(())
}
