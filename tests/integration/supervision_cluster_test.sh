#!/usr/bin/env bash
# supervision_demo --cluster: the supervision tree of the demo on one node (the boss), its workers
# on other nodes, all on a real nats-server (JetStream on, as the cluster's registry wants).
#   - two hosts (workers, spare) and a boss with --workers-on workers,spare: the workers run on
#     node workers (its first choice), and a crashed one is restarted there (flaky's second
#     incarnation on node workers, the supervisor's "restarted child" line, the host's own line);
#     left's crash restarts right with it (one_for_all across nodes);
#   - workers killed with kill -9: the boss declares it down, its children end with reason
#     noconnection, and remote_child's placement restarts each of them on spare (the first node
#     of the list that is up), never on workers while it is down; the tree does not give up;
#   - workers started again (a new incarnation): the children return there at their next restart;
#   - SIGTERM ends the boss and the hosts with exit 0;
#   - a boss with a single host (--workers-on solo): solo killed, the restarts fail while it is
#     down (nothing is started elsewhere, the tree does not give up), solo started again: the
#     children run there again; solo killed again and the boss stopped meanwhile: exit 0;
#   - --seconds ends a boss (its tree stopped, not given up) and a host with exit 0.
# Every wait is a hang guard (60 s) that returns as soon as its line is there: no timing asserted.
# usage: supervision_cluster_test.sh SUPERVISION_DEMO
set -euo pipefail
demo=$1
tmp=${TEST_TMPDIR:-$(mktemp -d)}
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in "$tmp"/*.log; do echo "--- $f" >&2; tail -40 "$f" >&2; done; exit 1; }
pass() { echo "ok: $*"; }
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Debian installs nats-server in /usr/sbin, off the PATH Bazel gives tests.
nats_server=$(PATH="$PATH:/usr/sbin:/usr/local/sbin" command -v nats-server) ||
  fail "nats-server is not installed (scripts/setup installs it)"
nats_port=$(free_port)
"$nats_server" -a 127.0.0.1 -p "$nats_port" -js -sd "$tmp/js" >"$tmp/nats.log" 2>&1 &
pids+=("$!")
for _ in $(seq 200); do nc -z 127.0.0.1 "$nats_port" && break; sleep 0.05; done
nc -z 127.0.0.1 "$nats_port" || fail "nats-server did not start"
url="nats://127.0.0.1:$nats_port"

# wait_for FILE PATTERN [FROM_LINE]: until a line of FILE (from line FROM_LINE on) matches the
# extended regex PATTERN; 60 s at most.
wait_for() {
  local file=$1 pattern=$2 from=${3:-1}
  for _ in $(seq 1200); do
    tail -n "+$from" "$file" | grep -qE -- "$pattern" && return 0
    sleep 0.05
  done
  fail "no line matching '$pattern' in $file after 60 s"
}

# node NAME ARGS...: starts the demo as node NAME; its pid in ${NAME}_pid, output in $tmp/NAME.log.
node() {
  local name=$1; shift
  "$demo" --cluster "$url" --node "$name" "$@" >"$tmp/$name.log" 2>&1 &
  pids+=("$!")
  eval "${name}_pid=$!"
}

# stop_node NAME: SIGTERM; it must exit 0 (within 60 s: a hang guard).
stop_node() {
  local pid_var="${1}_pid" pid rc
  pid=${!pid_var}
  kill -TERM "$pid"
  for _ in $(seq 1200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  kill -0 "$pid" 2>/dev/null && fail "node $1 still runs 60 s after SIGTERM"
  set +e; wait "$pid"; rc=$?; set -e
  [ "$rc" = 0 ] || fail "node $1 exited $rc after SIGTERM, want 0"
}

# A worker start as the boss prints it (not remote_child's "not started on node X" warning).
started='^ *[0-9.]+ s  (flaky|left|right) started'

node workers
node spare
wait_for "$tmp/workers.log" '^node workers: hosting workers'
wait_for "$tmp/spare.log" '^node spare: hosting workers'
node boss --workers-on workers,spare
boss=$tmp/boss.log

# --- the workers run on node workers, and crash and restart there --------------------------------
for who in flaky left right; do
  wait_for "$boss" " $who started on node workers \(incarnation 1\)$"
done
wait_for "$boss" 'supervisor top: child flaky exited with reason .*flaky crashed on purpose'
wait_for "$boss" ' flaky started on node workers \(incarnation [2-9]'
wait_for "$boss" 'supervisor top: restarted child flaky'
wait_for "$tmp/workers.log" ' flaky started on node workers \(incarnation [2-9]'
pass "flaky runs on node workers, crashes, and the boss's supervisor restarts it there"
wait_for "$boss" 'supervisor pair: child left exited with reason .*left crashed on purpose'
wait_for "$boss" ' right started on node workers \(incarnation [2-9]'
wait_for "$boss" 'supervisor pair: restarted child right'
pass "left's crash on node workers restarts right with it (one_for_all)"
grep -qE "$started on node spare" "$boss" && fail "a worker went to spare while workers was up"
pass "no worker went to spare while workers was up"

# --- kill -9 the workers node: noconnection, restarts on spare ----------------------------------
kill -9 "$workers_pid"
wait_for "$boss" 'node boss: node workers \([0-9a-f]+\) is down'
down_at=$(grep -nE 'node boss: node workers \([0-9a-f]+\) is down' "$boss" | head -1 | cut -d: -f1)
# (Each of flaky and the pair is between a crash and its restart for a few milliseconds of every
# cycle; a kill -9 landing there fails that restart's spawn instead. Both at once is not seen.)
wait_for "$boss" 'supervisor (top|pair): child (flaky|left|right) exited with reason noconnection' "$down_at"
pass "the boss sees workers' children end with noconnection"
for who in flaky left right; do
  wait_for "$boss" " $who started on node spare \(incarnation [0-9]+\)$" "$down_at"
done
wait_for "$tmp/spare.log" ' flaky started on node spare'
# And they go on crashing and restarting there: flaky starts on spare a second time.
for _ in $(seq 1200); do [ "$(grep -c ' flaky started on node spare' "$boss")" -ge 2 ] && break; sleep 0.05; done
[ "$(grep -c ' flaky started on node spare' "$boss")" -ge 2 ] || fail "flaky was not restarted on spare"
tail -n "+$down_at" "$boss" | grep -qE "$started on node workers" && fail "a worker was started on workers after it was declared down"
grep -q 'gives up' "$boss" && fail "a supervisor gave up"
kill -0 "$boss_pid" || fail "the boss died"
pass "flaky, left and right restarted on spare (the next node of --workers-on that is up)"

# --- workers back (a new incarnation): the children go home at their next restart --------------
up_again=$(wc -l <"$boss")
node workers
wait_for "$boss" 'node boss: node workers \([0-9a-f]+\) is up' "$up_again"
wait_for "$boss" ' flaky started on node workers \(incarnation [0-9]+\)$' "$up_again"
wait_for "$boss" ' right started on node workers \(incarnation [0-9]+\)$' "$up_again"
pass "with workers up again, flaky and the pair are restarted there (the preferred node)"

# --- SIGTERM: a clean end ---------------------------------------------------------------------
stop_node boss
grep -qE '^done: [1-9][0-9]* restarts$' "$boss" || fail "the boss did not sum up: $(tail -3 "$boss")"
pass "the boss exits 0 on SIGTERM: $(tail -1 "$boss")"
stop_node spare
grep -qE '^node spare: done, [1-9][0-9]* workers started here$' "$tmp/spare.log" \
  || fail "spare did not sum up: $(tail -3 "$tmp/spare.log")"
pass "the spare host exits 0 on SIGTERM: $(tail -1 "$tmp/spare.log")"
stop_node workers

# --- a single host: nowhere else to go ---------------------------------------------------------
# The boss's restarts wait for the host and fail while it is down; the children come back on the
# host's next incarnation; SIGTERM while the host is down still ends the boss with exit 0.
node solo
wait_for "$tmp/solo.log" '^node solo: hosting workers'
node boss2 --workers-on solo
boss2=$tmp/boss2.log
wait_for "$boss2" ' flaky started on node solo \(incarnation [2-9]'
kill -9 "$solo_pid"
wait_for "$boss2" 'node boss2: node solo \([0-9a-f]+\) is down'
down_at=$(grep -nE 'node boss2: node solo \([0-9a-f]+\) is down' "$boss2" | head -1 | cut -d: -f1)
wait_for "$boss2" 'supervisor (top|pair): child (flaky|left|right) exited with reason noconnection' "$down_at"
wait_for "$boss2" 'not started on node solo: spawn: node solo is not up' "$down_at"
tail -n "+$down_at" "$boss2" | grep -qE "$started on node " && fail "boss2 started a worker while solo was down"
grep -q 'gives up' "$boss2" && fail "boss2's tree gave up while solo was down"
pass "solo down: boss2 sees noconnection, and its restarts fail while solo is down"
up_again=$(wc -l <"$boss2")
node solo
for who in flaky left right; do
  wait_for "$boss2" " $who started on node solo \(incarnation [0-9]+\)$" "$up_again"
done
pass "solo back: flaky, left and right run there again"
kill -9 "$solo_pid"
down_again=$(($(wc -l <"$boss2") + 1))
wait_for "$boss2" 'node boss2: node solo \([0-9a-f]+\) is down' "$down_again"
stop_node boss2
pass "boss2 exits 0 on SIGTERM while its only host is down: $(tail -1 "$boss2")"

# --- --seconds bounds a cluster run: the boss stops its tree (not a give-up) and exits 0 ----------
node timed --seconds 4
wait_for "$tmp/timed.log" '^node timed: hosting workers'
set +e
timeout 60 "$demo" --cluster "$url" --node timed_boss --workers-on timed --seconds 1.5 >"$tmp/timed_boss.log" 2>&1
rc=$?
wait "$timed_pid"; timed_rc=$?
set -e
[ "$rc" = 0 ] || fail "the boss with --seconds 1.5 exited $rc, want 0"
grep -qE "$started on node timed" "$tmp/timed_boss.log" || fail "the timed boss started no worker on node timed"
grep -qE '^done: [0-9]+ restarts$' "$tmp/timed_boss.log" || fail "the timed boss: $(tail -2 "$tmp/timed_boss.log")"
[ "$timed_rc" = 0 ] || fail "the host with --seconds 4 exited $timed_rc, want 0"
pass "--seconds ends boss and host with exit 0: $(tail -1 "$tmp/timed_boss.log")"

grep -l 'terminate called\|Segmentation\|AddressSanitizer\|ThreadSanitizer' "$tmp"/*.log && fail "a node crashed"
echo PASS
