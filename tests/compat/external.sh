#!/usr/bin/env bash
# Run the four listings on a checkout of someone else's Ansible project, with
# ansible-playbook and with a play binary, and diff them (normalized as in lib.sh).
#
# Usage: tests/compat/external.sh <checkout-dir> <play-binary|-> [playbook...]
#   <play-binary> = "-" only records ansible's answers.
#   playbooks: paths relative to the checkout (default: every *.yml at its top level
#   that starts with a play list, i.e. a line "- hosts:", "- name:" or "- import_playbook:").
# Environment:
#   INVENTORY   inventory path relative to the checkout (default: the ansible.cfg's, else
#               "hosts", "inventory" or "inventory.ini" if present, else "localhost,")
#   EXPECTED    where ansible's answers go (default: <checkout-dir>.expected), one
#               <playbook-with-slashes-as-__>.<listing>.out per run, "exit: N" first line.
set -u
. "$(dirname "$0")/lib.sh"
dir=$(realpath "${1:?usage: external.sh <checkout-dir> <play-binary|-> [playbook...]}")
play=${2:?usage: external.sh <checkout-dir> <play-binary|-> [playbook...]}
shift 2
[ "$play" = - ] || play=$(realpath "$play")
expected=${EXPECTED:-$dir.expected}
mkdir -p "$expected"

if [ $# -eq 0 ]; then
  set -- $(cd "$dir" && grep -lE '^- (hosts|name|import_playbook|ansible.builtin.import_playbook):' -- *.yml 2>/dev/null)
fi

inv=()
if [ -n "${INVENTORY:-}" ]; then inv=(-i "$INVENTORY")
elif [ -f "$dir/ansible.cfg" ] && grep -qE '^\s*inventory\s*=' "$dir/ansible.cfg"; then inv=()
else
  for c in hosts inventory inventory.ini hosts.ini; do
    [ -e "$dir/$c" ] && { inv=(-i "$c"); break; }
  done
  [ ${#inv[@]} -eq 0 ] && inv=(-i localhost,)
fi

pass=0 fail=0
for pb in "$@"; do
  for listing in --syntax-check --list-hosts --list-tasks --list-tags; do
    name="$(printf '%s' "$pb" | tr / _)${listing}"
    run_case "$dir" "$ANSIBLE_PLAYBOOK" "$pb" "${inv[@]}" "$listing" >"$expected/$name.out"
    [ "$play" = - ] && { echo "$name $(head -1 "$expected/$name.out")"; continue; }
    got=$(run_case "$dir" "$play" "$pb" "${inv[@]}" "$listing"; echo x); got=${got%x}
    if diff -u --label "ansible $pb $listing" --label "play $pb $listing" \
        <(normalize <"$expected/$name.out") <(printf '%s' "$got" | normalize); then
      pass=$((pass+1))
    else
      fail=$((fail+1))
    fi
  done
done
[ "$play" = - ] || echo "external $(basename "$dir"): $pass same, $fail different"
[ "$play" = - ] || [ "$fail" -eq 0 ]
