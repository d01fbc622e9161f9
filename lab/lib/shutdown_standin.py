#!/usr/bin/env python3
# Lab stand-in for shutdown and reboot (lab/standins/ links here): the lab hosts are network
# and mount namespaces on this machine, so a reboot is lab/lib/host_reboot.py, started detached
# so that this command returns before the host goes down, as the real one does. Accepted:
#   shutdown -r [now|+MINUTES] [WALL...]   (no time = +1, as systemd's shutdown)
#   reboot [-f|--force|--no-wall]
# Refused, as the lab cannot do them: power-off/halt (use `lab/lab down`), cancelling (-c),
# absolute times (HH:MM). Needs root, as the real ones do.
import datetime
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.realpath(__file__))


def die(msg, rc=1):
    sys.stderr.write(msg.rstrip("\n") + "\n")
    sys.exit(rc)


def minutes_from(args):
    reboot, when = False, None
    for a in args:
        if a in ("-r", "--reboot"):
            reboot = True
        elif a in ("-h", "-P", "-H", "--poweroff", "--halt"):
            die("shutdown (lab stand-in): a lab host cannot be powered off or halted; "
                "`lab/lab down` stops the whole lab")
        elif a in ("-c", "-k", "--show"):
            die("shutdown (lab stand-in): %s is not supported; a lab reboot cannot be cancelled" % a)
        elif a in ("--no-wall", "-q"):
            pass
        elif a.startswith("-"):
            die("shutdown: invalid option -- '%s'" % a.lstrip("-"))
        elif when is None:
            when = a
    if not reboot:
        die("shutdown (lab stand-in): only reboots (-r) are supported; "
            "a lab host cannot be powered off (`lab/lab down` stops the whole lab)")
    when = when or "+1"
    if when == "now":
        return 0
    if when.startswith("+") and when[1:].isdigit():
        return int(when[1:])
    die("shutdown (lab stand-in): time %r is not supported (use now or +MINUTES)" % when)


def main():
    me = os.path.basename(sys.argv[0])
    args = sys.argv[1:]
    if me == "reboot":
        bad = [a for a in args if a not in ("-f", "--force", "--no-wall", "-q")]
        if bad:
            die("reboot (lab stand-in): option %s is not supported" % bad[0])
        minutes = 0
    else:
        minutes = minutes_from(args)
    if os.geteuid() != 0:
        die("Failed to set wall message, ignoring: Interactive authentication required.\n"
            "Failed to reboot system via logind: Interactive authentication required.")
    hd = os.environ.get("LAB_HOST_DIR")
    if not hd:
        die("%s (lab stand-in): LAB_HOST_DIR is not set; this runs only on lab hosts" % me)
    try:
        with open(os.path.join(hd, "boot_id")) as a, open("/proc/sys/kernel/random/boot_id") as b:
            inside = a.read().strip() == b.read().strip()
    except OSError:
        inside = False
    if not inside:
        die("%s (lab stand-in): not inside a lab host's mount namespace; refusing to touch this machine" % me)
    with open(os.path.join(hd, "shutdown.log"), "a") as f:
        f.write("%s %s\n" % (me, " ".join(args)))
    subprocess.Popen([sys.executable, os.path.join(HERE, "host_reboot.py"), str(minutes * 60)],
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                     start_new_session=True, close_fds=True)
    if me != "reboot":
        at = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=minutes)
        sys.stderr.write("Reboot scheduled for %s, use 'shutdown -c' to cancel.\n" % at.strftime("%a %Y-%m-%d %H:%M:%S UTC"))


main()
