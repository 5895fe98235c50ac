"""Turns what tests/benchmarks/compare.sh measured into figures and ratios.

    results.py gbench JSON          Google Benchmark JSON of //tests/benchmarks:micro ->
                                    `contestant figure value unit` lines (grove's micro figures)
    results.py gbench-best JSON NAME  the best wall time per iteration, in ns, of benchmark NAME
                                    over its repetitions (the loop section's grove figure)
    results.py table RESULTS        RESULTS has `run section figure contestant value unit` lines;
                                    prints a Markdown table of medians and ratios
    results.py kv RESULTS           the kv section per redis-benchmark test: grove's ratio to
                                    redis-server (requests/s and CPU per request), -P 1 and -P 16

Ratios read the same way everywhere: how many times better than the section's anchor, measured
in the same run (> 1 is better than the anchor). For rates (unit ending in /s) that is
value / anchor; for costs (ns, us, KiB) it is anchor / value. Each run measures every contestant
once, in alternating order; a contestant's ratio is taken within each run (against the anchor
measured in that run) and `ratio` is the median of those, `per-run` their range, which shows how
much the load on the machine moved them. `median` is the median of the contestant's values."""
import json
import statistics
import sys

ANCHORS = {"echo": "epoll", "http": "nginx", "kv": "redis", "micro": "gevent", "loop": "epoll_rw"}


def higher_is_better(unit):
    return unit.endswith("/s")


def better_ratio(value, anchor, unit):
    if value <= 0 or anchor <= 0:
        return float("nan")
    return value / anchor if higher_is_better(unit) else anchor / value


def show(value, unit):
    """4 significant digits, thousands separated: 11,810 /s, 25.98 ns, 4.368 KiB."""
    rounded = float(f"{value:.4g}")
    text = f"{rounded:,.0f}" if abs(rounded) >= 1000 else f"{rounded:.4g}"
    return f"{text} {'/s' if unit == '1/s' else unit}"


def show_ratio(ratio):
    return f"{ratio:.0f}" if ratio >= 100 else f"{ratio:.1f}" if ratio >= 10 else f"{ratio:.2f}"


def gbench(path):
    """grove's micro figures from Google Benchmark's JSON, in CPU time per iteration (the JSON's
    cpu_time), shaped like gevent_micro.py's figures."""
    with open(path) as f:
        report = json.load(f)
    scale = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
    found = {}
    for b in report["benchmarks"]:
        found[b["name"]] = b
    # name in the JSON -> (contestant, figure, value from (cpu ns per iteration, entry), unit)
    wanted = [
        ("BM_HubYield", "grove", "switch_ns", lambda ns, b: ns / 2, "ns"),
        ("BM_SpawnJoin", "grove", "spawn_join_ns", lambda ns, b: ns, "ns"),
        ("BM_FiberSpawnJoin", "grove_fiber", "spawn_join_ns", lambda ns, b: ns, "ns"),
        ("BM_ChannelRoundTrip", "grove", "channel_roundtrip_ns", lambda ns, b: ns, "ns"),
        ("BM_QueueThroughput/65536", "grove", "queue_items_per_s",
         lambda ns, b: 65536 / ns * 1e9, "1/s"),
        ("BM_ActorPingPong", "grove", "actor_pingpong_msgs_per_s",
         lambda ns, b: 2 / ns * 1e9, "1/s"),
        ("BM_SocketPairPingPong/4096/real_time", "grove", "socketpair_roundtrip_ns",
         lambda ns, b: ns, "ns"),
        ("BM_IdleGreenletMemory/100000/iterations:1", "grove", "idle_kib_per_greenlet",
         lambda ns, b: b["kib_per_greenlet"], "KiB"),
    ]
    for name, contestant, figure, value, unit in wanted:
        b = found.get(name)
        if b is None:
            print(f"results.py: {name} missing from {path}", file=sys.stderr)
            continue
        ns = b["cpu_time"] * scale[b["time_unit"]]
        print(contestant, figure, f"{value(ns, b):.6g}", unit)


