//! Turning the output of the `setup` probe script into Ansible's fact names and shapes. Pure
//! functions over text, so they are tested with recorded outputs of several systems.

use super::cmd_common::civil_from_days;
use crate::value::{Map, Value};
use std::collections::HashMap;

/// The probe's output split at its `@@name` marker lines.
pub fn sections(text: &str) -> HashMap<String, String> {
    let mut out: HashMap<String, String> = HashMap::new();
    let mut current: Option<String> = None;
    for line in text.split_inclusive('\n') {
        if let Some(name) = line.strip_prefix("@@") {
            let name = name.trim().to_string();
            out.entry(name.clone()).or_default();
            current = Some(name);
        } else if let Some(c) = &current
            && let Some(s) = out.get_mut(c)
        {
            s.push_str(line);
        }
    }
    out
}

fn s(v: impl Into<String>) -> Value {
    Value::Str(v.into())
}

fn lines(text: Option<&String>) -> Vec<&str> {
    text.map(|t| t.lines().collect()).unwrap_or_default()
}

/// `KEY=value` lines with shell quoting removed (os-release).
pub fn key_values(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| {
            let v = v.trim();
            let v = shell_words::split(v)
                .ok()
                .map(|w| w.join(" "))
                .unwrap_or_else(|| v.trim_matches(['"', '\'']).to_string());
            (k.trim().to_string(), v)
        })
        .collect()
}

/// The name Ansible gives a distribution, from os-release `ID`.
fn distribution_name(id: &str, name: &str) -> String {
    let known = [
        ("rhel", "RedHat"),
        ("centos", "CentOS"),
        ("rocky", "Rocky"),
        ("almalinux", "AlmaLinux"),
        ("fedora", "Fedora"),
        ("ol", "OracleLinux"),
        ("amzn", "Amazon"),
        ("debian", "Debian"),
        ("ubuntu", "Ubuntu"),
        ("raspbian", "Debian"),
        ("linuxmint", "Linux Mint"),
        ("kali", "Kali"),
        ("devuan", "Devuan"),
        ("pop", "Pop!_OS"),
        ("sles", "SLES"),
        ("sles_sap", "SLES_SAP"),
        ("sled", "SLED"),
        ("opensuse-leap", "openSUSE Leap"),
        ("opensuse-tumbleweed", "openSUSE Tumbleweed"),
        ("opensuse", "openSUSE"),
        ("arch", "Archlinux"),
        ("manjaro", "Manjaro"),
        ("alpine", "Alpine"),
        ("gentoo", "Gentoo"),
        ("flatcar", "Flatcar"),
        ("openEuler", "openEuler"),
        ("openeuler", "openEuler"),
        ("kylin", "Kylin Linux Advanced Server"),
        ("uos", "Uos"),
        ("clear-linux-os", "Clear Linux OS"),
        ("void", "Void"),
        ("nixos", "NixOS"),
    ];
    known
        .iter()
        .find(|(k, _)| *k == id)
        .map(|(_, v)| v.to_string())
        .or_else(|| (!name.is_empty()).then(|| name.split_whitespace().next().unwrap_or(name).to_string()))
        .unwrap_or_else(|| "OtherLinux".into())
}

/// Ansible's `os_family` for a distribution name, falling back on `ID_LIKE`.
fn os_family(dist: &str, id_like: &str) -> String {
    let families: [(&str, &[&str]); 7] = [
        (
            "RedHat",
            &[
                "RedHat",
                "Fedora",
                "CentOS",
                "Scientific",
                "OracleLinux",
                "Amazon",
                "Virtuozzo",
                "XenServer",
                "Alibaba",
                "EulerOS",
                "openEuler",
                "AlmaLinux",
                "Rocky",
                "TencentOS",
                "EuroLinux",
                "Kylin Linux Advanced Server",
                "MIRACLE",
                "CloudLinux",
            ],
        ),
        (
            "Debian",
            &[
                "Ubuntu",
                "Debian",
                "Raspbian",
                "Neon",
                "KDE neon",
                "Linux Mint",
                "SteamOS",
                "Devuan",
                "Kali",
                "Cumulus Linux",
                "Pop!_OS",
                "Parrot",
                "Uos",
                "Deepin",
                "OSMC",
            ],
        ),
        (
            "Suse",
            &[
                "SuSE",
                "SLES",
                "SLED",
                "openSUSE",
                "openSUSE Tumbleweed",
                "SLES_SAP",
                "SUSE_LINUX",
                "openSUSE Leap",
                "SL-Micro",
                "openSUSE MicroOS",
            ],
        ),
        ("Archlinux", &["Archlinux", "Antergos", "Manjaro"]),
        ("Alpine", &["Alpine"]),
        ("Gentoo", &["Gentoo", "Funtoo"]),
        ("Flatcar", &["Flatcar"]),
    ];
    if let Some((f, _)) = families.iter().find(|(_, names)| names.contains(&dist)) {
        return f.to_string();
    }
    let like: Vec<&str> = id_like.split_whitespace().collect();
    let has = |w: &str| like.contains(&w);
    if has("debian") || has("ubuntu") {
        "Debian".into()
    } else if has("rhel") || has("fedora") || has("centos") {
        "RedHat".into()
    } else if has("suse") {
        "Suse".into()
    } else if has("arch") {
        "Archlinux".into()
    } else {
        dist.to_string()
    }
}

