"""gevent's twins of grove's micro benchmarks (tests/benchmarks/micro_*.cc): the same operation,
shaped the same way, so each figure can be given as a ratio to gevent measured in the same run.

    /usr/bin/python3 gevent_micro.py [--scale X]

Prints one `figure value unit` line per benchmark; `--scale` multiplies every iteration count
(0.2 for a quick look). Times are this process's CPU time (time.process_time), not wall time: on
a loaded machine wall time also counts the waits for a core, CPU time is what the work cost. The
grove figures compare.sh sets beside these are Google Benchmark's cpu_time, for the same reason. The figures and their grove counterparts:

  switch_ns                  one-way switch, two greenlets alternating with sleep(0)   BM_HubYield
  spawn_join_ns              spawn a greenlet with an empty body, join it               BM_SpawnJoin
  channel_roundtrip_ns       put on one Channel, get the answer from another            BM_ChannelRoundTrip
  queue_items_per_s          one producer, one consumer, 65536 items through a Queue    BM_QueueThroughput
  actor_pingpong_msgs_per_s  two greenlets, each with a Queue as its mailbox            BM_ActorPingPong
  socketpair_roundtrip_ns    64 bytes there and back over a socketpair                  BM_SocketPairPingPong
  idle_kib_per_greenlet      resident memory per greenlet parked in sleep (100,000)     BM_IdleGreenletMemory

Runs with Debian's python3-gevent: use /usr/bin/python3, not another interpreter on PATH."""
import sys
import time

import gevent
from gevent import socket
from gevent.queue import Channel, Queue

SCALE = 1.0


def count(n):
    return max(1, int(n * SCALE))


def per_op_ns(elapsed, ops):
    return elapsed / ops * 1e9


def switch_ns():
    n = count(100_000)
    done = False

    def partner():
        while not done:
            gevent.sleep(0)

    other = gevent.spawn(partner)
    gevent.sleep(0)  # the partner starts
    start = time.process_time()
    for _ in range(n):
        gevent.sleep(0)
    elapsed = time.process_time() - start
    done = True
    other.join()
    return per_op_ns(elapsed, 2 * n)  # each of our sleeps is two one-way switches


def spawn_join_ns():
    n = count(20_000)

    def nothing():
        pass

    start = time.process_time()
    for _ in range(n):
        gevent.spawn(nothing).join()
    return per_op_ns(time.process_time() - start, n)


def channel_roundtrip_ns():
    n = count(50_000)
    ping, pong = Channel(), Channel()

    def partner():
        while True:
            value = ping.get()
            if value is None:
                return
            pong.put(value + 1)

    other = gevent.spawn(partner)
    gevent.sleep(0)  # the partner waits in ping.get()
    value = 0
    start = time.process_time()
    for _ in range(n):
        ping.put(value)
        value = pong.get()
    elapsed = time.process_time() - start
    ping.put(None)
    other.join()
    return per_op_ns(elapsed, n)


def queue_items_per_s():
    items, rounds = 1 << 16, count(4)
    queue = Queue()
    start = time.process_time()
    for _ in range(rounds):
        total = [0]

        def consume():
            for _ in range(items):
                total[0] += queue.get()

        def produce():
            for i in range(items):
                queue.put(i)

        consumer, producer = gevent.spawn(consume), gevent.spawn(produce)
        gevent.joinall([producer, consumer])
    return rounds * items / (time.process_time() - start)


def actor_pingpong_msgs_per_s():
    n = count(50_000)
    ponger_inbox, pinger_inbox = Queue(), Queue()

    def ponger():
        while True:
            reply_to, value = ponger_inbox.get()
            if value < 0:
                return
            reply_to.put((ponger_inbox, value))

    def pinger():
        for _ in range(n):
            ponger_inbox.put((pinger_inbox, 1))
            pinger_inbox.get()
        ponger_inbox.put((pinger_inbox, -1))

    pong = gevent.spawn(ponger)
    start = time.process_time()
    gevent.spawn(pinger).join()
    elapsed = time.process_time() - start
    pong.join()
    return 2 * n / elapsed


def socketpair_roundtrip_ns():
    n = count(20_000)
    size = 64
    message = b"p" * size
    a, b = socket.socketpair()

    def read_message(sock):
        got = 0
        while got < size:
            chunk = sock.recv(4096)
            if not chunk:
                raise EOFError("ping-pong peer closed")
            got += len(chunk)

    def partner():
        for _ in range(n):
            read_message(b)
            b.sendall(message)

    other = gevent.spawn(partner)
    start = time.process_time()
    for _ in range(n):
        a.sendall(message)
        read_message(a)
    elapsed = time.process_time() - start
    other.join()
    a.close()
    b.close()
    return per_op_ns(elapsed, n)


def rss_kib():
    with open("/proc/self/statm") as statm:
        resident_pages = int(statm.read().split()[1])
    return resident_pages * 4096 / 1024  # Linux x86-64 page size


def idle_kib_per_greenlet():
    n = 100_000  # not scaled: the figure is per greenlet at this population
    before = rss_kib()
    sleepers = [gevent.spawn(gevent.sleep, 3600) for _ in range(n)]
    gevent.sleep(0)  # every one starts and parks
    after = rss_kib()
    gevent.killall(sleepers)
    return (after - before) / n


FIGURES = [
    ("switch_ns", switch_ns, "ns"),
    ("spawn_join_ns", spawn_join_ns, "ns"),
    ("channel_roundtrip_ns", channel_roundtrip_ns, "ns"),
    ("queue_items_per_s", queue_items_per_s, "1/s"),
    ("actor_pingpong_msgs_per_s", actor_pingpong_msgs_per_s, "1/s"),
    ("socketpair_roundtrip_ns", socketpair_roundtrip_ns, "ns"),
    ("idle_kib_per_greenlet", idle_kib_per_greenlet, "KiB"),
]


def main(argv):
    global SCALE
    if argv[1:2] == ["--scale"] and len(argv) == 3:
        SCALE = float(argv[2])
    elif len(argv) != 1:
        sys.exit(__doc__)
    for name, bench, unit in FIGURES:
        print(name, f"{bench():.6g}", unit, flush=True)


if __name__ == "__main__":
    main(sys.argv)
