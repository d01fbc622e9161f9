# `kubectl drain` for the lab stand-in: cordon, refuse what kubectl refuses,
# evict through the PodDisruptionBudgets with kubectl's retry and timeout,
# and let the ReplicaSet replace each evicted pod on a schedulable node.
import os
import sys
import time

# lab-lib-begin
sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
from kubelab import *  # noqa: E402,F401,F403
# lab-lib-end

DS_FATAL = "DaemonSet-managed Pods (use --ignore-daemonsets to ignore)"
LOCAL_FATAL = "Pods with local storage (use --delete-emptydir-data to override)"
UNMANAGED_FATAL = "Pods declare no controller (use --force to override)"
PDB_MSG = "Cannot evict pod as it would violate the pod's disruption budget."


def fail(node, errors):
    joined = errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]"
    die('error: unable to drain node "%s" due to error: %s, continuing command...\n'
        "There are pending nodes to be drained:\n %s\n%s" % (node, joined, node, "\n".join(errors)))


def drain(pos, fl):
    if len(pos) != 1:
        die("error: USAGE: drain NODE [flags]")
    node = pos[0]
    timeout = parse_duration(fl.get("--timeout", "0s"))
    retry = float(os.environ.get("KUBE_LAB_EVICT_RETRY", "5"))
    with locked() as st:
        n = node_or_die(st, node)
        was = n["unschedulable"]
        n["unschedulable"] = True
        if not was:
            event(st, "cordon", node, by="drain")
        pods = sorted((k for k, p in st["pods"].items() if p["node"] == node), key=lambda k: k)
        kinds = {k: st["pods"][k] for k in pods}
    print("node/%s %s" % (node, "already cordoned" if was else "cordoned"), flush=True)

    # The filters kubectl applies before evicting anything.
    fatal, warn, evict = {}, {}, []
    for k in pods:
        p = kinds[k]
        if p["owner"] == "DaemonSet":
            (warn if "--ignore-daemonsets" in fl else fatal).setdefault(
                "ignoring DaemonSet-managed Pods" if "--ignore-daemonsets" in fl else DS_FATAL, []).append(k)
            continue
        if p["owner"] == "none":
            if "--force" not in fl:
                fatal.setdefault(UNMANAGED_FATAL, []).append(k)
                continue
            warn.setdefault("deleting Pods that declare no controller", []).append(k)
        if p.get("emptydir"):
            if "--delete-emptydir-data" not in fl and "--delete-local-data" not in fl:
                fatal.setdefault(LOCAL_FATAL, []).append(k)
                continue
        evict.append(k)
    if fatal:
        fail(node, ["cannot delete %s: %s" % (m, ", ".join(ks)) for m, ks in fatal.items()])
    for m, ks in warn.items():
        sys.stderr.write("Warning: %s: %s\n" % (m, ", ".join(ks)))
    for k in evict:
        print("evicting pod " + k, flush=True)

    deadline = time.time() + timeout if timeout > 0 else float("inf")
    pending = list(evict)
    while pending:
        for k in list(pending):
            ok, name = try_evict(k, node)
            if ok:
                pending.remove(k)
                print("pod/%s evicted" % name, flush=True)
            else:
                ns, name = k.split("/", 1)
                sys.stderr.write('error when evicting pods/"%s" -n "%s" (will retry after %gs): %s\n'
                                 % (name, ns, retry, PDB_MSG))
        if not pending:
            break
        if time.time() + retry > deadline:
            time.sleep(max(0.0, deadline - time.time()))
            errs = ['error when evicting pods/"%s" -n "%s": global timeout reached: %s'
                    % (k.split("/", 1)[1], k.split("/", 1)[0], fl.get("--timeout")) for k in pending]
            with locked() as st:
                event(st, "drain-timeout", node, pods=pending)
            sys.stderr.write('There are pending pods in node "%s" when an error occurred: %s\n' % (node, errs[0]))
            for k in pending:
                sys.stderr.write("pod/%s\n" % k.split("/", 1)[1])
            fail(node, errs)
        time.sleep(retry)
    with locked() as st:
        event(st, "drained", node)
    print("node/%s drained" % node)


def try_evict(key, node):
    """One eviction call: refused (429) when a matching PDB would drop below
    minAvailable; otherwise the pod goes and its ReplicaSet makes a new one."""
    with locked() as st:
        p = st["pods"].get(key)
        if not p or p["node"] != node:
            return True, key.split("/", 1)[1]
        for b in st["pdbs"].values():
            if b["namespace"] == p["namespace"] and matches(p, b["selector"]):
                s = pdb_status(st, b)
                if healthy(st, p) and s["allowed"] < 1:
                    event(st, "eviction-refused", node, pod=p["name"], pdb=b["name"])
                    return False, p["name"]
        del st["pods"][key]
        event(st, "evicted", node, pod=p["name"])
        if p["owner"] == "ReplicaSet":
            q = dict(p, name=new_pod_name(st, p["owner_name"]), created=now())
            st["pods"]["%s/%s" % (q["namespace"], q["name"])] = q
            if place(st, q):
                event(st, "scheduled", q["node"], pod=q["name"], replaces=p["name"])
            else:
                event(st, "pending", None, pod=q["name"], replaces=p["name"])
        return True, p["name"]