/// `distribution*` and `os_family` from os-release (and `/etc/debian_version`).
pub fn distribution(sec: &HashMap<String, String>, f: &mut Map) {
    let os = key_values(sec.get("os_release").map(String::as_str).unwrap_or(""));
    let get = |k: &str| os.get(k).cloned().unwrap_or_default();
    let id = get("ID");
    let dist = distribution_name(&id, &get("NAME"));
    let mut version = get("VERSION_ID");
    if dist == "Debian"
        && let Some(dv) = sec.get("debian_version").map(|t| t.trim().to_string())
        && dv.starts_with(|c: char| c.is_ascii_digit())
    {
        version = dv;
    }
    let mut release = get("VERSION_CODENAME");
    if release.is_empty() {
        release = get("UBUNTU_CODENAME");
    }
    if release.is_empty() {
        // `VERSION="9.3 (Blue Onyx)"`: the name in parentheses.
        let v = get("VERSION");
        if let (Some(a), Some(b)) = (v.find('('), v.rfind(')'))
            && a < b
        {
            release = v[a + 1..b].trim().to_string();
        }
    }
    if release.is_empty() {
        release = "NA".into();
    }
    if version.is_empty() {
        version = "NA".into();
    }
    let major = version.split('.').next().unwrap_or("").to_string();
    let family = os_family(&dist, &get("ID_LIKE"));
    f.insert("distribution".into(), s(dist));
    f.insert("distribution_version".into(), s(version.clone()));
    f.insert("distribution_major_version".into(), s(major));
    if let Some(minor) = version.split('.').nth(1) {
        f.insert("distribution_minor_version".into(), s(minor));
    }
    f.insert("distribution_release".into(), s(release));
    f.insert("os_family".into(), s(family));
}

/// `system`, `kernel`, `machine`, host names and the userspace width.
pub fn platform(sec: &HashMap<String, String>, f: &mut Map) {
    let u = lines(sec.get("uname"));
    let at = |i: usize| u.get(i).map(|x| x.trim().to_string()).unwrap_or_default();
    let machine = at(3);
    f.insert("system".into(), s(at(0)));
    f.insert("kernel".into(), s(at(1)));
    f.insert("kernel_version".into(), s(at(2)));
    f.insert("machine".into(), s(machine.clone()));
    f.insert("architecture".into(), s(machine.clone()));
    let node = at(4);
    let hostname = node.split('.').next().unwrap_or("").to_string();
    f.insert("nodename".into(), s(node.clone()));
    f.insert("hostname".into(), s(hostname));
    // Python's getfqdn: the first resolved name holding a dot, else the canonical name.
    let names: Vec<&str> = sec
        .get("fqdn")
        .and_then(|t| t.lines().next())
        .map(|l| l.split_whitespace().skip(1).collect())
        .unwrap_or_default();
    let fqdn = names
        .iter()
        .find(|n| n.contains('.'))
        .or(names.first())
        .map(|n| n.to_string())
        .unwrap_or(node);
    let domain = fqdn.split_once('.').map(|(_, d)| d.to_string()).unwrap_or_default();
    f.insert("fqdn".into(), s(fqdn));
    f.insert("domain".into(), s(domain));
    if let Some(bits) = sec
        .get("long_bit")
        .map(|t| t.trim().to_string())
        .filter(|b| !b.is_empty())
    {
        let arch = match (machine.as_str(), bits.as_str()) {
            ("x86_64", "32") => "i386".to_string(),
            ("aarch64", "32") => "arm".to_string(),
            _ => machine.clone(),
        };
        f.insert("userspace_bits".into(), s(bits));
        f.insert("userspace_architecture".into(), s(arch));
    }
}

