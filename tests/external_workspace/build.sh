#!/usr/bin/env bash
# Builds and runs tests/external_workspace, a Bazel workspace outside grove that depends on it
# through local_repository — what a user's project does. A CI step (it runs a Bazel of its own,
# so it is not a `bazel test` target): tests/external_workspace/build.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
bazel build //:hello
out="$(./bazel-bin/hello)"
echo "$out"
[ "$out" = "hello from a greenlet" ]
