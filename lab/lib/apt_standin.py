#!/usr/bin/env python3
# Lab stand-in for apt-get, apt-cache and dpkg-query (lab/standins/ links here; lab hosts also
# get it bind-mounted over /usr/bin/apt-get, /usr/bin/apt-cache and /usr/bin/dpkg-query). The
# lab hosts share this machine's file system, so the real apt must never run on them: this
# keeps each host's packages under $LAB_HOST_DIR/packages instead:
#   mirror     what the host's (pretend) archive offers: name, version, reboot (yes/no)
#   lists      the archive as of the last `apt-get update`
#   installed  what is installed: name, version
# Applying a version marked reboot=yes writes /var/run/reboot-required(.pkgs), as Debian's
# and Ubuntu's package hooks do. It refuses what apt refuses (non-root changes, unknown
# packages, options and operations, changes without -y) and runs only inside a lab host.
# Lab side (from lab/lab, outside the hosts): `--lab-init HOSTDIR` seeds the baseline,
# `--lab-publish HOSTDIR [--no-reboot]` puts newer versions on the host's mirror.
import fcntl
import os
import sys

REBOOT_FLAG = "/var/run/reboot-required"
BASELINE = [
    ("linux-image-amd64", "6.1.0-lab.1", "yes"),
    ("openssl", "3.0.15-1~lab.1", "no"),
    ("openssh-server", "1:9.2p1-2+lab.1", "no"),
    ("curl", "7.88.1-10+lab.1", "no"),
]


def die(msg, rc=100):
    sys.stderr.write(msg.rstrip("\n") + "\n")
    sys.exit(rc)


def read_table(path):
    rows = {}
    try:
        with open(path) as f:
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if len(parts) >= 2 and parts[0]:
                    rows[parts[0]] = parts[1:]
    except FileNotFoundError:
        pass
    return rows


def write_table(path, rows):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        for name in sorted(rows):
            f.write("\t".join([name] + list(rows[name])) + "\n")
    os.replace(tmp, path)


class Host:
    def __init__(self, hd):
        self.dir = os.path.join(hd, "packages")
        os.makedirs(self.dir, exist_ok=True)
        # Opened without truncating, as dpkg opens its lock: taking the lock (a read
        # takes it too) leaves the file, its mtime included, as it was.
        self.lock = open(os.path.join(self.dir, "lock"), "a")
        fcntl.flock(self.lock, fcntl.LOCK_EX)

    def path(self, name):
        return os.path.join(self.dir, name)

    def table(self, name):
        return read_table(self.path(name))

    def save(self, name, rows):
        write_table(self.path(name), rows)


def bump(version):
    # 6.1.0-lab.1 -> 6.1.0-lab.2: the mirror only ever moves forward.
    head, _, n = version.rpartition("lab.")
    return head + "lab." + str(int(n) + 1) if head and n.isdigit() else version + "+lab.1"


def lab_side(argv):
    if len(argv) < 2:
        die("usage: apt_standin.py --lab-init|--lab-publish HOSTDIR [--no-reboot]", 2)
    h = Host(argv[1])
    if argv[0] == "--lab-init":
        if not os.path.exists(h.path("installed")):
            h.save("mirror", {n: [v, r] for n, v, r in BASELINE})
            h.save("lists", {n: [v, r] for n, v, r in BASELINE})
            h.save("installed", {n: [v] for n, v, _ in BASELINE})
        return
    if argv[0] != "--lab-publish":
        die("unknown lab command %s" % argv[0], 2)
    mirror = h.table("mirror")
    names = ["openssl"] + ([] if "--no-reboot" in argv else ["linux-image-amd64"])
    for n in names:
        v, r = mirror.get(n, [dict((b[0], b[1]) for b in BASELINE)[n], "no"])
        mirror[n] = [bump(v), r]
    h.save("mirror", mirror)
    print("%s: %s" % (argv[1], ", ".join("%s %s" % (n, mirror[n][0]) for n in names)))


