#!/usr/bin/env bash
# Signals: SIGHUP drains like SIGTERM; a second signal during a drain ends
# txgate at once (exit 4) with a ledger that verifies; a drain that cannot
# finish is cut off by --drain-timeout-ms (exit 4); a SIGTERM during
# start-up stops it cleanly (exit 0, not death by the signal).
. "$(dirname "$0")/lib.sh"
keygen 8
gen t 20000 --seed 71 --mix valid=1
PCAPS=$T/t.pcap config "$T/txgate.ini" 'verifier = sodium'

# start LOG [txgate options...]: txgate in the background, its pid in $pid
start() {
	local log=$1
	shift
	"$TXGATE" -c "$T/txgate.ini" --status-ms 200 "$@" 2>"$T/$log" &
	pid=$!
}
# stopped LOG WANT: wait for $pid and check its exit status
stopped() {
	local rc=0
	wait $pid || rc=$?
	[ $rc = "$2" ] || { cat "$T/$1" >&2; fail "$1: exit status $rc, want $2"; }
}
verified() { "$TXGATECTL" ledger --ledger "$T/ledger" verify >/dev/null || fail "$1: ledger verify"; }

# SIGHUP: a drain, a summary, exit 0.
start hup.log
wait_running $pid 2 "$T/hup.log"
kill -HUP $pid
stopped hup.log 0
grep -q 'Hangup: draining' "$T/hup.log" || fail "SIGHUP: no drain message"
grep -q 'summary after' "$T/hup.log" || fail "SIGHUP: no summary"
verified SIGHUP

# A second signal while the drain waits on a held commit: out at once.
export TXGATE_TEST_COMMIT_STALL_MS=30000
start twice.log
wait_running $pid 0 "$T/twice.log"
sleep 0.5
kill -TERM $pid
sleep 0.5
kill -TERM $pid
stopped twice.log 4
grep -q 'second signal' "$T/twice.log" || fail "second signal: no message"
verified "second signal"

# The drain timeout does the same without a second signal.
start timeout.log --drain-timeout-ms 1000
wait_running $pid 0 "$T/timeout.log"
sleep 0.5
kill -TERM $pid
stopped timeout.log 4
grep -q 'drain timed out' "$T/timeout.log" || fail "drain timeout: no message"
verified "drain timeout"
unset TXGATE_TEST_COMMIT_STALL_MS

# SIGTERM during start-up (EAL initialisation): a clean stop, not death.
# Sent once the process has its handler (installed before main() runs: the
# dynamic loader's work before that is not txgate's), then later still.
catches_term() {
	local m
	m=$(awk '/^SigCgt:/ { print $2 }' "/proc/$1/status" 2>/dev/null) || return 1
	[ -n "$m" ] && (((0x$m & 0x4000) != 0))
}
for delay in 0 0.05 0.15; do
	start early.log
	for _ in $(seq 1 1000); do catches_term $pid && break; sleep 0.001; done
	sleep $delay
	kill -TERM $pid
	stopped early.log 0
done
verified "start-up SIGTERM"
echo "ok signals: SIGHUP drains, a second signal and a drain timeout stop at once, start-up SIGTERM is clean"
