#!/usr/bin/env python3
"""The penalty box and cookies as a client sees them (docs/flood.md), over
kernel UDP sockets and the spec alone (shared/spec/wire-format.md sections
2, 4 and 6). txgate runs with load forced on. Two client addresses in two
source prefixes (A1, A2) and two members (m1, m2), each member's frames
from its own txgen pcap (one record per frame, RECEIPT|ADMIT):

  1. a frame without a cookie is answered `overloaded` with a cookie;
  2. the same frame with that cookie is checked: committed;
  3. A1 sends m1 records with bad signatures (cookied): the first ones are
     answered bad_signature, then the pair (m1, A1's prefix) is boxed and
     the rest go unanswered;
  4. a valid m1 record from A1 is dropped unanswered (the pair is boxed);
  5. a valid m1 record from A2 is committed (same member, other prefix);
  6. a valid m2 record from A1 is committed (other member, same prefix).
Prints one JSON object with what it saw.
usage: flood_client.py M1.pcap M2.pcap A1 A2 DST PORT N_BAD"""
import json, socket, struct, sys, time

m1, m2, a1, a2, dst, port, n_bad = sys.argv[1:8]
port, n_bad = int(port), int(n_bad)
NAMES = ["committed", "duplicate", "bad_signature", "unknown_sender", "expired", "expiry_too_far",
         "wrong_chain", "rate_limited", "overloaded", "malformed", "accepted"]


def frames(path):
    b = open(path, "rb").read()
    o, out = 24, []
    while o + 16 <= len(b):
        incl = struct.unpack("<I", b[o + 8:o + 12])[0]
        pkt = b[o + 16:o + 16 + incl]
        o += 16 + incl
        if struct.unpack(">H", pkt[12:14])[0] != 0x0800:
            continue
        u = 14 + (pkt[14] & 15) * 4
        out.append(bytearray(pkt[u + 8:u + struct.unpack(">H", pkt[u + 4:u + 6])[0]]))
    return out


def with_cookie(frame, cookie):
    f = bytearray(frame[:8]) + cookie + frame[8:]
    f[5] |= 4
    return bytes(f)


def receipts(sock, wait):
    """(entries [(tx_id hex, status name)], last cookie) read for `wait` s."""
    got, cookie, end = [], None, time.time() + wait
    while True:
        left = end - time.time()
        if left <= 0:
            return got, cookie
        sock.settimeout(left)
        try:
            d = sock.recv(65535)
        except socket.timeout:
            return got, cookie
        if len(d) < 8 or d[:4] != b"TXR1":
            continue
        n = struct.unpack("<H", d[6:8])[0]
        for i in range(n):
            e = d[8 + 48 * i:8 + 48 * (i + 1)]
            got.append((e[:32].hex(), NAMES[e[32]] if e[32] < len(NAMES) else str(e[32])))
        if d[5] & 1:
            cookie = d[8 + 48 * n:8 + 48 * n + 16]


def until(sock, want, wait=5.0):
    """Read until an entry with a status in `want` arrives (or wait s)."""
    seen, cookie, end = [], None, time.time() + wait
    while time.time() < end:
        g, c = receipts(sock, 0.2)
        seen += g
        cookie = c or cookie
        if any(s in want for _, s in g):
            break
    return seen, cookie


def client(addr):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, 0))
    s.connect((dst, port))
    return s


f1, f2 = frames(m1), frames(m2)
s1, s2 = client(a1), client(a2)
out = {}

# 1. no cookie: overloaded, with a cookie
s1.send(bytes(f1[0]))
g, c1 = until(s1, {"overloaded"})
out["uncookied"] = [s for _, s in g]
out["cookie_a1"] = c1 is not None
s2.send(bytes(f1[1]))
g, c2 = until(s2, {"overloaded"})
out["cookie_a2"] = c2 is not None
if c1 is None or c2 is None:
    print(json.dumps(out))
    sys.exit(0)

# 2. the same frame with the cookie: checked and committed
s1.send(with_cookie(f1[0], c1))
g, _ = until(s1, {"committed", "bad_signature", "overloaded"})
out["cookied"] = [s for _, s in g]

# 3. bad signatures of m1 from A1
answers = []
for i in range(n_bad):
    f = bytearray(f1[2 + i])
    f[-1] ^= 0x01  # the last byte of the record's signature
    s1.send(with_cookie(f, c1))
    g, _ = receipts(s1, 0.02)
    answers += g
g, _ = receipts(s1, 1.0)
answers += g
out["bad_sent"] = n_bad
out["bad_answers"] = [s for _, s in answers]

# 4. a valid m1 record from A1: dropped, unanswered
s1.send(with_cookie(f1[2 + n_bad], c1))
g, _ = receipts(s1, 1.5)
out["boxed_valid"] = [s for _, s in g]

# 5. a valid m1 record from A2: served
s2.send(with_cookie(f1[3 + n_bad], c2))
g, _ = until(s2, {"committed", "bad_signature", "overloaded"})
out["other_prefix"] = [s for _, s in g]

# 6. a valid m2 record from A1: served
s1.send(with_cookie(f2[0], c1))
g, _ = until(s1, {"committed", "bad_signature", "overloaded"})
out["other_member"] = [s for _, s in g]
print(json.dumps(out))
