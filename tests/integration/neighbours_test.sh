#!/usr/bin/env bash
# txgate on a net_tap port whose kernel side is moved into a network
# namespace this test creates: the namespace's kernel, with no static
# neighbour entry, resolves txgate's IPv4 and IPv6 addresses (ARP, Neighbour
# Discovery) and its pings are answered over both families. Needs root and
# iproute2; skipped (77) where network namespaces cannot be made.
. "$(dirname "$0")/lib.sh"
ns_new n
keygen 2
tap_config "$T/tap.ini" "$IF"
tap_start "$T/tap.ini" "$T/run.log"
ns_attach "$IF" "$NS"
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
