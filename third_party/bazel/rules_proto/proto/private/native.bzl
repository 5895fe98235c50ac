"""Aliases of Bazel's built-in proto symbols, so defs.bzl can re-export them under their own names."""

NativeProtoInfo = ProtoInfo
