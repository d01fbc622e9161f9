//! INI inventory values are Python literals: Ansible runs each one through `ast.literal_eval`
//! and keeps the text as a string when that fails. This reads the same literals: numbers,
//! strings (with prefixes, escapes and implicit concatenation), `True`/`False`/`None`, lists,
//! tuples, sets and dicts. Anything else (names, calls, complex numbers) is `None`, so the
//! caller keeps the original text, as Ansible does.

use crate::value::{Map, Value};

/// Deeper nesting than this is refused (Python would run out of recursion on far less input).
const MAX_DEPTH: u32 = 100;

/// The value of `text` as `ast.literal_eval` would compute it, or `None` when it would raise.
pub fn literal_eval(text: &str) -> Option<Value> {
    let mut p = Parser {
        s: text.as_bytes(),
        text,
        i: 0,
        depth: 0,
    };
    p.skip_ws();
    let v = p.expr_list(None)?;
    p.skip_ws();
    if p.i != p.s.len() {
        return None;
    }
    Some(v)
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    i: usize,
    depth: u32,
}

/// A parsed item and whether it was a bare number literal (the only thing `-`/`+` may apply to).
struct Item {
    value: Value,
    number: bool,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            match c {
                b' ' | b'\t' | b'\x0c' | b'\r' | b'\n' => self.i += 1,
                b'#' => {
                    while let Some(c) = self.peek() {
                        if c == b'\n' {
                            break;
                        }
                        self.i += 1;
                    }
                }
                b'\\' if matches!(self.s.get(self.i + 1), Some(b'\n')) => self.i += 2,
                _ => break,
            }
        }
    }

    /// `a, b, c` — a tuple when there is a comma, the single value otherwise. `close` is the
    /// bracket that ends the list (none at the top level).
    fn expr_list(&mut self, close: Option<u8>) -> Option<Value> {
        let (mut items, comma) = self.items(close)?;
        if items.is_empty() {
            // `()` is an empty tuple; an empty top level is a syntax error.
            return if close.is_some() {
                Some(Value::List(items))
            } else {
                None
            };
        }
        if comma { Some(Value::List(items)) } else { items.pop() }
    }

    /// Comma-separated expressions up to `close`; whether a comma was written.
    fn items(&mut self, close: Option<u8>) -> Option<(Vec<Value>, bool)> {
        let mut items = Vec::new();
        let mut comma = false;
        loop {
            self.skip_ws();
            if self.peek().is_none() || self.peek() == close {
                break;
            }
            items.push(self.expr()?.value);
            self.skip_ws();
            if self.peek() == Some(b',') {
                self.i += 1;
                comma = true;
            } else {
                break;
            }
        }
        Some((items, comma))
    }

    fn expr(&mut self) -> Option<Item> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        let out = self.signed();
        self.depth -= 1;
        out
    }

    fn signed(&mut self) -> Option<Item> {
        let negative = match self.peek() {
            Some(b'-') => true,
            Some(b'+') => false,
            _ => return self.atom(),
        };
        self.i += 1;
        self.skip_ws();
        let item = self.atom()?;
        if !item.number {
            return None;
        }
        let value = match (item.value, negative) {
            (Value::Int(i), true) => match i.checked_neg() {
                Some(n) => Value::Int(n),
                None => Value::Float(-(i as f64)),
            },
            (Value::Float(f), true) => Value::Float(-f),
            (v, _) => v,
        };
        Some(Item { value, number: false })
    }

    fn atom(&mut self) -> Option<Item> {
        let c = self.peek()?;
        let item = match c {
            b'(' => {
                self.i += 1;
                self.skip_ws();
                if self.peek() == Some(b')') {
                    self.i += 1;
                    Item {
                        value: Value::List(Vec::new()),
                        number: false,
                    }
                } else {
                    // `(x)` is x itself (a number stays signable); `(x,)` is a tuple.
                    let first = self.expr()?;
                    self.skip_ws();
                    if self.peek() == Some(b')') {
                        self.i += 1;
                        first
                    } else {
                        self.expect(b',')?;
                        let (mut rest, _) = self.items(Some(b')'))?;
                        self.expect(b')')?;
                        rest.insert(0, first.value);
                        Item {
                            value: Value::List(rest),
                            number: false,
                        }
                    }
                }
            }
            b'[' => {
                self.i += 1;
                let (items, _) = self.items(Some(b']'))?;
                self.expect(b']')?;
                Item {
                    value: Value::List(items),
                    number: false,
                }
            }
            b'{' => {
                self.i += 1;
                let v = self.braces()?;
                Item {
                    value: v,
                    number: false,
                }
            }
            b'0'..=b'9' | b'.' => Item {
                value: self.number()?,
                number: true,
            },
            _ if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                let start = self.i;
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80)
                {
                    self.i += 1;
                }
                let word = &self.text[start..self.i];
                match word {
                    "True" => Item {
                        value: Value::Bool(true),
                        number: false,
                    },
                    "False" => Item {
                        value: Value::Bool(false),
                        number: false,
                    },
                    "None" => Item {
                        value: Value::Null,
                        number: false,
                    },
                    _ => match self.peek() {
                        Some(b'\'' | b'"') if is_string_prefix(word) => {
                            self.i = start;
                            Item {
                                value: self.strings()?,
                                number: false,
                            }
                        }
                        _ => return None,
                    },
                }
            }
            b'\'' | b'"' => Item {
                value: self.strings()?,
                number: false,
            },
            _ => return None,
        };
        // A call, subscript or attribute after a literal is valid Python but not a literal.
        self.skip_ws();
        if matches!(self.peek(), Some(b'(' | b'[' | b'.')) {
            return None;
        }
        Some(item)
    }

    fn expect(&mut self, c: u8) -> Option<()> {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.i += 1;
            Some(())
        } else {
            None
        }
    }

    /// `{}` is a dict, `{a: b}` a dict, `{a, b}` a set (a list here).
    fn braces(&mut self) -> Option<Value> {
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Some(Value::Map(Map::new()));
        }
        let first = self.expr()?.value;
        self.skip_ws();
        if self.peek() == Some(b':') {
            let mut map = Map::new();
            let mut key = first;
            loop {
                self.expect(b':')?;
                self.skip_ws();
                let value = self.expr()?.value;
                map.insert(key_text(&key)?, value);
                self.skip_ws();
                match self.peek() {
                    Some(b',') => {
                        self.i += 1;
                        self.skip_ws();
                        if self.peek() == Some(b'}') {
                            self.i += 1;
                            return Some(Value::Map(map));
                        }
                        key = self.expr()?.value;
                    }
                    Some(b'}') => {
                        self.i += 1;
                        return Some(Value::Map(map));
                    }
                    _ => return None,
                }
            }
        }
        let mut items = vec![first];
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b',') => {
                    self.i += 1;
                    self.skip_ws();
                    if self.peek() == Some(b'}') {
                        self.i += 1;
                        break;
                    }
                    let v = self.expr()?.value;
                    if !items.contains(&v) {
                        items.push(v);
                    }
                }
                Some(b'}') => {
                    self.i += 1;
                    break;
                }
                _ => return None,
            }
        }
        if items.iter().any(|v| matches!(v, Value::List(_) | Value::Map(_))) {
            return None; // unhashable members
        }
        Some(Value::List(items))
    }

    fn number(&mut self) -> Option<Value> {
        let start = self.i;
        let radix = match (self.peek(), self.s.get(self.i + 1).map(|c| c.to_ascii_lowercase())) {
            (Some(b'0'), Some(b'x')) => Some(16),
            (Some(b'0'), Some(b'o')) => Some(8),
            (Some(b'0'), Some(b'b')) => Some(2),
            _ => None,
        };
        if let Some(radix) = radix {
            self.i += 2;
            let digits = self.digits(radix, true)?;
            self.no_trailing_word()?;
            return Some(match i64::from_str_radix(&digits, radix) {
                Ok(i) => Value::Int(i),
                Err(_) => Value::Float(
                    u128::from_str_radix(&digits, radix)
                        .map(|u| u as f64)
                        .unwrap_or(f64::INFINITY),
                ),
            });
        }
        let int_part = if self.peek() == Some(b'.') {
            String::new()
        } else {
            self.digits(10, false)?
        };
        let mut float = false;
        let mut text = int_part.clone();
        if self.peek() == Some(b'.') {
            self.i += 1;
            float = true;
            text.push('.');
            if self.peek().is_some_and(|c| c.is_ascii_digit()) {
                text.push_str(&self.digits(10, false)?);
            } else if int_part.is_empty() {
                return None;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            let save = self.i;
            self.i += 1;
            let mut exp = String::from("e");
            if let Some(sign @ (b'+' | b'-')) = self.peek() {
                exp.push(sign as char);
                self.i += 1;
            }
            if self.peek().is_some_and(|c| c.is_ascii_digit()) {
                exp.push_str(&self.digits(10, false)?);
                text.push_str(&exp);
                float = true;
            } else {
                self.i = save;
            }
        }
        if matches!(self.peek(), Some(b'j' | b'J')) {
            return None; // complex numbers have no counterpart
        }
        self.no_trailing_word()?;
        if float {
            return text.parse::<f64>().ok().map(Value::Float);
        }
        // Python 3 refuses leading zeros in a decimal integer, except for zero itself.
        if int_part.len() > 1 && int_part.starts_with('0') && int_part.bytes().any(|c| c != b'0') {
            return None;
        }
        let _ = start;
        Some(match int_part.parse::<i64>() {
            Ok(i) => Value::Int(i),
            Err(_) => Value::Float(int_part.parse::<f64>().ok()?),
        })
    }

    /// Digits of `radix` with single underscores between them (`1_000`); `lead_underscore`
    /// allows `0x_ff`.
    fn digits(&mut self, radix: u32, lead_underscore: bool) -> Option<String> {
        let mut out = String::new();
        let mut last_underscore = false;
        if lead_underscore && self.peek() == Some(b'_') {
            self.i += 1;
            last_underscore = true;
        }
        while let Some(c) = self.peek() {
            if c == b'_' {
                if last_underscore || out.is_empty() {
                    return None;
                }
                last_underscore = true;
            } else if (c as char).is_digit(radix) {
                out.push(c as char);
                last_underscore = false;
            } else {
                break;
            }
            self.i += 1;
        }
        if out.is_empty() || last_underscore {
            None
        } else {
            Some(out)
        }
    }

    fn no_trailing_word(&self) -> Option<()> {
        match self.peek() {
            Some(c) if c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80 => None,
            _ => Some(()),
        }
    }

    /// One or more adjacent string literals, concatenated.
    fn strings(&mut self) -> Option<Value> {
        let mut text = String::new();
        let mut bytes: Option<bool> = None;
        loop {
            let start = self.i;
            while self.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
                self.i += 1;
            }
            let prefix = self.text[start..self.i].to_ascii_lowercase();
            if !is_string_prefix(&prefix) || !matches!(self.peek(), Some(b'\'' | b'"')) {
                self.i = start;
                break;
            }
            let is_bytes = prefix.contains('b');
            if bytes.is_some_and(|b| b != is_bytes) {
                return None; // bytes and str cannot be concatenated
            }
            bytes = Some(is_bytes);
            text.push_str(&self.string_body(prefix.contains('r'), is_bytes)?);
            let save = self.i;
            self.skip_ws();
            if !self
                .peek()
                .is_some_and(|c| c == b'\'' || c == b'"' || c.is_ascii_alphabetic())
            {
                self.i = save;
                break;
            }
        }
        bytes?;
        Some(Value::Str(text))
    }

    fn string_body(&mut self, raw: bool, bytes: bool) -> Option<String> {
        let q = self.peek()?;
        let triple = self.s.get(self.i + 1) == Some(&q) && self.s.get(self.i + 2) == Some(&q);
        self.i += if triple { 3 } else { 1 };
        let mut out: Vec<u8> = Vec::new();
        loop {
            let c = self.peek()?;
            if c == q {
                if !triple {
                    self.i += 1;
                    break;
                }
                if self.s.get(self.i + 1) == Some(&q) && self.s.get(self.i + 2) == Some(&q) {
                    self.i += 3;
                    break;
                }
            }
            if c == b'\n' && !triple {
                return None;
            }
            if bytes && c >= 0x80 {
                return None;
            }
            if c == b'\\' {
                let next = *self.s.get(self.i + 1)?;
                if raw {
                    out.push(c);
                    out.push(next);
                    self.i += 2;
                    continue;
                }
                self.i += 2;
                self.escape(next, bytes, &mut out)?;
                continue;
            }
            out.push(c);
            self.i += 1;
        }
        Some(String::from_utf8_lossy(&out).into_owned())
    }

    /// Python's backslash escapes; an unknown one keeps its backslash.
    fn escape(&mut self, c: u8, bytes: bool, out: &mut Vec<u8>) -> Option<()> {
        let simple = match c {
            b'\n' => Some(None),
            b'\\' => Some(Some(b'\\')),
            b'\'' => Some(Some(b'\'')),
            b'"' => Some(Some(b'"')),
            b'a' => Some(Some(7)),
            b'b' => Some(Some(8)),
            b'f' => Some(Some(12)),
            b'n' => Some(Some(b'\n')),
            b'r' => Some(Some(b'\r')),
            b't' => Some(Some(b'\t')),
            b'v' => Some(Some(11)),
            _ => None,
        };
        if let Some(s) = simple {
            out.extend(s);
            return Some(());
        }
        match c {
            b'0'..=b'7' => {
                let mut n = u32::from(c - b'0');
                for _ in 0..2 {
                    match self.peek() {
                        Some(d @ b'0'..=b'7') => {
                            n = n * 8 + u32::from(d - b'0');
                            self.i += 1;
                        }
                        _ => break,
                    }
                }
                push_code(out, n, bytes)
            }
            b'x' => {
                let n = self.hex(2)?;
                push_code(out, n, bytes)
            }
            b'u' | b'U' if !bytes => {
                let n = self.hex(if c == b'u' { 4 } else { 8 })?;
                push_code(out, n, false)
            }
            b'N' if !bytes => None,
            _ => {
                out.push(b'\\');
                // Re-read the escaped character as ordinary text (it may be multi-byte).
                self.i -= 1;
                Some(())
            }
        }
    }

    fn hex(&mut self, n: usize) -> Option<u32> {
        let digits = self.text.get(self.i..self.i + n)?;
        if !digits.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        self.i += n;
        u32::from_str_radix(digits, 16).ok()
    }
}