def gbench_best(path, name):
    """The best (lowest) wall time per iteration of benchmark `name` over its repetitions, in ns:
    the figure a floor is compared with (socketpair_layers prints its best run too)."""
    with open(path) as f:
        report = json.load(f)
    scale = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
    times = [b["real_time"] * scale[b["time_unit"]] for b in report["benchmarks"]
             if b.get("run_name", b["name"]) == name and b.get("run_type") != "aggregate"]
    if not times:
        sys.exit(f"results.py: {name} missing from {path}")
    print(f"{min(times):.6g}")


def table(path):
    # (section, figure) -> contestant -> {run: value}; first-seen order kept for printing.
    values, units = {}, {}
    with open(path) as f:
        for number, line in enumerate(f, 1):
            fields = line.split()
            if not fields or fields[0].startswith("#"):
                continue
            if len(fields) != 6:
                sys.exit(f"results.py: {path}:{number}: want 6 fields, got {line!r}")
            run, section, figure, contestant, value, unit = fields
            try:
                number_value = float(value)
            except ValueError:
                continue  # a contestant that failed to report ("n/a")
            values.setdefault((section, figure), {}).setdefault(contestant, {})[run] = number_value
            units[(section, figure)] = unit

    print("| section | figure | contestant | median | runs | ratio | per-run |")
    print("|---|---|---|---:|---:|---:|---|")
    for key, by_contestant in values.items():
        section, figure = key
        unit = units[key]
        anchor_name = ANCHORS.get(section)
        anchor = by_contestant.get(anchor_name, {})
        ordered = sorted(by_contestant, key=lambda c: (c != anchor_name, not c.startswith("grove"), c))
        for contestant in ordered:
            runs = by_contestant[contestant]
            median = statistics.median(runs.values())
            if contestant == anchor_name:
                ratio, spread = "1 (anchor)", ""
            elif anchor:
                paired = sorted(better_ratio(v, anchor[r], unit) for r, v in runs.items() if r in anchor)
                if paired:
                    ratio = show_ratio(statistics.median(paired))
                    spread = f"{show_ratio(paired[0])}–{show_ratio(paired[-1])}"
                else:
                    ratio, spread = "n/a", ""
            else:
                ratio, spread = "n/a", ""
            print(f"| {section} | {figure} | {contestant} | {show(median, unit)} | {len(runs)} "
                  f"| {ratio} | {spread} |")


def kv(path):
    """One row per redis-benchmark test: the median over the runs of grove / redis-server taken
    within each run, for requests per second and (inverted) CPU per request, plain and -P 16."""
    runs = {}  # (figure, contestant) -> {run: value}
    tests = []
    with open(path) as f:
        for line in f:
            fields = line.split()
            if len(fields) != 6 or fields[0].startswith("#") or fields[1] != "kv":
                continue
            run, _, figure, contestant, value, _ = fields
            try:
                runs.setdefault((figure, contestant), {})[run] = float(value)
            except ValueError:
                continue
            test = figure[len("kv_"):].split("_P16")[0].rsplit("_rps", 1)[0]
            test = test.rsplit("_cpu_per_request", 1)[0]
            if test not in tests:
                tests.append(test)

    def ratio(figure, unit):
        grove, redis = runs.get((figure, "grove"), {}), runs.get((figure, "redis"), {})
        paired = sorted(better_ratio(v, redis[r], unit) for r, v in grove.items() if r in redis)
        if not paired:
            return "n/a"
        return f"{show_ratio(statistics.median(paired))} ({show_ratio(paired[0])}–{show_ratio(paired[-1])})"

    print("| test | rps -P 1 | rps -P 16 | cpu/request -P 1 | cpu/request -P 16 |")
    print("|---|---:|---:|---:|---:|")
    for test in tests:
        print(f"| {test.upper()} | {ratio(f'kv_{test}_rps', '1/s')} | {ratio(f'kv_{test}_P16_rps', '1/s')} "
              f"| {ratio(f'kv_{test}_cpu_per_request', 'us')} "
              f"| {ratio(f'kv_{test}_P16_cpu_per_request', 'us')} |")


def main(argv):
    if len(argv) == 3 and argv[1] == "gbench":
        gbench(argv[2])
    elif len(argv) == 4 and argv[1] == "gbench-best":
        gbench_best(argv[2], argv[3])
    elif len(argv) == 3 and argv[1] == "table":
        table(argv[2])
    elif len(argv) == 3 and argv[1] == "kv":
        kv(argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
