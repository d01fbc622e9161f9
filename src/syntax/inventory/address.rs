//! Host identifiers as Ansible recognises them (`parse_address`): a hostname, IPv4 or IPv6
//! address, any of them possibly with `[x:y]` ranges, and an optional `:port`. The result
//! decides whether a trailing `:NN` is a port, and whether a host pattern is one pattern or a
//! `:`-separated list of them.

use regex::Regex;
use std::sync::LazyLock;

const NUMERIC_RANGE: &str = r"\[(?:[0-9]+:[0-9]+)(?::[0-9]+)?\]";
const HEX_RANGE: &str = r"\[(?:[0-9a-f]+:[0-9a-f]+)(?::[0-9]+)?\]";
const ALNUM_RANGE: &str = r"\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]";

/// Compiled once; these are constants, not state.
struct Patterns {
    bracketed_hostport: Regex,
    hostport: Regex,
    ipv4: Regex,
    ipv6: Regex,
    hostname: Regex,
}

static PATTERNS: LazyLock<Patterns> = LazyLock::new(|| {
    let i4 = format!(r"(?:[01]?[0-9]{{1,2}}|2[0-4][0-9]|25[0-5]|{NUMERIC_RANGE})");
    let h = format!(r"(?:[0-9a-f]{{1,4}}|{HEX_RANGE})");
    let v4 = format!(r"(?:{i4}\.){{3}}{i4}");
    // As in Ansible, only the last alternative is anchored at the end, so any text that
    // starts like a compressed IPv6 address counts as one.
    let ipv6 = [
        format!(r"(?:{h}:){{7}}{h}"),
        format!(r"(?:{h}:){{1,6}}:"),
        format!(r"(?:{h}:)(?::{h}){{1,6}}"),
        format!(r"(?:{h}:){{2}}(?::{h}){{1,5}}"),
        format!(r"(?:{h}:){{3}}(?::{h}){{1,4}}"),
        format!(r"(?:{h}:){{4}}(?::{h}){{1,3}}"),
        format!(r"(?:{h}:){{5}}(?::{h}){{1,2}}"),
        format!(r"(?:{h}:){{6}}(?::{h})"),
        format!(r":(?::{h}){{1,6}}"),
        format!(r"{h}?::"),
        format!(r"(?:0:){{6}}(?:{h}\.){{3}}{h}"),
        format!(r"::(?:ffff:)?(?:{h}\.){{3}}{h}"),
        format!(r"(?:0:){{5}}ffff:(?:{h}\.){{3}}{h}$"),
    ]
    .join("|");
    // A label starts with a word character or a range and may not end in `_` or `-`.
    let end = format!(r"(?:[\w&&[^_]]|{ALNUM_RANGE})");
    let label = format!(r"(?:{end}|(?:\w|{ALNUM_RANGE})(?:[\w-]|{ALNUM_RANGE})*{end})");
    let build =
        |re: String| Regex::new(&re).unwrap_or_else(|e| panic!("built-in address pattern does not compile: {e}"));
    Patterns {
        bracketed_hostport: build(r"^\[(.+)\]:([0-9]+)$".to_string()),
        hostport: build(r"^((?:[^:\[\]]|\[[^\]]*\])*):([0-9]+)$".to_string()),
        ipv4: build(format!(r"(?i)^{v4}$")),
        ipv6: build(format!(r"(?i)^(?:{ipv6})")),
        hostname: build(format!(r"(?i)^{label}(?:\.{label})*$")),
    }
});

/// `(host, port)` when `address` is a host identifier with an optional port; `None` when it is
/// not one (Ansible raises there, and callers fall back to using the text as it is).
pub fn parse_address(address: &str) -> Option<(String, Option<i64>)> {
    let p = &*PATTERNS;
    let mut address = address.to_string();
    let mut port = None;
    // Both are tried in turn, the second on what the first left, as Ansible does.
    for re in [&p.bracketed_hostport, &p.hostport] {
        if let Some(c) = re.captures(&address) {
            let (host, digits) = (c[1].to_string(), c[2].to_string());
            port = Some(digits.parse::<i64>().ok()?);
            address = host;
        }
    }
    if p.ipv4.is_match(&address) || p.ipv6.is_match(&address) || p.hostname.is_match(&address) {
        Some((address, port))
    } else {
        None
    }
}

/// Whether `name` is an IPv4 or IPv6 address (ranges allowed), as `inventory_hostname_short`
/// decides: addresses are kept whole, names are cut at the first dot.
pub fn is_ip_address(name: &str) -> bool {
    PATTERNS.ipv4.is_match(name) || PATTERNS.ipv6.is_match(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_ports() {
        type Case<'a> = (&'a str, Option<(&'a str, Option<i64>)>);
        let cases: &[Case] = &[
            ("web1", Some(("web1", None))),
            ("web1:2222", Some(("web1", Some(2222)))),
            ("web1.example.com:22", Some(("web1.example.com", Some(22)))),
            ("node[01:20]", Some(("node[01:20]", None))),
            ("node[01:20]:22", Some(("node[01:20]", Some(22)))),
            ("node[a:f].lan", Some(("node[a:f].lan", None))),
            ("10.0.0.1", Some(("10.0.0.1", None))),
            ("10.0.0.[1:9]:2222", Some(("10.0.0.[1:9]", Some(2222)))),
            ("fe80::1", Some(("fe80::1", None))),
            ("[fe80::1]:2222", Some(("fe80::1", Some(2222)))),
            ("::1", Some(("::1", None))),
            ("_under", Some(("_under", None))),
            ("bad_", None),
            ("bad-", None),
            ("web*", None),
            ("web:db", None),
            ("a b", None),
            ("", None),
        ];
        for (text, want) in cases {
            let got = parse_address(text);
            let want = want.map(|(h, p)| (h.to_string(), p));
            assert_eq!(got, want, "for {text:?}");
        }
    }
}