/// Memory in MB and processor counts from /proc.
pub fn hardware(sec: &HashMap<String, String>, f: &mut Map) {
    let mem: HashMap<&str, i64> = lines(sec.get("meminfo"))
        .into_iter()
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            let kb = v.split_whitespace().next()?.parse::<i64>().ok()?;
            Some((k.trim(), kb / 1024))
        })
        .collect();
    let m = |k: &str| mem.get(k).copied().unwrap_or(0);
    if !mem.is_empty() {
        let (total, free) = (m("MemTotal"), m("MemFree"));
        let nocache_free = free + m("Buffers") + m("Cached");
        f.insert("memtotal_mb".into(), Value::Int(total));
        f.insert("memfree_mb".into(), Value::Int(free));
        f.insert("swaptotal_mb".into(), Value::Int(m("SwapTotal")));
        f.insert("swapfree_mb".into(), Value::Int(m("SwapFree")));
        let pair = |a: &[(&str, i64)]| Value::Map(a.iter().map(|(k, v)| (k.to_string(), Value::Int(*v))).collect());
        let mut mm = Map::new();
        mm.insert(
            "real".into(),
            pair(&[("total", total), ("used", total - free), ("free", free)]),
        );
        mm.insert(
            "nocache".into(),
            pair(&[("free", nocache_free), ("used", total - nocache_free)]),
        );
        mm.insert(
            "swap".into(),
            pair(&[
                ("total", m("SwapTotal")),
                ("free", m("SwapFree")),
                ("used", m("SwapTotal") - m("SwapFree")),
                ("cached", m("SwapCached")),
            ]),
        );
        f.insert("memory_mb".into(), Value::Map(mm));
    }
    let cpu = lines(sec.get("cpuinfo"));
    let field = |l: &str| {
        l.split_once(':')
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
    };
    let mut vcpus = 0i64;
    let mut sockets: Vec<String> = Vec::new();
    let (mut cores, mut siblings) = (0i64, 0i64);
    for l in cpu {
        match field(l) {
            Some((k, _)) if k == "processor" => vcpus += 1,
            Some((k, v)) if k == "physical id" && !sockets.contains(&v) => sockets.push(v),
            Some((k, v)) if k == "cpu cores" => cores = v.parse().unwrap_or(cores),
            Some((k, v)) if k == "siblings" => siblings = v.parse().unwrap_or(siblings),
            _ => {}
        }
    }
    if vcpus > 0 {
        let (count, cores, threads) = if sockets.is_empty() || cores == 0 {
            (vcpus, 1, 1)
        } else {
            let threads = if siblings > 0 { (siblings / cores).max(1) } else { 1 };
            (sockets.len() as i64, cores, threads)
        };
        f.insert("processor_count".into(), Value::Int(count));
        f.insert("processor_cores".into(), Value::Int(cores));
        f.insert("processor_threads_per_core".into(), Value::Int(threads));
        f.insert("processor_vcpus".into(), Value::Int(count * cores * threads));
    }
    if let Some(n) = sec.get("nproc").and_then(|t| t.trim().parse::<i64>().ok()) {
        f.insert("processor_nproc".into(), Value::Int(n));
    }
    if let Some(up) = sec
        .get("uptime")
        .and_then(|t| t.split_whitespace().next().and_then(|x| x.parse::<f64>().ok()))
    {
        f.insert("uptime_seconds".into(), Value::Int(up as i64));
    }
}

/// `date_time` from `date +'%Y|%m|%d|%H|%M|%S|%Z|%z|%s|%N|%A|%w|%W'` (host local time).
pub fn date_time(sec: &HashMap<String, String>, f: &mut Map) {
    let line = sec.get("date").map(|t| t.trim().to_string()).unwrap_or_default();
    let p: Vec<&str> = line.split('|').collect();
    let [y, mo, d, h, mi, se, tz, off, epoch, nanos, weekday, wnum, week] = p.as_slice() else {
        return;
    };
    let micros = if nanos.len() >= 6 && nanos.bytes().all(|b| b.is_ascii_digit()) {
        nanos[..6].to_string()
    } else {
        "000000".to_string()
    };
    let mut m = Map::new();
    let mut put = |k: &str, v: String| {
        m.insert(k.into(), s(v));
    };
    put("year", y.to_string());
    put("month", mo.to_string());
    put("weekday", weekday.to_string());
    put("weekday_number", wnum.to_string());
    put("weeknumber", week.to_string());
    put("day", d.to_string());
    put("hour", h.to_string());
    put("minute", mi.to_string());
    put("second", se.to_string());
    put("epoch", epoch.to_string());
    put("epoch_int", epoch.to_string());
    put("date", format!("{y}-{mo}-{d}"));
    put("time", format!("{h}:{mi}:{se}"));
    let secs: i64 = epoch.parse().unwrap_or(0);
    let (uy, um, ud) = civil_from_days(secs.div_euclid(86_400));
    let r = secs.rem_euclid(86_400);
    let utc = format!(
        "{uy:04}-{um:02}-{ud:02}T{:02}:{:02}:{:02}",
        r / 3600,
        r / 60 % 60,
        r % 60
    );
    put("iso8601_micro", format!("{utc}.{micros}Z"));
    put("iso8601", format!("{utc}Z"));
    put("iso8601_basic", format!("{y}{mo}{d}T{h}{mi}{se}{micros}"));
    put("iso8601_basic_short", format!("{y}{mo}{d}T{h}{mi}{se}"));
    put("tz", tz.to_string());
    put("tz_dst", tz.to_string());
    put("tz_offset", off.to_string());
    f.insert("date_time".into(), Value::Map(m));
}

