# A real etcd cluster (the distribution's etcd-server) on the control-plane hosts, plain HTTP on
# their lab addresses: clients on :2379 (and 127.0.0.1:2379 inside each host), peers on :2380.

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

start_etcd() {
    local h=$1 dir addr
    dir=$(host_dir "$h")
    addr=$(host_addr "$h")
    pid_alive "$dir/etcd.pid" etcd && return 0
    mkdir -p "$dir/etcd"
    chmod 700 "$dir/etcd"
    # The initial-cluster flags are ignored once the data dir holds a member, so a restart rejoins.
    # nohup and `ip netns exec` both exec, so $! is etcd itself.
    nohup ip netns exec "$(host_ns "$h")" etcd \
        --name "$h" \
        --data-dir "$dir/etcd" \
        --listen-peer-urls "http://$addr:2380" \
        --initial-advertise-peer-urls "http://$addr:2380" \
        --listen-client-urls "http://$addr:2379,http://127.0.0.1:2379" \
        --advertise-client-urls "http://$addr:2379" \
        --initial-cluster "$(etcd_initial_cluster)" \
        --initial-cluster-token play-lab \
        --initial-cluster-state new \
        >>"$dir/etcd.log" 2>&1 </dev/null &
    echo $! >"$dir/etcd.pid"
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
    for h in $(cp_hosts); do start_etcd "$h"; done
    sleep 0.5
    for h in $(cp_hosts); do
        pid_alive "$(host_dir "$h")/etcd.pid" etcd || die "etcd on $h exited; see $(host_dir "$h")/etcd.log"
    done
    wait_etcd_healthy
}

stop_all_etcd() {
    local d
    for d in "$LAB_DIR"/hosts/*; do
        [ -d "$d" ] && pid_stop "$d/etcd.pid" etcd
    done
    return 0
}
