//! Data from hosts is data, never code, and never steers the engine. Through the binary
//! against real sshd hosts: command output, registered results, gathered facts (a host whose
//! hostname, os-release and session environment hold Jinja) and `!unsafe` values are never
//! templated; a host's facts cannot change how it is reached; fetch and unarchive never
//! write outside their destination, and copy stays inside its own.
//!
//! Every payload is `{{ lookup('pipe', 'touch <marker>') }}`: if anything templates it, the
//! marker file appears on this machine (the controller).

#[path = "support/become_users.rs"]
mod become_users;
#[path = "support/sshd_hosts.rs"]
mod sshd_hosts;
mod support;

use sshd_hosts::SshHosts;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use support::{play, write_tree};

/// The text that runs `touch marker` on the controller if it is ever templated.
fn payload(marker: &Path) -> String {
    format!("{{{{ lookup('pipe', 'touch {}') }}}}", marker.display())
}

fn markers_absent(markers: &[&Path]) {
    for m in markers {
        assert!(!m.exists(), "{} was created: host data was templated", m.display());
    }
}

fn run_ok(dir: &Path, args: &[&str]) -> String {
    let out = play(dir, args);
    assert_eq!(out.code, 0, "play failed:\n{}\n{}", out.stdout, out.stderr);
    out.stdout
}

