# inventory/lab: hosts.yml and the generated group_vars/all/lab.yml are rewritten on every `up`
# (they hold this lab's addresses and state-dir paths); k8s-cluster.yml is the user's and only
# written when missing.

write_inventory() {
    local inv=$INVENTORY_DIR h
    mkdir -p "$inv/group_vars/all" "$inv/group_vars/k8s_cluster"
    {
        echo "# The lab from lab/lab up: each host a real sshd in its own network namespace."
        echo "# Written by lab/lab up for state dir $LAB_DIR (LAB_DIR=... lab/lab up rewrites it)."
        echo "# Cluster hosts are reachable only through the bastion."
        echo "all:"
        echo "  vars:"
        echo "    ansible_user: root"
        echo "    ansible_ssh_private_key_file: $LAB_DIR/id_ed25519"
        echo "    ansible_ssh_common_args: -o ProxyJump=root@$BASTION_ADDR -o UserKnownHostsFile=$LAB_DIR/known_hosts"
        echo "  hosts:"
        echo "    $BASTION_NAME:"
        echo "      ansible_host: $BASTION_ADDR"
        echo "      ansible_ssh_common_args: -o UserKnownHostsFile=$LAB_DIR/known_hosts"
        for h in $(cluster_hosts); do
            echo "    $h:"
            echo "      ansible_host: $(host_addr "$h")"
        done
        echo "  children:"
        echo "    bastion:"
        echo "      hosts:"
        echo "        $BASTION_NAME:"
        echo "    etcd:"
        echo "      hosts:"
        for h in $(cp_hosts); do echo "        $h:"; done
        echo "    kube_control_plane:"
        echo "      hosts:"
        for h in $(cp_hosts); do echo "        $h:"; done
        echo "    kube_node:"
        echo "      hosts:"
        for h in $(worker_hosts); do echo "        $h:"; done
        echo "    k8s_cluster:"
        echo "      children:"
        echo "        kube_control_plane:"
        echo "        kube_node:"
    } >"$inv/hosts.yml"
    {
        echo "# Written by lab/lab up: where this lab keeps its state. The hosts share one file"
        echo "# system, so everything a host writes lives under its own directory."
        echo "lab_dir: $LAB_DIR"
        echo "lab_host_dir: \"{{ lab_dir }}/hosts/{{ inventory_hostname }}\""
        echo "# Plain-HTTP etcd on every control-plane host (no TLS in the lab)."
        echo "etcd_endpoints: $(etcd_endpoints)"
        echo "etcd_client_url: \"http://{{ ansible_host }}:2379\""
        echo "etcd_data_dir: \"{{ lab_host_dir }}/etcd\""
        echo "# The members as etcd knows them (lab/lib/etcd.sh starts them with the same values)."
        echo "etcd_peer_url: \"http://{{ ansible_host }}:2380\""
        echo "etcd_initial_cluster: $(etcd_initial_cluster)"
        echo "etcd_initial_cluster_token: $ETCD_CLUSTER_TOKEN"
        echo "# The distribution's etcdctl; snapshots kept per host."
        echo "etcdctl: /usr/bin/etcdctl"
        echo "etcd_backup_dir: \"{{ lab_host_dir }}/etcd-backups\""
        echo "# The download server, as the cluster hosts reach it."
        echo "lab_download_base: http://$BRIDGE_ADDR:$HTTP_PORT"
    } >"$inv/group_vars/all/lab.yml"
    [ -f "$inv/group_vars/k8s_cluster/k8s-cluster.yml" ] || cat >"$inv/group_vars/k8s_cluster/k8s-cluster.yml" <<'YML'
# The one line to edit for an upgrade.
kube_version: v1.29.4

# Lab only: the stand-ins are served from lab/downloads by the bastion, and each host keeps
# its binaries in its own directory (the namespaces share one file system).
kube_download_url: "{{ lab_download_base }}/release/{{ kube_version }}/bin/linux/amd64"
bin_dir: "{{ lab_host_dir }}/bin"
YML
}
