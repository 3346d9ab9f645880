#!/usr/bin/env python3
"""Training when jobs share the cores: 1 and 2 concurrent trainings (and 1 training next to a
busy process) at several sizes, under three thread settings, measured in the same run.

  settings
    all-threads   nthread 0, OpenMP's default wait policy (what a job got before)
    one-thread    nthread 1
    job-default   what the server now gives a job (exec/local): OMP_WAIT_POLICY=passive and
                  OMP_NUM_THREADS = cores / slots, with one slot per training running at once

Each cell is the median (and p95 when there are enough repetitions) of the wall time of the
slowest of the concurrent trainings and the rows/s each achieved (train rows / wall time).

  bench/engine_ml/train_concurrency.py [--build build] [--reps 3] [--sizes small,medium,large]
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

SIZES = {"small": (1, 20), "medium": (20, 10), "large": (100, 10)}  # instruments, years


def run_group(binary, size, copies, env, nthread, busy):
    instruments, years = SIZES[size]
    cmd = [binary, "--instruments", str(instruments), "--years", str(years), "--rounds", "200",
           "--nthread", str(nthread)]
    spinner = None
    if busy:
        spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        time.sleep(0.2)
    try:
        t0 = time.monotonic()
        procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True) for _ in range(copies)]
        outs = [p.communicate()[0] for p in procs]
        wall = time.monotonic() - t0
    finally:
        if spinner:
            spinner.kill()
            spinner.wait()
    rows = []
    for p, out in zip(procs, outs):
        if p.returncode != 0:
            raise SystemExit(f"{cmd} failed with {p.returncode}")
        fields = dict(kv.split("=", 1) for line in out.splitlines() for kv in line.split() if "=" in kv)
        rows.append(float(fields["train_rows"]) / float(fields["total_s"]))
    return wall, min(rows)


def settings(cores, copies):
    base = {k: v for k, v in os.environ.items() if not k.startswith("OMP_")}
    per_job = max(1, cores // max(1, copies))
    return {
        "all-threads": (dict(base), 0),
        "one-thread": (dict(base), 1),
        "job-default": (dict(base, OMP_WAIT_POLICY="passive", OMP_NUM_THREADS=str(per_job)), 0),
    }


def p95(values):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(0.95 * (len(s) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--sizes", default="small,medium,large")
    args = ap.parse_args()
    binary = os.path.join(args.build, "bin", "bench_engine_ml_train")
    cores = os.cpu_count() or 1
    print(f"cores={cores} load_avg={os.getloadavg()[0]:.2f} reps={args.reps} "
          f"date={time.strftime('%Y-%m-%d %H:%M:%S')}")
    print(f"{'size':7} {'case':22} {'setting':12} {'median_s':>9} {'p95_s':>7} {'rows/s (slowest)':>17} {'vs one-thread':>13}")
    for size in args.sizes.split(","):
        for copies, busy, label in ((1, False, "1 alone"), (2, False, "2 concurrent"), (1, True, "1 + busy process")):
            results = {}
            # Alternate settings inside each repetition so drift hits them alike.
            for _ in range(args.reps):
                for name, (env, nthread) in settings(cores, copies + (1 if busy else 0)).items():
                    wall, rate = run_group(binary, size, copies, env, nthread, busy)
                    results.setdefault(name, []).append((wall, rate))
            ref = statistics.median(w for w, _ in results["one-thread"])
            for name, rs in results.items():
                walls = [w for w, _ in rs]
                med = statistics.median(walls)
                print(f"{size:7} {label:22} {name:12} {med:9.3f} {p95(walls):7.3f} "
                      f"{statistics.median(r for _, r in rs):17.0f} {med / ref:12.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