/// `env` from `env -0` (NUL separated), or plain `env` lines.
pub fn env(sec: &HashMap<String, String>, f: &mut Map) {
    let text = sec.get("env").map(String::as_str).unwrap_or("");
    let text = text.strip_suffix('\n').unwrap_or(text);
    let items: Vec<&str> = if text.contains('\0') {
        text.split('\0').collect()
    } else {
        text.lines().collect()
    };
    let mut m = Map::new();
    for item in items {
        if let Some((k, v)) = item.split_once('=')
            && !k.is_empty()
        {
            m.insert(k.trim_start_matches('\n').to_string(), s(v));
        }
    }
    f.insert("env".into(), Value::Map(m));
}

/// The remote user: `id` and the passwd entry.
pub fn user(sec: &HashMap<String, String>, f: &mut Map) {
    let id = lines(sec.get("id"));
    let num = |i: usize| id.get(i).and_then(|x| x.trim().parse::<i64>().ok());
    if let Some(name) = id.first() {
        f.insert("user_id".into(), s(name.trim()));
    }
    for (i, k) in [
        (1, "user_uid"),
        (2, "user_gid"),
        (1, "effective_user_id"),
        (2, "effective_group_id"),
        (3, "real_user_id"),
        (4, "real_group_id"),
    ] {
        if let Some(n) = num(i) {
            f.insert(k.into(), Value::Int(n));
        }
    }
    if let Some(pw) = sec.get("passwd").and_then(|t| t.lines().next()) {
        let p: Vec<&str> = pw.split(':').collect();
        if let [_, _, _, _, gecos, dir, shell, ..] = p.as_slice() {
            f.insert("user_gecos".into(), s(*gecos));
            f.insert("user_dir".into(), s(*dir));
            f.insert("user_shell".into(), s(*shell));
        }
    }
    if let Some(mid) = sec
        .get("machine_id")
        .map(|t| t.trim().to_string())
        .filter(|m| !m.is_empty())
    {
        f.insert("machine_id".into(), s(mid));
    }
}

/// `service_mgr` from PID 1's name, as Ansible guesses it.
pub fn service_mgr(sec: &HashMap<String, String>, f: &mut Map) {
    let comm = sec.get("pid1").map(|t| t.trim().to_string()).unwrap_or_default();
    let bins = lines(sec.get("bins"));
    let has = |b: &str| bins.iter().any(|l| l.trim().ends_with(&format!("/{b}")));
    let systemd = sec.get("systemd").is_some_and(|t| t.trim() == "yes");
    let mgr = if systemd || comm == "systemd" {
        "systemd".to_string()
    } else if comm.is_empty() || comm == "init" || comm.ends_with("sh") {
        if has("openrc") {
            "openrc".into()
        } else if sec.get("initd").is_some_and(|t| t.trim() == "yes") {
            "sysvinit".into()
        } else {
            "service".into()
        }
    } else {
        match comm.as_str() {
            "runit" | "runit-init" => "runit".into(),
            "openrc-init" => "openrc".into(),
            _ => comm,
        }
    };
    f.insert("service_mgr".into(), s(mgr));
}

