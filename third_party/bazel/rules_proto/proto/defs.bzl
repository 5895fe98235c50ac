"""Offline shim of @rules_proto//proto:defs.bzl: thin wrappers around the native proto rules."""

load("//proto/private:native.bzl", "NativeProtoInfo")

def proto_library(**attrs):
    native.proto_library(**attrs)

def proto_lang_toolchain(**attrs):
    native.proto_lang_toolchain(**attrs)

ProtoInfo = NativeProtoInfo
