# Distribution packages the lab needs; installs only those missing.

LAB_PACKAGES=(openssh-server openssh-client iproute2 etcd-server etcd-client)

pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }

install_packages() {
    local missing=() p
    for p in "${LAB_PACKAGES[@]}"; do pkg_installed "$p" || missing+=("$p"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing ${missing[*]}"
    # Keep the packages' own services (a stock etcd on 127.0.0.1:2379, sshd on :22) from starting:
    # the lab runs its own copies inside namespaces.
    local policy=/usr/sbin/policy-rc.d ours=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && ours=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
    local rc=$?
    [ $ours = 1 ] && rm -f "$policy"
    [ $rc = 0 ] || die "apt-get install ${missing[*]} failed"
}
