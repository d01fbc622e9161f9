//! Splitting an INI host line into words the way Python's `shlex.split(line, comments=True)`
//! does in POSIX mode: quotes group words, backslash escapes outside single quotes, and `#`
//! outside quotes ends the line (even in the middle of a word).

/// The words of `line`, or a message saying what is unbalanced.
pub fn split(line: &str) -> Result<Vec<String>, &'static str> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\r' | '\n' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '#' => break,
            '\\' => {
                let next = chars.next().ok_or("No escaped character")?;
                word.push(next);
                in_word = true;
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(ch) => word.push(ch),
                        None => return Err("No closing quotation"),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            // Inside double quotes only `\"` and `\\` are escapes.
                            Some(ch @ ('"' | '\\')) => word.push(ch),
                            Some(ch) => {
                                word.push('\\');
                                word.push(ch);
                            }
                            None => return Err("No escaped character"),
                        },
                        Some(ch) => word.push(ch),
                        None => return Err("No closing quotation"),
                    }
                }
            }
            _ => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_python_shlex_with_comments() {
        let cases: &[(&str, &[&str])] = &[
            ("h1 a=1 b=2", &["h1", "a=1", "b=2"]),
            ("h1 a=\"x y\" b='p q'", &["h1", "a=x y", "b=p q"]),
            ("h1 a=1 # trailing", &["h1", "a=1"]),
            ("h1 a=x#y", &["h1", "a=x"]),
            ("h1 a='x#y'", &["h1", "a=x#y"]),
            ("h1 a=\"q\\\"uote\" b=\"\\n\"", &["h1", "a=q\"uote", "b=\\n"]),
            ("h1 a=\\'x", &["h1", "a='x"]),
            ("h1 a=''", &["h1", "a="]),
            ("h1 a=\"[1, 'two']\"", &["h1", "a=[1, 'two']"]),
        ];
        for (line, want) in cases {
            assert_eq!(split(line).unwrap(), *want, "for {line:?}");
        }
    }

    #[test]
    fn unbalanced_quotes_are_errors() {
        assert_eq!(split("h1 a='x"), Err("No closing quotation"));
        assert_eq!(split("h1 a=\\"), Err("No escaped character"));
    }
}
