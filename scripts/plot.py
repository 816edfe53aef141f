#!/usr/bin/env python3
"""Plots the results CSV of `lpusim sweep` (docs/SWEEPS.md) as PNG and SVG files.

Three figures, each written as OUT-<name>.png and OUT-<name>.svg:
  throughput  decode throughput vs memory bandwidth, one line per weight format (log-log);
              the marker says what bound the step (memory, VXM, MXM, dispatch, latency)
  breakdown   per-unit busy time of each step as stacked bars, as a share of the step time,
              one panel per weight format (units overlap in time, so a bar can exceed 1)
  roofline    every decode step on a roofline: ops per byte moved vs ops per second, under the
              memory-bandwidth roofs, the MXM peak and each format's VXM (unpack) ceiling

Needs only python3-matplotlib (Debian). Rows whose status is not "ok" are skipped.
Usage: python3 scripts/plot.py RESULTS.csv [--out PREFIX] [--x memory.bandwidth] [--table]
(--table prints a Markdown table of throughput per x value and format instead of drawing.)
"""
import argparse
import csv
import os
import sys
from collections import OrderedDict

DEBIAN_PYTHON = "/usr/bin/python3"

try:
    import matplotlib
except ImportError:
    # Another python3 (pyenv, a venv) may come first on PATH: use Debian's, which has matplotlib.
    if os.path.exists(DEBIAN_PYTHON) and os.path.realpath(sys.executable) != os.path.realpath(
            DEBIAN_PYTHON):
        os.execv(DEBIAN_PYTHON, [DEBIAN_PYTHON] + sys.argv)
    sys.exit("plot.py: needs matplotlib: apt-get install python3-matplotlib "
             "(scripts/install-deps.sh installs it)")

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)

UNITS = ["memory", "vxm", "mxm", "dispatch"]
UNIT_COLORS = {"memory": "#4c72b0", "vxm": "#dd8452", "mxm": "#55a868", "dispatch": "#8172b3"}
BOUND_MARKERS = {"memory": "o", "vxm": "^", "mxm": "s", "dispatch": "x", "latency": "D"}
# Columns that describe a point rather than measure it; any that varies splits the lines.
PARAMETERS = ["hw", "model", "group_size", "batch", "context", "prompt", "kv_format", "prefill"]
GIGA = 1e9
OPS_PER_MAC = 2


