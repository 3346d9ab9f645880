#!/usr/bin/python3
"""Backtesting.py's `Backtest.optimize` on the sma_cross grid of bench_optimize, for the
figures of docs/benchmarks.md (same data, same grid, same machine, same window).

    /usr/bin/python3 bench/peers/backtesting_py_sma.py CHECKOUT [--csv FILE] [--tasks 1000] [--repeat 3]

CHECKOUT is a checkout of https://github.com/kernc/backtesting.py (imported from there, not
installed, not vendored here). It runs with Debian's python3-numpy and python3-pandas.
Backtesting.py imports bokeh at import time for its plots only; Debian 12 has no
python3-bokeh, so when bokeh is missing an inert stand-in module is registered (plotting is
never called here).

The grid is bench_optimize's: N tasks = A x B with A the largest divisor of N not above
sqrt(N); fast = 2..A+1, slow = A+2..A+B+1 (every pair has fast < slow). The strategy is a
long-only SMA cross (buy all-in when fast crosses above slow, close when it crosses below),
10 bps commission, 1,000,000 cash, maximizing the final equity: alphalab's sma_cross with
the example workspace's configs/backtest/base.yaml. On the demo data the two agree to the
cent (sma(10,50): 1,172,729.62 in both; the 1,000-task grid's best, fast 17 / slow 64:
2,440,315.75 in both), so the time compares the same work.
"""
import argparse
import math
import os
import statistics
import sys
import time
import types


def install_bokeh_stub():
    try:
        import bokeh  # noqa: F401
        return False
    except ImportError:
        pass

    class Inert:
        def __init__(self, *a, **k):
            pass

        def __call__(self, *a, **k):
            return Inert()

        def __getattr__(self, name):
            return Inert()

        def __getitem__(self, key):
            return Inert()

    class InertModule(types.ModuleType):
        def __getattr__(self, name):
            if name.startswith('__'):
                raise AttributeError(name)
            return Inert

    for name in ['bokeh', 'bokeh.colors', 'bokeh.colors.named', 'bokeh.events', 'bokeh.plotting',
                 'bokeh.models', 'bokeh.io', 'bokeh.io.state', 'bokeh.layouts', 'bokeh.palettes',
                 'bokeh.transform']:
        sys.modules[name] = InertModule(name)
    return True


def grid_shape(n):
    a = max(d for d in range(1, int(math.isqrt(n)) + 1) if n % d == 0)
    return a, n // a


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default_csv = os.path.join(here, '..', '..', 'ui', 'node_modules', 'vega-datasets', 'data', 'sp500-2000.csv')
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('checkout', help='a checkout of kernc/backtesting.py')
    p.add_argument('--csv', default=default_csv, help='OHLCV CSV (date,open,high,low,close,...)')
    p.add_argument('--tasks', type=int, default=1000)
    p.add_argument('--repeat', type=int, default=3)
    args = p.parse_args()

    stubbed = install_bokeh_stub()
    sys.path.insert(0, os.path.abspath(args.checkout))
    import numpy as np
    import pandas as pd
    import backtesting
    from backtesting import Backtest, Strategy
    from backtesting.lib import crossover

    def sma(values, n):
        return pd.Series(values).rolling(n).mean()

    class SmaCross(Strategy):
        fast = 10
        slow = 50

        def init(self):
            close = self.data.Close
            self.f = self.I(sma, close, self.fast)
            self.s = self.I(sma, close, self.slow)

        def next(self):
            if crossover(self.f, self.s):
                if not self.position:
                    self.buy()
            elif crossover(self.s, self.f):
                self.position.close()

    # The pool pickles the strategy by name: make it a module-level name.
    for obj in (sma, SmaCross):
        obj.__qualname__ = obj.__name__
        globals()[obj.__name__] = obj

    df = pd.read_csv(args.csv, parse_dates=['date'], index_col='date')
    df = df.rename(columns={'open': 'Open', 'high': 'High', 'low': 'Low', 'close': 'Close', 'volume': 'Volume'})
    df = df[['Open', 'High', 'Low', 'Close', 'Volume']]
    a, b = grid_shape(args.tasks)
    fast = range(2, a + 2)
    slow = range(a + 2, a + b + 2)
    try:
        import subprocess
        rev = subprocess.run(['git', '-C', args.checkout, 'rev-parse', '--short', 'HEAD'], capture_output=True,
                             text=True, check=True).stdout.strip()
    except Exception:  # not a git checkout
        rev = '?'
    print(f'backtesting.py commit {rev} from {os.path.abspath(args.checkout)}; '
          f'numpy {np.__version__}, pandas {pd.__version__}, python {sys.version.split()[0]}; '
          f'bokeh {"stub" if stubbed else "installed"}; cpus {os.cpu_count()}')
    print(f'data: {len(df)} bars {df.index[0].date()}..{df.index[-1].date()}; grid fast {fast.start}..{fast.stop - 1} '
          f'x slow {slow.start}..{slow.stop - 1} = {len(fast) * len(slow)} tasks')
    bt = Backtest(df, SmaCross, cash=1_000_000, commission=0.001, finalize_trades=True)
    one = bt.run(fast=10, slow=50)
    print(f'one run sma(10,50): final equity {one["Equity Final [$]"]:.2f}')

    times = []
    for r in range(args.repeat):
        t0 = time.perf_counter()
        stats = bt.optimize(fast=fast, slow=slow, maximize='Equity Final [$]', method='grid')
        dt = time.perf_counter() - t0
        times.append(dt)
        print(f'run {r + 1}: {dt:.3f} s, {dt / args.tasks * 1e3:.3f} ms/task; best fast={stats._strategy.fast} '
              f'slow={stats._strategy.slow} final equity {stats["Equity Final [$]"]:.2f}')
    med = statistics.median(times)
    print(f'backtesting.py optimize, {args.tasks} tasks: median {med:.3f} s, {med / args.tasks * 1e3:.3f} ms/task '
          f'({args.tasks / med:.0f} tasks/s)')


if __name__ == '__main__':
    main()
