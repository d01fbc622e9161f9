#!/usr/bin/env python3
# A lab host's reboot, as lab/standins/shutdown and reboot start it (detached, inside the
# host's network, UTS and mount namespaces). What a real reboot does to what playbooks can see:
#   shutdown: every active (stand-in) systemd unit is stopped (the kubelet's ExecStop marks
#     the node NotReady; etcd's stops etcd), then every process of the host is killed: sshd
#     and its sessions, anything started in the background;
#   /run is a fresh tmpfs, so /var/run/reboot-required is gone; the boot id changes;
#   boot, after a short pause: every enabled unit (etcd, the kubelet: node Ready again) and
#     sshd come back.
# Usage: host_reboot.py DELAY_SECONDS (LAB_HOST_DIR and the stand-ins' environment are inherited).
import os
import signal
import subprocess
import sys
import time
import uuid

DOWN_SECONDS = float(os.environ.get("LAB_REBOOT_DOWN_SECONDS", "2"))


def log(hd, msg):
    with open(os.path.join(hd, "reboot.log"), "a") as f:
        f.write("%s %s\n" % (time.strftime("%Y-%m-%dT%H:%M:%S"), msg))


def read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return ""


def units(state, kind):
    try:
        return sorted(os.listdir(os.path.join(state, kind)))
    except OSError:
        return []


def host_pids():
    """Every other process in this network namespace (the host's processes)."""
    mine = os.readlink("/proc/self/ns/net")
    pids = []
    for p in os.listdir("/proc"):
        if not p.isdigit() or int(p) == os.getpid():
            continue
        try:
            if os.readlink("/proc/%s/ns/net" % p) == mine:
                pids.append(int(p))
        except OSError:
            pass
    return pids


def main():
    hd = os.environ["LAB_HOST_DIR"]
    delay = float(sys.argv[1]) if len(sys.argv) > 1 else 0
    time.sleep(1 + delay)
    log(hd, "reboot: shutting down")
    state = os.environ.get("STANDIN_STATE", os.path.join(hd, "systemd"))
    for u in units(state, "active"):
        subprocess.run(["systemctl", "stop", u], stdin=subprocess.DEVNULL, capture_output=True)
    pids = host_pids()
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for p in pids:
            try:
                os.kill(p, sig)
            except OSError:
                pass
        time.sleep(0.5)
    subprocess.run(["umount", "-l", "/run"], capture_output=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=755,nosuid,nodev", "tmpfs", "/run"], check=True)
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
    # In place: the file is bind-mounted over /proc/sys/kernel/random/boot_id.
    with open(os.path.join(hd, "boot_id"), "r+") as f:
        f.truncate(0)
        f.write(str(uuid.uuid4()) + "\n")
    log(hd, "reboot: down, new boot id %s" % read(os.path.join(hd, "boot_id")))
    time.sleep(DOWN_SECONDS)
    for u in units(state, "enabled"):
        subprocess.run(["systemctl", "start", u], stdin=subprocess.DEVNULL, capture_output=True)
    # sshd daemonises and writes its own pid file.
    subprocess.run(["/usr/sbin/sshd", "-f", os.path.join(hd, "sshd_config"), "-E", os.path.join(hd, "sshd.log")],
                   stdin=subprocess.DEVNULL, check=True)
    log(hd, "reboot: up")


main()
