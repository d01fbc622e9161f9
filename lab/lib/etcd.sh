# A real etcd cluster (the distribution's etcd-server) on the control-plane hosts, plain HTTP on
# their lab addresses: clients on :2379 (and 127.0.0.1:2379 inside each host), peers on :2380.

# The cluster token every member starts (and a restore rebuilds them) with.
ETCD_CLUSTER_TOKEN=play-lab

etcd_initial_cluster() {
    local h out=""
    for h in $(cp_hosts); do out+="${out:+,}$h=http://$(host_addr "$h"):2380"; done
    echo "$out"
}

etcd_endpoints() {
    local h out=""
    for h in $(cp_hosts); do out+="${out:+,}http://$(host_addr "$h"):2379"; done
    echo "$out"
}

# Each member runs as a (stand-in) systemd unit, etcd.service, whose ExecStart=/ExecStop= are
# lab/lib/etcd-service with the member's settings in hosts/<h>/etcd.conf: playbooks stop and
# start it with `systemctl`, and `lab up`/`down` go through the same unit.
etcd_unit_files() {
    local h=$1 dir addr
    dir=$(host_dir "$h")
    addr=$(host_addr "$h")
    mkdir -p "$dir/systemd/units"
    cat >"$dir/etcd.conf" <<CONF
NS=$(host_ns "$h")
NAME=$h
ADDR=$addr
DATA_DIR=$dir/etcd
INITIAL_CLUSTER=$(etcd_initial_cluster)
TOKEN=$ETCD_CLUSTER_TOKEN
LOG=$dir/etcd.log
PIDFILE=$dir/etcd.pid
CONF
    printf '[Unit]\nDescription=etcd (lab)\n[Service]\nExecStart=%s start %s\nExecStop=%s stop %s\nPIDFile=%s\n' \
        "$LAB_ROOT/lib/etcd-service" "$dir/etcd.conf" "$LAB_ROOT/lib/etcd-service" "$dir/etcd.conf" "$dir/etcd.pid" \
        >"$dir/systemd/units/etcd.service"
}

# host_systemctl HOST ARGS...: the lab's systemctl for HOST's units, inside HOST's namespace.
host_systemctl() {
    local h=$1
    shift
    in_ns "$h" env STANDIN_STATE="$(host_dir "$h")/systemd" "$LAB_ROOT/standins/systemctl" "$@"
}

start_etcd() {
    local h=$1
    etcd_unit_files "$h"
    host_systemctl "$h" daemon-reload
    host_systemctl "$h" enable etcd 2>/dev/null
    host_systemctl "$h" start etcd
}

# etcdctl from the bastion, the one place that can reach every member.
lab_etcdctl() { in_ns "$BASTION_NAME" env ETCDCTL_API=3 etcdctl --endpoints="$(etcd_endpoints)" "$@"; }

wait_etcd_healthy() {
    local i
    for ((i = 0; i < 60; i++)); do
        lab_etcdctl --dial-timeout=2s endpoint health >/dev/null 2>&1 && return 0
        sleep 1
    done
    lab_etcdctl endpoint health || true
    die "etcd is not healthy after 60s; see $LAB_DIR/hosts/cp*/etcd.log"
}

start_all_etcd() {
    local h
    for h in $(cp_hosts); do start_etcd "$h" || die "etcd on $h did not start; see $(host_dir "$h")/etcd.log"; done
    wait_etcd_healthy
}

stop_all_etcd() {
    local d h
    for h in $(cp_hosts); do
        [ -f "$(host_dir "$h")/systemd/units/etcd.service" ] && ns_exists "$(host_ns "$h")" &&
            host_systemctl "$h" stop etcd
    done
    # Members of a lab built with more hosts, or before etcd was a unit.
    for d in "$LAB_DIR"/hosts/*; do
        [ -d "$d" ] && pid_stop "$d/etcd.pid" etcd
    done
    return 0
}
