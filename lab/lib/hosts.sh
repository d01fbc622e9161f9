# Host names, addresses and namespaces derived from config.sh.

cp_hosts() { local i; for ((i = 1; i <= CP_COUNT; i++)); do echo "cp$i"; done; }
worker_hosts() { local i; for ((i = 1; i <= WORKER_COUNT; i++)); do echo "w$i"; done; }
cluster_hosts() { cp_hosts; worker_hosts; }
all_hosts() { echo "$BASTION_NAME"; cluster_hosts; }

# host_addr NAME: the address other lab hosts use for NAME.
host_addr() {
    case $1 in
        "$BASTION_NAME") echo "$BASTION_ADDR" ;;
        cp*) echo "$CLUSTER_PREFIX.$((CP_BASE + ${1#cp}))" ;;
        w*) echo "$CLUSTER_PREFIX.$((WORKER_BASE + ${1#w}))" ;;
        *) echo "unknown lab host $1" >&2; return 1 ;;
    esac
}

host_ns() {
    if [ "$1" = "$BASTION_NAME" ]; then echo "${NS_PREFIX}bastion"; else echo "$NS_PREFIX$1"; fi
}

host_dir() { echo "$LAB_DIR/hosts/$1"; }

# in_ns NAME CMD...: run CMD in NAME's network namespace.
in_ns() { local ns; ns=$(host_ns "$1"); shift; ip netns exec "$ns" "$@"; }

log() { printf '\033[1m==>\033[0m %s\n' "$*"; }
die() { printf 'lab: %s\n' "$*" >&2; exit 1; }
