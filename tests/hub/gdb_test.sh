#!/bin/bash
# tests/hub/gdb_test.sh — hub/debug/grove-gdb.py against a live process and its core file.
#
# Starts gdb_program (parked greenlets: a fiber on an Event, a named actor and a supervised child
# in receive, main in a sleep; a fiber on a second thread's hub), then runs `grove greenlets` and `grove bt ID` in `gdb -batch`,
# first attached to the process, then on a core file written by gcore, and checks that each
# fiber is listed with its name and state and that each backtrace goes through the function the
# fiber's body is in.
set -euo pipefail

program=$1
extension=$2
work=${TEST_TMPDIR:-$(mktemp -d)}

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

"$program" >"$work/out.txt" 2>"$work/err.txt" &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT

for _ in $(seq 1 600); do
  grep -qx ready "$work/out.txt" && break
  kill -0 $pid 2>/dev/null || fail "gdb_program exited early: $(cat "$work/err.txt")"
  sleep 0.1
done
grep -qx ready "$work/out.txt" || fail "gdb_program did not get ready in 60 s"

id_of() { awk -v name="$1" '$2 == name { print $1 }' "$work/out.txt"; }
waiter=$(id_of waiter)
orders=$(id_of orders)
cache=$(id_of cache)
main=$(id_of main)
other=$(id_of other)

# Runs the gdb commands on the process (`live`) or the core file (`core`); output in $work/$1.txt.
run_gdb() {
  local mode=$1
  local target=(-p "$pid")
  [[ $mode == core ]] && target=("$program" "$work/core.$pid")
  gdb -nx -batch -q -x "$extension" "${target[@]}" \
    -ex "grove greenlets" \
    -ex "grove bt $waiter" \
    -ex "grove bt $orders" \
    -ex "grove bt $cache" \
    -ex "grove bt $main" \
    -ex "grove bt $other" \
    >"$work/$mode.txt" 2>&1 || fail "gdb ($mode) failed: $(cat "$work/$mode.txt")"
}

# A listing row: "  ID  STATE  WAITING-ON ... NAME".
expect_row() {
  local mode=$1 id=$2 state=$3 what=$4 name=$5
  grep -Eq "^ +$id +$state +$what .* $name\$" "$work/$mode.txt" ||
    fail "$mode: no row for fiber $id ($state on $what, $name) in:
$(cat "$work/$mode.txt")"
}

# The backtrace printed after "fiber ID ..." (up to the next such header) contains `function`.
expect_frame() {
  local mode=$1 id=$2 function=$3
  awk -v id="$id" '/^fiber [0-9]+ / { on = ($2 == id) } on' "$work/$mode.txt" >"$work/bt.txt"
  grep -Eq "^#[0-9]+ .*$function" "$work/bt.txt" ||
    fail "$mode: the backtrace of fiber $id has no frame in $function:
$(cat "$work/bt.txt")
--- whole output:
$(cat "$work/$mode.txt")"
  # It starts at frame #0 where the fiber switched out; the thread's own frames (the hub's
  # loop in epoll_wait) are not part of it.
  grep -m1 '^#' "$work/bt.txt" | grep -Eq '^#0 .*switch_context' ||
    fail "$mode: the backtrace of fiber $id does not start at its switch: $(cat "$work/bt.txt")"
  ! grep -Eq 'epoll_wait|ev_run' "$work/bt.txt" ||
    fail "$mode: the backtrace of fiber $id shows the thread's own frames: $(cat "$work/bt.txt")"
}

check() {
  local mode=$1
  run_gdb "$mode"
  grep -Eq '^hub 0 at 0x[0-9a-f]+: LWP [0-9]+ \(gdb thread [0-9]+\)' "$work/$mode.txt" ||
    fail "$mode: no hub line in: $(cat "$work/$mode.txt")"
  grep -Eq '^hub 1 at 0x[0-9a-f]+: LWP [0-9]+ \(gdb thread [0-9]+\)' "$work/$mode.txt" ||
    fail "$mode: the second thread's hub is not listed: $(cat "$work/$mode.txt")"
  expect_row "$mode" "$waiter" parked '"event"' "Fiber-$waiter"
  expect_row "$mode" "$orders" parked '"receive"' orders
  expect_row "$mode" "$cache" parked '"receive"' cache
  expect_row "$mode" "$main" parked '"sleep"' main
  expect_row "$mode" '[0-9]+' running - hub
  expect_row "$mode" '[0-9]+' parked '"receive"' top
  expect_frame "$mode" "$waiter" wait_for_the_signal
  expect_frame "$mode" "$orders" serve_orders
  expect_frame "$mode" "$cache" keep_the_cache
  expect_frame "$mode" "$main" ' main \('
  expect_frame "$mode" "$other" nap_on_the_other_hub
  echo "$mode: ok"
}

check live
if grep -qx sanitized "$work/out.txt"; then
  # gcore reads every mapping, and a sanitized process reserves terabytes (shadow, allocator):
  # the core file is checked in the plain build only.
  echo "core: skipped under a sanitizer"
  exit 0
fi
gdb -nx -batch -q -p "$pid" -ex "gcore $work/core.$pid" >"$work/gcore.txt" 2>&1 ||
  fail "gcore failed: $(cat "$work/gcore.txt")"
kill $pid
wait $pid 2>/dev/null || true
check core
rm -f "$work/core.$pid"
