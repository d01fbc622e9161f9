//! Host key checking against OpenSSH `known_hosts` files. russh accepts any key unless its
//! handler says no, so this is where a connection is refused.
//!
//! Supported: plain and hashed (`|1|salt|hash`, HMAC-SHA1) names, `[host]:port` for ports
//! other than 22, comma-separated patterns with `*`/`?` and `!` negation, `@revoked` (refuse),
//! `@cert-authority` (skipped: host certificates are refused cleanly instead).

use super::error::{Error, ErrorKind, HostKeyProblem, Result};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, KeyInit, Mac};
use russh::keys::{Algorithm, HashAlg, PublicKey};
use std::io::Write;
use std::path::{Path, PathBuf};

/// `StrictHostKeyChecking`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StrictMode {
    /// Refuse unknown and changed keys (the default, as Ansible's host_key_checking=True).
    #[default]
    Strict,
    /// Record an unknown key on first contact; refuse changed keys.
    AcceptNew,
    /// No checking at all (StrictHostKeyChecking=no, host_key_checking=False).
    Off,
}

impl StrictMode {
    /// OpenSSH's spellings; `ask` is strict since nobody is there to answer.
    pub fn parse(value: &str) -> Option<StrictMode> {
        match value.trim().to_ascii_lowercase().as_str() {
            "yes" | "true" | "ask" => Some(StrictMode::Strict),
            "accept-new" => Some(StrictMode::AcceptNew),
            "no" | "off" | "false" => Some(StrictMode::Off),
            _ => None,
        }
    }
}

/// Which files to read and what to do with an unknown key. New keys go to the first file.
#[derive(Debug, Clone, Default)]
pub struct HostKeyPolicy {
    pub files: Vec<PathBuf>,
    pub mode: StrictMode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    None,
    Revoked,
    CertAuthority,
}

#[derive(Debug, Clone)]
enum Names {
    Hashed { salt: Vec<u8>, hash: Vec<u8> },
    Patterns(Vec<String>),
}

#[derive(Debug, Clone)]
pub struct Entry {
    marker: Marker,
    names: Names,
    key: PublicKey,
    pub file: PathBuf,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Match,
    Unknown { other_types: Vec<String> },
    Changed { file: PathBuf, line: usize },
    Revoked { file: PathBuf, line: usize },
}

/// The name known_hosts stores for a host: `host`, or `[host]:port` off port 22.
pub fn host_name(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_ascii_lowercase()
    } else {
        format!("[{}]:{port}", host.to_ascii_lowercase())
    }
}

/// `ssh-rsa` for every RSA signature variant, the algorithm name otherwise.
pub fn key_type(alg: &Algorithm) -> String {
    match alg {
        Algorithm::Rsa { .. } => "ssh-rsa".to_string(),
        other => other.as_str().to_string(),
    }
}

pub fn fingerprint(key: &PublicKey) -> String {
    format!("{} {}", key_type(&key.algorithm()), key.fingerprint(HashAlg::Sha256))
}

/// Parse one file's text; lines that cannot be understood are skipped with a debug log, as
/// OpenSSH does.
pub fn parse(text: &str, file: &Path) -> Vec<Entry> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = line.split_whitespace();
        let mut first = fields.next().unwrap_or_default();
        let marker = match first {
            "@revoked" => Marker::Revoked,
            "@cert-authority" => Marker::CertAuthority,
            _ => Marker::None,
        };
        if marker != Marker::None {
            first = fields.next().unwrap_or_default();
        }
        let (Some(kind), Some(blob)) = (fields.next(), fields.next()) else {
            tracing::debug!("{}:{}: known_hosts line without a key, skipped", file.display(), i + 1);
            continue;
        };
        let key = match PublicKey::from_openssh(&format!("{kind} {blob}")) {
            Ok(k) => k,
            Err(e) => {
                tracing::debug!("{}:{}: unreadable key ({e}), skipped", file.display(), i + 1);
                continue;
            }
        };
        let Some(names) = parse_names(first) else {
            tracing::debug!("{}:{}: bad hashed host name, skipped", file.display(), i + 1);
            continue;
        };
        out.push(Entry {
            marker,
            names,
            key,
            file: file.to_path_buf(),
            line: i + 1,
        });
    }
    out
}