/// `pkg_mgr` from the family and the tools present.
pub fn pkg_mgr(sec: &HashMap<String, String>, f: &mut Map) {
    let bins = lines(sec.get("bins"));
    let has = |b: &str| bins.iter().any(|l| l.trim().ends_with(&format!("/{b}")));
    let family = f.get("os_family").and_then(Value::as_str).unwrap_or("").to_string();
    let by_family = match family.as_str() {
        "RedHat" => ["dnf5", "dnf", "yum"].into_iter().find(|b| has(b)),
        "Debian" => has("apt-get").then_some("apt"),
        "Suse" => has("zypper").then_some("zypper"),
        "Archlinux" => has("pacman").then_some("pacman"),
        "Alpine" => has("apk").then_some("apk"),
        "Gentoo" => has("emerge").then_some("portage"),
        _ => None,
    };
    let any = || {
        [
            ("apt-get", "apt"),
            ("dnf5", "dnf5"),
            ("dnf", "dnf"),
            ("yum", "yum"),
            ("zypper", "zypper"),
            ("pacman", "pacman"),
            ("apk", "apk"),
        ]
        .into_iter()
        .find(|(b, _)| has(b))
        .map(|(_, m)| m)
    };
    f.insert("pkg_mgr".into(), s(by_family.or_else(any).unwrap_or("unknown")));
}

/// `default_ipv4` and `all_ipv4_addresses` from `ip -4 route get`, `ip -4 -o addr` and
/// `/sys/class/net/*/{address,mtu}`. Missing `ip` leaves them empty.
pub fn network(sec: &HashMap<String, String>, f: &mut Map) {
    struct Addr {
        dev: String,
        ip: String,
        prefix: u32,
        brd: Option<String>,
    }
    let addrs: Vec<Addr> = lines(sec.get("addr"))
        .into_iter()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let dev = w.get(1)?.trim_end_matches(':').to_string();
            let i = w.iter().position(|x| *x == "inet")?;
            let (ip, prefix) = w.get(i + 1)?.split_once('/')?;
            let brd = w
                .iter()
                .position(|x| *x == "brd")
                .and_then(|j| w.get(j + 1))
                .map(|b| b.to_string());
            Some(Addr {
                dev,
                ip: ip.to_string(),
                prefix: prefix.parse().ok()?,
                brd,
            })
        })
        .collect();
    let all: Vec<Value> = addrs
        .iter()
        .filter(|a| !a.ip.starts_with("127."))
        .map(|a| s(a.ip.clone()))
        .collect();
    f.insert("all_ipv4_addresses".into(), Value::List(all));
    let route: Vec<&str> = sec
        .get("route")
        .and_then(|t| t.lines().next())
        .map(|l| l.split_whitespace().collect())
        .unwrap_or_default();
    let after = |k: &str| {
        route
            .iter()
            .position(|x| *x == k)
            .and_then(|i| route.get(i + 1))
            .map(|x| x.to_string())
    };
    let mut d = Map::new();
    if let (Some(dev), Some(src)) = (after("dev"), after("src")) {
        d.insert("address".into(), s(src.clone()));
        d.insert("alias".into(), s(dev.clone()));
        if let Some(a) = addrs
            .iter()
            .find(|a| a.ip == src && a.dev == dev)
            .or(addrs.iter().find(|a| a.ip == src))
        {
            if let Some(b) = &a.brd {
                d.insert("broadcast".into(), s(b.clone()));
            }
            let mask = if a.prefix == 0 {
                0
            } else {
                u32::MAX << (32 - a.prefix.min(32))
            };
            let ip: Option<u32> = a.ip.parse::<std::net::Ipv4Addr>().ok().map(u32::from);
            d.insert("netmask".into(), s(std::net::Ipv4Addr::from(mask).to_string()));
            if let Some(ip) = ip {
                d.insert("network".into(), s(std::net::Ipv4Addr::from(ip & mask).to_string()));
            }
            d.insert("prefix".into(), s(a.prefix.to_string()));
        }
        if let Some(gw) = after("via") {
            d.insert("gateway".into(), s(gw));
        }
        d.insert("interface".into(), s(dev.clone()));
        if let Some(l) = lines(sec.get("links"))
            .into_iter()
            .find(|l| l.split_whitespace().next() == Some(dev.as_str()))
        {
            let w: Vec<&str> = l.split_whitespace().collect();
            if let Some(mac) = w.get(1) {
                d.insert("macaddress".into(), s(*mac));
            }
            if let Some(mtu) = w.get(2).and_then(|m| m.parse::<i64>().ok()) {
                d.insert("mtu".into(), Value::Int(mtu));
            }
            let kind = if dev == "lo" { "loopback" } else { "ether" };
            d.insert("type".into(), s(kind));
        }
        let sorted: Map = {
            let mut keys: Vec<_> = d.into_iter().collect();
            keys.sort_by(|a, b| a.0.cmp(&b.0));
            keys.into_iter().collect()
        };
        d = sorted;
    }
    f.insert("default_ipv4".into(), Value::Map(d));
}
