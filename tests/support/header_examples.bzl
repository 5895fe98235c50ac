"""header_examples_test: a layer's header examples, compiled as written and checked line by line."""

def header_examples_test(name, compiled, headers, deps):
    """Compiles `compiled` (the examples copied out of `headers`) and checks that every header's
    example appears in it line by line (tests/support/compiled_examples_check.sh).

    Args:
      name: the sh_test's name; the compiled examples become the cc_library `name + "_lib"`.
      compiled: the .cc file holding every example, each in a function of its own.
      headers: labels of the headers whose top-comment examples are checked.
      deps: what `compiled` needs to build.
    """
    native.cc_library(
        name = name + "_lib",
        testonly = True,
        srcs = [compiled],
        deps = deps,
        alwayslink = True,
    )
    native.sh_test(
        name = name,
        size = "small",
        srcs = ["//tests/support:compiled_examples_check.sh"],
        args = ["$(location %s)" % compiled] + ["$(location %s)" % h for h in headers],
        data = [compiled, ":" + name + "_lib"] + headers,
    )
