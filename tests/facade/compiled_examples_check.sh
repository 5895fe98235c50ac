#!/bin/sh
# Checks that the example at the end of each facade header's top comment (the last block of
# lines indented as `//   code`) appears, line by line, in header_examples.cc, which the build
# compiles: so every header example compiles as written. Usage: header_examples_check.sh
# examples.cc header...
set -eu
examples="$1"
shift
trimmed="${TEST_TMPDIR:-/tmp}/examples.trimmed"
sed 's/^[[:space:]]*//; s/[[:space:]]*$//' "$examples" >"$trimmed"
status=0
for header in "$@"; do
  block=$(awk '
    /^#pragma once/ { exit }
    /^\/\/   / { if (!inblock) { n = 0; inblock = 1 } lines[++n] = substr($0, 6); next }
    { inblock = 0 }
    END { for (i = 1; i <= n; i++) print lines[i] }' "$header")
  if [ -z "$block" ]; then
    echo "$header: no example block found"
    status=1
    continue
  fi
  printf "%s\n" "$block" | sed 's/^[[:space:]]*//; s/[[:space:]]*$//' | while IFS= read -r line; do
    [ -z "$line" ] && continue
    if ! grep -Fxq -- "$line" "$trimmed"; then
      echo "$header: example line not in $(basename "$examples"): $line"
      echo missing >>"${TEST_TMPDIR:-/tmp}/missing"
    fi
  done
done
if [ -s "${TEST_TMPDIR:-/tmp}/missing" ]; then
  rm -f "${TEST_TMPDIR:-/tmp}/missing"
  exit 1
fi
exit $status