def read_rows(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    ok = [r for r in rows if r.get("status") == "ok"]
    if not ok:
        sys.exit(f"plot.py: {path}: no rows with status ok")
    return ok


def number(row, column):
    text = row.get(column, "")
    return float(text) if text not in ("", None) else None


def series(rows, x_column):
    """Rows grouped by weight format plus every other parameter that varies, sorted along x."""
    varying = [c for c in PARAMETERS if c != x_column and len({r.get(c) for r in rows}) > 1]
    hw_keys = [c for c in rows[0] if "." in c and not c.startswith("units.") and c != x_column]
    varying += [c for c in hw_keys if len({r.get(c) for r in rows}) > 1]
    formats = list(OrderedDict.fromkeys(r["quant"] for r in rows))  # in the sweep's order
    groups = OrderedDict()
    for r in sorted(rows, key=lambda r: (formats.index(r["quant"]), [r.get(c) for c in varying])):
        label = r["quant"] + "".join(f", {c}={r.get(c)}" for c in varying)
        groups.setdefault(label, []).append(r)
    for members in groups.values():
        members.sort(key=lambda r: number(r, x_column) or 0)
    return groups


def save(fig, prefix, name):
    for ext in ("png", "svg"):
        path = f"{prefix}-{name}.{ext}"
        fig.savefig(path, dpi=120, bbox_inches="tight", metadata={"Date": None} if ext == "svg" else {})
        print(f"plot.py: wrote {path}")
    plt.close(fig)


def plot_throughput(rows, x_column, prefix, title):
    fig, ax = plt.subplots(figsize=(8, 5))
    for label, members in series(rows, x_column).items():
        xs = [number(r, x_column) / GIGA for r in members]
        ys = [number(r, "throughput_tok_s") for r in members]
        (line,) = ax.plot(xs, ys, "-", label=label, linewidth=1.5)
        for x, y, r in zip(xs, ys, members):
            ax.plot(x, y, BOUND_MARKERS.get(r["bound"], "o"), color=line.get_color(), markersize=6)
    for bound, marker in BOUND_MARKERS.items():
        ax.plot([], [], marker, color="grey", linestyle="none", label=f"bound: {bound}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("memory bandwidth (GB/s)")
    ax.set_ylabel("decode throughput (tokens/s)")
    ax.set_title(title + ": throughput vs memory bandwidth")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    save(fig, prefix, "throughput")


def plot_breakdown(rows, x_column, prefix, title):
    groups = series(rows, x_column)
    fig, axes = plt.subplots(1, len(groups), figsize=(4 * len(groups), 4.5), sharey=True,
                             squeeze=False)
    for ax, (label, members) in zip(axes[0], groups.items()):
        positions = range(len(members))
        bottom = [0.0] * len(members)
        for unit in UNITS:
            shares = [(number(r, f"units.{unit}.busy_s") or 0) / number(r, "per_token_latency_s")
                      for r in members]
            ax.bar(positions, shares, bottom=bottom, color=UNIT_COLORS[unit], label=unit)
            bottom = [b + s for b, s in zip(bottom, shares)]
        ax.set_xticks(list(positions))
        ax.set_xticklabels([f"{number(r, x_column) / GIGA:g}" for r in members], rotation=60,
                           fontsize=8)
        ax.axhline(1.0, color="black", linewidth=0.8, linestyle="--")
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("memory bandwidth (GB/s)")
    axes[0][0].set_ylabel("unit busy time / step time")
    axes[0][-1].legend(fontsize=8)
    fig.suptitle(title + ": per-unit busy time of the decode step (dashed: the step)")
    save(fig, prefix, "breakdown")


def step_bytes(row):
    return number(row, "weight_bytes") + number(row, "kv_bytes")


def plot_roofline(rows, x_column, prefix, title):
    """Intensity counts the bytes of the bandwidth floor (weights + KV cache), so a step on its
    memory roof runs exactly at the floor."""
    fig, ax = plt.subplots(figsize=(8, 5.5))
    intensity = [OPS_PER_MAC * number(r, "macs") / step_bytes(r) for r in rows]
    lo, hi = min(intensity) / 3, max(intensity) * 3
    peak = max(OPS_PER_MAC * number(r, "macs") / number(r, "mac_floor_s") for r in rows)
    bandwidths = sorted({step_bytes(r) / number(r, "bandwidth_floor_s") for r in rows})
    for bw in bandwidths:
        ax.plot([lo, hi], [min(bw * lo, peak), min(bw * hi, peak)], color="lightgrey",
                linewidth=0.8, zorder=1)
        if bw * hi < peak:
            ax.annotate(f"{bw / GIGA:g} GB/s", (hi, bw * hi), fontsize=6, color="grey",
                        ha="right", va="bottom")
    ax.axhline(peak, color="black", linewidth=1, label=f"MXM peak {peak / 1e12:.0f} TOPS")
    for label, members in series(rows, x_column).items():
        xs = [OPS_PER_MAC * number(r, "macs") / step_bytes(r) for r in members]
        ys = [OPS_PER_MAC * number(r, "macs") / number(r, "per_token_latency_s") for r in members]
        (dots,) = ax.plot(xs, ys, "o", label=label, zorder=3)
        vxm = [OPS_PER_MAC * number(r, "macs") / number(r, "units.vxm.busy_s") for r in members
               if number(r, "units.vxm.busy_s")]
        if vxm:
            ax.axhline(min(vxm), color=dots.get_color(), linestyle=":", linewidth=1)
    ax.plot([], [], ":", color="grey", label="VXM (unpack) ceiling of each format")
    ax.plot([], [], color="lightgrey", label="memory roofs, one per bandwidth")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo, hi)
    ax.set_xlabel("arithmetic intensity (ops per byte of weights + KV cache)")
    ax.set_ylabel("achieved ops/s (2 x MACs / step time)")
    ax.set_title(title + ": roofline of the decode step")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    save(fig, prefix, "roofline")


def print_table(rows, x_column):
    """Markdown table: throughput (and what bound the step) per x value and weight format."""
    groups = series(rows, x_column)
    xs = sorted({number(r, x_column) for r in rows})
    print("| " + x_column + " | " + " | ".join(groups) + " |")
    print("|---" * (len(groups) + 1) + "|")
    for x in xs:
        cells = []
        for members in groups.values():
            match = [r for r in members if number(r, x_column) == x]
            cells.append(f"{number(match[0], 'throughput_tok_s'):.2f} ({match[0]['bound']})"
                         if match else "")
        print(f"| {x / GIGA:g} GB/s | " + " | ".join(cells) + " |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("csv", help="results CSV of lpusim sweep or lpusim merge")
    parser.add_argument("--out", help="output prefix (default: the CSV path without .csv)")
    parser.add_argument("--x", default="memory.bandwidth",
                        help="column for the x axis of the throughput and breakdown plots")
    parser.add_argument("--title", help="figure title (default: the model name)")
    parser.add_argument("--table", action="store_true",
                        help="print a Markdown table of throughput (tokens/s) and bound per x "
                        "value and format instead of drawing")
    args = parser.parse_args()
    rows = read_rows(args.csv)
    if args.table:
        print_table(rows, args.x)
        return
    prefix = args.out or os.path.splitext(args.csv)[0]
    title = args.title or ", ".join(sorted({r["model"] for r in rows}))
    plt.rcParams["svg.hashsalt"] = "lpusim"  # reproducible SVG ids
    if args.x in rows[0]:
        plot_throughput(rows, args.x, prefix, title)
        plot_breakdown(rows, args.x, prefix, title)
    else:
        print(f"plot.py: no column {args.x}: skipping the throughput and breakdown plots")
    plot_roofline(rows, args.x if args.x in rows[0] else "point", prefix, title)


if __name__ == "__main__":
    main()
