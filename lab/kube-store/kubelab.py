# Shared core of the lab's kubeadm/kubelet/kubectl stand-ins: one JSON store
# guarded by flock, version rules, scheduling, PodDisruptionBudget health and
# the event log. build-downloads inlines this file into each versioned tool so
# a downloaded binary is self-contained.
import contextlib
import fcntl
import json
import os
import re
import socket
import sys
import time

# Replaced by build-downloads with the version a tool was "built" as.
BAKED_VERSION = None
DEFAULT_STORE = "/var/lib/play-lab/kube-store.json"


def tool_version():
    v = BAKED_VERSION or os.environ.get("KUBE_LAB_VERSION")
    if not v:
        die("this stand-in has no version baked in (run build-downloads, or set KUBE_LAB_VERSION)")
    return v


def die(msg, code=1):
    sys.stderr.write(msg.rstrip("\n") + "\n")
    sys.exit(code)


# ---- versions -------------------------------------------------------------

def parse_version(v):
    m = re.fullmatch(r"v?(\d+)\.(\d+)\.(\d+)(?:[-+].*)?", str(v).strip())
    if not m:
        raise ValueError("invalid version %r" % v)
    return tuple(int(x) for x in m.groups())


def minor(v):
    return parse_version(v)[1]


def vnorm(v):
    return "v%d.%d.%d" % parse_version(v)


# ---- the store ------------------------------------------------------------

def store_path():
    return os.environ.get("KUBE_LAB_STORE") or DEFAULT_STORE