fn parse_names(field: &str) -> Option<Names> {
    if let Some(rest) = field.strip_prefix("|1|") {
        let (salt, hash) = rest.split_once('|')?;
        return Some(Names::Hashed {
            salt: B64.decode(salt).ok()?,
            hash: B64.decode(hash).ok()?,
        });
    }
    Some(Names::Patterns(
        field.split(',').map(|p| p.to_ascii_lowercase()).collect(),
    ))
}

/// Read every file; a missing file is simply empty.
pub fn load(files: &[PathBuf]) -> Result<Vec<Entry>> {
    let mut out = Vec::new();
    for f in files {
        match std::fs::read_to_string(f) {
            Ok(text) => out.extend(parse(&text, f)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(Error::io("known_hosts", format!("reading {}", f.display()), e));
            }
        }
    }
    Ok(out)
}

/// OpenSSH glob: `*` any run, `?` one character; everything else literal.
pub(crate) fn glob(pattern: &[u8], name: &[u8]) -> bool {
    let (mut p, mut n) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while n < name.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some(p);
                mark = n;
                p += 1;
            }
            Some(&c) if c == b'?' || c == name[n] => {
                p += 1;
                n += 1;
            }
            _ => match star {
                Some(s) => {
                    p = s + 1;
                    mark += 1;
                    n = mark;
                }
                None => return false,
            },
        }
    }
    pattern[p.min(pattern.len())..].iter().all(|c| *c == b'*')
}

/// A comma-separated pattern list matches when some positive pattern matches and no negated one
/// does.
pub(crate) fn match_list<S: AsRef<str>>(patterns: &[S], name: &str) -> bool {
    let mut hit = false;
    for p in patterns {
        let p = p.as_ref();
        if let Some(neg) = p.strip_prefix('!') {
            if glob(neg.as_bytes(), name.as_bytes()) {
                return false;
            }
        } else if glob(p.as_bytes(), name.as_bytes()) {
            hit = true;
        }
    }
    hit
}

impl Entry {
    fn matches(&self, name: &str) -> bool {
        match &self.names {
            Names::Patterns(p) => match_list(p, name),
            Names::Hashed { salt, hash } => match Hmac::<sha1::Sha1>::new_from_slice(salt) {
                Ok(mut mac) => {
                    mac.update(name.as_bytes());
                    mac.verify_slice(hash).is_ok()
                }
                Err(_) => false,
            },
        }
    }
}

/// Decide what the entries say about `key` for `host:port`.
pub fn check(entries: &[Entry], host: &str, port: u16, key: &PublicKey) -> Outcome {
    let name = host_name(host, port);
    let mine: Vec<&Entry> = entries
        .iter()
        .filter(|e| e.marker != Marker::CertAuthority && e.matches(&name))
        .collect();
    if let Some(e) = mine
        .iter()
        .find(|e| e.marker == Marker::Revoked && e.key.key_data() == key.key_data())
    {
        return Outcome::Revoked {
            file: e.file.clone(),
            line: e.line,
        };
    }
    let plain = mine.iter().filter(|e| e.marker == Marker::None);
    if plain.clone().any(|e| e.key.key_data() == key.key_data()) {
        return Outcome::Match;
    }
    let ty = key_type(&key.algorithm());
    if let Some(e) = plain.clone().find(|e| key_type(&e.key.algorithm()) == ty) {
        return Outcome::Changed {
            file: e.file.clone(),
            line: e.line,
        };
    }
    let mut other_types: Vec<String> = plain.map(|e| key_type(&e.key.algorithm())).collect();
    other_types.dedup();
    Outcome::Unknown { other_types }
}

