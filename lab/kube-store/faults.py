# Faults a test or a rehearsal injects into the lab cluster (lab/kube-store/fault).
# They live in the store under "faults"; the stand-ins consult them here so a
# fault behaves the same whichever host's tool meets it.

import os
import sys

# lab-lib-begin
sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
from kubelab import *  # noqa: E402,F401,F403
# lab-lib-end

FAULT_REASON = "lab fault: "


def faults(st):
    return st.setdefault("faults", [])


def find_fault(st, kind, node):
    return next((f for f in st.get("faults", []) if f["kind"] == kind and f.get("node") == node), None)


def kubeadm_fault(st, node):
    """The refusal `kubeadm upgrade` prints on a node with a kubeadm-fail fault, else None."""
    if find_fault(st, "kubeadm-fail", node):
        return ("[upgrade] FATAL: lab fault: kubeadm upgrade fails on %s (clear it with "
                "`lab/lab fault clear %s`)" % (node, node))
    return None


def set_not_ready(st, node, why):
    n = st["nodes"][node]
    n["ready"] = False
    n["not_ready_reason"] = FAULT_REASON + why
    event(st, "fault-notready", node, reason=why)


def after_uncordon(st, node):
    """A notready-after-uncordon fault fires once, on the node's next uncordon,
    and leaves a standing notready fault: a kubelet that crashes whenever it
    comes back keeps the node NotReady until the fault is cleared."""
    f = find_fault(st, "notready-after-uncordon", node)
    if f:
        faults(st).remove(f)
        faults(st).append({"kind": "notready", "node": node})
        set_not_ready(st, node, "the kubelet crashed right after the node was uncordoned")


def kubelet_fault(st, node):
    """Why the kubelet cannot make the node Ready (a standing notready fault), else None."""
    if find_fault(st, "notready", node):
        return "the kubelet cannot post node status (notready fault)"
    return None
