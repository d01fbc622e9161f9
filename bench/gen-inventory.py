#!/usr/bin/env python3
"""Generate a large, deterministic inventory for benches/inventory.rs.

    gen-inventory.py OUT_DIR [--hosts 10000] [--groups 100]

Writes OUT_DIR/yaml/hosts.yml and OUT_DIR/ini/hosts (the same inventory in both formats),
each with group_vars/ and host_vars/ beside it. Groups: 10 parents (children of all), each
with leaf children; every host sits in 2 or 3 leaf groups and has a few inline variables.
"""
import argparse
import os


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--hosts", type=int, default=10000)
    ap.add_argument("--groups", type=int, default=100)
    a = ap.parse_args()

    parents = [f"region{p:02d}" for p in range(10)]
    leaves = [f"svc{g:03d}" for g in range(a.groups - len(parents))]
    parent_of = {leaf: parents[i % len(parents)] for i, leaf in enumerate(leaves)}

    hosts = []
    for i in range(a.hosts):
        name = f"node{i:05d}.dc{i % 4}.example.com"
        n_groups = 2 + (i % 2)
        groups = [leaves[(i * 7 + k * 31) % len(leaves)] for k in range(n_groups)]
        hv = {"ansible_host": f"10.{i // 65536}.{(i // 256) % 256}.{i % 256}", "rack": i % 40, "weight": (i * 13) % 100, "primary": i % 10 == 0}
        hosts.append((name, sorted(set(groups)), hv))

    group_vars = {g: {"tier": g, "replicas": 3, "flags": ["a", "b"], "port": 8000 + n} for n, g in enumerate(leaves + parents)}

    def yaml_scalar(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, list):
            return "[" + ", ".join(yaml_scalar(x) for x in v) + "]"
        return str(v)

    def ini_scalar(v, inline=True):
        # Inline host values are shell-split first, so a list needs quotes there; a :vars
        # value is read as written.
        if isinstance(v, bool):
            return "True" if v else "False"
        if isinstance(v, list):
            text = "[" + ", ".join(repr(x) for x in v) + "]"
            return f'"{text}"' if inline else text
        return str(v)

    members = {g: [] for g in leaves}
    for name, groups, hv in hosts:
        for g in groups:
            members[g].append((name, hv))

    # YAML
    ydir = os.path.join(a.out, "yaml")
    os.makedirs(ydir, exist_ok=True)
    with open(os.path.join(ydir, "hosts.yml"), "w") as f:
        f.write("all:\n  vars:\n    domain: example.com\n    ntp: [ntp1, ntp2]\n  children:\n")
        for p in parents:
            f.write(f"    {p}:\n      vars:\n")
            for k, v in group_vars[p].items():
                f.write(f"        {k}: {yaml_scalar(v)}\n")
            f.write("      children:\n")
            for leaf in leaves:
                if parent_of[leaf] != p:
                    continue
                f.write(f"        {leaf}:\n          vars:\n")
                for k, v in group_vars[leaf].items():
                    f.write(f"            {k}: {yaml_scalar(v)}\n")
                f.write("          hosts:\n")
                for name, hv in members[leaf]:
                    f.write(f"            {name}:\n")
                    for k, v in hv.items():
                        f.write(f"              {k}: {yaml_scalar(v)}\n")

    # INI
    idir = os.path.join(a.out, "ini")
    os.makedirs(idir, exist_ok=True)
    with open(os.path.join(idir, "hosts"), "w") as f:
        f.write("[all:vars]\ndomain=example.com\nntp=['ntp1', 'ntp2']\n\n")
        for leaf in leaves:
            f.write(f"[{leaf}]\n")
            for name, hv in members[leaf]:
                f.write(name + " " + " ".join(f"{k}={ini_scalar(v)}" for k, v in hv.items()) + "\n")
            f.write(f"\n[{leaf}:vars]\n")
            for k, v in group_vars[leaf].items():
                f.write(f"{k}={ini_scalar(v, inline=False)}\n")
            f.write("\n")
        for p in parents:
            f.write(f"[{p}:children]\n")
            for leaf in leaves:
                if parent_of[leaf] == p:
                    f.write(leaf + "\n")
            f.write(f"\n[{p}:vars]\n")
            for k, v in group_vars[p].items():
                f.write(f"{k}={ini_scalar(v, inline=False)}\n")
            f.write("\n")

    # group_vars/ and host_vars/ beside both
    for d in (ydir, idir):
        os.makedirs(os.path.join(d, "group_vars", "all"), exist_ok=True)
        with open(os.path.join(d, "group_vars", "all", "main.yml"), "w") as f:
            f.write("timezone: UTC\nkube_version: v1.30.0\n")
        for n, g in enumerate(leaves[::5]):
            with open(os.path.join(d, "group_vars", g + ".yml"), "w") as f:
                f.write(f"from_file: {g}\nlimit: {n}\n")
        os.makedirs(os.path.join(d, "host_vars"), exist_ok=True)
        for name, _, _ in hosts[::50]:
            with open(os.path.join(d, "host_vars", name + ".yml"), "w") as f:
                f.write(f"special: true\nlabel: {name}\n")


if __name__ == "__main__":
    main()
