#!/usr/bin/env python3
"""A client that is not txsend: plain kernel UDP sockets and the spec
(shared/spec/wire-format.md sections 2, 4 and 6). It sends the frames of a
txgen pcap (signed by txgen, flags RECEIPT|ADMIT) to txgate over IPv4 and
IPv6, reads the receipts, checks every final answer against txgen's
manifest, resends committed frames (expecting duplicate with the original's
location), and echoes a cookie from a receipt in frames of its own.
Writes what it saw as JSON lines for the caller to check against the ledger.
usage: spec_client.py PCAP MANIFEST V4ADDR V6ADDR PORT OUT.jsonl"""
import collections, json, socket, struct, sys, time

pcap, manifest, v4, v6, port, out = sys.argv[1:7]
port = int(port)
NAMES = ["committed", "duplicate", "bad_signature", "unknown_sender", "expired", "expiry_too_far",
         "wrong_chain", "rate_limited", "overloaded", "malformed", "accepted"]

def frames(path):
    b = open(path, "rb").read()
    o = 24
    while o + 16 <= len(b):
        incl = struct.unpack("<I", b[o + 8:o + 12])[0]
        pkt = b[o + 16:o + 16 + incl]
        o += 16 + incl
        off, et = 14, struct.unpack(">H", pkt[12:14])[0]
        if et == 0x8100:
            off, et = 18, struct.unpack(">H", pkt[16:18])[0]
        if et == 0x0800:
            u = off + (pkt[off] & 15) * 4
        elif et == 0x86DD:
            u = off + 40
        else:
            continue
        yield pkt[u + 8:u + struct.unpack(">H", pkt[u + 4:u + 6])[0]]

def records(frame):
    """The tx ids of a well-formed frame's records (BLAKE2b-256 of each
    body), or None if the frame is not well formed."""
    import hashlib
    if len(frame) < 8 or frame[:4] != b"TXI1" or frame[4] != 1 or frame[5] & ~3:
        return None
    n, o, ids = struct.unpack("<H", frame[6:8])[0], 8, []
    for _ in range(n):
        if o + 2 > len(frame):
            return None
        bl = struct.unpack("<H", frame[o:o + 2])[0]
        if bl < 56 or o + 2 + bl + 64 > len(frame):
            return None
        ids.append(hashlib.blake2b(frame[o + 2:o + 2 + bl], digest_size=32).hexdigest())
        o += 2 + bl + 64
    return ids if n and o == len(frame) else None

want = collections.defaultdict(collections.Counter)
for line in open(manifest):
    if line.startswith("#"):
        continue
    f = line.rstrip("\n").split("\t")
    if f[3] == "committed":
        want[f[2]].update(["committed"])
    elif f[3] in NAMES:
        want[f[2]][f[3]] += 1

s4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s4.connect((v4, port))
s6.connect((v6, port))
for s in (s4, s6):
    s.setblocking(False)
got = collections.defaultdict(list)  # tx_id -> [(status, height, index)]
cookie = {}

def drain(seconds):
    end = time.time() + seconds
    while time.time() < end:
        idle = True
        for s in (s4, s6):
            try:
                d = s.recv(2048)
            except BlockingIOError:
                continue
            idle = False
            assert d[:4] == b"TXR1" and d[4] == 1, "not a receipt"
            flags, count = d[5], struct.unpack("<H", d[6:8])[0]
            assert len(d) == 8 + 48 * count + (16 if flags & 1 else 0), "receipt length"
            if flags & 1:
                cookie[s] = d[-16:]
            for i in range(count):
                e = d[8 + 48 * i:56 + 48 * i]
                got[e[:32].hex()].append((NAMES[e[32]], struct.unpack("<Q", e[40:48])[0],
                                          struct.unpack("<I", e[36:40])[0]))
        if idle:
            time.sleep(0.002)

fs = list(frames(pcap))
committed_frames = []
for i, fr in enumerate(fs):
    # Alternate families; txgen sizes frames for an IPv4 MTU, and a larger
    # IPv6 datagram would leave fragmented (txgate takes no fragments).
    (s6 if i % 2 and len(fr) <= 1452 else s4).send(fr)
    if i % 16 == 15:
        drain(0.01)
drain(3.0)

bad = 0
def final(tid):
    return collections.Counter(st for st, _, _ in got[tid] if st != "accepted")
for tid in set(want) | set(got):
    if final(tid) != want[tid]:
        if bad < 10:
            print("tx %s: manifest wants %s, receipts %s" % (tid, dict(want[tid]), got[tid]))
        bad += 1
    if want[tid]["committed"] and not any(st == "accepted" for st, _, _ in got[tid]):
        print("tx %s: committed without accepted (ADMIT)" % tid)
        bad += 1

# A resend after commit: duplicate, with the original's location.
resent = 0
for fr in fs:
    ids = records(fr)
    if ids and len(ids) == 1:
        tid = ids[0]
        if want[tid]["committed"] == 1 and sum(want[tid].values()) == 1:
            loc = [(h, i) for st, h, i in got[tid] if st == "committed"]
            s4.send(fr)
            drain(0.2)
            dup = [(h, i) for st, h, i in got[tid] if st == "duplicate"]
            if not loc or dup != loc:
                print("resend of %s: duplicate at %s, committed at %s" % (tid, dup, loc))
                bad += 1
            resent += 1
            if resent == 5:
                break

# Frames of its own with the cookie echoed: the records are the pcap's
# unexpired valid ones, already committed, so each answer is duplicate
# with its location; the cookie must be accepted (counted by txgate).
echoed, echo_ids = 0, []
for s in (s4, s6):
    if s not in cookie:
        print("no cookie received on the IPv%d socket" % (4 if s is s4 else 6))
        bad += 1
        continue
    for fr in fs[::-1]:
        ids = records(fr)
        if ids and len(ids) == 1 and fr[5] == 3:
            tid = ids[0]
            if want[tid]["committed"] == 1 and sum(want[tid].values()) == 1:
                before = len(got[tid])
                s.send(fr[:5] + bytes([fr[5] | 4]) + fr[6:8] + cookie[s] + fr[8:])
                echo_ids.append((tid, before))
                echoed += 1
                break
drain(0.5)
# The same service with the cookie: each is answered, duplicate at its place.
for tid, before in echo_ids:
    loc = [(h, i) for st, h, i in got[tid][:before] if st == "committed"]
    new = [(st, h, i) for st, h, i in got[tid][before:]]
    if not loc or ("duplicate",) + loc[0] not in new:
        print("cookie frame of %s: answers %s, committed at %s" % (tid, new, loc))
        bad += 1
with open(out, "w") as f:
    for tid, l in got.items():
        for st, h, i in l:
            f.write(json.dumps({"tx_id": tid, "status": st, "height": h, "index": i}) + "\n")
print("spec client: %d frames sent, %d transactions answered, %d resends, %d cookie frames, %d problems"
      % (len(fs), len(got), resent, echoed, bad))
sys.exit(1 if bad else 0)
