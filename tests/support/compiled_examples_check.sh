#!/bin/sh
# Checks that documentation examples are the code the build compiles: every line of every
# example must appear, as a whole line (leading and trailing blanks aside), in the compiled
# file given first. An example is
#   - in a header (any other file): the last block of lines indented as `//   code` in its top
#     comment (before `#pragma once`);
#   - in a Markdown file (*.md): every ```cpp fenced block.
# Usage: compiled_examples_check.sh compiled.cc file...
set -eu
compiled="$1"
shift
tmp="${TEST_TMPDIR:-/tmp}"
trimmed="$tmp/compiled.trimmed"
missing="$tmp/missing"
rm -f "$missing"
sed 's/^[[:space:]]*//; s/[[:space:]]*$//' "$compiled" >"$trimmed"
status=0
for source in "$@"; do
  case "$source" in
    *.md)
      block=$(awk '
        /^```cpp[[:space:]]*$/ { inblock = 1; next }
        /^```/ { inblock = 0; next }
        inblock { print }' "$source")
      ;;
    *)
      block=$(awk '
        /^#pragma once/ { exit }
        /^\/\/   / { if (!inblock) { n = 0; inblock = 1 } lines[++n] = substr($0, 6); next }
        { inblock = 0 }
        END { for (i = 1; i <= n; i++) print lines[i] }' "$source")
      ;;
  esac
  if [ -z "$block" ]; then
    echo "$source: no example found"
    status=1
    continue
  fi
  printf "%s\n" "$block" | sed 's/^[[:space:]]*//; s/[[:space:]]*$//' | while IFS= read -r line; do
    [ -z "$line" ] && continue
    if ! grep -Fxq -- "$line" "$trimmed"; then
      echo "$source: example line not in $(basename "$compiled"): $line"
      echo missing >>"$missing"
    fi
  done
done
if [ -s "$missing" ]; then
  rm -f "$missing"
  exit 1
fi
exit $status
