//! The host side of `find`: one `find -printf` per search path in a single round trip, and
//! Python's `os.walk` replayed on the controller over that listing (top-down, each
//! directory's files before its subdirectories, in the directory's own order), so matches,
//! `examined` and the order of `files` come out as Ansible's do.

use crate::connection::quote::quote;
use std::collections::HashMap;

/// One entry below a search path, with `lstat` data.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// Path below the search path (`a/b`).
    pub rel: String,
    pub depth: usize,
    /// `find`'s type letter for the entry itself and for what a symlink points to.
    pub kind: char,
    pub target_kind: char,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub size: u64,
    pub inode: u64,
    pub dev: u64,
    pub nlink: u64,
    pub atime: f64,
    pub mtime: f64,
    pub ctime: f64,
    pub user: String,
    pub group: String,
}

impl Entry {
    /// Where `os.walk` lists it: with the directories when it is one or links to one.
    pub fn walks_as_dir(&self) -> bool {
        self.target_kind == 'd'
    }
}

/// What the host said about one search path.
#[derive(Debug, PartialEq)]
pub enum Listing {
    NotDir,
    Entries(Vec<Entry>),
}

/// Fields, user, group, path and a symlink's text. Under `-L` the fields describe what a link
/// points to; the leading `L` (from `-xtype l`, the link itself) still marks links.
const FORMAT: &str = "%d %y %Y %m %U %G %s %i %D %n %A@ %T@ %C@\\0%u\\0%g\\0%P\\0%l\\0";

/// The command listing `paths` (entries deeper than `max_depth` left out). `follow` walks
/// into symlinked directories.
pub fn command(paths: &[String], follow: bool, max_depth: Option<usize>) -> Result<String, String> {
    let mut line = String::from("LC_ALL=C; export LC_ALL; date +%s.%N | tr -d '\\n'; printf '\\0'; ");
    let opt = if follow { "-L" } else { "-H" };
    let link = if follow { "-xtype l" } else { "-type l" };
    let depth = max_depth.map(|d| format!(" -maxdepth {d}")).unwrap_or_default();
    for p in paths {
        let q = quote(p).map_err(|e| e.to_string())?;
        line.push_str(&format!(
            "p={q}; if [ -d \"$p\" ]; then printf 'D\\0'; find {opt} \"$p\" -mindepth 1{depth} \\( {link} -printf L -o -printf R \\) -printf '{FORMAT}'; \
             else printf 'X\\0'; fi; printf 'E\\0'; "
        ));
    }
    Ok(line)
}

fn parse_entry(nums: &str, user: &str, group: &str, rel: &str, target: &str) -> Option<Entry> {
    let is_link = nums.starts_with('L');
    let f: Vec<&str> = nums.get(1..)?.split(' ').collect();
    let int = |i: usize| f.get(i).and_then(|s| s.parse::<u64>().ok());
    let float = |i: usize| f.get(i).and_then(|s| s.parse::<f64>().ok());
    let letter = |i: usize| f.get(i).and_then(|s| s.chars().next());
    // A name the system does not know is printed as the number; Python leaves it empty.
    let name = |n: &str, id: Option<u64>| {
        if id.map(|i| i.to_string()).as_deref() == Some(n) {
            String::new()
        } else {
            n.to_string()
        }
    };
    let mut e = Entry {
        rel: rel.to_string(),
        depth: int(0)? as usize,
        kind: letter(1)?,
        target_kind: letter(2)?,
        mode: u32::from_str_radix(f.get(3)?, 8).ok()?,
        uid: int(4)?,
        gid: int(5)?,
        size: int(6)?,
        inode: int(7)?,
        dev: int(8)?,
        nlink: int(9)?,
        atime: float(10)?,
        mtime: float(11)?,
        ctime: float(12)?,
        user: name(user, int(4)),
        group: name(group, int(5)),
    };
    if is_link && e.kind != 'l' {
        // Followed (`-L`): the link's own type, mode and size as `lstat` gives them.
        e.kind = 'l';
        e.mode = 0o777;
        e.size = target.len() as u64;
    }
    Some(e)
}

/// The host's clock and one listing per path, from [`command`]'s output.
pub fn parse(out: &[u8]) -> Result<(f64, Vec<Listing>), String> {
    let text = String::from_utf8_lossy(out);
    let mut tokens = text.split('\0');
    let bad = || {
        format!(
            "unexpected find output: {:?}",
            text.chars().take(200).collect::<String>()
        )
    };
    let now = tokens
        .next()
        .and_then(|t| t.trim().parse::<f64>().ok())
        .ok_or_else(bad)?;
    let mut listings = Vec::new();
    while let Some(tag) = tokens.next() {
        match tag {
            "" => break,
            "X" => {
                tokens.next().filter(|t| *t == "E").ok_or_else(bad)?;
                listings.push(Listing::NotDir);
            }
            "D" => {
                let mut entries = Vec::new();
                loop {
                    let nums = tokens.next().ok_or_else(bad)?;
                    if nums == "E" {
                        break;
                    }
                    let (Some(u), Some(g), Some(rel), Some(target)) =
                        (tokens.next(), tokens.next(), tokens.next(), tokens.next())
                    else {
                        return Err(bad());
                    };
                    entries.push(parse_entry(nums, u, g, rel, target).ok_or_else(bad)?);
                }
                listings.push(Listing::Entries(entries));
            }
            _ => return Err(bad()),
        }
    }
    Ok((now, listings))
}