@contextlib.contextmanager
def locked(write=True):
    """Yield the store under an exclusive lock; write it back atomically when
    `write` and the body did not raise. The lock is a sidecar file because the
    store itself is replaced by rename."""
    path = store_path()
    if not os.path.exists(path):
        die("error: the lab cluster store %s does not exist (run lab/kube-store/init)" % path)
    with open(path + ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with open(path) as f:
            st = json.load(f)
        yield st
        if write:
            refresh(st)
            save(st, path)


def save(st, path=None):
    path = path or store_path()
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        json.dump(st, f, indent=1, sort_keys=True)
    os.replace(tmp, path)


def read_only():
    with locked(write=False) as st:
        return st


def now():
    return time.time()


def event(st, kind, node=None, **detail):
    st["seq"] = st.get("seq", 0) + 1
    e = {"seq": st["seq"], "time": round(now(), 3), "kind": kind}
    if node:
        e["node"] = node
    e.update(detail)
    st["events"].append(e)


def this_node(st):
    """The node this tool runs on: KUBE_LAB_NODE, else the host name."""
    name = os.environ.get("KUBE_LAB_NODE") or socket.gethostname().split(".")[0]
    if name not in st["nodes"]:
        die("error: this machine (%s) is not a node of the lab cluster; set KUBE_LAB_NODE" % name)
    return name


def node_or_die(st, name):
    if name not in st["nodes"]:
        die('Error from server (NotFound): nodes "%s" not found' % name)
    return st["nodes"][name]


# ---- API server / skew ----------------------------------------------------

def api_versions(st):
    return [n["apiserver"] for n in st["nodes"].values() if n["role"] == "control-plane" and n.get("apiserver")]


def oldest_apiserver(st):
    vs = api_versions(st)
    return min(vs, key=parse_version) if vs else st["cluster_version"]


def kubelet_skew_error(kubelet, apiserver):
    """The kubelet skew policy: never newer than the API server, at most
    three minors older. None when allowed."""
    k, a = parse_version(kubelet), parse_version(apiserver)
    if k[:2] > a[:2] or (k[:2] == a[:2] and k > a):
        return "kubelet %s is newer than the API server %s" % (vnorm(kubelet), vnorm(apiserver))
    if a[1] - k[1] > 3:
        return "kubelet %s is more than three minors older than the API server %s" % (vnorm(kubelet), vnorm(apiserver))
    return None


# ---- scheduling and health --------------------------------------------------

def schedulable(n):
    return n["role"] == "worker" and n["ready"] and not n["unschedulable"]


def pods_on(st, node):
    return [p for p in st["pods"].values() if p.get("node") == node]


def has_room(st, node):
    return len(pods_on(st, node)) < st["max_pods"]


def place(st, pod):
    """Bind a pod to the least loaded schedulable node with room; Pending
    (node None) when there is none. DaemonSet pods are never moved."""
    cands = [name for name, n in sorted(st["nodes"].items()) if schedulable(n) and has_room(st, name)]
    pod["node"] = min(cands, key=lambda c: len(pods_on(st, c))) if cands else None
    return pod["node"]


def healthy(st, pod):
    n = st["nodes"].get(pod.get("node") or "")
    return bool(n and n["ready"])


def matches(pod, selector):
    return all(pod["labels"].get(k) == v for k, v in selector.items())


def pdb_status(st, pdb):
    pods = [p for p in st["pods"].values() if matches(p, pdb["selector"])]
    h = sum(1 for p in pods if healthy(st, p))
    return {"expected": len(pods), "healthy": h, "allowed": max(0, h - pdb["minAvailable"])}


def refresh(st):
    """After every change: schedule Pending pods, then record the lowest
    availability each PDB ever had and the most nodes cordoned at once, so a
    test can prove no budget was broken at any moment."""
    for p in sorted(st["pods"].values(), key=lambda p: p["name"]):
        if p.get("node") is None and p["owner"] == "ReplicaSet":
            if place(st, p):
                event(st, "scheduled", p["node"], pod=p["name"])
    marks = st["watermarks"]
    for name, pdb in st["pdbs"].items():
        h = pdb_status(st, pdb)["healthy"]
        low = marks["pdb_lowest"].get(name)
        marks["pdb_lowest"][name] = h if low is None else min(low, h)
        if h < pdb["minAvailable"] and not pdb.get("violated"):
            pdb["violated"] = True
            event(st, "pdb-violated", pdb=name, healthy=h, minAvailable=pdb["minAvailable"])
        elif h >= pdb["minAvailable"]:
            pdb["violated"] = False
    cordoned = sum(1 for n in st["nodes"].values() if n["unschedulable"])
    marks["max_cordoned"] = max(marks.get("max_cordoned", 0), cordoned)


def new_pod_name(st, base):
    st["serial"] = st.get("serial", 0) + 1
    return "%s-%05x" % (base, (st["serial"] * 2654435761) & 0xFFFFF)


# ---- durations (Go syntax: 300s, 5m, 1m30s, 0) ------------------------------

def parse_duration(s):
    s = str(s).strip()
    if re.fullmatch(r"\d+", s):
        return float(s)
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", s)
    if not parts or "".join(a + b for a, b in parts) != s:
        die('error: invalid argument "%s" for "--timeout" flag: time: invalid duration "%s"' % (s, s))
    mult = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    return sum(float(a) * mult[b] for a, b in parts)


def age(ts):
    d = max(0, int(now() - ts))
    for unit, sec in (("d", 86400), ("h", 3600), ("m", 60)):
        if d >= sec:
            return "%d%s" % (d // sec, unit)
    return "%ds" % d


def table(rows):
    """Columns padded like kubectl's tabwriter (three spaces)."""
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    out = []
    for r in rows:
        cells = [str(c).ljust(widths[i]) for i, c in enumerate(r)]
        out.append("   ".join(cells).rstrip())
    return "\n".join(out)


# ---- control-plane static pods and their certificates ------------------------
# A control-plane node runs kube-apiserver, kube-controller-manager and
# kube-scheduler as static pods. Each loads the node's kubeadm certificates
# when it starts: after `kubeadm certs renew` it keeps serving the old ones
# until its pod is restarted (`crictl rmp`, kubelet recreates it).

STATIC_PODS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler")
CERT_DAYS = 365


def certs_issued(st, n):
    return n.get("certs_renewed", st["created"])


def static_pods(st, n):
    """This node's static pods: {component: {"started", "attempt"}}; none on a worker."""
    if n["role"] != "control-plane":
        return {}
    have = n.get("static_pods") or {}
    return {c: have.get(c, {"started": n["created"], "attempt": 0}) for c in STATIC_PODS}


def restart_static_pod(st, name, component, waited=False):
    """The kubelet recreates a removed static pod at once; the API server is
    unreachable on this node while its new pod starts, unless the caller
    (kubeadm upgrade) `waited` for it to come back before returning."""
    n = st["nodes"][name]
    pods = static_pods(st, n)
    pods[component] = {"started": now(), "attempt": pods[component]["attempt"] + 1}
    n["static_pods"] = pods
    if component == "kube-apiserver" and not waited:
        n["apiserver_down_until"] = now() + float(os.environ.get("KUBE_LAB_APISERVER_RESTART", "3"))
        n["apiserver_restarted"] = True
    event(st, "static-pod-restarted", name, pod="%s-%s" % (component, name))


def stale_static_pods(st, n):
    """Static pods still serving certificates from before the last renewal."""
    issued = certs_issued(st, n)
    return [c for c, p in sorted(static_pods(st, n).items()) if p["started"] < issued]


def apiserver_down(st, name):
    """A control-plane node's own API server is restarting (kubectl there is refused)."""
    n = st["nodes"].get(name or "")
    return bool(n and n["role"] == "control-plane" and n.get("apiserver_down_until", 0) > now())
