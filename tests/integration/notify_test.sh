#!/usr/bin/env bash
# systemd readiness: with NOTIFY_SOCKET set (as systemd sets it for
# Type=notify), txgate sends READY=1 once its ports are up and its ledger is
# open, and STOPPING=1 when a stop begins; the message comes through
# libsystemd's sd_notify to a real datagram socket this test listens on.
. "$(dirname "$0")/lib.sh"
keygen 2
gen t 2000 --seed 91 --mix valid=1
PCAPS=$T/t.pcap config "$T/txgate.ini"
sed -i 's/rx_pcap=\([^ ]*\)/rx_pcap=\1,infinite_rx=1/g' "$T/txgate.ini"
python3 - "$T/notify.sock" "$T/notify.log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(30)
with open(sys.argv[2], "w") as f:
    while True:
        try:
            d = s.recv(4096).decode()
        except socket.timeout:
            break
        f.write(d + "\n--\n")
        f.flush()
        if "STOPPING=1" in d:
            break
PY
lpid=$!
for _ in $(seq 1 100); do [ -S "$T/notify.sock" ] && break; sleep 0.05; done
NOTIFY_SOCKET=$T/notify.sock "$TXGATE" -c "$T/txgate.ini" --status-ms 0 2>"$T/run.log" &
pid=$!
for _ in $(seq 1 300); do grep -q 'READY=1' "$T/notify.log" 2>/dev/null && break; sleep 0.05; done
grep -q 'READY=1' "$T/notify.log" || { cat "$T/run.log" >&2; fail "no READY=1"; }
grep -q '^txgate: running' "$T/run.log" || fail "READY=1 before txgate ran"
grep -q "MAINPID=$pid" "$T/notify.log" || fail "READY without txgate's MAINPID"
kill -TERM $pid
wait $pid || fail "txgate did not stop cleanly"
wait $lpid || true
grep -q 'STOPPING=1' "$T/notify.log" || fail "no STOPPING=1"
echo "ok notify: READY=1 after start-up, STOPPING=1 at the drain"
