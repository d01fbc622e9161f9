//! The text around vault ciphertext: the `$ANSIBLE_VAULT;1.1;AES256` header (1.2 adds a vault
//! id label), then hex of `hex(salt)\nhex(hmac)\nhex(ciphertext)` cut into 80-column lines.

/// What the envelope holds, undone from its two layers of hex.
#[derive(Debug, PartialEq)]
pub struct Envelope {
    /// `1.1` or `1.2`.
    pub version: String,
    /// The vault id label of a 1.2 envelope.
    pub label: Option<String>,
    pub salt: Vec<u8>,
    pub hmac: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

pub const HEADER: &str = "$ANSIBLE_VAULT";

/// Whether text starts like vault data (what Ansible checks before trying to decrypt a file).
pub fn is_encrypted(text: &str) -> bool {
    text.trim_start().starts_with(HEADER)
}

/// Parse envelope text. The error says what is wrong with the format, never anything secret.
pub fn parse(text: &str) -> Result<Envelope, &'static str> {
    let mut lines = text.trim().lines();
    let header = lines.next().ok_or("empty vault data")?;
    let fields: Vec<&str> = header.trim().split(';').map(str::trim).collect();
    if fields.first() != Some(&HEADER) {
        return Err("the first line is not a $ANSIBLE_VAULT header");
    }
    let version = fields.get(1).copied().ok_or("the vault header has no format version")?;
    if version != "1.1" && version != "1.2" {
        return Err("unsupported vault format version (this reads 1.1 and 1.2)");
    }
    match fields.get(2).copied() {
        Some("AES256") => {}
        Some(_) => return Err("unsupported vault cipher (only AES256 exists)"),
        None => return Err("the vault header names no cipher"),
    }
    let label = fields.get(3).filter(|l| !l.is_empty()).map(|l| l.to_string());
    let body: String = lines.map(str::trim).collect();
    let inner = hex::decode(body.as_bytes()).map_err(|_| "the vault body is not hex text")?;
    let mut parts = inner.splitn(3, |b| *b == b'\n');
    let (Some(salt), Some(hmac), Some(ct)) = (parts.next(), parts.next(), parts.next()) else {
        return Err("the vault body lacks its salt, HMAC or ciphertext");
    };
    let decode = |part: &[u8]| hex::decode(part).map_err(|_| "a vault body part is not hex text");
    Ok(Envelope {
        version: version.to_string(),
        label,
        salt: decode(salt)?,
        hmac: decode(hmac)?,
        ciphertext: decode(ct)?,
    })
}

/// Envelope text as `ansible-vault` writes it: version 1.2 when a label other than
/// `default` is given, 80-column lines, a final newline.
pub fn format(salt: &[u8], hmac: &[u8], ciphertext: &[u8], label: Option<&str>) -> String {
    let inner = format!(
        "{}\n{}\n{}",
        hex::encode(salt),
        hex::encode(hmac),
        hex::encode(ciphertext)
    );
    let body = hex::encode(inner.as_bytes());
    let mut out = match label {
        Some(l) if l != "default" => format!("{HEADER};1.2;AES256;{l}\n"),
        _ => format!("{HEADER};1.1;AES256\n"),
    };
    // Hex text is ASCII, so byte chunks are whole characters.
    for chunk in body.as_bytes().chunks(80) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_every_part() {
        let cases: &[(Option<&str>, &str, Option<&str>)] = &[
            (None, "1.1", None),
            (Some("default"), "1.1", None),
            (Some("prod"), "1.2", Some("prod")),
        ];
        for (label, version, want_label) in cases {
            let text = format(b"salt", &[1, 2, 3], &[0xff; 100], *label);
            assert!(text.lines().skip(1).all(|l| l.len() <= 80), "{text}");
            let e = parse(&text).expect("parses");
            assert_eq!(e.version, *version);
            assert_eq!(e.label.as_deref(), *want_label);
            assert_eq!(
                (e.salt.as_slice(), e.hmac.as_slice(), e.ciphertext.len()),
                (&b"salt"[..], &[1u8, 2, 3][..], 100)
            );
        }
    }

    #[test]
    fn malformed_envelopes_are_refused() {
        let good = format(b"s", b"h", b"c", None);
        let body = good.lines().nth(1).unwrap_or_default().to_string();
        let cases = [
            String::new(),
            "hello".to_string(),
            format!("$ANSIBLE_VAULT;1.0;AES256\n{body}"),
            format!("$ANSIBLE_VAULT;1.1;AES128\n{body}"),
            "$ANSIBLE_VAULT;1.1;AES256\nzz".to_string(),
            format!("$ANSIBLE_VAULT;1.1;AES256\n{}", hex::encode("abcd\n00")),
            format!("$ANSIBLE_VAULT;1.1;AES256\n{}", hex::encode("ab\ncd\nxy")),
        ];
        for text in cases {
            assert!(parse(&text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn indented_bodies_and_header_spaces_are_read() {
        let text = format(b"s", b"h", b"c", Some("x"));
        let indented: String = text.lines().map(|l| format!("   {l} \n")).collect();
        assert_eq!(parse(&indented).expect("parses"), parse(&text).expect("parses"));
    }
}