/// Output, registered results and everything built from them, used everywhere a value can
/// be used: debug, a later command, set_fact (plain, joined, combined), a template file,
/// `when:`, a loop over stdout_lines, another host's hostvars and set_stats. Output used as
/// an expression (`debug: var=`, `assert: that:`), with or without braces, is refused as
/// ansible-core 2.19 refuses it.
#[test]
fn command_output_and_registered_results_are_never_templated() {
    let hosts = SshHosts::start(&["ua", "ub"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let marker = d.join("pwned-output");
    let text = payload(&marker);
    let bare = d.join("pwned-expression");
    let expression = format!("lookup('pipe', 'touch {}') or true", bare.display());
    let book = format!(
        r#"
- hosts: nodes
  gather_facts: false
  tasks:
    - name: The host prints Jinja
      command: cat {d}/payload.txt
      register: out
    - debug:
        msg: "said: {{{{ out.stdout }}}}"
    - name: The output goes into a later command
      command: printf '%s' "{{{{ out.stdout }}}}"
      register: echoed
    - set_fact:
        plain: "{{{{ out.stdout }}}}"
        joined: "prefix {{{{ out.stdout | trim }}}}"
        merged: "{{{{ {{'a': out.stdout}} | combine({{'b': out.stdout_lines}}) }}}}"
    - debug:
        msg: "{{{{ plain }}}} / {{{{ joined }}}} / {{{{ merged.a }}}} / {{{{ merged.b[0] }}}}"
    - name: Rendered into a file
      template:
        src: t.j2
        dest: "{d}/rendered-{{{{ inventory_hostname }}}}.txt"
    - name: In a condition
      debug:
        msg: "condition held"
      when: out.stdout == plain and out.stdout is search('lookup')
    - name: In a loop
      debug:
        msg: "item {{{{ item }}}}"
      loop: "{{{{ out.stdout_lines }}}}"
    - name: Through another host's hostvars
      debug:
        msg: "peer {{{{ hostvars['ub'].out.stdout }}}} {{{{ hostvars['ub'].joined }}}}"
      when: inventory_hostname == 'ua'
    - set_stats:
        data:
          seen: "{{{{ out.stdout }}}}"
    - name: Host output as an expression, with its braces
      debug:
        var: "{{{{ out.stdout }}}}"
      register: as_var
      ignore_errors: true
    - name: Host output as an expression, without braces
      command: cat {d}/expression.txt
      register: expr
    - debug:
        var: "{{{{ expr.stdout }}}}"
      register: expr_var
      ignore_errors: true
    - assert:
        that: "{{{{ expr.stdout }}}}"
      register: expr_that
      ignore_errors: true
    - name: None of them was evaluated
      assert:
        that:
          - as_var is failed and 'untrusted' in as_var.msg
          - expr_var is failed and 'untrusted' in expr_var.msg
          - expr_that is failed and 'untrusted' in expr_that.msg
    - name: The literal came through unchanged
      assert:
        that:
          - echoed.stdout == out.stdout
          - lookup('file', '{d}/payload.txt') == out.stdout
          - joined == 'prefix ' ~ out.stdout
"#,
        d = d.display()
    );
    write_tree(
        d,
        &[
            ("hosts.yml", &hosts.inventory(&[])),
            ("site.yml", &book),
            ("payload.txt", &text),
            ("expression.txt", &expression),
            ("templates/t.j2", "out={{ out.stdout }}\njoined={{ joined }}\n"),
        ],
    );
    let stdout = run_ok(d, &["site.yml", "-i", "hosts.yml"]);
    markers_absent(&[&marker, &bare]);
    for want in [
        format!("\"msg\": \"said: {text}\""),
        format!("\"msg\": \"{text} / prefix {text} / {text} / {text}\""),
        "\"msg\": \"condition held\"".to_string(),
        format!("\"msg\": \"item {text}\""),
        format!("\"msg\": \"peer {text} prefix {text}\""),
    ] {
        assert!(stdout.contains(&want), "missing {want}:\n{stdout}");
    }
    // set_stats: the journal keeps the aggregated data as the run left it.
    let journal: String = std::fs::read_dir(d.join(".play/runs"))
        .expect("journal dir")
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
        .collect();
    assert!(
        journal.contains(&format!("\"seen\":\"{text}\"")),
        "set_stats:\n{journal}"
    );
    for h in ["ua", "ub"] {
        let file = std::fs::read_to_string(d.join(format!("rendered-{h}.txt"))).expect("rendered file");
        assert_eq!(file, format!("out={text}\njoined=prefix {text}\n"));
    }
}

/// A host under the attacker's control: its own sshd in a private UTS and mount namespace,
/// whose hostname, `/etc/os-release` and session environment are chosen by the test.
struct HostileHost {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl HostileHost {
    fn start(hosts: &SshHosts, hostname: &str, os_release: &str, env: &[(&str, &str)]) -> HostileHost {
        let base = hosts.dir.path().join("hostile");
        std::fs::create_dir_all(&base).expect("hostile dir");
        let key = base.join("hostkey");
        let st = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(&key)
            .status()
            .expect("ssh-keygen");
        assert!(st.success());
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("free port");
        let setenv: String = env.iter().map(|(k, v)| format!(" \"{k}={v}\"")).collect();
        let config = base.join("sshd_config");
        std::fs::write(
            &config,
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nAuthorizedKeysFile {}\nPermitRootLogin yes\n\
                 PasswordAuthentication no\nStrictModes no\nUsePAM no\nPidFile none\nLogLevel VERBOSE\nSetEnv{setenv}\n",
                key.display(),
                hosts.dir.path().join("authorized_keys").display()
            ),
        )
        .expect("sshd_config");
        let release = base.join("os-release");
        std::fs::write(&release, os_release).expect("os-release");
        std::fs::write(base.join("hostname"), hostname).expect("hostname");
        let log = base.join("sshd.log");
        // Inside the namespaces only: this machine's hostname and os-release are untouched.
        let script = format!(
            "cat {b}/hostname > /proc/sys/kernel/hostname && mount --bind {b}/os-release /etc/os-release && \
             exec /usr/sbin/sshd -D -f {b}/sshd_config -E {b}/sshd.log",
            b = base.display()
        );
        let child = Command::new("unshare")
            .args(["--uts", "--mount", "--propagation", "private", "sh", "-c", &script])
            .stdin(Stdio::null())
            .spawn()
            .expect("unshare (util-linux) runs");
        let public = std::fs::read_to_string(key.with_extension("pub")).expect("host key");
        let mut parts = public.split_whitespace();
        let line = format!(
            "[127.0.0.1]:{port} {} {}\n",
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default()
        );
        let mut known = std::fs::read_to_string(&hosts.known_hosts).expect("known_hosts");
        known.push_str(&line);
        std::fs::write(&hosts.known_hosts, known).expect("known_hosts");
        let start = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < std::time::Duration::from_secs(10),
                "the hostile sshd did not start (needs root, unshare and mount)"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        HostileHost { child, port, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for HostileHost {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An inventory with the hostile host `evil` beside the ordinary ones.
fn with_hostile(hosts: &SshHosts, evil: &HostileHost) -> String {
    let inv = hosts.inventory(&[]);
    inv.replacen(
        "all:\n  hosts:\n",
        &format!(
            "all:\n  hosts:\n    evil:\n      ansible_host: 127.0.0.1\n      ansible_port: {}\n",
            evil.port
        ),
        1,
    )
}

/// Facts gathered from a hostile host (hostname, os-release, environment, local facts under
/// `fact_path`) are text wherever they are used, and the host's environment naming
/// connection variables changes nothing.
#[test]
fn gathered_facts_from_a_hostile_host_are_never_templated() {
    let hosts = SshHosts::start(&["uc"]);
    // The kernel keeps at most 64 bytes of hostname: a short marker for that one.
    let short = PathBuf::from(format!("/tmp/uh{}", std::process::id()));
    let _ = std::fs::remove_file(&short);
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let (m_release, m_env, m_local) = (d.join("pwned-release"), d.join("pwned-env"), d.join("pwned-local"));
    let local_text = payload(&m_local);
    let host_text = format!("{{{{lookup('pipe','touch {}')}}}}", short.display());
    assert!(host_text.len() <= 64, "{host_text}");
    let release = format!(
        "NAME=\"{p}\"\nID=hostile\nVERSION_ID=\"1\"\nVERSION_CODENAME=\"{p}\"\nPRETTY_NAME=\"{p}\"\n",
        p = payload(&m_release)
    );
    let env_text = payload(&m_env);
    let evil = HostileHost::start(
        &hosts,
        &host_text,
        &release,
        &[
            ("UNTRUSTED", &env_text),
            ("ansible_host", "10.255.255.1"),
            ("ansible_port", "1"),
            ("ansible_user", "nobody"),
        ],
    );
    let book = format!(
        r#"
- hosts: all
  gather_facts: true
  tasks:
    - name: Local facts the host provides
      setup:
        fact_path: "{d}/facts.d"
    - debug:
        msg: "host={{{{ ansible_hostname }}}} release={{{{ ansible_distribution_release }}}} env={{{{ ansible_env.UNTRUSTED }}}}"
      when: inventory_hostname == 'evil'
    - debug:
        msg: "local={{{{ ansible_local.evil.text }}}} ini={{{{ ansible_local.evil_ini.main.text }}}}"
      when: inventory_hostname == 'evil'
    - set_fact:
        about: "{{{{ ansible_facts.hostname }}}} {{{{ ansible_facts.distribution_release }}}}"
    - template:
        src: t.j2
        dest: "{d}/facts-{{{{ inventory_hostname }}}}.txt"
    - name: Read through hostvars from another host
      debug:
        msg: "peer={{{{ hostvars['evil'].ansible_hostname }}}} {{{{ hostvars['evil'].about }}}}"
      when: inventory_hostname == 'uc'
    - command: whoami
      register: who
    - assert:
        that:
          - who.stdout == 'root'
          - ansible_port | int != 1
"#,
        d = d.display()
    );
    write_tree(
        d,
        &[
            ("hosts.yml", &with_hostile(&hosts, &evil)),
            ("site.yml", &book),
            (
                "templates/t.j2",
                "{{ ansible_hostname }}|{{ ansible_distribution_release }}|{{ ansible_env.UNTRUSTED | default('') }}\n",
            ),
            (
                "facts.d/evil.fact",
                &format!("{{\"text\": \"{local_text}\", \"ansible_port\": 1}}\n"),
            ),
            ("facts.d/evil_ini.fact", &format!("[main]\ntext = {local_text}\n")),
        ],
    );
    let stdout = run_ok(d, &["site.yml", "-i", "hosts.yml"]);
    let evil_dist = payload(&m_release);
    markers_absent(&[&short, &m_release, &m_env, &m_local]);
    for want in [
        format!("\"msg\": \"host={host_text} release={evil_dist} env={env_text}\""),
        format!("\"msg\": \"local={local_text} ini={local_text}\""),
        format!("\"msg\": \"peer={host_text} {host_text} {evil_dist}\""),
    ] {
        assert!(stdout.contains(&want), "missing {want}:\n{stdout}");
    }
    let file = std::fs::read_to_string(d.join("facts-evil.txt")).expect("rendered");
    assert_eq!(file, format!("{host_text}|{evil_dist}|{env_text}\n"));
    // Every session on the hostile host was root's, on its own port.
    let log = evil.log();
    assert!(log.contains("Accepted publickey for root"), "{log}");
    assert!(!log.contains("for nobody"), "{log}");
}

/// `!unsafe` from every place a variable can be written (play vars, vars_files, group_vars,
/// host_vars, the inventory, `-e @file`) is never templated, also after it went through
/// set_fact, register (debug and a command) and combine.
#[test]
fn unsafe_values_stay_unsafe_from_every_source() {
    let hosts = SshHosts::start(&["ue"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let names = ["play", "file", "group", "host", "inv", "extra"];
    let markers: Vec<PathBuf> = names.iter().map(|n| d.join(format!("pwned-{n}"))).collect();
    let text: Vec<String> = markers.iter().map(|m| payload(m)).collect();
    let un = |i: usize| format!("!unsafe \"{}\"", text[i]);
    let inventory = hosts
        .inventory(&[])
        .replacen("  vars:\n", &format!("  vars:\n    v_inv: {}\n", un(4)), 1);
    let book = format!(
        r#"
- hosts: nodes
  gather_facts: false
  vars:
    v_play: {play}
  vars_files:
    - vars.yml
  tasks:
    - set_fact:
        sf: "{{{{ v_play }}}}"
        sf_joined: "<{{{{ v_file }}}}>"
        combined: "{{{{ {{'x': v_file}} | combine({{'y': v_group}}) }}}}"
    - debug:
        msg: "{{{{ v_host }}}}"
      register: r
    - command: printf '%s' "{{{{ v_inv }}}}"
      register: c
    - debug:
        msg: "{{{{ sf }}}}|{{{{ sf_joined }}}}|{{{{ combined.x }}}}|{{{{ combined.y }}}}|{{{{ r.msg }}}}|{{{{ c.stdout }}}}|{{{{ v_extra }}}}"
"#,
        play = un(0)
    );
    write_tree(
        d,
        &[
            ("hosts.yml", &inventory),
            ("site.yml", &book),
            ("vars.yml", &format!("v_file: {}\n", un(1))),
            ("group_vars/nodes.yml", &format!("v_group: {}\n", un(2))),
            ("host_vars/ue.yml", &format!("v_host: {}\n", un(3))),
            ("extra.yml", &format!("v_extra: {}\n", un(5))),
        ],
    );
    let stdout = run_ok(d, &["site.yml", "-i", "hosts.yml", "-e", "@extra.yml"]);
    let refs: Vec<&Path> = markers.iter().map(PathBuf::as_path).collect();
    markers_absent(&refs);
    let want = format!(
        "\"msg\": \"{}|<{}>|{}|{}|{}|{}|{}\"",
        text[0], text[1], text[1], text[2], text[3], text[4], text[5]
    );
    assert!(stdout.contains(&want), "missing {want}:\n{stdout}");
}

/// A host's facts never choose how it is reached: the hostile host's environment names
/// `ansible_host`, `ansible_port` and `ansible_user`, and its facts are gathered, yet every
/// task runs as root on its own port. A `set_fact` of `ansible_user` written in the
/// playbook does apply to the next task, as in ansible-core (a documented way to change
/// user): that task connects anew as the new user.
#[test]
fn facts_never_change_the_connection_and_set_fact_does_as_in_ansible() {
    become_users::ensure();
    let hosts = SshHosts::start(&["uf"]);
    let evil = HostileHost::start(
        &hosts,
        "hostile",
        "ID=hostile\nNAME=hostile\n",
        &[
            ("ansible_host", "10.255.255.1"),
            ("ansible_port", "1"),
            ("ansible_user", "nobody"),
            ("ansible_ssh_common_args", "-o ProxyCommand=false"),
        ],
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let book = format!(
        r#"
- hosts: evil
  gather_facts: true
  tasks:
    - name: Still root after the facts came in
      command: whoami
      register: before
    - setup:
    - command: whoami
      register: again
    - set_fact:
        ansible_user: {user}
    - name: The playbook's own set_fact applies
      command: whoami
      register: after
    - assert:
        that:
          - before.stdout == 'root'
          - again.stdout == 'root'
          - after.stdout == '{user}'
          - ansible_port | int == {port}
"#,
        user = become_users::NOPW_USER,
        port = evil.port
    );
    write_tree(d, &[("hosts.yml", &with_hostile(&hosts, &evil)), ("site.yml", &book)]);
    run_ok(d, &["site.yml", "-i", "hosts.yml"]);
    let log = evil.log();
    assert!(log.contains("Accepted publickey for root"), "{log}");
    assert!(
        log.contains(&format!("Accepted publickey for {}", become_users::NOPW_USER)),
        "{log}"
    );
    assert!(!log.contains("for nobody"), "{log}");
}

/// fetch keeps every file under `<dest>/<inventory_hostname>/`: a src that climbs out with
/// `..` and a host whose inventory name holds `../` or `/` fail with a clear message, and
/// nothing is written outside dest.
#[test]
fn fetch_never_writes_outside_its_destination() {
    let hosts = SshHosts::start(&["ug"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let port = hosts.hosts[0].port;
    // Two more inventory names for the same sshd.
    let inventory = hosts.inventory(&[]).replacen(
        "all:\n  hosts:\n",
        &format!(
            "all:\n  hosts:\n    \"../../escaped\":\n      ansible_host: 127.0.0.1\n      ansible_port: {port}\n    \
             \"a/../../../escaped2\":\n      ansible_host: 127.0.0.1\n      ansible_port: {port}\n"
        ),
        1,
    );
    let book = format!(
        r#"
- hosts: all
  gather_facts: false
  tasks:
    - name: By host name
      fetch:
        src: {d}/remote/file.txt
        dest: {d}/out/sub
      register: by_name
      ignore_errors: true
    - name: A src that climbs out
      fetch:
        src: "/../../../../../../{rel}/remote/../../../../../../../../{rel}/climbed.txt"
        dest: {d}/out/sub
      register: climbed
      ignore_errors: true
      when: inventory_hostname == 'ug'
    - assert:
        that:
          - by_name is failed
          - "'Detected directory traversal' in by_name.msg"
      when: inventory_hostname != 'ug'
    - assert:
        that:
          - by_name is not failed
          - climbed is failed
          - "'Detected directory traversal' in climbed.msg"
      when: inventory_hostname == 'ug'
"#,
        d = d.display(),
        rel = d.display().to_string().trim_start_matches('/')
    );
    write_tree(
        d,
        &[
            ("hosts.yml", &inventory),
            ("site.yml", &book),
            ("remote/file.txt", "fetched\n"),
            ("climbed.txt", "x\n"),
        ],
    );
    let out = play(d, &["site.yml", "-i", "hosts.yml"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let fetched = d
        .join("out/sub/ug")
        .join(d.strip_prefix("/").expect("absolute"))
        .join("remote/file.txt");
    assert_eq!(std::fs::read_to_string(&fetched).unwrap_or_default(), "fetched\n");
    // Only the ordinary host's tree exists under dest; nothing beside or above it.
    let under: Vec<String> = std::fs::read_dir(d.join("out/sub"))
        .expect("dest")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(under, vec!["ug".to_string()]);
    let top: Vec<String> = std::fs::read_dir(d)
        .expect("dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("escaped"))
        .collect();
    assert!(top.is_empty(), "{top:?}");
    assert!(!d.join("out/escaped").exists() && !d.join("escaped2").exists());
}

/// copy stays in its destination: a controller tree holding a link to a directory outside it
/// is copied with the link followed (Ansible's `local_follow: true`), so the host gets plain
/// files under dest and no link out of it; a dest that is itself a link is replaced, not
/// written through. A directory link inside the dest path is the host's own layout and is
/// followed, as Ansible follows it.
#[test]
fn copy_stays_in_its_destination() {
    let hosts = SshHosts::start(&["uh"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    write_tree(
        d,
        &[
            ("hosts.yml", &hosts.inventory(&[])),
            ("files/tree/a.txt", "a\n"),
            ("outside/secret.txt", "secret\n"),
            ("target.txt", "untouched\n"),
            ("elsewhere/.keep", ""),
        ],
    );
    std::os::unix::fs::symlink(d.join("outside"), d.join("files/tree/link")).expect("symlink");
    std::fs::create_dir_all(d.join("host")).expect("host dir");
    std::os::unix::fs::symlink(d.join("target.txt"), d.join("host/dest-link")).expect("symlink");
    std::os::unix::fs::symlink(d.join("elsewhere"), d.join("host/linked")).expect("symlink");
    let book = format!(
        r#"
- hosts: nodes
  gather_facts: false
  tasks:
    - copy:
        src: tree
        dest: {d}/host/copied/
    - copy:
        content: "new\n"
        dest: {d}/host/dest-link
    - copy:
        content: "through\n"
        dest: {d}/host/linked/file.txt
"#,
        d = d.display()
    );
    write_tree(d, &[("site.yml", &book)]);
    run_ok(d, &["site.yml", "-i", "hosts.yml"]);
    let copied = d.join("host/copied/tree");
    assert_eq!(std::fs::read_to_string(copied.join("a.txt")).unwrap_or_default(), "a\n");
    let link = copied.join("link");
    assert!(
        link.is_dir() && !link.is_symlink(),
        "the link was recreated on the host"
    );
    assert_eq!(
        std::fs::read_to_string(link.join("secret.txt")).unwrap_or_default(),
        "secret\n"
    );
    let outside: Vec<_> = std::fs::read_dir(d.join("outside"))
        .expect("outside")
        .flatten()
        .collect();
    assert_eq!(outside.len(), 1, "something was written into the link's target");
    assert_eq!(
        std::fs::read_to_string(d.join("target.txt")).unwrap_or_default(),
        "untouched\n"
    );
    assert!(!d.join("host/dest-link").is_symlink());
    assert_eq!(
        std::fs::read_to_string(d.join("host/dest-link")).unwrap_or_default(),
        "new\n"
    );
    assert_eq!(
        std::fs::read_to_string(d.join("elsewhere/file.txt")).unwrap_or_default(),
        "through\n"
    );
}

/// unarchive refuses tar and zip archives with a `../` member, an absolute member, or a link
/// followed by a file written through it: the task fails naming the member, and nothing is
/// unpacked, inside dest or out of it.
#[test]
fn unarchive_never_writes_outside_its_destination() {
    let hosts = SshHosts::start(&["ui"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let outside = d.join("outside");
    std::fs::create_dir_all(&outside).expect("outside");
    std::fs::create_dir_all(d.join("files")).expect("files");
    let script = format!(
        r#"
import io, tarfile, zipfile
out, files = {outside:?}, {files:?}
def tar(name, members):
    with tarfile.open(files + "/" + name, "w") as t:
        for n, kind, data in members:
            i = tarfile.TarInfo(n)
            if kind == "link":
                i.type = tarfile.SYMTYPE; i.linkname = data; t.addfile(i)
            else:
                b = data.encode(); i.size = len(b); t.addfile(i, io.BytesIO(b))
def zip_(name, members):
    with zipfile.ZipFile(files + "/" + name, "w") as z:
        for n, kind, data in members:
            i = zipfile.ZipInfo(n)
            if kind == "link":
                i.external_attr = (0o120777 << 16)
            z.writestr(i, data)
for mk, ext in ((tar, "tar"), (zip_, "zip")):
    mk("dotdot." + ext, [("ok", "file", "ok"), ("../../outside/dotdot", "file", "x")])
    mk("abs." + ext, [("ok", "file", "ok"), (out + "/abs", "file", "x")])
    mk("link." + ext, [("l", "link", out), ("l/through", "file", "x")])
"#,
        outside = outside.display().to_string(),
        files = d.join("files").display().to_string(),
    );
    let st = Command::new("python3").args(["-c", &script]).status();
    assert!(
        st.map(|s| s.success()).unwrap_or(false),
        "python3 is needed to build the archives"
    );
    let mut tasks = String::new();
    for ext in ["tar", "zip"] {
        for name in ["dotdot", "abs", "link"] {
            let dest = d.join(format!("dest/{name}-{ext}"));
            std::fs::create_dir_all(&dest).expect("dest");
            tasks.push_str(&format!(
                "    - unarchive:\n        src: {name}.{ext}\n        dest: {}\n      register: r_{name}_{ext}\n      ignore_errors: true\n\
                 \x20   - assert:\n        that:\n          - r_{name}_{ext} is failed\n          - \"'refusing to unpack' in r_{name}_{ext}.msg\"\n",
                dest.display()
            ));
        }
    }
    let book = format!("- hosts: nodes\n  gather_facts: false\n  tasks:\n{tasks}");
    write_tree(d, &[("hosts.yml", &hosts.inventory(&[])), ("site.yml", &book)]);
    let out = play(d, &["site.yml", "-i", "hosts.yml"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    for why in ["has a '..' component", "has an absolute path", "is under 'l'"] {
        assert!(out.stdout.contains(why), "no message saying {why}:\n{}", out.stdout);
    }
    let written: Vec<_> = std::fs::read_dir(&outside).expect("outside").flatten().collect();
    assert!(written.is_empty(), "written outside dest: {written:?}");
    for e in std::fs::read_dir(d.join("dest")).expect("dest").flatten() {
        let n = std::fs::read_dir(e.path()).map(|r| r.count()).unwrap_or(1);
        assert_eq!(n, 0, "{} got part of a refused archive", e.path().display());
    }
}

/// A resumed run reads the earlier run's registered results and set_fact values back from
/// its journal (JSON, where nothing marks them as host data) and still never templates them.
#[test]
fn a_resumed_run_never_templates_journaled_host_data() {
    let hosts = SshHosts::start(&["uj", "uk"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let marker = d.join("pwned-resume");
    let text = payload(&marker);
    let book = format!(
        r#"
- hosts: nodes
  serial: 1
  gather_facts: false
  tasks:
    - command: cat {d}/payload.txt
      register: out
    - set_fact:
        joined: "<{{{{ out.stdout }}}}>"
    - shell: test ! -e {d}/fail-{{{{ inventory_hostname }}}}
- hosts: nodes
  gather_facts: false
  tasks:
    - debug:
        msg: "restored {{{{ hostvars['uj'].out.stdout }}}} {{{{ hostvars['uj'].joined }}}}"
      when: inventory_hostname == 'uk'
"#,
        d = d.display()
    );
    write_tree(
        d,
        &[
            ("hosts.yml", &hosts.inventory(&[])),
            ("site.yml", &book),
            ("payload.txt", &text),
            ("fail-uk", ""),
        ],
    );
    let first = play(d, &["site.yml", "-i", "hosts.yml"]);
    assert_eq!(first.code, 2, "{}\n{}", first.stdout, first.stderr);
    std::fs::remove_file(d.join("fail-uk")).expect("fix the fault");
    let second = play(d, &["site.yml", "-i", "hosts.yml", "--resume"]);
    assert_eq!(second.code, 0, "{}\n{}", second.stdout, second.stderr);
    markers_absent(&[&marker]);
    let want = format!("\"msg\": \"restored {text} <{text}>\"");
    assert!(second.stdout.contains(&want), "missing {want}:\n{}", second.stdout);
}
