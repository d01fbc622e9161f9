//! Owner, group and mode of a path: what differs from the requested ones, and the quoted
//! `chown`/`chgrp`/`chmod` lines that fix it. Symbolic modes are resolved here against the
//! current mode (as Ansible does) so the change test and check mode need no extra round trip.

use super::args::Mode;
use super::remote_file::{Kind, RemoteStat};
use crate::connection::quote::join;

/// The attributes a task asks for; `None` leaves one as it is.
#[derive(Clone, Debug, Default)]
pub struct Wanted {
    pub mode: Option<Mode>,
    pub owner: Option<String>,
    pub group: Option<String>,
}

impl Wanted {
    pub fn from_args(args: &super::args::Args<'_>) -> Result<Wanted, String> {
        Ok(Wanted {
            mode: args.mode("mode")?,
            owner: args.str("owner")?,
            group: args.str("group")?,
        })
    }

    /// Like [`Wanted::from_args`], with `mode: preserve` (copy, template) taking the source
    /// file's mode on the controller.
    pub fn from_args_preserving(args: &super::args::Args<'_>, src: &std::path::Path) -> Result<Wanted, String> {
        if !is_preserve(args) {
            return Wanted::from_args(args);
        }
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(src)
            .map(|m| m.permissions().mode() & 0o7777)
            .map_err(|e| format!("could not read the mode of {}: {e}", src.display()))?;
        Ok(Wanted {
            mode: Some(Mode::Bits(mode)),
            owner: args.str("owner")?,
            group: args.str("group")?,
        })
    }

    /// The mode bits for a new file, if a mode is given (symbolic: applied to `base`).
    pub fn new_mode(&self, base: u32, is_dir: bool) -> Result<Option<u32>, String> {
        match &self.mode {
            None => Ok(None),
            Some(Mode::Bits(b)) => Ok(Some(*b)),
            Some(Mode::Symbolic(s)) => symbolic(s, base, is_dir).map(Some),
        }
    }
}

/// `mode: preserve`: keep the source's mode.
pub fn is_preserve(args: &super::args::Args<'_>) -> bool {
    args.get("mode").and_then(|v| v.as_str()) == Some("preserve")
}

/// Commands that bring `st` (at `path`) to `want`; empty when nothing differs. `no_follow`
/// changes a symlink itself (`chown -h`; a link's own mode cannot change on Linux).
pub fn fix_commands(path: &str, st: &RemoteStat, want: &Wanted, no_follow: bool) -> Result<Vec<String>, String> {
    let mut cmds = Vec::new();
    let q = |words: &[&str]| join(words).map_err(|e| e.to_string());
    let h = if no_follow { "-h" } else { "" };
    if let Some(owner) = &want.owner
        && !same_id(owner, &st.owner, st.uid)
    {
        let mut words = vec!["chown"];
        if !h.is_empty() {
            words.push(h);
        }
        words.extend(["--", owner, path]);
        cmds.push(q(&words)?);
    }
    if let Some(group) = &want.group
        && !same_id(group, &st.group, st.gid)
    {
        let mut words = vec!["chgrp"];
        if !h.is_empty() {
            words.push(h);
        }
        words.extend(["--", group, path]);
        cmds.push(q(&words)?);
    }
    if !(no_follow && st.kind == Kind::Link)
        && let Some(m) = want.new_mode(st.mode, st.kind == Kind::Dir)?
        && m != st.mode
    {
        cmds.push(q(&["chmod", &format!("{m:04o}"), "--", path])?);
    }
    Ok(cmds)
}

fn same_id(wanted: &str, name: &str, id: u64) -> bool {
    match wanted.parse::<u64>() {
        Ok(n) => n == id,
        Err(_) => wanted == name,
    }
}

/// Hosts are assumed to run with the common umask for who-less clauses (`+x`).
const UMASK: u32 = 0o022;

/// Resolve a symbolic mode (`u=rw,g+r,o-w`, `a+X`, `+x`) against `current`.
pub fn symbolic(spec: &str, current: u32, is_dir: bool) -> Result<u32, String> {
    let mut mode = current & 0o7777;
    let bad = || format!("bad symbolic permission for mode: {spec}");
    for clause in spec.split(',') {
        let who_end = clause.find(|c| "+-=".contains(c)).ok_or_else(bad)?;
        let (who, mut rest) = clause.split_at(who_end);
        if !who.chars().all(|c| "ugoa".contains(c)) {
            return Err(bad());
        }
        let use_umask = who.is_empty();
        let users: Vec<char> = if who.is_empty() || who.contains('a') {
            vec!['u', 'g', 'o']
        } else {
            who.chars().collect()
        };
        while let Some(op) = rest.chars().next() {
            let after = &rest[1..];
            let end = after.find(|c| "+-=".contains(c)).unwrap_or(after.len());
            let perms = &after[..end];
            rest = &after[end..];
            if !perms.chars().all(|c| "rwxXstugo".contains(c)) {
                return Err(bad());
            }
            for &user in &users {
                let bits = perm_bits(user, perms, mode, is_dir, use_umask);
                mode = apply(user, op, bits, mode);
            }
        }
    }
    Ok(mode)
}

fn perm_bits(user: char, perms: &str, prev: u32, is_dir: bool, use_umask: bool) -> u32 {
    let shift = match user {
        'u' => 6,
        'g' => 3,
        _ => 0,
    };
    let allowed = if use_umask { !UMASK & 0o777 } else { 0o777 };
    let mut bits = 0;
    for p in perms.chars() {
        bits |= match p {
            'r' => (0o4 << shift) & allowed,
            'w' => (0o2 << shift) & allowed,
            'x' => (0o1 << shift) & allowed,
            'X' if is_dir || prev & 0o111 != 0 => 0o1 << shift,
            's' if user == 'u' => 0o4000,
            's' if user == 'g' => 0o2000,
            't' if user == 'o' => 0o1000,
            'u' => ((prev >> 6) & 0o7) << shift,
            'g' => ((prev >> 3) & 0o7) << shift,
            'o' => (prev & 0o7) << shift,
            _ => 0,
        };
    }
    bits
}

fn apply(user: char, op: char, bits: u32, mode: u32) -> u32 {
    match op {
        '=' => {
            let clear = match user {
                'u' => 0o4700,
                'g' => 0o2070,
                _ => 0o1007,
            };
            (mode & !clear) | bits
        }
        '+' => mode | bits,
        _ => mode & !bits,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbolic_modes_resolve_like_chmod() {
        let table = [
            ("u=rw,g=r,o=r", 0o777, false, 0o644),
            ("u=rw,g=r", 0o644, false, 0o644),
            ("a+x", 0o644, false, 0o755),
            ("go-rwx", 0o755, true, 0o700),
            ("a+X", 0o644, true, 0o755),
            ("a+X", 0o644, false, 0o644),
            ("a+X", 0o744, false, 0o755),
            ("+w", 0o444, false, 0o644),
            ("u+s,o+t", 0o755, true, 0o5755),
            ("g=u", 0o640, false, 0o660),
            ("u=rwx,g=rx,o=", 0o644, true, 0o750),
        ];
        for (spec, cur, dir, want) in table {
            assert_eq!(symbolic(spec, cur, dir), Ok(want), "{spec} on {cur:o}");
        }
        assert!(symbolic("z+r", 0o644, false).is_err());
        assert!(symbolic("u+q", 0o644, false).is_err());
    }
}
