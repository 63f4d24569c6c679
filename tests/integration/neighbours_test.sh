#!/usr/bin/env bash
# txgate on a net_tap port whose kernel side is moved into a network
# namespace this test creates: the namespace's kernel, with no static
# neighbour entry, resolves txgate's IPv4 and IPv6 addresses (ARP, Neighbour
# Discovery) and its pings are answered over both families. Needs root and
# iproute2; skipped (77) where network namespaces cannot be made.
. "$(dirname "$0")/lib.sh"
command -v ip >/dev/null || { echo "skip: no ip command"; exit 77; }
NS=txgns$$
IF=txgt$$
ip netns add "$NS" 2>/dev/null || { echo "skip: cannot create a network namespace"; exit 77; }
cleanup() {
	[ -n "${pid:-}" ] && kill -9 "$pid" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
keygen 2
cat >"$T/tap.ini" <<CFG
[eal]
args = --no-huge -m 512 --no-pci --no-shconf --file-prefix $PREFIX --lcores 0@0,1@1,2@0 --vdev=net_tap0,iface=$IF --log-level=*:warning

[net]
ipv4 = $DST4
ipv6 = $DST6

[chain]
chain_id = $CHAIN
members_file = $T/keys/members.txt

[ledger]
path = $T/ledger

[dataplane]
txn_pool = 8192
mbuf_pool = 4096
dedupe_capacity = 65536
idle_sleep_us = 100
orderer_lcore = 2

[port0]
device = net_tap0

[worker0]
lcore = 1
rx = port0:0
CFG
"$TXGATE" -c "$T/tap.ini" --status-ms 0 2>"$T/run.log" &
pid=$!
for _ in $(seq 1 300); do
	grep -q '^txgate: running' "$T/run.log" && break
	kill -0 $pid 2>/dev/null || { cat "$T/run.log" >&2; fail "txgate exited at start"; }
	sleep 0.05
done
grep -q '^txgate: running' "$T/run.log" || fail "txgate did not start"

# The kernel side of the tap goes into the namespace: a real client stack.
# net_tap gives both ends the port's MAC; the client end takes its own.
ip link set "$IF" netns "$NS"
ip -n "$NS" link set "$IF" address 02:00:5e:00:53:01
ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.accept_dad=0 "net.ipv6.conf.$IF.accept_dad=0"
ip -n "$NS" link set lo up
ip -n "$NS" addr add 192.0.2.1/24 dev "$IF"
ip -n "$NS" addr add 2001:db8::1/64 dev "$IF" nodad
ip -n "$NS" link set "$IF" up
ip netns exec "$NS" ping -c 3 -i 0.2 -W 2 "$DST4" >"$T/ping4.log" 2>&1 || { cat "$T/ping4.log" "$T/run.log" >&2; fail "ping $DST4"; }
ip netns exec "$NS" ping -6 -c 3 -i 0.2 -W 2 "$DST6" >"$T/ping6.log" 2>&1 || { cat "$T/ping6.log" "$T/run.log" >&2; fail "ping -6 $DST6"; }
ip -n "$NS" neigh show >"$T/neigh.txt"
for a in "$DST4" "$DST6"; do
	grep -E "^$a dev $IF lladdr [0-9a-f:]{17} (REACHABLE|STALE|DELAY|PROBE)" "$T/neigh.txt" >/dev/null ||
		{ cat "$T/neigh.txt" >&2; fail "the namespace did not resolve $a"; }
done
kill -TERM $pid
rc=0
wait $pid || rc=$?
pid=
[ $rc = 0 ] || { cat "$T/run.log" >&2; fail "txgate exited with $rc"; }
for k in arp_replies na_replies; do
	[ "$(counter $k)" -ge 1 ] || { cat "$T/run.log" >&2; fail "$k is $(counter $k)"; }
done
for k in echo_replies echo6_replies; do
	[ "$(counter $k)" -ge 3 ] || { cat "$T/run.log" >&2; fail "$k is $(counter $k)"; }
done
echo "ok neighbours: $DST4 and $DST6 resolved and pinged from a namespace ($(counter arp_replies) ARP, $(counter na_replies) NA, $(counter echo_replies)+$(counter echo6_replies) echo replies)"
