#!/bin/sh
# Checks the test references in docs/: every `tests/<path>:<TestName>` (or
# `tests/<path>:<Suite>.<TestName>`) must name a test defined in that file — a GROVE_TEST, TEST,
# TEST_F, TEST_P, TYPED_TEST(_P) or RC_GTEST_PROP whose name (and suite, when given) match — so
# the docs cannot go on citing a test that was renamed or removed. Also refuses docs that point
# outside the repository. Usage: docs_refs_test.sh doc.md... (run from the workspace root, with
# the cited test files present; under Bazel they are this test's data).
set -eu

[ "$#" -gt 0 ] || { echo "usage: $0 doc.md..." >&2; exit 2; }

status=0
count=0
refs=$(grep -ohE 'tests/[A-Za-z0-9_/.-]+\.(cc|h):[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)?' "$@" | sort -u)
if [ -z "$refs" ]; then
  echo "no test references found in: $*"
  exit 1
fi

for ref in $refs; do
  file=${ref%%:*}
  name=${ref#*:}
  count=$((count + 1))
  if [ ! -f "$file" ]; then
    echo "$ref: $file is missing (or not in the data of //tests/docs:docs_refs_test)"
    status=1
    continue
  fi
  case $name in
    *.*) suite=${name%%.*} test=${name#*.} ;;
    *) suite='[A-Za-z0-9_]+' test=$name ;;
  esac
  macro='(GROVE_TEST|TEST|TEST_F|TEST_P|TYPED_TEST|TYPED_TEST_P|RC_GTEST_PROP|RC_GTEST_FIXTURE_PROP)'
  if ! grep -qE "^[[:space:]]*$macro\([[:space:]]*$suite[[:space:]]*,[[:space:]]*$test[[:space:]]*[,)]" "$file"; then
    echo "$ref: no test named $name in $file"
    status=1
  fi
done

if grep -nE '\.\./shared|/work/shared' "$@"; then
  echo "docs refer to files outside the repository (above)"
  status=1
fi

echo "$count test references checked in: $*"
exit $status
