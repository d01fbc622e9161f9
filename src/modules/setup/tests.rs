use super::*;
use crate::modules::test_support::{Fixture, args};

const ROCKY: &str = "@@uname\nLinux\n5.14.0-362.el9.x86_64\n#1 SMP PREEMPT_DYNAMIC\nx86_64\nnode1.example.com\n\
@@fqdn\n10.0.0.5 node1.example.com node1\n\
@@os_release\nNAME=\"Rocky Linux\"\nVERSION=\"9.3 (Blue Onyx)\"\nID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.3\"\n\
@@debian_version\n@@long_bit\n64\n\
@@date\n2024|03|05|14|07|09|CET|+0100|1709644029|123456789|Tuesday|2|10\n\
@@id\ndeploy\n1000\n1000\n1000\n1000\n@@passwd\ndeploy:x:1000:1000:Deploy User:/home/deploy:/bin/bash\n\
@@machine_id\nabc123\n@@pid1\nsystemd\n@@systemd\nyes\n@@initd\n@@bins\n/usr/bin/dnf\n/usr/bin/yum\n\
@@meminfo\nMemTotal:       16184516 kB\nMemFree:         1048576 kB\nBuffers:          102400 kB\nCached:          2097152 kB\nSwapCached:            0 kB\nSwapTotal:       2097148 kB\nSwapFree:        2097148 kB\n\
@@cpuinfo\nprocessor\t: 0\nphysical id\t: 0\nsiblings\t: 4\ncpu cores\t: 2\nprocessor\t: 1\nphysical id\t: 0\nsiblings\t: 4\ncpu cores\t: 2\nprocessor\t: 2\nphysical id\t: 0\nsiblings\t: 4\ncpu cores\t: 2\nprocessor\t: 3\nphysical id\t: 0\nsiblings\t: 4\ncpu cores\t: 2\n\
@@nproc\n4\n@@uptime\n1234.56 2000.00\n\
@@route\n8.8.8.8 via 10.0.0.1 dev ens3 src 10.0.0.5 uid 1000 \n    cache \n\
@@addr\n1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever\n2: ens3    inet 10.0.0.5/22 brd 10.0.3.255 scope global ens3\\       valid_lft forever\n3: docker0    inet 172.17.0.1/16 brd 172.17.255.255 scope global docker0\n\
@@links\nens3 52:54:00:12:34:56 1500\nlo 00:00:00:00:00:00 65536\n\
@@env\nHOME=/home/deploy\0PATH=/usr/bin:/bin\0MULTI=a\nb\0\n@@end\n";

const UBUNTU: &str = "@@uname\nLinux\n6.8.0\n#1 SMP\naarch64\nubu\n@@fqdn\n\
@@os_release\nNAME=\"Ubuntu\"\nVERSION_ID=\"22.04\"\nID=ubuntu\nID_LIKE=debian\nVERSION_CODENAME=jammy\n\
@@debian_version\nbookworm/sid\n@@long_bit\n64\n@@date\n2024|01|01|00|00|00|UTC|+0000|1704067200|%N|Monday|1|01\n\
@@id\nroot\n0\n0\n0\n0\n@@passwd\n@@pid1\nbash\n@@initd\nyes\n@@bins\n/usr/bin/apt-get\n\
@@cpuinfo\nprocessor\t: 0\nprocessor\t: 1\n@@route\n@@addr\n@@env\nA=1\nB=2\n@@end\n";

const ALPINE: &str = "@@uname\nLinux\n6.1\n#1\nx86_64\nalp\n@@os_release\nNAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.19.1\n\
@@pid1\ninit\n@@bins\n/sbin/apk\n/sbin/openrc\n@@end\n";

fn get<'a>(f: &'a Map, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut v = f.get(parts.next()?)?;
    for p in parts {
        v = v.as_map()?.get(p)?;
    }
    Some(v)
}

