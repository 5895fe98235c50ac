"""cc_tests: one cc_test per name, each built from NAME.cc, all with the same attributes.

    load("//tests/support:cc_tests.bzl", "cc_tests")

    cc_tests(
        names = ["event_test", "queue_test"],
        size = "medium",
        deps = ["//actors:primitives", "//tests/support:grove_test"],
    )

declares //PKG:event_test from event_test.cc and //PKG:queue_test from queue_test.cc. Any other
cc_test attribute (tags, timeout, data, ...) is passed to every test.
"""

def cc_tests(names, **kwargs):
    for name in names:
        native.cc_test(
            name = name,
            srcs = [name + ".cc"],
            **kwargs
        )