def this_host():
    hd = os.environ.get("LAB_HOST_DIR")
    if not hd:
        die("E: lab stand-in: LAB_HOST_DIR is not set; this apt only runs on lab hosts "
            "(the real apt would change this machine, which the lab hosts share)")
    # Only inside a lab host's mount namespace is the boot id the host's own file: anywhere
    # else /var/run/reboot-required would be this machine's.
    try:
        with open(os.path.join(hd, "boot_id")) as a, open("/proc/sys/kernel/random/boot_id") as b:
            if a.read().strip() != b.read().strip():
                raise OSError
    except OSError:
        die("E: lab stand-in: not inside a lab host's mount namespace (%s/boot_id is not this "
            "process's boot id); start it through the host's sshd" % hd)
    return Host(hd)


def need_root():
    if os.geteuid() != 0:
        die("E: Could not open lock file /var/lib/dpkg/lock-frontend - open (13: Permission denied)\n"
            "E: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), are you root?")


def apt_get(args):
    opts, words = set(), []
    i = 0
    flags = {"-y", "--yes", "--assume-yes", "-q", "-qq", "--quiet", "-s", "--simulate", "--dry-run",
             "--just-print", "--no-act", "--recon", "--force-yes", "--allow-downgrades",
             "--allow-remove-essential", "--allow-change-held-packages", "--allow-unauthenticated",
             "--no-install-recommends", "--install-recommends", "--auto-remove", "--autoremove",
             "--purge", "--with-new-pkgs", "-f", "--fix-broken"}
    while i < len(args):
        a = args[i]
        if a in ("-o", "-t", "-c", "--option", "--target-release", "--default-release"):
            i += 2
            continue
        if a.startswith("-o") or a.startswith("--option=") or a.startswith("-t") and len(a) > 2 \
                or a.startswith("--target-release=") or a.startswith("--default-release="):
            i += 1
            continue
        if a.startswith("-") and a not in flags:
            die("E: Command line option %s is not understood in combination with the other options" % a)
        if a.startswith("-"):
            opts.add(a)
        else:
            words.append(a)
        i += 1
    if not words:
        die("E: No operation given (apt-get update, upgrade, install, ...)")
    op, names = words[0], words[1:]
    simulate = bool(opts & {"-s", "--simulate", "--dry-run", "--just-print", "--no-act", "--recon"})
    yes = bool(opts & {"-y", "--yes", "--assume-yes", "--force-yes"})
    if op not in ("update", "upgrade", "dist-upgrade", "full-upgrade", "install", "remove", "purge"):
        die("E: Invalid operation %s" % op)
    if not simulate:
        need_root()
    h = this_host()
    if op == "update":
        if names:
            die("E: The update command takes no arguments")
        mirror = h.table("mirror")
        if not simulate:
            h.save("lists", mirror)
        print("Hit:1 http://deb.lab stable InRelease\nReading package lists...")
        return
    lists, installed = h.table("lists"), h.table("installed")
    print("Reading package lists...\nBuilding dependency tree...\nReading state information...")
    todo, remove = [], []
    if op in ("upgrade", "dist-upgrade", "full-upgrade"):
        if names:
            die("E: The %s command takes no arguments" % op)
        print("Calculating upgrade...")
        todo = [n for n in sorted(installed) if n in lists and lists[n][0] != installed[n][0]]
    elif op == "install":
        for spec in names:
            n, _, want = spec.partition("=")
            if n not in lists:
                die("E: Unable to locate package %s" % n)
            if want and want != lists[n][0]:
                die("E: Version '%s' for '%s' was not found" % (want, n))
            if installed.get(n, [None])[0] != lists[n][0]:
                todo.append(n)
            else:
                print("%s is already the newest version (%s)." % (n, lists[n][0]))
    else:
        for n in names:
            if n not in lists and n not in installed:
                die("E: Unable to locate package %s" % n)
            if n in installed:
                remove.append(n)
            else:
                print("Package '%s' is not installed, so not removed" % n)
    upgraded = [n for n in todo if n in installed]
    new = [n for n in todo if n not in installed]
    if upgraded:
        print("The following packages will be upgraded:\n  " + " ".join(upgraded))
    if new:
        print("The following NEW packages will be installed:\n  " + " ".join(new))
    if remove:
        print("The following packages will be REMOVED:\n  " + " ".join(remove))
    print("%d upgraded, %d newly installed, %d to remove and 0 not upgraded." % (len(upgraded), len(new), len(remove)))
    if not (todo or remove):
        return
    if simulate:
        for n in todo:
            old = installed.get(n)
            print("Inst %s%s (%s lab:stable [amd64])" % (n, " [%s]" % old[0] if old else "", lists[n][0]))
        for n in remove:
            print("Remv %s [%s]" % (n, installed[n][0]))
        return
    if not yes:
        die("Do you want to continue? [Y/n] Abort.", 1)
    reboot = []
    for n in todo:
        print("Unpacking %s (%s) ..." % (n, lists[n][0]))
        installed[n] = [lists[n][0]]
        if len(lists[n]) > 1 and lists[n][1] == "yes":
            reboot.append(n)
    for n in remove:
        print("Removing %s (%s) ..." % (n, installed[n][0]))
        del installed[n]
    h.save("installed", installed)
    for n in todo:
        print("Setting up %s (%s) ..." % (n, lists[n][0]))
    if reboot:
        with open(REBOOT_FLAG, "w") as f:
            f.write("*** System restart required ***\n")
        with open(REBOOT_FLAG + ".pkgs", "a") as f:
            f.write("".join(n + "\n" for n in reboot))