/// `find: 'p': Permission denied` lines as Python's `os.walk` error texts, by path.
pub fn walk_errors(stderr: &str) -> Vec<(String, String)> {
    stderr
        .lines()
        .filter_map(|l| l.strip_prefix("find: '"))
        .filter_map(|l| l.rsplit_once("': "))
        .map(|(path, why)| {
            let text = match why {
                "Permission denied" => format!("[Errno 13] Permission denied: '{path}'"),
                "No such file or directory" => format!("[Errno 2] No such file or directory: '{path}'"),
                other => other.to_string(),
            };
            (path.to_string(), text)
        })
        .collect()
}

/// `os.path.normpath` on a POSIX path string.
pub fn normpath(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let lead = if path.starts_with("//") && !path.starts_with("///") {
        "//"
    } else if path.starts_with('/') {
        "/"
    } else {
        ""
    };
    let mut parts: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." if parts.last().is_some_and(|l| *l != "..") => {
                parts.pop();
            }
            ".." if !lead.is_empty() => {}
            c => parts.push(c),
        }
    }
    let joined = format!("{lead}{}", parts.join("/"));
    if joined.is_empty() { ".".into() } else { joined }
}

/// One `(root, dirs + files)` step of the walk, as the module's loop sees it.
pub struct Walk<'a> {
    children: HashMap<&'a str, Vec<&'a Entry>>,
}

/// What the loop over one directory's entries tells the walk.
pub enum Step {
    Next,
    /// `del dirs[:]`: do not descend below this directory.
    Prune,
    /// Stop the whole walk of this search path.
    Stop,
}

impl<'a> Walk<'a> {
    pub fn new(entries: &'a [Entry]) -> Walk<'a> {
        let mut children: HashMap<&str, Vec<&Entry>> = HashMap::new();
        for e in entries {
            let parent = e.rel.rsplit_once('/').map_or("", |(p, _)| p);
            children.entry(parent).or_default().push(e);
        }
        Walk { children }
    }

    /// Visit the directory `rel` ("" is the search path) and, unless told otherwise, the
    /// directories below it: `visit(entries)` gets files then directories, like `os.walk`'s
    /// `files + dirs`, and returns whether to prune or stop. `recurse: false` stops after the
    /// first directory. Returns false once stopped.
    pub fn walk(&self, rel: &str, recurse: bool, follow: bool, visit: &mut dyn FnMut(&[&Entry]) -> Step) -> bool {
        let list = self.children.get(rel).cloned().unwrap_or_default();
        let (dirs, files): (Vec<&Entry>, Vec<&Entry>) = list.into_iter().partition(|e| e.walks_as_dir());
        let mut all = files;
        all.extend(dirs.iter().copied());
        let descend = match visit(&all) {
            Step::Stop => return false,
            Step::Prune => false,
            Step::Next => true,
        };
        if !recurse {
            return false;
        }
        if descend {
            for d in dirs {
                if (follow || d.kind != 'l') && !self.walk(&d.rel, recurse, follow, visit) {
                    return false;
                }
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_parses_and_walks_like_os_walk() {
        let rec = |d: &str, y: &str, yy: &str, rel: &str| {
            let l = if y == "l" { "L" } else { "R" };
            format!("{l}{d} {y} {yy} 644 0 0 3 1 2 1 1.5 2.5 3.5\0root\0root\0{rel}\0\0")
        };
        let out = format!(
            "100.25\0D\0{}{}{}{}{}E\0X\0E\0",
            rec("1", "d", "d", "sub"),
            rec("2", "f", "f", "sub/x"),
            rec("1", "l", "d", "lnk"),
            rec("1", "f", "f", "a\nb"),
            rec("2", "d", "d", "sub/deeper"),
        );
        let (now, listings) = parse(out.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(now, 100.25);
        assert_eq!(listings.get(1), Some(&Listing::NotDir));
        let Some(Listing::Entries(entries)) = listings.first() else {
            panic!("no entries")
        };
        assert_eq!(entries.len(), 5);
        let w = Walk::new(entries);
        let mut seen = Vec::new();
        w.walk("", true, false, &mut |es| {
            seen.push(es.iter().map(|e| e.rel.clone()).collect::<Vec<_>>().join(","));
            Step::Next
        });
        // Files first, then directories; the symlinked directory is listed but not entered.
        assert_eq!(seen, ["a\nb,sub,lnk", "sub/x,sub/deeper", ""]);
        assert_eq!(normpath("/a//b/./c/../d/"), "/a/b/d");
        assert_eq!(normpath("x/../.."), "..");
        assert_eq!(
            walk_errors("find: '/r/s': Permission denied\n"),
            [("/r/s".to_string(), "[Errno 13] Permission denied: '/r/s'".to_string())]
        );
    }
}
