#!/usr/bin/env bash
# Integration test of `txgatectl ledger`: builds ledgers with
# test_ledger_fixture, checks every command's output and exit status,
# checks `dump` against the spec independently (python3), and checks that
# `verify` catches each kind of damage.
#   ctl_ledger_test.sh TXGATECTL TEST_LEDGER_FIXTURE
set -u
CTL=$1
FIX=$2
TMP=$(mktemp -d /tmp/ctl_ledger_test.XXXXXX)
WRITER_PID=
trap '[ -n "$WRITER_PID" ] && kill "$WRITER_PID" 2>/dev/null; rm -rf "$TMP"' EXIT
fails=0
pass=0

ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

# expect STATUS DESC CMD... : run CMD, check its exit status; output in $TMP/out, $TMP/err
expect() {
	local want=$1 desc=$2
	shift 2
	"$@" >"$TMP/out" 2>"$TMP/err"
	local got=$?
	if [ "$got" -eq "$want" ]; then ok; else
		bad "$desc: exit $got, want $want; stderr: $(head -c 400 "$TMP/err")"
	fi
}
# same OUTPUT DESC
same() {
	if [ "$1" = "$2" ]; then ok; else bad "$3: got '$1', want '$2'"; fi
}
ledger() { "$CTL" ledger --ledger "$L" "$@"; }

L=$TMP/led
"$FIX" build "$L" 42 5 3 || { echo "fixture build failed" >&2; exit 1; }

# --- head
expect 0 "head" ledger head
HEAD=$(cat "$TMP/out")
case "$HEAD" in
height=5\ hash=*\ timestamp_ms=1700000000500\ chain_id=42) ok ;;
*) bad "head line: $HEAD" ;;
esac
HEAD_HASH=$(echo "$HEAD" | sed -n 's/.* hash=\([0-9a-f]\{64\}\) .*/\1/p')
same "${#HEAD_HASH}" 64 "head hash length"

# --- dump
expect 0 "dump" ledger dump
cp "$TMP/out" "$TMP/dump"
same "$(grep -c '^{"type":"block",' "$TMP/dump")" 5 "dump block lines"
same "$(grep -c '^{"type":"tx",' "$TMP/dump")" 15 "dump tx lines"
same "$(wc -l <"$TMP/dump" | tr -d ' ')" 20 "dump line count"
# field order is fixed
same "$(awk 'NR==1' "$TMP/dump" | sed 's/"[0-9a-f]\{64\}"/"H"/g')" \
	'{"type":"block","height":1,"hash":"H","prev_hash":"H","timestamp_ms":1700000000100,"tx_count":3,"tx_root":"H","chain_id":42}' \
	"dump block line format"
same "$(awk 'NR==2' "$TMP/dump" | sed 's/"tx_id":"[0-9a-f]\{64\}"/"tx_id":"H"/; s/"record":"[0-9a-f]*"/"record":"R"/')" \
	'{"type":"tx","height":1,"index":0,"tx_id":"H","record":"R"}' "dump tx line format"
LAST_HASH=$(grep '"type":"block","height":5,' "$TMP/dump" | sed 's/.*"hash":"\([0-9a-f]*\)".*/\1/')
same "$LAST_HASH" "$HEAD_HASH" "dump last hash equals head"

# independent check of the dump against the spec: hashes, links, Merkle roots, tx ids
if command -v python3 >/dev/null; then
	if python3 - "$TMP/dump" <<'EOF'; then ok; else bad "python check of dump"; fi
import hashlib, json, struct, sys
H = lambda b: hashlib.blake2b(b, digest_size=32).digest()
def merkle(ids):
    lvl = [H(b"\x00" + i) for i in ids]
    while len(lvl) > 1:
        nxt = [H(b"\x01" + lvl[i] + lvl[i + 1]) for i in range(0, len(lvl) - 1, 2)]
        if len(lvl) % 2:
            nxt.append(lvl[-1])
        lvl = nxt
    return lvl[0]
