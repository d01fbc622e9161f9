# State dir: one client key authorised on every host, a host key per host, known_hosts and an
# ssh_config for the OpenSSH client (`ssh -F $LAB_DIR/ssh_config cp1`).

make_state_dir() {
    mkdir -p "$LAB_DIR" "$LAB_DIR/hosts" /run/sshd
    chmod 700 "$LAB_DIR"
    [ -f "$LAB_DIR/id_ed25519" ] ||
        ssh-keygen -q -t ed25519 -N '' -C play-lab -f "$LAB_DIR/id_ed25519"
    cp "$LAB_DIR/id_ed25519.pub" "$LAB_DIR/authorized_keys"
    local h dir
    : >"$LAB_DIR/known_hosts.new"
    for h in $(all_hosts); do
        dir=$(host_dir "$h")
        mkdir -p "$dir"
        [ -f "$dir/ssh_host_ed25519_key" ] ||
            ssh-keygen -q -t ed25519 -N '' -C "$h" -f "$dir/ssh_host_ed25519_key"
        echo "$(host_addr "$h") $(cut -d' ' -f1,2 "$dir/ssh_host_ed25519_key.pub")" >>"$LAB_DIR/known_hosts.new"
    done
    mv "$LAB_DIR/known_hosts.new" "$LAB_DIR/known_hosts"
    write_ssh_config
}

write_ssh_config() {
    {
        echo "# OpenSSH client settings for the lab: ssh -F $LAB_DIR/ssh_config cp1"
        echo "Host $BASTION_NAME"
        echo "  HostName $BASTION_ADDR"
        local h
        for h in $(cluster_hosts); do
            echo "Host $h"
            echo "  HostName $(host_addr "$h")"
            echo "  ProxyJump root@$BASTION_ADDR"
        done
        echo "Host *"
        echo "  User root"
        echo "  IdentityFile $LAB_DIR/id_ed25519"
        echo "  IdentitiesOnly yes"
        echo "  UserKnownHostsFile $LAB_DIR/known_hosts"
        echo "  StrictHostKeyChecking yes"
        echo "  BatchMode yes"
        echo "  ConnectTimeout 5"
    } >"$LAB_DIR/ssh_config"
}
