"""The layer rule of grove, checked by Bazel.

Each library folder is a layer and may use only the layers listed for it below (README.md,
"Layers"). The last line of every layer's BUILD.bazel is `layer_check(...)`: it covers every
C++ target of that package, and the build fails at analysis time when one of them reaches,
directly or through any chain of deps, a target of a layer it may not use:

    ERROR: ... //hub:hub reaches //net:socket (net/), but hub/ may use nothing of grove

Together with Bazel's sandbox (a header is visible to a compile only through deps), a layer that
includes a higher one cannot build. Targets stay public: programs in other workspaces depend on
@grove//facade:gevent and on the core layers directly.
"""

# layer -> the layers it may use. examples/ and tests/ may use everything; facade/ is used by
# nothing in this table.
LAYERS = {
    "hub": [],
    "actors": ["hub"],
    "net": ["hub"],
    "servers": ["hub", "actors", "net"],
    "cluster": ["hub", "actors", "net"],
    "facade": ["hub", "actors", "net", "servers"],
}

_Reached = provider(
    doc = "Every target of this workspace a target reaches through deps, itself included.",
    fields = ["labels"],
)

def _reached_impl(target, ctx):
    transitive = []
    for attr in ("deps", "implementation_deps"):
        for dep in getattr(ctx.rule.attr, attr, []):
            if _Reached in dep:
                transitive.append(dep[_Reached].labels)
    return [_Reached(labels = depset([target.label], transitive = transitive))]

_reached = aspect(
    implementation = _reached_impl,
    attr_aspects = ["deps", "implementation_deps"],
)

def _layer_of(label, workspace):
    if label.workspace_name != workspace:
        return None
    top = label.package.split("/")[0]
    return top if top in LAYERS else None

def _layer_check_impl(ctx):
    layer = ctx.attr.layer
    allowed = LAYERS[layer]
    for target in ctx.attr.targets:
        for label in target[_Reached].labels.to_list():
            used = _layer_of(label, ctx.label.workspace_name)
            if used == None or used == layer or used in allowed:
                continue
            fail("{} reaches {} ({}/), but {}/ may use {}".format(
                target.label,
                label,
                used,
                layer,
                ", ".join([l + "/" for l in allowed]) if allowed else "nothing of grove",
            ))
    out = ctx.actions.declare_file(ctx.label.name + ".ok")
    ctx.actions.write(out, "{} keeps to its layers\n".format(layer))
    return [DefaultInfo(files = depset([out]))]

_layer_check = rule(
    implementation = _layer_check_impl,
    attrs = {
        "layer": attr.string(mandatory = True, values = LAYERS.keys()),
        "targets": attr.label_list(aspects = [_reached]),
    },
)

def layer_check(layer):
    """Checks every cc_library and cc_binary declared so far in this package against LAYERS.

    Call it at the end of the package's BUILD.bazel, after every target.
    """
    targets = [
        ":" + name
        for name, rule in native.existing_rules().items()
        if rule["kind"] in ("cc_library", "cc_binary")
    ]
    _layer_check(
        name = "layer_check",
        layer = layer,
        targets = sorted(targets),
        testonly = True,  # it checks the package's testonly helpers too
        visibility = ["//visibility:private"],
    )
