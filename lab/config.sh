# Lab shape and addresses. Sourced by every lab script; edit the counts here.

# etcd members and control-plane nodes are the same hosts (cp1..cpN), like a stacked kubeadm cluster.
CP_COUNT=${CP_COUNT:-3}
WORKER_COUNT=${WORKER_COUNT:-4}

# Several labs can run side by side (the end-to-end tests each bring up their own): LAB_NAME
# names the namespaces and interfaces (keep it short: interface names have 15 characters),
# LAB_NET is the second octet of all its addresses (10.LAB_NET.x.y).
LAB_NAME=${LAB_NAME:-lab}
LAB_NET=${LAB_NET:-77}

# State: keys, known_hosts, sshd/etcd configs, data, logs and pid files.
LAB_DIR=${LAB_DIR:-/var/lib/play-$LAB_NAME}

# Root namespace <-> bastion: a veth pair on a /30.
ROOT_ADDR=10.$LAB_NET.0.1
BASTION_ADDR=10.$LAB_NET.0.2
# Cluster hosts: a bridge inside the bastion's namespace. Only the bastion is on it.
BRIDGE_ADDR=10.$LAB_NET.1.1
CLUSTER_PREFIX=10.$LAB_NET.1
CP_BASE=10          # cpN  -> 10.77.1.(10+N)
WORKER_BASE=100     # wN   -> 10.77.1.(100+N)

BASTION_NAME=bastion1
NS_PREFIX=$LAB_NAME-
BRIDGE=${LAB_NAME}br0
ROOT_VETH=$LAB_NAME-b0

# Download server for the Kubernetes stand-ins, run inside the bastion's namespace on all of its
# addresses: hosts use http://10.77.1.1:8080/, the root namespace http://10.77.0.2:8080/.
HTTP_PORT=8080
LAB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(dirname "$LAB_ROOT")
DOWNLOADS_DIR=${DOWNLOADS_DIR:-$LAB_ROOT/downloads}
# Where `up` writes the lab's inventory (tests point it at a directory of their own).
INVENTORY_DIR=${LAB_INVENTORY:-$REPO_ROOT/inventory/lab}
# The stand-ins' own scripts read these.
export LAB_DIR CP_COUNT WORKER_COUNT

SSHD=/usr/sbin/sshd
PYTHON=/usr/bin/python3
