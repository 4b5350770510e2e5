#!/usr/bin/env python3
"""plot_cc_trace.py: plot congestion traces written by `sttbench stream
-connect ... -trace-cc FILE` (or `sttbench path -trace-dir DIR`).

Each CSV has one row per 100 ms: t_ms, srtt_us, cwnd_bytes, inflight_bytes,
bytes_out, lost_frames, spurious, path_mss, pmtu_probes, pmtu_acked. The
plot has two panels per trace group: congestion window and bytes in flight
(kB), and smoothed RTT (ms), against time since Dial.

    python3 scripts/plot_cc_trace.py -o docs/cc-traces.png \
        "clean 20 ms, before=/tmp/traces-before/clean20-default-run1.csv" \
        "clean 20 ms, cubic=/tmp/traces/clean20-cubic-run1.csv"

Each argument is LABEL=FILE. Needs matplotlib (Debian: python3-matplotlib);
nothing is fetched from anywhere.
"""
import argparse
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read(path):
    rows = list(csv.DictReader(open(path)))
    t = [int(r["t_ms"]) / 1000 for r in rows]
    cwnd = [int(r["cwnd_bytes"]) / 1000 for r in rows]
    infl = [int(r["inflight_bytes"]) / 1000 for r in rows]
    srtt = [int(r["srtt_us"]) / 1000 for r in rows]
    return t, cwnd, infl, srtt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-o", "--out", required=True)
    ap.add_argument("-title", default="stt congestion window and RTT, sampled every 100 ms")
    ap.add_argument("traces", nargs="+", help="LABEL=FILE")
    a = ap.parse_args()
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(9, 6.5), sharex=True)
    for spec in a.traces:
        label, _, path = spec.rpartition("=")
        if not label:
            print("want LABEL=FILE: " + spec, file=sys.stderr)
            return 2
        t, cwnd, infl, srtt = read(path)
        (line,) = ax1.plot(t, cwnd, label=label + " cwnd")
        ax1.plot(t, infl, linestyle=":", color=line.get_color(), label=label + " in flight")
        ax2.plot(t, srtt, color=line.get_color(), label=label)
    ax1.set_ylabel("kB")
    ax1.set_yscale("log")
    ax1.grid(True, alpha=0.3)
    ax1.legend(fontsize=7, ncol=2)
    ax2.set_ylabel("smoothed RTT (ms)")
    ax2.set_xlabel("seconds since Dial")
    ax2.grid(True, alpha=0.3)
    ax2.legend(fontsize=7)
    fig.suptitle(a.title)
    fig.tight_layout()
    fig.savefig(a.out, dpi=90)
    return 0


if __name__ == "__main__":
    sys.exit(main())
