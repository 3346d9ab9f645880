"""A user's own experiment script, run by alphalab as a job of the type `my-experiment`.

    python3 -m scripts.run_experiment --config <yaml> --out <folder> [--seed N] [--set key=value]...

Standard library only. Reads its config (the job's copy of a config center version), simulates a
price path, runs a moving-average crossover on it and writes <out>/summary.json, which the job
type's result parser (alphalab_summary: every numeric top-level field) turns into the job's
metrics, plus <out>/equity.csv. Prints `run_id: ...` and its progress to stdout (the job's log).
"""
import argparse
import hashlib
import json
import math
import os
import random
import sys


def parse_yaml(text):
    """The subset of YAML the config uses: nested mappings by indentation, scalar values."""
    root = {}
    stack = [(-1, root)]
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split(" #", 1)[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip(" "))
        key, sep, value = line.strip().partition(":")
        if not sep:
            raise ValueError(f"line {number}: expected 'key: value'")
        while stack[-1][0] >= indent:
            stack.pop()
        parent = stack[-1][1]
        value = value.strip()
        if value == "":
            parent[key] = {}
            stack.append((indent, parent[key]))
        else:
            parent[key] = scalar(value)
    return root


def scalar(value):
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    if value in ("true", "false"):
        return value == "true"
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return value


def apply_override(config, assignment):
    key, sep, value = assignment.partition("=")
    if not sep or not key:
        raise ValueError(f"--set {assignment}: expected key=value")
    node = config
    parts = key.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = scalar(value)


def run(config):
    exp, strat = config["experiment"], config["strategy"]
    fast, slow = int(strat["fast_window"]), int(strat["slow_window"])
    if not 1 <= fast < slow:
        raise ValueError(f"strategy.fast_window ({fast}) must be at least 1 and below slow_window ({slow})")
    rng = random.Random(int(exp["seed"]))
    prices = [100.0]
    for _ in range(int(exp["days"])):
        prices.append(prices[-1] * math.exp(rng.gauss(float(exp["drift"]), float(exp["volatility"]))))
    fee = float(strat.get("fee_bps", 0)) / 10000.0
    equity, position, trades, curve = 1.0, 0, 0, []
    returns = []
    for t in range(1, len(prices)):
        r = position * (prices[t] / prices[t - 1] - 1.0)
        if t >= slow:
            fast_ma = sum(prices[t - fast + 1:t + 1]) / fast
            slow_ma = sum(prices[t - slow + 1:t + 1]) / slow
            wanted = 1 if fast_ma > slow_ma else 0
            if wanted != position:
                r -= fee
                trades += 1
                position = wanted
        equity *= 1.0 + r
        returns.append(r)
        curve.append(equity)
    mean = sum(returns) / len(returns)
    std = math.sqrt(sum((x - mean) ** 2 for x in returns) / max(1, len(returns) - 1))
    peak, max_dd = 0.0, 0.0
    for e in curve:
        peak = max(peak, e)
        max_dd = max(max_dd, 1.0 - e / peak)
    years = len(returns) / 252.0
    return {
        "total_return": equity - 1.0,
        "cagr": equity ** (1.0 / years) - 1.0,
        "sharpe": mean / std * math.sqrt(252.0) if std > 0 else 0.0,
        "max_drawdown": max_dd,
        "trades": trades,
        "fast_window": fast,
        "slow_window": slow,
    }, curve


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m scripts.run_experiment")
    parser.add_argument("--config", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--set", action="append", default=[], dest="overrides")
    args = parser.parse_args(argv)
    with open(args.config, "rb") as f:
        raw = f.read()
    try:
        config = parse_yaml(raw.decode("utf-8"))
        for assignment in args.overrides:
            apply_override(config, assignment)
        if args.seed is not None:
            config["experiment"]["seed"] = args.seed
        name = str(config["experiment"].get("name", "experiment"))
        run_id = f"{name}-{os.environ.get('ALPHALAB_JOB_ID', 'local')}"
        print(f"run_id: {run_id}", flush=True)
        print(f"config: {args.config} sha256 {hashlib.sha256(raw).hexdigest()}", flush=True)
        metrics, curve = run(config)
    except (KeyError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "equity.csv"), "w") as f:
        f.write("day,equity\n")
        for day, e in enumerate(curve, 1):
            f.write(f"{day},{e:.6f}\n")
    summary = dict(metrics, run_id=run_id, config_sha256=hashlib.sha256(raw).hexdigest())
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print(f"sharpe {metrics['sharpe']:.3f} cagr {metrics['cagr']:.4f} trades {metrics['trades']}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
