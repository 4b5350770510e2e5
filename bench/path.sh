#!/bin/sh
# path.sh: stt vs quic-go over emulated network paths (issue 12), as root.
#
# Builds bench/quicstream (quic-go) and cmd/sttbench, then runs
# `sttbench path`: three network namespaces (client, middle, server), the
# middle one running sttbench's user-space impairment bridge (delay, jitter,
# a drop-tail bottleneck queue of one BDP, Bernoulli or correlated loss),
# the two tools alternating run by run, every transfer SHA-256-verified,
# goodput from the start of Dial. Prints medians, ranges and ratios.
#
#   sudo bench/path.sh                         # the whole table, 5 runs each
#   sudo bench/path.sh -runs 3 -only clean20,long100 -cc bbr -ceiling
#
# Every argument goes to `sttbench path` (-runs, -only, -cc, -scale,
# -timeout, -trace-dir, -ceiling). GO (default go) selects the toolchain.
set -eu
GO=${GO:-go}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
(cd "$here" && "$GO" build -o "$tmp/quicstream" ./quicstream)
(cd "$root" && "$GO" build -o "$tmp/sttbench" ./cmd/sttbench)
"$tmp/sttbench" path -quic "$tmp/quicstream" "$@"