blocks, txs = [], {}
for line in open(sys.argv[1]):
    o = json.loads(line)
    if o["type"] == "block":
        blocks.append(o)
        txs[o["height"]] = []
    else:
        assert o["height"] == blocks[-1]["height"], o
        assert o["index"] == len(txs[o["height"]]), o
        rec = bytes.fromhex(o["record"])
        (blen,) = struct.unpack_from("<H", rec)
        assert len(rec) == 2 + blen + 64
        tid = H(rec[2:2 + blen])
        assert tid.hex() == o["tx_id"], o
        txs[o["height"]].append(tid)
prev = bytes(32)
for b in blocks:
    root = merkle(txs[b["height"]])
    assert root.hex() == b["tx_root"], b
    assert len(txs[b["height"]]) == b["tx_count"]
    assert bytes.fromhex(b["prev_hash"]) == prev, b
    hdr = struct.pack("<IIQQII", 1, b["chain_id"], b["height"], b["timestamp_ms"], b["tx_count"], 0) + prev + root
    assert len(hdr) == 96
    prev = H(hdr)
    assert prev.hex() == b["hash"], b
EOF
else
	echo "python3 missing: skipping the independent dump check" >&2
fi

# --- block
expect 0 "block 2" ledger block 2
BLK=$(cat "$TMP/out")
B2=$(grep '"type":"block","height":2,' "$TMP/dump" | sed 's/^{"type":"block",/{/; s/}$//')
IDS2=$(grep '"type":"tx","height":2,' "$TMP/dump" | sed 's/.*"tx_id":"\([0-9a-f]*\)".*/"\1"/' | paste -sd, -)
same "$BLK" "$B2,\"tx_ids\":[$IDS2]}" "block 2 json"
expect 1 "block 6 (absent)" ledger block 6
expect 1 "block 0 (absent)" ledger block 0
expect 2 "block abc" ledger block abc
expect 2 "block -1" ledger block -1
expect 2 "block without N" ledger block

# --- tx
LINE=$(grep '"type":"tx","height":4,"index":2,' "$TMP/dump")
TXID=$(echo "$LINE" | sed 's/.*"tx_id":"\([0-9a-f]*\)".*/\1/')
REC=$(echo "$LINE" | sed 's/.*"record":"\([0-9a-f]*\)".*/\1/')
expect 0 "tx" ledger tx "$TXID"
same "$(cat "$TMP/out")" "tx_id=$TXID height=4 index=2 record=$REC" "tx line"
expect 1 "tx unknown" ledger tx "$(printf '%064d' 0)"
expect 2 "tx short id" ledger tx abcd
expect 2 "tx non-hex id" ledger tx "$(printf 'g%063d' 0)"

# --- verify
expect 0 "verify" ledger verify
same "$(cat "$TMP/out")" "ok height=5 txs=15" "verify output"

# --- usage errors
expect 2 "no command" ledger
expect 2 "unknown command" ledger frobnicate
expect 2 "extra argument" ledger head extra
expect 2 "no --ledger" "$CTL" ledger head
expect 2 "--ledger without value" "$CTL" ledger --ledger
expect 2 "unknown option" "$CTL" ledger --bogus head
expect 2 "unknown area" "$CTL" nonsense head
expect 2 "no area" "$CTL"
expect 0 "help" "$CTL" ledger --help
grep -q "usage: txgatectl ledger" "$TMP/out" && ok || bad "help text"
expect 1 "missing ledger dir" "$CTL" ledger --ledger "$TMP/none" head
grep -q "$TMP/none" "$TMP/err" && ok || bad "missing ledger message names the path"
test ! -e "$TMP/none" && ok || bad "read-only open created the directory"
expect 0 "--chain right" "$CTL" ledger --ledger "$L" --chain 42 head
expect 1 "--chain wrong" "$CTL" ledger --ledger "$L" --chain 43 head
grep -q "belongs to chain 42, config says 43" "$TMP/err" && ok || bad "chain mismatch message"
expect 0 "--ledger=DIR form" "$CTL" ledger --ledger="$L" head

