# Shared helpers for record.sh, check.sh and external.sh (sourced, not run).
# A case line in cases.txt is: <case-name> <args...>; args are shell words
# passed verbatim to ansible-playbook (or play). Blank lines and '#' lines are skipped.
# Cases named error-* are deliberate failures: only the exit status is compared.

COMPAT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ANSIBLE_PLAYBOOK=${ANSIBLE_PLAYBOOK:-/tmp/ansible-compat-venv/bin/ansible-playbook}

# run_case <project-dir> <binary> <args...>: prints "exit: N" then the binary's stdout.
run_case() {
  local dir=$1 bin=$2; shift 2
  local out rc
  out=$(mktemp)
  (
    cd "$dir" || exit 99
    if [ -f ansible.cfg ]; then export ANSIBLE_CONFIG="$PWD/ansible.cfg"; else unset ANSIBLE_CONFIG; fi
    export ANSIBLE_NOCOLOR=1 NO_COLOR=1 PYTHONHASHSEED=0 ANSIBLE_FORCE_COLOR=0
    "$bin" "$@" >"$out" 2>/dev/null
  )
  rc=$?
  printf 'exit: %s\n' "$rc"
  cat "$out"
  rm -f "$out"
}

# each_case <cases.txt>: prints "name<TAB>args" lines (comments and blanks removed).
each_case() {
  sed -e 's/[[:space:]]*$//' -e '/^[[:space:]]*#/d' -e '/^[[:space:]]*$/d' "$1" |
    sed -E 's/^([^[:space:]]+)[[:space:]]+/\1\t/'
}

# normalize: ansible prints two things in Python set order (random per process
# unless PYTHONHASHSEED is fixed): the hosts under "hosts (N):" and the play
# TAGS list "TAGS: [a,b]" on "play #" lines. Sort both so any order compares equal.
normalize() {
  python3 -c '
import sys, re
lines = sys.stdin.read().split("\n")
out, i = [], 0
while i < len(lines):
    l = lines[i]
    m = re.match(r"^(  play #\d+ \(.*\): .*\tTAGS: \[)(.*)\]$", l)
    if m:
        tags = [t for t in m.group(2).split(",") if t != ""]
        l = m.group(1) + ",".join(sorted(tags)) + "]"
    out.append(l); i += 1
    if re.match(r"^    hosts \(\d+\):$", l):
        block = []
        while i < len(lines) and lines[i].startswith("      ") and not lines[i].startswith("      TASK TAGS: ["):
            block.append(lines[i]); i += 1
        out.extend(sorted(block))
sys.stdout.write("\n".join(out))
'
}
