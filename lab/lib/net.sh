# Namespaces: root --veth /30-- <name>-bastion --bridge 10.<net>.1.0/24-- <name>-cp1, <name>-w1, ...
# The bastion does not forward packets and the root namespace has no route to the bridge, so a
# cluster host is reachable only by tunnelling through the bastion's sshd.

ns_exists() { [ -e "/run/netns/$1" ]; }

ensure_ns() {
    ns_exists "$1" || ip netns add "$1"
    ip -n "$1" link set lo up
}

# ensure_veth NEAR_NS NEAR_NAME FAR_NS: a veth pair NEAR_NAME (in NEAR_NS, "" = root) <-> eth0 in FAR_NS.
ensure_veth() {
    local near_ns=$1 near=$2 far_ns=$3
    ip -n "$far_ns" link show eth0 >/dev/null 2>&1 && return 0
    # Both ends are created inside their namespaces, so labs built side by side never race
    # for a name in the root namespace.
    if [ -n "$near_ns" ]; then
        ip link add "$near" netns "$near_ns" type veth peer name eth0 netns "$far_ns"
    else
        ip link add "$near" type veth peer name eth0 netns "$far_ns"
    fi
}

build_network() {
    local b_ns h ns veth
    b_ns=$(host_ns "$BASTION_NAME")
    ensure_ns "$b_ns"
    ip netns exec "$b_ns" sysctl -qw net.ipv4.ip_forward=0
    ensure_veth "" "$ROOT_VETH" "$b_ns"
    ip addr replace "$ROOT_ADDR/30" dev "$ROOT_VETH"
    ip link set "$ROOT_VETH" up
    ip -n "$b_ns" addr replace "$BASTION_ADDR/30" dev eth0
    ip -n "$b_ns" link set eth0 up

    ip -n "$b_ns" link show "$BRIDGE" >/dev/null 2>&1 || ip -n "$b_ns" link add "$BRIDGE" type bridge
    ip -n "$b_ns" addr replace "$BRIDGE_ADDR/24" dev "$BRIDGE"
    ip -n "$b_ns" link set "$BRIDGE" up

    for h in $(cluster_hosts); do
        ns=$(host_ns "$h")
        veth="lv-$h"
        ensure_ns "$ns"
        ensure_veth "$b_ns" "$veth" "$ns"
        ip -n "$b_ns" link set "$veth" master "$BRIDGE"
        ip -n "$b_ns" link set "$veth" up
        ip -n "$ns" addr replace "$(host_addr "$h")/24" dev eth0
        ip -n "$ns" link set eth0 up
        # Their only way out is the bastion (for the download server); it does not forward.
        ip -n "$ns" route replace default via "$BRIDGE_ADDR"
    done
}

# Namespaces this lab may have made, also ones from a run with larger counts.
lab_namespaces() { ip netns list 2>/dev/null | awk '{print $1}' | grep "^$NS_PREFIX" || true; }

destroy_network() {
    local ns
    for ns in $(lab_namespaces); do ip netns del "$ns"; done
    # Deleting the bastion namespace deletes its veth end and so the root end; be sure anyway.
    ip link show "$ROOT_VETH" >/dev/null 2>&1 && ip link del "$ROOT_VETH"
    return 0
}
