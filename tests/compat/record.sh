#!/usr/bin/env bash
# Record ansible-playbook's answers for every case of every corpus project.
# Usage: tests/compat/record.sh [project...]   (default: all projects with a cases.txt)
# Needs ansible-core 2.19 at $ANSIBLE_PLAYBOOK (default /tmp/ansible-compat-venv/bin/ansible-playbook):
#   python3 -m venv /tmp/ansible-compat-venv && /tmp/ansible-compat-venv/bin/pip install ansible-core==2.19.14
# Writes <project>/expected/<case>.out: first line "exit: N", then stdout byte for byte.
set -u
. "$(dirname "$0")/lib.sh"

"$ANSIBLE_PLAYBOOK" --version | head -1 | grep -q 'core 2\.19\.' ||
  { echo "record.sh: $ANSIBLE_PLAYBOOK is not ansible-core 2.19" >&2; exit 1; }

if [ $# -eq 0 ]; then
  set -- $(cd "$COMPAT_DIR" && ls -d */ | tr -d / | while read -r p; do [ -f "$p/cases.txt" ] && echo "$p"; done)
fi

for project in "$@"; do
  dir="$COMPAT_DIR/$project"
  rm -rf "$dir/expected"; mkdir -p "$dir/expected"
  while IFS=$'\t' read -r name args; do
    eval "set -- $args"
    run_case "$dir" "$ANSIBLE_PLAYBOOK" "$@" >"$dir/expected/$name.out"
    printf '%-12s %-40s %s\n' "$project" "$name" "$(head -1 "$dir/expected/$name.out")"
  done < <(each_case "$dir/cases.txt")
done
