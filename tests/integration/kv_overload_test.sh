#!/usr/bin/env bash
# tests/integration/kv_overload_test.sh — kv_server keeps serving, and its memory stays bounded,
# whatever its clients do. The server runs under `ulimit -n 256`; kv_overload.py plays the
# clients and prints the server's RSS before and after each case.
#   1. 300 clients at once: maxclients is 256 - 32 = 224; the other 76 get redis-server's
#      "-ERR max number of clients reached"; once they leave, the next client is served.
#   2. Out of descriptors (prlimit lowers the running server's limit to 128): the listener
#      pauses instead of failing, the clients it could not accept are served once others leave.
#   3. 50 clients each announce a 512 MiB bulk and send nothing more: memory stays flat.
#   4. A 1 MiB request trickled in 1000-byte pieces is parsed once (server CPU time shown).
#   5. A subscriber that stops reading is dropped at the pubsub hard limit (32 MiB), its memory
#      freed, and counted in INFO.
#   6. Under a soft limit only (CONFIG SET client-output-buffer-limit "pubsub 64mb 256kb 1"):
#      dropped after a second over it.
#   7. A client that pipelines GETs and never reads is no longer read; the others are served.
# Usage: kv_overload_test.sh <kv_server binary> <kv_overload.py>
source "$(dirname "$0")/kv_lib.sh"
CLIENTS="$2"
# Under ASan/TSan, freed memory is quarantined rather than returned: kv_overload.py then does not
# insist on RSS going back down. (UBSan may also report "invalid vptr" while the process is out
# of descriptors: its memory-readability probe needs a pipe(2). Those reports are its own.)
if ldd "$1" 2>/dev/null | grep -qE 'lib(asan|tsan)'; then export KV_SANITIZED=1; fi
KV_NOFILE=256 kv_start "$1"
echo "kv_server under ulimit -n 256: RSS $(rss_mib "$KV_PID") MiB at start"
clients() { python3 "$CLIENTS" "$1" "$KV_PORT" "$KV_PID" "${@:2}" || fail "$1 (log: $(tail -5 "$TMP/kv_server.log"))"; }
info_field() {
  redis-cli -p "$KV_PORT" info "$1" | tr -d '\r' | sed -n "s/^$2://p"
}

# --- 1. maxclients ---------------------------------------------------------------------------
[ "$(redis-cli -p "$KV_PORT" config get maxclients | tail -1)" = "224" ] \
  || fail "maxclients under ulimit -n 256: $(redis-cli -p "$KV_PORT" config get maxclients)"
grep -q "serving at most 224 clients" "$TMP/kv_server.log" || fail "no maxclients warning logged"
clients maxclients 300 224
[ "$(info_field stats rejected_connections)" = "76" ] || fail "INFO rejected_connections"
echo "ok: 300 clients under ulimit -n 256: 224 served, 76 told 'max number of clients reached'"

# --- 2. out of descriptors -------------------------------------------------------------------
prlimit --pid "$KV_PID" --nofile=128:256 || fail "prlimit"
clients emfile 150
prlimit --pid "$KV_PID" --nofile=256:256
grep -q "pausing accepts" "$TMP/kv_server.log" || fail "no EMFILE pause logged"
kill -0 "$KV_PID" || fail "kv_server died"
echo "ok: out of descriptors, the listener paused and every waiting client was served"

# --- 3. announced sizes are not reservations -------------------------------------------------
clients announce 50
echo "ok: 50 announced 512 MiB bulks allocate nothing"

# --- 4. a trickled request -------------------------------------------------------------------
clients trickle 1024
echo "ok: a trickled request"

# --- 5 and 6. slow subscribers ---------------------------------------------------------------
clients slow-subscriber 512
[ "$(info_field stats client_output_buffer_limit_disconnections)" = "1" ] \
  || fail "INFO client_output_buffer_limit_disconnections after the hard limit"
grep -q "closed for overcoming its output buffer limit" "$TMP/kv_server.log" \
  || fail "no output buffer limit line logged"
echo "ok: a subscriber that stopped reading was dropped at the hard limit"
[ "$(redis-cli -p "$KV_PORT" config set client-output-buffer-limit "pubsub 64mb 256kb 1")" = "OK" ] \
  || fail "CONFIG SET client-output-buffer-limit"
clients soft-limit
[ "$(info_field stats client_output_buffer_limit_disconnections)" = "2" ] \
  || fail "INFO client_output_buffer_limit_disconnections after the soft limit"
redis-cli -p "$KV_PORT" config set client-output-buffer-limit "pubsub 32mb 8mb 60" >/dev/null
echo "ok: a subscriber over the soft limit was dropped after its seconds"

# --- 7. a client that never reads ------------------------------------------------------------
clients non-reader
echo "ok: a client that never reads is not read; the others are served"

# Still the same process, and it stops cleanly.
kill -0 "$KV_PID" || fail "kv_server died"
echo "RSS at the end: $(rss_mib "$KV_PID") MiB"
kill -TERM "$KV_PID"
wait "$KV_PID" || fail "kv_server exited $? after SIGTERM"
echo "ok: SIGTERM exits 0"
