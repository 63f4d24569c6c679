#!/usr/bin/env bash
# Flood protection on net_pcap (docs/flood.md): behaviour, never timing.
# 1. Load forced on: every valid record of frames without a cookie is
#    answered overloaded, with a cookie, and none is verified or committed.
# 2. Without load: the answers to one destination stop at its bound
#    ([net] answer_rate/answer_burst; the port set to load = on, as a live
#    port is: a replay's answers reach no one and are not bounded) while
#    every record is still judged and committed as before; committed
#    receipts are not bounded.
# 3. The real load signal: records claiming members with bad signatures
#    (never duplicates, each a full check), looped forever (infinite_rx) on a
#    port set to signal load, are more than the worker can verify, so the
#    worker becomes loaded and answers records without a cookie overloaded.
. "$(dirname "$0")/lib.sh"
keygen 4
gen v 400 --seed 81 --flags 3 --mix valid=1 --ttl-ms 100000

# receipts FILE...: "entries datagrams with_cookie status:count ..." of the
# receipt datagrams in tx pcap files.
receipts() {
	python3 - "$@" <<'PY'
import collections, struct, sys
names = ["committed", "duplicate", "bad_signature", "unknown_sender", "expired", "expiry_too_far",
         "wrong_chain", "rate_limited", "overloaded", "malformed", "accepted"]
n = d = ck = 0
st = collections.Counter()
for path in sys.argv[1:]:
    b = open(path, "rb").read()
    o = 24
    while o + 16 <= len(b):
        incl = struct.unpack("<I", b[o + 8:o + 12])[0]
        pkt = b[o + 16:o + 16 + incl]
        o += 16 + incl
        if struct.unpack(">H", pkt[12:14])[0] != 0x0800 or pkt[23] != 17:
            continue
        u = 14 + (pkt[14] & 15) * 4
        p = pkt[u + 8:]
        if p[:4] != b"TXR1":
            continue
        c = struct.unpack("<H", p[6:8])[0]
        d += 1
        n += c
        ck += p[5] & 1
        for i in range(c):
            st[names[p[8 + 48 * i + 32]]] += 1
print(n, d, ck, " ".join("%s:%d" % kv for kv in sorted(st.items())))
PY
}

# 1. load forced on
PCAPS=$T/v.pcap config "$T/on.ini" "load = on"
sed -i "s| --vdev=net_pcap0,rx_pcap=$T/v.pcap||; s|^device = net_pcap0$|device = net_pcap0\nload = on|" "$T/on.ini"
run "$T/on.ini" -- "--vdev=net_pcap0,rx_pcap=$T/v.pcap,tx_pcap=$T/on0.pcap,tx_pcap=$T/on1.pcap,tx_pcap=$T/on2.pcap"
for k in overloaded:400 uncookied_overloaded:400 verified:0 committed:0 bad_signature:0; do
	[ "$(counter "${k%%:*}")" = "${k#*:}" ] || { cat "$T/run.log" >&2; fail "load on: ${k%%:*}=$(counter "${k%%:*}"), want ${k#*:}"; }
done
read -r n d ck st <<<"$(receipts "$T"/on0.pcap "$T"/on1.pcap "$T"/on2.pcap)"
[ "$n" = 400 ] && [ "$st" = "overloaded:400" ] || fail "load on: receipts $n entries ($st), want 400 overloaded"
[ "$ck" = "$d" ] || fail "load on: $ck of $d receipt datagrams carry a cookie"
note "load on: 400 overloaded answers in $d datagrams, each with a cookie; nothing verified"

# 2. the answer bound, without load
rm -rf "$T/ledger"
PCAPS=$T/v.pcap config "$T/bound.ini" "load = off"
sed -i "s| --vdev=net_pcap0,rx_pcap=$T/v.pcap||; s|^ipv6 = .*|&\nanswer_rate = 1\nanswer_burst = 50|; s|^device = net_pcap0$|device = net_pcap0\nload = on|" "$T/bound.ini"
run "$T/bound.ini" -- "--vdev=net_pcap0,rx_pcap=$T/v.pcap,tx_pcap=$T/b0.pcap,tx_pcap=$T/b1.pcap,tx_pcap=$T/b2.pcap"
expect_counts "$T/v.tsv"
expect_ledger "$T/v.tsv"
read -r n0 _ _ st0 <<<"$(receipts "$T"/b0.pcap)"
read -r n1 _ _ st1 <<<"$(receipts "$T"/b1.pcap)"
lim=$(counter answers_limited)
# The worker's answers (accepted) stop at the burst, plus at most a token a
# second of the run; the committer's (committed) are all there.
[ "$n0" -ge 50 ] && [ "$n0" -le 60 ] || fail "bound: $n0 answers from the worker ($st0), want 50 (+ a token a second)"
[ $((n0 + lim)) = 400 ] || fail "bound: $n0 sent + $lim limited != 400"
[ "$st1" = "committed:400" ] || fail "bound: committed receipts $st1, want committed:400"
[ "$(counter verified)" = 400 ] || fail "bound: verified=$(counter verified), want 400"
note "answer bound: $n0 accepted answers sent, $lim limited; 400 committed answers"

# 3. the load signal: a replay looped forever on a port that signals load
rm -rf "$T/ledger"
gen bad 400 --seed 82 --mix bad_sig=1 --ttl-ms 100000
PCAPS=$T/bad.pcap config "$T/loop.ini" "load_hold_ms = 100000"
sed -i "s|rx_pcap=$T/bad.pcap|&,infinite_rx=1|; s|^device = net_pcap0$|device = net_pcap0\nload = on|" "$T/loop.ini"
"$TXGATE" -c "$T/loop.ini" --status-ms 0 2>"$T/run.log" &
pid=$!
trap 'kill -9 $pid 2>/dev/null || true; rm -rf "$T"' EXIT
for _ in $(seq 1 100); do
	grep -q '^txgate: running' "$T/run.log" && break
	sleep 0.1
done
sleep 3
kill -TERM $pid
rc=0
wait $pid || rc=$?
[ $rc = 0 ] || { cat "$T/run.log" >&2; fail "txgate exited with status $rc"; }
[ "$(counter load_enters)" -ge 1 ] || { cat "$T/run.log" >&2; fail "the worker never became loaded"; }
[ "$(counter uncookied_overloaded)" -gt 0 ] || { cat "$T/run.log" >&2; fail "no record was answered overloaded under load"; }
[ "$(counter committed)" = 0 ] || fail "a bad signature was committed"
note "load signal: load_enters=$(counter load_enters) uncookied_overloaded=$(counter uncookied_overloaded) bad_signature=$(counter bad_signature) verified=$(counter verified)"
echo "ok: flood protection on net_pcap"