#[test]
fn parses_recorded_probes() {
    let rocky = gather(ROCKY, true, true);
    let ubuntu = gather(UBUNTU, true, true);
    let alpine = gather(ALPINE, true, true);
    let cases: Vec<(&Map, &str, Value)> = vec![
        (&rocky, "distribution", Value::str("Rocky")),
        (&rocky, "distribution_version", Value::str("9.3")),
        (&rocky, "distribution_major_version", Value::str("9")),
        (&rocky, "distribution_release", Value::str("Blue Onyx")),
        (&rocky, "os_family", Value::str("RedHat")),
        (&rocky, "hostname", Value::str("node1")),
        (&rocky, "fqdn", Value::str("node1.example.com")),
        (&rocky, "domain", Value::str("example.com")),
        (&rocky, "architecture", Value::str("x86_64")),
        (&rocky, "memtotal_mb", Value::Int(15805)),
        (&rocky, "memfree_mb", Value::Int(1024)),
        (&rocky, "swaptotal_mb", Value::Int(2047)),
        (&rocky, "memory_mb.nocache.free", Value::Int(3172)),
        (&rocky, "processor_count", Value::Int(1)),
        (&rocky, "processor_cores", Value::Int(2)),
        (&rocky, "processor_threads_per_core", Value::Int(2)),
        (&rocky, "processor_vcpus", Value::Int(4)),
        (&rocky, "default_ipv4.address", Value::str("10.0.0.5")),
        (&rocky, "default_ipv4.gateway", Value::str("10.0.0.1")),
        (&rocky, "default_ipv4.interface", Value::str("ens3")),
        (&rocky, "default_ipv4.netmask", Value::str("255.255.252.0")),
        (&rocky, "default_ipv4.network", Value::str("10.0.0.0")),
        (&rocky, "default_ipv4.broadcast", Value::str("10.0.3.255")),
        (&rocky, "default_ipv4.prefix", Value::str("22")),
        (&rocky, "default_ipv4.macaddress", Value::str("52:54:00:12:34:56")),
        (&rocky, "default_ipv4.mtu", Value::Int(1500)),
        (
            &rocky,
            "all_ipv4_addresses",
            Value::List(vec![Value::str("10.0.0.5"), Value::str("172.17.0.1")]),
        ),
        (&rocky, "date_time.iso8601", Value::str("2024-03-05T13:07:09Z")),
        (
            &rocky,
            "date_time.iso8601_micro",
            Value::str("2024-03-05T13:07:09.123456Z"),
        ),
        (&rocky, "date_time.date", Value::str("2024-03-05")),
        (&rocky, "date_time.tz_offset", Value::str("+0100")),
        (&rocky, "date_time.weekday", Value::str("Tuesday")),
        (&rocky, "user_id", Value::str("deploy")),
        (&rocky, "user_uid", Value::Int(1000)),
        (&rocky, "user_dir", Value::str("/home/deploy")),
        (&rocky, "user_shell", Value::str("/bin/bash")),
        (&rocky, "user_gecos", Value::str("Deploy User")),
        (&rocky, "env.MULTI", Value::str("a\nb")),
        (&rocky, "env.PATH", Value::str("/usr/bin:/bin")),
        (&rocky, "service_mgr", Value::str("systemd")),
        (&rocky, "pkg_mgr", Value::str("dnf")),
        (&rocky, "machine_id", Value::str("abc123")),
        (&rocky, "uptime_seconds", Value::Int(1234)),
        (&ubuntu, "distribution", Value::str("Ubuntu")),
        (&ubuntu, "distribution_version", Value::str("22.04")),
        (&ubuntu, "distribution_release", Value::str("jammy")),
        (&ubuntu, "os_family", Value::str("Debian")),
        (&ubuntu, "pkg_mgr", Value::str("apt")),
        (&ubuntu, "service_mgr", Value::str("sysvinit")),
        (&ubuntu, "fqdn", Value::str("ubu")),
        (&ubuntu, "processor_vcpus", Value::Int(2)),
        (
            &ubuntu,
            "date_time.iso8601_micro",
            Value::str("2024-01-01T00:00:00.000000Z"),
        ),
        (&ubuntu, "env.B", Value::str("2")),
        (&ubuntu, "default_ipv4", Value::Map(Map::new())),
        (&alpine, "distribution", Value::str("Alpine")),
        (&alpine, "os_family", Value::str("Alpine")),
        (&alpine, "distribution_major_version", Value::str("3")),
        (&alpine, "distribution_release", Value::str("NA")),
        (&alpine, "pkg_mgr", Value::str("apk")),
        (&alpine, "service_mgr", Value::str("openrc")),
    ];
    for (facts, path, want) in cases {
        assert_eq!(get(facts, path), Some(&want), "{path}");
    }
    let min = gather(ROCKY, false, false);
    assert!(min.contains_key("distribution") && !min.contains_key("memtotal_mb") && !min.contains_key("default_ipv4"));
}