/// Key types already known for the host, so the handshake can ask for one of them first (as
/// OpenSSH orders HostKeyAlgorithms).
pub fn known_types(entries: &[Entry], host: &str, port: u16) -> Vec<String> {
    let name = host_name(host, port);
    let mut types: Vec<String> = Vec::new();
    for e in entries.iter().filter(|e| e.marker == Marker::None && e.matches(&name)) {
        let t = key_type(&e.key.algorithm());
        if !types.contains(&t) {
            types.push(t);
        }
    }
    types
}

/// Check `key` for `address:port` under `policy`; with accept-new, record an unknown key.
/// `label` names the host in errors. Blocking (file I/O and locks): call from a blocking task.
pub fn verify(policy: &HostKeyPolicy, label: &str, address: &str, port: u16, key: &PublicKey) -> Result<()> {
    if policy.mode == StrictMode::Off {
        return Ok(());
    }
    let err = |p| Err(Error::new(label, ErrorKind::HostKey(Box::new(p))));
    let entries = load(&policy.files)?;
    match check(&entries, address, port, key) {
        Outcome::Match => Ok(()),
        // As ssh does: nothing recorded for `[host]:port`, but the bare name (port 22) has this
        // very key. Only a match counts; a different key there changes nothing.
        Outcome::Unknown { .. } if port != 22 && check(&entries, address, 22, key) == Outcome::Match => {
            tracing::debug!("{label}: host key found under {address} without the port");
            Ok(())
        }
        Outcome::Changed { file, line } => err(HostKeyProblem::Changed {
            fingerprint: fingerprint(key),
            file,
            line,
        }),
        Outcome::Revoked { file, line } => err(HostKeyProblem::Revoked {
            fingerprint: fingerprint(key),
            file,
            line,
        }),
        Outcome::Unknown { other_types } if policy.mode == StrictMode::Strict || !other_types.is_empty() => {
            err(HostKeyProblem::Unknown {
                address: address.to_string(),
                port,
                fingerprint: fingerprint(key),
                files: policy.files.clone(),
                other_types,
            })
        }
        Outcome::Unknown { .. } => accept_new(policy, label, address, port, key),
    }
}

/// Append the key to the first file under an exclusive lock, after checking again under that
/// lock, so parallel first contacts record each key exactly once.
fn accept_new(policy: &HostKeyPolicy, label: &str, address: &str, port: u16, key: &PublicKey) -> Result<()> {
    let Some(target) = policy.files.first() else {
        return Err(Error::new(
            label,
            ErrorKind::HostKey(Box::new(HostKeyProblem::Write {
                file: PathBuf::from("(none)"),
                reason: "no known_hosts file configured".into(),
            })),
        ));
    };
    let write_err = |reason: String| {
        Error::new(
            label,
            ErrorKind::HostKey(Box::new(HostKeyProblem::Write {
                file: target.clone(),
                reason,
            })),
        )
    };
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
        std::fs::create_dir_all(dir).map_err(|e| write_err(e.to_string()))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .open(target)
        .map_err(|e| write_err(e.to_string()))?;
    file.lock().map_err(|e| write_err(format!("locking: {e}")))?;
    let again = check(&load(&policy.files)?, address, port, key);
    let result = match again {
        Outcome::Match => Ok(()),
        Outcome::Unknown { .. } => {
            let line = key.to_openssh().map_err(|e| write_err(e.to_string()))?;
            // Drop the comment: field three would otherwise carry whatever the server sent.
            let mut parts = line.split_whitespace();
            let (kind, blob) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
            let entry = format!("{} {kind} {blob}\n", host_name(address, port));
            let prefix = if needs_newline(target) { "\n" } else { "" };
            file.write_all(format!("{prefix}{entry}").as_bytes())
                .map_err(|e| write_err(e.to_string()))?;
            tracing::info!("{label}: added {} to {}", fingerprint(key), target.display());
            Ok(())
        }
        Outcome::Changed { file: f, line } => Err(Error::new(
            label,
            ErrorKind::HostKey(Box::new(HostKeyProblem::Changed {
                fingerprint: fingerprint(key),
                file: f,
                line,
            })),
        )),
        Outcome::Revoked { file: f, line } => Err(Error::new(
            label,
            ErrorKind::HostKey(Box::new(HostKeyProblem::Revoked {
                fingerprint: fingerprint(key),
                file: f,
                line,
            })),
        )),
    };
    let _ = file.unlock();
    result
}

