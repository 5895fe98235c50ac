#!/bin/sh
# Stub for Bazel's downloadable coverage tools: this project builds offline.
echo "remote_coverage_tools stub: 'bazel coverage' is not supported in this offline build" >&2
exit 1
