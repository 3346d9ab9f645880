#!/usr/bin/env python3
"""Compares a benchmark run with the documented one, figure by figure.

    scripts/bench-compare.py CURRENT.json [BASELINE.json] [--tolerance 0.15] [--markdown] [--strict]

CURRENT and BASELINE are bench-results.json files written by scripts/run-benchmarks.sh (BASELINE
defaults to docs/benchmarks/baseline-quick.json or baseline-full.json, after CURRENT's mode).
A figure is (bench, figure name). Where both runs measured it against an in-run reference, the
ratios (reference median / figure median) are compared: the machine's speed cancels out, so a
ratio that moved by more than the tolerance (default 15%) means the code or the environment
changed what the figure measures. Figures without a reference are shown with their medians,
labelled "absolute" and not judged (they follow the machine's speed and load).

--markdown prints the table as Markdown (docs/benchmarks.md's "Current figures"); --strict exits
1 when a compared ratio is outside the tolerance or a documented figure is missing. Without it
the exit status is 0: a benchmark informs, it does not fail a build on a noisy machine.
Standard library only.
"""
import argparse
import json
import os
import sys


def load(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    figures = {}
    for fig in doc.get("figures", []):
        figures[(fig.get("bench", ""), fig.get("figure", ""))] = fig
    return doc, figures


def fmt(x):
    if x is None:
        return "-"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.3g}"


def compare(cur, base, tolerance):
    """Rows of (bench, figure, unit, current fig, baseline fig, verdict, change)."""
    rows = []
    for key, fig in cur.items():
        old = base.get(key)
        if old is None:
            rows.append((key, fig, None, "new", None))
            continue
        if fig.get("ratio") and old.get("ratio"):
            change = fig["ratio"] / old["ratio"] - 1.0
            verdict = "same" if abs(change) <= tolerance else ("better" if change > 0 else "worse")
            rows.append((key, fig, old, verdict, change))
        else:
            change = fig["median"] / old["median"] - 1.0 if old.get("median") else None
            rows.append((key, fig, old, "absolute", change))
    for key, old in base.items():
        if key not in cur:
            rows.append((key, None, old, "missing", None))
    return rows


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("current")
    ap.add_argument("baseline", nargs="?")
    ap.add_argument("--tolerance", type=float, default=0.15)
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--strict", action="store_true")
    args = ap.parse_args(argv)
    try:
        cur_doc, cur = load(args.current)
    except (OSError, ValueError) as e:
        print(f"bench-compare: cannot read {args.current}: {e}", file=sys.stderr)
        return 2
    baseline = args.baseline
    if baseline is None:
        here = os.path.dirname(os.path.abspath(__file__))
        baseline = os.path.normpath(
            os.path.join(here, "..", "docs", "benchmarks", f"baseline-{cur_doc.get('mode', 'quick')}.json"))
        if not os.path.exists(baseline):
            print(f"bench-compare: no documented run to compare with ({baseline} does not exist)")
            return 0
    try:
        base_doc, base = load(baseline)
    except (OSError, ValueError) as e:
        print(f"bench-compare: cannot read the baseline {baseline}: {e}", file=sys.stderr)
        return 2
    rows = compare(cur, base, args.tolerance)
    tol = f"{args.tolerance:.0%}"
    if args.markdown:
        print(f"Run {cur_doc.get('started', '?')} ({cur_doc.get('mode', '?')}, {cur_doc.get('cores', '?')} cores, "
              f"load average {cur_doc.get('load_average_before', '?')} before, "
              f"{cur_doc.get('load_average_after', '?')} after).\n")
        print("| bench | figure | median | p95 | in-run reference (median) | ratio |")
        print("|---|---|---|---|---|---|")
        for (bench, name), fig, _old, _verdict, _change in rows:
            if fig is None:
                continue
            unit = fig.get("unit", "")
            ref = f"{fig['reference']}: {fmt(fig.get('reference_median'))} {unit}" if fig.get("reference") else "-"
            ratio = fmt(fig.get("ratio")) if fig.get("ratio") else "-"
            print(f"| {bench} | {name} | {fmt(fig.get('median'))} {unit} | {fmt(fig.get('p95'))} {unit} | {ref} | {ratio} |")
        return 0
    print(f"current:  {args.current} ({cur_doc.get('started', '?')}, load {cur_doc.get('load_average_before', '?')})")
    print(f"baseline: {baseline} ({base_doc.get('started', '?')}, load {base_doc.get('load_average_before', '?')})")
    print(f"ratios compared within {tol}; figures without an in-run reference are absolute (not judged)\n")
    width = max([len(f"{b} / {n}") for (b, n), *_ in rows] + [20])
    print(f"{'figure':<{width}}  {'now':>12}  {'documented':>12}  {'change':>8}  verdict")
    bad = 0
    for (bench, name), fig, old, verdict, change in rows:
        label = f"{bench} / {name}"
        if verdict in ("same", "better", "worse"):
            now, then = f"ratio {fmt(fig['ratio'])}", f"ratio {fmt(old['ratio'])}"
        else:
            unit = (fig or old).get("unit", "")
            now = f"{fmt(fig['median'])} {unit}" if fig else "-"
            then = f"{fmt(old['median'])} {unit}" if old else "-"
        ch = f"{change:+.0%}" if change is not None else "-"
        if verdict in ("better", "worse") or verdict == "missing":
            bad += 1
        print(f"{label:<{width}}  {now:>12}  {then:>12}  {ch:>8}  {verdict}")
    judged = sum(1 for r in rows if r[3] in ("same", "better", "worse"))
    print(f"\n{judged - sum(1 for r in rows if r[3] in ('better', 'worse'))} of {judged} ratios within {tol}, "
          f"{sum(1 for r in rows if r[3] == 'missing')} documented figures missing")
    return 1 if args.strict and bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
