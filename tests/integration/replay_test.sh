#!/usr/bin/env bash
# A txgen pcap of 10,000 mixed records replayed through txgate on net_pcap:
# every counter matches the manifest, the ledger holds exactly the
# manifest's committed set, each once, in a chain that verifies.
. "$(dirname "$0")/lib.sh"
keygen 16
gen traffic "${COUNT:-10000}" --seed 7
PCAPS=$T/traffic.pcap config "$T/txgate.ini"
run "$T/txgate.ini"
expect_counts "$T/traffic.tsv"
expect_ledger "$T/traffic.tsv"
note "$(grep committed_tx_per_s "$T/run.log") height=$(head_height)"
echo "ok replay: $(counter committed) committed of $(counter records) records"
