#!/usr/bin/env bash
# tests/benchmarks/kv_memory.sh — resident memory of kv_server next to redis-server, same data:
#   1. 1,000,000 small string keys (SET key:N value-N, 8-14 byte keys, 7-13 byte values);
#   2. 1,000 lists of 1,000 elements (RPUSH list:N with 1,000 "element-M" values).
# Each server starts empty, is loaded through redis-cli --pipe, and its VmRSS is read from
# /proc; the figure is RSS after loading minus RSS when empty. Prints one line per server and
# data set. Not part of `bazel test`.
#
#   tests/benchmarks/kv_memory.sh [kv_server binary]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
kv_bin=${1:-}
if [ -z "$kv_bin" ]; then
  (cd "$root" && bazel build //examples:kv_server >/dev/null 2>&1)
  kv_bin="$(cd "$root" && bazel info bazel-bin 2>/dev/null)/examples/kv_server"
fi
tmp=$(mktemp -d)
server_pid=""
stop() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  server_pid=""
  return 0
}
trap 'stop; rm -rf "$tmp"' EXIT

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# The two data sets as RESP, generated once.
python3 - "$tmp" <<'PY'
import sys
tmp = sys.argv[1]
def cmd(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)
with open(f"{tmp}/strings.resp", "wb") as f:
    for i in range(1_000_000):
        f.write(cmd(b"SET", b"key:%d" % i, b"value-%d" % i))
with open(f"{tmp}/lists.resp", "wb") as f:
    for i in range(1_000):
        f.write(cmd(b"RPUSH", b"list:%d" % i, *[b"element-%d" % j for j in range(1_000)]))
PY

measure() {  # name port dataset command...
  local name=$1 port=$2 data=$3 empty loaded
  shift 3
  "$@" >"$tmp/$name.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 200); do
    [ "$(redis-cli -p "$port" ping 2>/dev/null)" = "PONG" ] && break
    sleep 0.05
  done
  empty=$(rss_kib "$server_pid")
  redis-cli -p "$port" --pipe <"$tmp/$data.resp" >/dev/null
  loaded=$(rss_kib "$server_pid")
  printf '%-12s %-8s keys=%-8s rss_empty=%6.1f MiB rss_loaded=%7.1f MiB data=%7.1f MiB\n' \
    "$name" "$data" "$(redis-cli -p "$port" dbsize)" "$(bc -l <<<"$empty/1024")" \
    "$(bc -l <<<"$loaded/1024")" "$(bc -l <<<"($loaded-$empty)/1024")"
  stop
}

for data in strings lists; do
  measure redis-server 19131 "$data" \
    redis-server --port 19131 --save "" --appendonly no --databases 1 --dir "$tmp"
  measure kv_server 19132 "$data" "$kv_bin" --port 19132
done
