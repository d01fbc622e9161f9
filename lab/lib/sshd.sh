# One sshd per host, in the host's network namespace and its own UTS namespace (so `hostname` is
# cp1, ...) and mount namespace, where the host's own files sit at their real paths: a private
# tmpfs /run (so /var/run/reboot-required is per host and gone after a reboot), the host's boot id
# file over /proc/sys/kernel/random/boot_id, its own /var/lib/apt, and the lab's package
# stand-ins over apt-get, apt-cache and dpkg-query (and refusals over apt, dpkg, aptitude): the real
# apt would change this machine, which every lab host shares.

# The programs a lab host must never run for real, and what replaces them.
LAB_APT_TOOLS="apt-get apt-cache dpkg-query apt dpkg aptitude unattended-upgrade"

sshd_config() {
    local h=$1 dir forwarding=no
    dir=$(host_dir "$h")
    [ "$h" = "$BASTION_NAME" ] && forwarding=yes
    cat <<CFG
Port 22
ListenAddress $(host_addr "$h")
HostKey $dir/ssh_host_ed25519_key
AuthorizedKeysFile $LAB_DIR/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
AllowTcpForwarding $forwarding
StrictModes no
UsePAM no
PidFile $dir/sshd.pid
LogLevel VERBOSE
MaxStartups 100:30:200
MaxSessions 100
# The Kubernetes stand-ins find the lab's cluster store and their node name here; the lab's
# systemctl (no systemd in the lab) comes first on PATH and keeps this host's units apart.
SetEnv KUBE_LAB_STORE=$LAB_DIR/kube-store.json KUBE_LAB_NODE=$h LAB_HOST_DIR=$dir STANDIN_STATE=$dir/systemd PATH=$LAB_ROOT/standins:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
CFG
}

start_sshd() {
    local h=$1 dir
    dir=$(host_dir "$h")
    sshd_config "$h" >"$dir/sshd_config"
    if pid_alive "$dir/sshd.pid" sshd; then
        if [ -s "$dir/boot_id" ] && [ "$(nsenter -t "$(cat "$dir/sshd.pid")" -m cat /proc/sys/kernel/random/boot_id 2>/dev/null)" = "$(cat "$dir/boot_id")" ]; then
            # Running: reload so config changes apply.
            kill -HUP "$(cat "$dir/sshd.pid")"
            return 0
        fi
        # Started before the hosts had mount namespaces of their own: start it again.
        pid_stop "$dir/sshd.pid" sshd
    fi
    "$SSHD" -t -f "$dir/sshd_config" || die "bad sshd config for $h"
    [ -s "$dir/boot_id" ] || cat /proc/sys/kernel/random/uuid >"$dir/boot_id"
    mkdir -p "$dir/var-lib-apt"
    "$PYTHON" "$LAB_ROOT/lib/apt_standin.py" --lab-init "$dir"
    # sshd daemonises and writes its PidFile; unshare/sh exec, so the daemon keeps the namespaces
    # (unshare makes the new mount namespace private: nothing mounted here reaches this machine).
    in_ns "$h" unshare --uts --mount sh -c '
        set -e
        hostname "$1"
        mount -t tmpfs -o mode=755,nosuid,nodev tmpfs /run
        mkdir -p /run/sshd
        mount --bind "$5/boot_id" /proc/sys/kernel/random/boot_id
        mount --bind "$5/var-lib-apt" /var/lib/apt
        for t in $7; do
            if [ -e "/usr/bin/$t" ]; then mount --bind "$6/lib/apt_standin.py" "/usr/bin/$t"; fi
        done
        exec "$2" -f "$3" -E "$4"' sh \
        "$h" "$SSHD" "$dir/sshd_config" "$dir/sshd.log" "$dir" "$LAB_ROOT" "$LAB_APT_TOOLS"
    local i
    for ((i = 0; i < 50; i++)); do
        pid_alive "$dir/sshd.pid" sshd && return 0
        sleep 0.1
    done
    die "sshd for $h did not start; see $dir/sshd.log"
}

# `ip netns exec` gives each host a fresh sysfs without cgroups: mount a cgroup v2 hierarchy at
# /sys/fs/cgroup in the host's own mount namespace (sshd's), as a cgroup v2 host has.
mount_cgroup2() {
    local pid="" i
    # A reloaded sshd rewrites its pid file.
    for ((i = 0; i < 50; i++)); do
        pid=$(cat "$(host_dir "$1")/sshd.pid" 2>/dev/null) && [ -n "$pid" ] && break
        sleep 0.1
    done
    nsenter -t "$pid" -m sh -c '[ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] || mount -t cgroup2 none /sys/fs/cgroup' ||
        die "cannot mount cgroup2 at /sys/fs/cgroup for $1"
}

start_all_sshd() {
    local h
    for h in $(all_hosts); do start_sshd "$h"; done
    for h in $(cluster_hosts); do mount_cgroup2 "$h"; done
}

stop_all_sshd() {
    local d
    for d in "$LAB_DIR"/hosts/*; do
        [ -d "$d" ] && pid_stop "$d/sshd.pid" sshd
    done
    return 0
}
