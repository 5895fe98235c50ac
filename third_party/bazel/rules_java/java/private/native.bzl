"""Aliases of Bazel's built-in Java symbols, so defs.bzl can re-export them under their own names."""

NativeJavaInfo = JavaInfo
native_java_common = java_common
