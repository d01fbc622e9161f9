#!/usr/bin/env bash
# Compare a `play` binary with the recorded ansible answers.
# Usage: tests/compat/check.sh <play-binary> [project...]
# Ordinary cases: exit status and normalized stdout must match (see lib.sh: normalize).
# error-* cases: play must fail too; a different non-zero status is reported, not failed.
set -u
. "$(dirname "$0")/lib.sh"
PLAY=$(realpath "${1:?usage: check.sh <play-binary> [project...]}"); shift
if [ $# -eq 0 ]; then
  set -- $(cd "$COMPAT_DIR" && ls -d */ | tr -d / | while read -r p; do [ -f "$p/cases.txt" ] && echo "$p"; done)
fi
pass=0 fail=0
for project in "$@"; do
  dir="$COMPAT_DIR/$project"
  while IFS=$'\t' read -r name args; do
    eval "set -- $args"
    exp="$dir/expected/$name.out"
    got=$(run_case "$dir" "$PLAY" "$@"; echo x); got=${got%x}
    erc=$(head -1 "$exp"); grc=$(printf '%s' "$got" | head -1)
    if [[ $name == error-* ]]; then
      if [ "$grc" = "exit: 0" ]; then
        echo "FAIL $project/$name: expected failure ($erc), play succeeded"; fail=$((fail+1))
      else
        [ "$grc" = "$erc" ] || echo "note $project/$name: $grc (ansible: $erc)"
        pass=$((pass+1))
      fi
      continue
    fi
    if diff -u --label "ansible/$project/$name" --label "play/$project/$name" \
        <(tail -n +1 "$exp" | normalize) <(printf '%s' "$got" | normalize) >/tmp/compat-diff.$$; then
      pass=$((pass+1))
    else
      echo "FAIL $project/$name: play $*"; cat /tmp/compat-diff.$$; fail=$((fail+1))
    fi
  done < <(each_case "$dir/cases.txt")
done
rm -f /tmp/compat-diff.$$
echo "compat: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
