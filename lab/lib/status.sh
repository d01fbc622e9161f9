# `lab status`: what runs, and proof of the topology.

lab_ssh() { ssh -F "$LAB_DIR/ssh_config" "$@"; }

status_namespaces() {
    log "namespaces"
    local ns
    for ns in $(all_hosts); do
        ns=$(host_ns "$ns")
        if ns_exists "$ns"; then echo "  $ns"; else echo "  $ns MISSING"; fi
    done
}

status_ssh() {
    log "sshd per host (real ssh; cluster hosts via ssh -J root@$BASTION_ADDR)"
    local h out
    for h in $(all_hosts); do
        if out=$(lab_ssh "$h" 'echo "$(hostname) $(hostname -I)"' 2>&1); then
            printf '  %-9s ok   %s\n' "$h" "$out"
        else
            printf '  %-9s DOWN %s\n' "$h" "$(echo "$out" | tail -1)"
        fi
    done
}

# ssh_banner ADDR: print the SSH banner at ADDR:22 (within 3s), fail if none. A bare TCP connect
# is no proof: some hosts' egress accepts any connection and then says nothing.
ssh_banner() {
    timeout 4 bash -c 'exec 3<>"/dev/tcp/$1/22" && IFS= read -r -t 3 l <&3 && echo "${l%$'\''\r'\''}"' sh "$1" \
        2>/dev/null | grep -m1 '^SSH-'
}

status_isolation() {
    log "isolation: the root namespace must not reach cluster hosts"
    local h addr banner
    h=$(cp_hosts | head -1)
    addr=$(host_addr "$h")
    if banner=$(ssh_banner "$addr"); then
        echo "  FAIL: $h sshd ($addr:22) answers the root namespace: $banner"
    else
        echo "  ok: $h sshd ($addr:22) does not answer the root namespace ($(ip route get "$addr" | head -1 | xargs))"
    fi
    if banner=$(in_ns "$BASTION_NAME" bash -c "$(declare -f ssh_banner); ssh_banner $addr"); then
        echo "  ok: $h sshd answers the bastion: $banner"
    else
        echo "  FAIL: $h sshd ($addr:22) does not answer the bastion"
    fi
    if lab_ssh -o ProxyJump=none -o ConnectTimeout=3 "$h" true 2>/dev/null; then
        echo "  FAIL: ssh to $h without the bastion works"
    else
        echo "  ok: ssh to $h without the bastion fails"
    fi
}

status_etcd() {
    log "etcd"
    lab_etcdctl --dial-timeout=2s member list -w table 2>&1 | sed 's/^/  /'
    lab_etcdctl --dial-timeout=2s endpoint health 2>&1 | sed 's/^/  /'
}

status_http() {
    log "download server"
    if pid_alive "$(http_pidfile)" python3; then
        echo "  serving $DOWNLOADS_DIR at http://$BRIDGE_ADDR:$HTTP_PORT/ (root namespace: http://$BASTION_ADDR:$HTTP_PORT/)"
    else
        echo "  not running"
    fi
}

status_kube_store() {
    [ -x "$LAB_ROOT/kube-store/status" ] || return 0
    log "kubernetes stand-ins"
    KUBE_LAB_STORE="$LAB_DIR/kube-store.json" "$LAB_ROOT/kube-store/status" 2>&1 | sed 's/^/  /'
}

lab_status() {
    if ! ns_exists "$(host_ns "$BASTION_NAME")"; then
        echo "lab is down (no namespace $(host_ns "$BASTION_NAME"))"
        return 1
    fi
    status_namespaces
    status_ssh
    status_isolation
    status_etcd
    status_http
    status_kube_store
}