#[test]
fn subsets_and_filters() {
    assert_eq!(wanted(&["all".into()]), Ok((true, true)));
    assert_eq!(wanted(&["!all".into()]), Ok((false, false)));
    assert_eq!(wanted(&["min".into()]), Ok((false, false)));
    assert_eq!(wanted(&["!all".into(), "network".into()]), Ok((false, true)));
    assert_eq!(wanted(&["all".into(), "!hardware".into()]), Ok((false, true)));
    assert!(wanted(&["bogus".into()]).is_err());
    let r = glob_regex("ansible_distribution*").ok();
    assert!(
        r.as_ref()
            .is_some_and(|r| r.is_match("ansible_distribution_version") && !r.is_match("ansible_os_family"))
    );
    let r = glob_regex("eth[0-2]").ok();
    assert!(r.as_ref().is_some_and(|r| r.is_match("eth1") && !r.is_match("eth3")));
}

/// Live on this machine: the facts agree with what the system says through other means.
#[test]
fn gathers_this_machine() {
    let fx = Fixture::new();
    let o = fx.run(super::run, &args(&[]), false);
    assert!(!o.failed && !o.changed, "{o:?}");
    let f = o
        .data
        .get("ansible_facts")
        .and_then(Value::as_map)
        .cloned()
        .unwrap_or_default();
    let cmd = |c: &str| {
        std::process::Command::new("sh")
            .arg("-c")
            .arg(c)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default()
    };
    let expect: Vec<(&str, Value)> = vec![
        ("system", Value::Str(cmd("uname -s"))),
        ("architecture", Value::Str(cmd("uname -m"))),
        ("nodename", Value::Str(cmd("uname -n"))),
        ("user_id", Value::Str(cmd("id -un"))),
        (
            "processor_vcpus",
            Value::Int(cmd("grep -c ^processor /proc/cpuinfo").parse().unwrap_or(-1)),
        ),
        (
            "memtotal_mb",
            Value::Int(
                cmd("awk '/^MemTotal:/{print int($2/1024)}' /proc/meminfo")
                    .parse()
                    .unwrap_or(-1),
            ),
        ),
        ("module_setup", Value::Bool(true)),
    ];
    for (k, want) in expect {
        assert_eq!(f.get(k), Some(&want), "{k}");
    }
    for k in [
        "distribution",
        "os_family",
        "date_time",
        "env",
        "service_mgr",
        "pkg_mgr",
        "default_ipv4",
    ] {
        assert!(f.contains_key(k), "{k} missing");
    }
    if std::env::var("SETUP_PRINT").is_ok() {
        let show: Map = f
            .iter()
            .filter(|(k, _)| *k != "env")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&Value::Map(show)).unwrap_or_default()
        );
    }
    let o = fx.run(
        super::run,
        &args(&[
            ("gather_subset", Value::str("!all")),
            ("filter", Value::str("ansible_distribution*")),
        ]),
        false,
    );
    let f = o
        .data
        .get("ansible_facts")
        .and_then(Value::as_map)
        .cloned()
        .unwrap_or_default();
    assert!(
        f.contains_key("distribution") && !f.contains_key("os_family") && !f.contains_key("memtotal_mb"),
        "{f:?}"
    );
}

/// `fact_path` on a real shell: a JSON file, an INI file, an executable printing JSON and a
/// failing executable, each under its own name in `ansible_local`.
#[test]
fn local_facts_from_fact_path() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let d = dir.path();
    let write = |name: &str, text: &str, exec: bool| {
        let p = d.join(name);
        std::fs::write(&p, text).unwrap_or_else(|e| panic!("{e}"));
        let mode = if exec { 0o755 } else { 0o644 };
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap_or_else(|e| panic!("{e}"));
    };
    write("app.fact", "{\"version\": \"1.2\"}\n", false);
    write("cfg.fact", "[main]\nName = {{ x }}\n", false);
    write("gen.fact", "#!/bin/sh\necho '{\"from\": \"exec\"}'\n", true);
    write("bad.fact", "#!/bin/sh\nexit 3\n", true);
    write("ignored.txt", "{}", false);
    let fx = Fixture::new();
    let o = fx.run(
        super::run,
        &args(&[("fact_path", Value::str(d.display().to_string()))]),
        false,
    );
    assert!(!o.failed, "{o:?}");
    let f = o
        .data
        .get("ansible_facts")
        .and_then(Value::as_map)
        .cloned()
        .unwrap_or_default();
    let local = |path: &str| get(&f, &format!("local.{path}")).cloned();
    assert_eq!(local("app.version"), Some(Value::str("1.2")));
    assert_eq!(local("cfg.main.name"), Some(Value::str("{{ x }}")));
    assert_eq!(local("gen.from"), Some(Value::str("exec")));
    assert!(
        local("bad")
            .map(|v| v.to_string())
            .unwrap_or_default()
            .starts_with("error loading fact")
    );
    assert_eq!(local("ignored"), None);
}