fn push_code(out: &mut Vec<u8>, n: u32, bytes: bool) -> Option<()> {
    if bytes {
        out.push(u8::try_from(n).ok()?);
    } else {
        let ch = char::from_u32(n)?;
        let mut buf = [0u8; 4];
        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
    }
    Some(())
}

fn is_string_prefix(word: &str) -> bool {
    matches!(word.to_ascii_lowercase().as_str(), "" | "r" | "u" | "b" | "br" | "rb")
}

/// Dict keys become strings the way Python's `str()` prints them.
fn key_text(v: &Value) -> Option<String> {
    match v {
        Value::Str(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        Value::Float(f) => Some(python_float(*f)),
        Value::Bool(b) => Some(if *b { "True" } else { "False" }.to_string()),
        Value::Null => Some("None".to_string()),
        _ => None,
    }
}

fn python_float(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e16 {
        format!("{f:.1}")
    } else {
        f.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Value {
        Value::Str(x.to_string())
    }

    #[test]
    fn literals_read_as_python_reads_them() {
        let cases: &[(&str, Option<Value>)] = &[
            ("5", Some(Value::Int(5))),
            ("-5", Some(Value::Int(-5))),
            ("+ 5", Some(Value::Int(5))),
            ("1_000", Some(Value::Int(1000))),
            ("0x1f", Some(Value::Int(31))),
            ("0o17", Some(Value::Int(15))),
            ("0b101", Some(Value::Int(5))),
            ("00", Some(Value::Int(0))),
            ("0123", None),
            ("1.5", Some(Value::Float(1.5))),
            (".5", Some(Value::Float(0.5))),
            ("5.", Some(Value::Float(5.0))),
            ("1e3", Some(Value::Float(1000.0))),
            ("012.5", Some(Value::Float(12.5))),
            ("1j", None),
            ("1+2j", None),
            ("True", Some(Value::Bool(true))),
            ("False", Some(Value::Bool(false))),
            ("None", Some(Value::Null)),
            ("true", None),
            ("yes", None),
            ("FALSE", None),
            ("-True", None),
            ("--1", None),
            ("-(1)", Some(Value::Int(-1))),
            ("'a'", Some(s("a"))),
            ("\"a b\"", Some(s("a b"))),
            ("'a' \"b\"", Some(s("ab"))),
            ("r'\\n'", Some(s("\\n"))),
            ("'\\n\\t\\x41\\101\\u00e9'", Some(s("\n\tAAé"))),
            ("'\\q'", Some(s("\\q"))),
            ("b'ab'", Some(s("ab"))),
            ("b'a' 'b'", None),
            ("f'x'", None),
            ("'''tri'ple'''", Some(s("tri'ple"))),
            ("'open", None),
            (
                "[1, 'a', None]",
                Some(Value::List(vec![Value::Int(1), s("a"), Value::Null])),
            ),
            ("[1]", Some(Value::List(vec![Value::Int(1)]))),
            (
                "[(1, 2)]",
                Some(Value::List(vec![Value::List(vec![Value::Int(1), Value::Int(2)])])),
            ),
            ("[]", Some(Value::List(vec![]))),
            ("[1,]", Some(Value::List(vec![Value::Int(1)]))),
            ("(1,)", Some(Value::List(vec![Value::Int(1)]))),
            ("(1)", Some(Value::Int(1))),
            ("()", Some(Value::List(vec![]))),
            ("1, 2", Some(Value::List(vec![Value::Int(1), Value::Int(2)]))),
            ("{}", Some(Value::Map(Map::new()))),
            (
                "{'a': 1, 2: [3]}",
                Some(Value::Map(Map::from_iter([
                    ("a".to_string(), Value::Int(1)),
                    ("2".to_string(), Value::List(vec![Value::Int(3)])),
                ]))),
            ),
            ("{1, 2, 1}", Some(Value::List(vec![Value::Int(1), Value::Int(2)]))),
            ("5 # comment", Some(Value::Int(5))),
            ("hello # comment", None),
            ("[1][0]", None),
            ("abc", None),
            ("1abc", None),
            ("", None),
            ("1 2", None),
            ("{'a' 1}", None),
        ];
        for (text, want) in cases {
            assert_eq!(&literal_eval(text), want, "for {text:?}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        assert_eq!(literal_eval(&deep), None);
    }
}