def apt_cache(args):
    if len(args) < 2 or args[0] not in ("policy", "madison"):
        die("E: lab stand-in: apt-cache supports only 'policy NAME...' and 'madison NAME...'")
    h = this_host()
    lists, installed = h.table("lists"), h.table("installed")
    for n in args[1:]:
        if n not in lists:
            sys.stderr.write("N: Unable to locate package %s\n" % n)
            continue
        if args[0] == "madison":
            print(" %s | %s | http://deb.lab stable/main amd64 Packages" % (n, lists[n][0]))
        else:
            print("%s:\n  Installed: %s\n  Candidate: %s\n  Version table:\n     %s 500\n        500 "
                  "http://deb.lab stable/main amd64 Packages" % (n, installed.get(n, ["(none)"])[0], lists[n][0],
                                                                lists[n][0]))


def dpkg_query(args):
    fmt, names, i = "${binary:Package}\t${Version}\n", [], 0
    show = False
    while i < len(args):
        a = args[i]
        if a in ("-W", "--show"):
            show = True
        elif a in ("-f", "--showformat"):
            i += 1
            fmt = args[i] if i < len(args) else fmt
        elif a.startswith("--showformat=") or a.startswith("-f") and len(a) > 2:
            fmt = a.split("=", 1)[1] if a.startswith("--") else a[2:]
        elif a.startswith("-"):
            die("dpkg-query: error: unknown option %s (the lab stand-in knows -W and -f)" % a, 2)
        else:
            names.append(a)
        i += 1
    if not show:
        die("dpkg-query: error: the lab stand-in supports only -W/--show", 2)
    fmt = fmt.replace("\\t", "\t").replace("\\n", "\n")
    installed = this_host().table("installed")
    rc = 0
    for n in names or sorted(installed):
        if n not in installed:
            sys.stderr.write("dpkg-query: no packages found matching %s\n" % n)
            rc = 1
            continue
        out = fmt
        for k, v in (("${binary:Package}", n), ("${Package}", n), ("${Version}", installed[n][0]),
                     ("${Status}", "install ok installed"), ("${db:Status-Abbrev}", "ii ")):
            out = out.replace(k, v)
        sys.stdout.write(out)
    sys.exit(rc)


def main():
    args = sys.argv[1:]
    if args[:1] and args[0].startswith("--lab-"):
        return lab_side(args)
    me = os.path.basename(sys.argv[0])
    if me == "apt-get":
        return apt_get(args)
    if me == "apt-cache":
        return apt_cache(args)
    if me == "dpkg-query":
        return dpkg_query(args)
    die("E: lab stand-in: %s is not available on lab hosts (apt-get, apt-cache and dpkg-query are); "
        "the real one would change this machine, which the lab hosts share" % me)


main()
