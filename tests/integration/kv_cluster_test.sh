#!/usr/bin/env bash
# kv_server --cluster: two kv nodes on one nats-server (JetStream on, for the cluster's global
# registry), driven by redis-cli.
#   - PUBLISH on node a reaches SUBSCRIBE and PSUBSCRIBE clients on node b, in publish order,
#     and a's own subscriber once (no echo back through NATS); PUBLISH answers the local count;
#   - node b killed with kill -9 and started again (a new incarnation): a goes on publishing
#     without error, and the new b's subscribers get what a publishes;
#   - SIGTERM ends a cluster node with exit 0;
#   - --cluster with no NATS server there is a one-line start-up error, exit 1.
# usage: kv_cluster_test.sh KV_SERVER
source "$(dirname "$0")/kv_lib.sh"
KV_BIN=$1

# Debian installs nats-server in /usr/sbin, off the PATH Bazel gives tests.
nats_server=$(PATH="$PATH:/usr/sbin:/usr/local/sbin" command -v nats-server) ||
  fail "nats-server is not installed (scripts/setup installs it)"
nats_port=$(free_port)
"$nats_server" -a 127.0.0.1 -p "$nats_port" -js -sd "$TMP/js" >"$TMP/nats.log" 2>&1 &
KV_PIDS+=("$!")
for i in $(seq 200); do nc -z 127.0.0.1 "$nats_port" && break; sleep 0.05; done
nc -z 127.0.0.1 "$nats_port" || fail "nats-server did not start: $(cat "$TMP/nats.log")"
url="nats://127.0.0.1:$nats_port"

# node NAME: starts kv node NAME; sets ${NAME}_port and ${NAME}_pid.
node() {
  local name=$1 port
  port=$(free_port)
  "$KV_BIN" --port "$port" --cluster "$url" --node "$name" >>"$TMP/$name.log" 2>&1 &
  KV_PIDS+=("$!")
  eval "${name}_pid=$! ${name}_port=$port"
  for _ in $(seq 200); do
    [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] && return 0
    sleep 0.05
  done
  redis-cli -p "$port" ping >/dev/null 2>&1 || fail "node $name did not start: $(cat "$TMP/$name.log")"
}

# subscribe PORT FILE ARGS...: a redis-cli subscriber in the background, its output in FILE.
subscribe() {
  local port=$1 file=$2; shift 2
  : >"$file"
  timeout 120 redis-cli -p "$port" "$@" >"$file" 2>&1 &
  KV_PIDS+=("$!")
  for _ in $(seq 200); do
    [ "$(redis-cli -p "$port" pubsub numsub "${@: -1}" | tail -1)" != 0 ] && return 0
    [ "$(redis-cli -p "$port" pubsub numpat)" != 0 ] && return 0
    sleep 0.05
  done
  fail "the subscriber on port $port never registered"
}

# until_delivered FROM_PORT FILE: publishes probes on FROM_PORT until FILE shows one (the nodes
# have found each other), for 30 s at most.
until_delivered() {
  local from=$1 file=$2
  for i in $(seq 300); do
    redis-cli -p "$from" publish news "probe $i" >/dev/null
    grep -q '^probe ' "$file" && return 0
    sleep 0.1
  done
  fail "no PUBLISH on port $from reached $file in 30 s: $(cat "$TMP"/*.log)"
}

node a
node b

subscribe "$b_port" "$TMP/b_sub" subscribe news
until_delivered "$a_port" "$TMP/b_sub"
subscribe "$b_port" "$TMP/b_psub" psubscribe 'ne*'
subscribe "$a_port" "$TMP/a_sub" subscribe news

# PUBLISH answers the receivers on its own node only (a: its one subscriber), as Redis Cluster.
[ "$(redis-cli -p "$a_port" publish news first)" = 1 ] || fail "PUBLISH on a should count 1"
for i in $(seq 100); do echo "publish news m$i"; done | redis-cli -p "$a_port" >/dev/null

want=$(printf 'm%s\n' $(seq 100))
wait_for_lines() {  # FILE PATTERN COUNT
  for _ in $(seq 300); do
    [ "$(grep -c "$2" "$1")" -ge "$3" ] && return 0
    sleep 0.1
  done
  fail "$1 has $(grep -c "$2" "$1") lines matching $2, want $3: $(cat "$1")"
}
wait_for_lines "$TMP/b_sub" '^m[0-9]' 100
wait_for_lines "$TMP/b_psub" '^m[0-9]' 100
wait_for_lines "$TMP/a_sub" '^m[0-9]' 100
[ "$(grep '^m[0-9]' "$TMP/b_sub")" = "$want" ] || fail "b's subscriber got them out of order: $(cat "$TMP/b_sub")"
[ "$(grep '^m[0-9]' "$TMP/b_psub")" = "$want" ] || fail "b's pattern subscriber got them out of order"
grep -q '^pmessage$' "$TMP/b_psub" || fail "b's pattern subscriber got no pmessage: $(cat "$TMP/b_psub")"
sleep 0.5  # an echo through NATS would arrive by now
[ "$(grep '^m[0-9]' "$TMP/a_sub")" = "$want" ] || fail "a's own subscriber got them other than once each: $(cat "$TMP/a_sub")"
[ "$(grep -c '^first$' "$TMP/b_sub")" = 1 ] || fail "b's subscriber did not get 'first' once"
echo "ok: PUBLISH on a reaches subscribers on both nodes, in order, once"

# Node b dies hard and comes back as a new incarnation.
kill -9 "$b_pid"
for i in $(seq 20); do redis-cli -p "$a_port" publish news "while b is down $i" >/dev/null || fail "a failed to PUBLISH while b is down"; done
node b
subscribe "$b_port" "$TMP/b_sub2" subscribe news
until_delivered "$a_port" "$TMP/b_sub2"
redis-cli -p "$a_port" publish news after-restart >/dev/null
wait_for_lines "$TMP/b_sub2" '^after-restart$' 1
kill -0 "$a_pid" || fail "node a died: $(cat "$TMP/a.log")"
echo "ok: a restarted node b hears a again"

# SIGTERM ends a cluster node cleanly (exit 0), as it does a single kv_server.
kill -TERM "$a_pid"
for _ in $(seq 600); do kill -0 "$a_pid" 2>/dev/null || break; sleep 0.05; done
kill -0 "$a_pid" 2>/dev/null && fail "node a still runs 30 s after SIGTERM"
set +e; wait "$a_pid"; rc=$?; set -e
[ "$rc" = 0 ] || fail "node a exited $rc on SIGTERM, want 0: $(tail -5 "$TMP/a.log")"
echo "ok: node a exits 0 on SIGTERM"

# No NATS server: a start-up error, exit 1.
dead_port=$(free_port)
set +e
out=$(timeout 60 "$KV_BIN" --port 0 --cluster "nats://127.0.0.1:$dead_port" 2>&1 >/dev/null)
rc=$?
set -e
[ "$rc" = 1 ] || fail "--cluster without a server: exit $rc, want 1 ($out)"
grep -q "^kv_server: cannot join --cluster nats://127.0.0.1:$dead_port" <<<"$out" \
  || fail "--cluster without a server: '$out'"
echo "ok: --cluster without a server: $out"
echo PASS