fn needs_newline(path: &Path) -> bool {
    std::fs::read(path)
        .map(|b| b.last().is_some_and(|c| *c != b'\n'))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOiN0Z4Tz0lndGFUaDXdKHGOUe7BMBE5hbiejBs++u1M";
    const ED2: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGcu0y9UFqQXrXcc7xZ07UCUN7rPCAxoruhX/zE73UtF";

    fn key(s: &str) -> PublicKey {
        PublicKey::from_openssh(s).unwrap_or_else(|e| panic!("{e}"))
    }

    fn hashed(name: &str) -> String {
        let salt = b"0123456789abcdefghij";
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(salt).unwrap_or_else(|e| panic!("{e}"));
        mac.update(name.as_bytes());
        format!("|1|{}|{}", B64.encode(salt), B64.encode(mac.finalize().into_bytes()))
    }

    #[test]
    fn glob_and_negation() {
        let table: &[(&[&str], &str, bool)] = &[
            (&["web*"], "web01", true),
            (&["web?"], "web01", false),
            (&["web??"], "web01", true),
            (&["*"], "", true),
            (&["*.example.com", "!bad.example.com"], "bad.example.com", false),
            (&["*.example.com", "!bad.example.com"], "ok.example.com", true),
            (&["!x"], "y", false),
            (&["[10.0.0.*]:2222"], "[10.0.0.7]:2222", true),
            (&["a*b*c"], "axxbyyc", true),
            (&["a*b*c"], "axxbyy", false),
        ];
        for (pats, name, want) in table {
            assert_eq!(match_list(pats, name), *want, "{pats:?} vs {name}");
        }
    }

    #[test]
    fn outcomes_for_plain_hashed_ports_and_markers() {
        let f = Path::new("/kh");
        let table: Vec<(String, &str, u16, &str, Outcome)> = vec![
            (format!("host1 {ED}"), "host1", 22, ED, Outcome::Match),
            (format!("HOST1 {ED}"), "host1", 22, ED, Outcome::Match),
            (format!("a,host1,b {ED}"), "host1", 22, ED, Outcome::Match),
            (
                format!("host1 {ED}"),
                "host1",
                2222,
                ED,
                Outcome::Unknown {
                    other_types: vec![],
                },
            ),
            (
                format!("[host1]:2222 {ED}"),
                "host1",
                2222,
                ED,
                Outcome::Match,
            ),
            (
                format!("[host1]:2222 {ED}"),
                "host1",
                22,
                ED,
                Outcome::Unknown {
                    other_types: vec![],
                },
            ),
            (
                format!("{} {ED}", hashed("host1")),
                "host1",
                22,
                ED,
                Outcome::Match,
            ),
            (
                format!("{} {ED}", hashed("[host1]:2200")),
                "host1",
                2200,
                ED,
                Outcome::Match,
            ),
            (
                format!("{} {ED}", hashed("host1")),
                "host2",
                22,
                ED,
                Outcome::Unknown {
                    other_types: vec![],
                },
            ),
            (
                format!("# c\n\nhost1 {ED}"),
                "host1",
                22,
                ED2,
                Outcome::Changed {
                    file: f.into(),
                    line: 3,
                },
            ),
            (
                format!("@revoked host1 {ED}\nhost1 {ED}"),
                "host1",
                22,
                ED,
                Outcome::Revoked {
                    file: f.into(),
                    line: 1,
                },
            ),
            (
                format!("@revoked * {ED}"),
                "any",
                22,
                ED,
                Outcome::Revoked {
                    file: f.into(),
                    line: 1,
                },
            ),
            (
                format!("@cert-authority * {ED}"),
                "host1",
                22,
                ED,
                Outcome::Unknown {
                    other_types: vec![],
                },
            ),
            (
                format!("*.lan,!evil.lan {ED}"),
                "evil.lan",
                22,
                ED,
                Outcome::Unknown {
                    other_types: vec![],
                },
            ),
            (format!("*.lan {ED}"), "n1.lan", 22, ED, Outcome::Match),
            (
                "garbage line\nhost1 ssh-ed25519 !!!".to_string(),
                "host1",
                22,
                ED,
                Outcome::Unknown {
                    other_types: vec![],
                },
            ),
            (
                "host1 ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBGlhERVgS5LHeXhrI/Igbd3580NkYjbSKI4qtnCKaCWmA2JCdWoOQGL4mnJ7cchEWc2HNhzXtHXUOeB6D2g0KjY=".to_string(),
                "host1",
                22,
                ED,
                Outcome::Unknown {
                    other_types: vec!["ecdsa-sha2-nistp256".into()],
                },
            ),
        ];
        for (text, host, port, k, want) in table {
            let entries = parse(&text, f);
            assert_eq!(check(&entries, host, port, &key(k)), want, "{text} / {host}:{port}");
        }
    }

    #[test]
    fn several_files_are_read_and_missing_ones_ignored() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        let _ = std::fs::write(&b, format!("h {ED}\n"));
        let entries = load(&[a, b.clone()]).unwrap_or_default();
        assert_eq!(check(&entries, "h", 22, &key(ED)), Outcome::Match);
        assert_eq!(
            check(&entries, "h", 22, &key(ED2)),
            Outcome::Changed { file: b, line: 1 }
        );
    }

    #[test]
    fn accept_new_writes_once_and_then_refuses_a_change() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let file = dir.path().join("sub/known_hosts");
        let policy = HostKeyPolicy {
            files: vec![file.clone()],
            mode: StrictMode::AcceptNew,
        };
        for _ in 0..3 {
            assert!(verify(&policy, "h", "10.1.1.1", 2022, &key(ED)).is_ok());
        }
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(text.starts_with("[10.1.1.1]:2022 ssh-ed25519 "));
        let e = verify(&policy, "h", "10.1.1.1", 2022, &key(ED2))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("CHANGED") && e.contains(":1"), "{e}");
        let strict = HostKeyPolicy {
            mode: StrictMode::Strict,
            ..policy
        };
        let e = verify(&strict, "h", "10.9.9.9", 22, &key(ED))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("ssh-keyscan -p 22 10.9.9.9 >>"), "{e}");
    }

    #[test]
    fn off_port_22_a_key_recorded_without_the_port_is_accepted_as_ssh_does() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let file = dir.path().join("known_hosts");
        // (file, port, accepted when strict, accepted with accept-new (which records it))
        let table: &[(String, u16, bool, bool)] = &[
            (format!("10.1.1.1 {ED}\n"), 2022, true, true),
            (format!("10.1.1.1 {ED2}\n"), 2022, false, true),
            (format!("[10.1.1.1]:2022 {ED2}\n10.1.1.1 {ED}\n"), 2022, false, false),
            (format!("@revoked 10.1.1.1 {ED}\n"), 2022, false, true),
            (format!("[10.1.1.1]:2022 {ED}\n"), 22, false, true),
        ];
        for (text, port, strict, accept_new) in table {
            for (mode, want) in [(StrictMode::Strict, strict), (StrictMode::AcceptNew, accept_new)] {
                let _ = std::fs::write(&file, text);
                let policy = HostKeyPolicy {
                    files: vec![file.clone()],
                    mode,
                };
                let got = verify(&policy, "h", "10.1.1.1", *port, &key(ED));
                assert_eq!(got.is_ok(), *want, "{mode:?} {text} port {port}: {got:?}");
                let now = std::fs::read_to_string(&file).unwrap_or_default();
                let recorded = now.len() > text.len();
                assert_eq!(
                    recorded,
                    *want && !strict && mode == StrictMode::AcceptNew,
                    "{mode:?} {text}: {now}"
                );
            }
        }
    }
}
