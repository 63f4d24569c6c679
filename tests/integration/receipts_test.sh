#!/usr/bin/env bash
# Receipts on net_pcap: every record of a txgen mixed pcap sent with
# RECEIPT|ADMIT gets exactly the final answers spec section 4 gives it, read back
# from the port's tx_pcap files (one per TX queue: the worker's, the
# committer's, the orderer's): accepted then committed (at the height and
# index the ledger has) for a committed record, one entry with its status
# for every rejection, nothing for a frame or packet dropped whole. Every
# receipt is a well-formed datagram from the frame's destination to its
# source, and carries a cookie.
. "$(dirname "$0")/lib.sh"
keygen 8
gen t 3000 --seed 41 --flags 3 --mix 'default'
PCAPS=$T/t.pcap config "$T/txgate.ini"
# The port (three TX pcaps: too long for a config value) on the command line.
sed -i "s| --vdev=net_pcap0,rx_pcap=$T/t.pcap||" "$T/txgate.ini"
run "$T/txgate.ini" -- "--vdev=net_pcap0,rx_pcap=$T/t.pcap,tx_pcap=$T/tx0.pcap,tx_pcap=$T/tx1.pcap,tx_pcap=$T/tx2.pcap"
expect_counts "$T/t.tsv"
expect_ledger "$T/t.tsv"
"$TXGATECTL" ledger --ledger "$T/ledger" dump >"$T/dump.jsonl"
python3 - "$T/t.tsv" "$T/dump.jsonl" "$T"/tx0.pcap "$T"/tx1.pcap "$T"/tx2.pcap <<'PY' || fail "receipts differ from the manifest"
import collections, json, struct, sys
tsv, dump, pcaps = sys.argv[1], sys.argv[2], sys.argv[3:]
names = ["committed", "duplicate", "bad_signature", "unknown_sender", "expired", "expiry_too_far",
         "wrong_chain", "rate_limited", "overloaded", "malformed", "accepted"]
loc = {}
for line in open(dump):
    o = json.loads(line)
    if o.get("type") == "tx":
        loc[o["tx_id"]] = (o["height"], o["index"])
want = collections.defaultdict(collections.Counter)
for line in open(tsv):
    if line.startswith("#"):
        continue
    f = line.rstrip("\n").split("\t")
    tid, st = f[2], f[3]
    if st in ("committed",):
        want[tid].update(["accepted", "committed"])
    elif st in names:
        want[tid][st] += 1
got = collections.defaultdict(collections.Counter)
bad = 0
def udp_payload(pkt):
    off, et = 14, struct.unpack(">H", pkt[12:14])[0]
    if et == 0x8100:
        off, et = 18, struct.unpack(">H", pkt[16:18])[0]
    if et == 0x0800:
        ihl = (pkt[off] & 15) * 4
        assert pkt[off + 9] == 17
        u = off + ihl
    elif et == 0x86DD:
        assert pkt[off + 6] == 17
        u = off + 40
    else:
        return None
    ulen = struct.unpack(">H", pkt[u + 4:u + 6])[0]
    assert struct.unpack(">H", pkt[u:u + 2])[0] == 7400, "receipts go from the frame's destination port"
    return pkt[u + 8:u + ulen]
datagrams = 0
for p in pcaps:
    try:
        b = open(p, "rb").read()
    except FileNotFoundError:
        continue
    o = 24
    while o + 16 <= len(b):
        incl = struct.unpack("<I", b[o + 8:o + 12])[0]
        pkt = b[o + 16:o + 16 + incl]
        o += 16 + incl
        pl = udp_payload(pkt)
        if pl is None:
            continue
        datagrams += 1
        assert pl[:4] == b"TXR1" and pl[4] == 1, "not a receipt: %s in %s" % (pl[:16].hex(), pkt[:64].hex())
        flags, count = pl[5], struct.unpack("<H", pl[6:8])[0]
        assert flags == 1, "receipts carry a cookie"
        assert len(pl) == 8 + 48 * count + 16, "receipt length"
        for i in range(count):
            e = pl[8 + 48 * i:8 + 48 * (i + 1)]
            tid, st = e[:32].hex(), names[e[32]]
            index, height = struct.unpack("<I", e[36:40])[0], struct.unpack("<Q", e[40:48])[0]
            got[tid][st] += 1
            if st == "committed" and loc.get(tid) != (height, index):
                print("committed receipt of %s says %d/%d, ledger %s" % (tid, height, index, loc.get(tid)))
                bad += 1
            if st == "duplicate" and height and loc.get(tid) != (height, index):
                print("duplicate receipt of %s says %d/%d, ledger %s" % (tid, height, index, loc.get(tid)))
                bad += 1
# Final answers must match exactly. "accepted" is not final: a committed
# record has one, and a valid copy accepted by a worker before the first
# copy's acceptance was visible has one too before its "duplicate" from the
# orderer (spec rule 6), so at most one per committed or duplicate answer.
for tid in set(want) | set(got):
    w, g = want[tid], got[tid]
    fw = {k: v for k, v in w.items() if k != "accepted"}
    fg = {k: v for k, v in g.items() if k != "accepted"}
    acc_ok = g["accepted"] >= w["accepted"] and g["accepted"] <= g["committed"] + g["duplicate"]
    if fw != fg or not acc_ok:
        if bad < 10:
            print("tx %s: manifest wants %s, receipts say %s" % (tid, dict(want[tid]), dict(got[tid])))
        bad += 1
print("receipts: %d datagrams, %d transactions, %d mismatches" % (datagrams, len(got), bad))
sys.exit(1 if bad else 0)
PY
echo "ok receipts: every record answered as the manifest says"