# --- empty ledger
"$FIX" build "$TMP/empty" 7 0 1 || bad "fixture build of an empty ledger"
expect 0 "verify empty" "$CTL" ledger --ledger "$TMP/empty" verify
same "$(cat "$TMP/out")" "ok height=0 txs=0" "verify empty output"
expect 0 "head empty" "$CTL" ledger --ledger "$TMP/empty" head
same "$(cat "$TMP/out")" "height=0 hash=$(printf '%064d' 0) timestamp_ms=0 chain_id=7" "head empty output"
expect 0 "dump empty" "$CTL" ledger --ledger "$TMP/empty" dump
same "$(wc -c <"$TMP/out" | tr -d ' ')" 0 "dump of empty ledger is empty"

# --- backup
expect 0 "backup" ledger backup "$TMP/bk"
expect 0 "verify backup" "$CTL" ledger --ledger "$TMP/bk" verify
same "$(cat "$TMP/out")" "ok height=5 txs=15" "verify backup output"
expect 0 "dump backup" "$CTL" ledger --ledger "$TMP/bk" dump
cmp -s "$TMP/out" "$TMP/dump" && ok || bad "backup dump differs from the original"
expect 1 "backup over an existing one" ledger backup "$TMP/bk"

# --- damage: verify must fail and say where
damage() { # DESC WANT_IN_STDERR MODE HEIGHT [INDEX]
	local desc=$1 want=$2
	shift 2
	local d=$TMP/dmg
	rm -rf "$d"
	cp -r "$L" "$d"
	rm -f "$d/lock.mdb"
	if ! "$FIX" corrupt "$d" "$@"; then
		bad "$desc: fixture corrupt failed"
		return
	fi
	expect 1 "verify $desc" "$CTL" ledger --ledger "$d" verify
	if grep -q -- "$want" "$TMP/err"; then ok; else bad "verify $desc: stderr '$(cat "$TMP/err")' lacks '$want'"; fi
	if [ -s "$TMP/out" ]; then bad "verify $desc printed to stdout: $(cat "$TMP/out")"; else ok; fi
}
damage "flipped signature" "height 3 index 1: bad signature" sig 3 1
damage "flipped body byte" "height 2 index 0: bad signature" body 2 0
damage "deleted index entry" "height 4 index 2: tx_id missing from txidx" idx 4 2
damage "index entry elsewhere" "height 1 index 0: txidx points to 1/1" dupidx 1 0
damage "changed header" "height 3: prev_hash is not the hash of the previous block" hdr 2
damage "changed last header" "head in meta is not the last block" hdr 5
damage "extra record" "height 3 index 3: record stored at index 1000, expected index 3" extra 3 0
damage "head hash" "head in meta is not the last block" head 5

# --- reading while a writer appends (separate processes; the map grows too)
"$FIX" build "$L" 42 1500 4 200 &
WRITER_PID=$!
rounds=0
while kill -0 "$WRITER_PID" 2>/dev/null || [ "$rounds" -lt 3 ]; do
	rounds=$((rounds + 1))
	expect 0 "verify during writes ($rounds)" ledger verify
	expect 0 "head during writes ($rounds)" ledger head
	# (successive LMDB read transactions are not strictly monotonic, so
	# only the form of the line is checked here)
	if grep -q '^height=[0-9]* hash=[0-9a-f]\{64\} timestamp_ms=[0-9]* chain_id=42$' "$TMP/out"; then ok; else
		bad "head during writes: $(cat "$TMP/out")"
	fi
done
wait "$WRITER_PID" && ok || bad "concurrent writer failed"
WRITER_PID=
expect 0 "verify after writes" ledger verify
same "$(cat "$TMP/out")" "ok height=1505 txs=6015" "verify after writes output"

echo "ctl_ledger_test: $pass passed, $fails failed"
[ "$fails" -eq 0 ]
