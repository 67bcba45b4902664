"""Seeded bootstrap of the claim records (xatom.analysis.bootstrap) beside scipy.stats.bootstrap, same data, one run:

    python benchmarks/bootstrap_speed.py      # 1000 resamples of 20,000 values per statistic

Prints resamples per second and the ratio xatom / scipy (percentile intervals both; scipy vectorised where the
statistic allows, Spearman per resample).
"""
import time

import numpy as np
from scipy import stats

from xatom.analysis import bootstrap as B

N, RESAMPLES = 20_000, 1000


def timed(run):
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


if __name__ == "__main__":
    x = np.random.default_rng(0).normal(size=N)
    y = x + np.random.default_rng(1).normal(size=N)
    cases = {"std": (B.std, (x,), lambda a, axis: np.std(a, axis=axis)),
             "IQR": (B.iqr, (x,), lambda a, axis: stats.iqr(a, axis=axis)),
             "Spearman ρ": (B.spearman, (x, y), None)}
    print(f"{'statistic':12s} {'xatom [resamples/s]':>20s} {'scipy [resamples/s]':>20s} {'ratio':>6s}")
    for name, (ours, arrays, theirs) in cases.items():
        t_ours = timed(lambda: B.bootstrap(ours, *arrays, n_resamples=RESAMPLES, seed=0))
        if theirs is None:  # paired statistic: scipy resamples both arrays together
            theirs_run = lambda: stats.bootstrap(arrays, lambda a, b: stats.spearmanr(a, b)[0], paired=True,
                                                 vectorized=False, n_resamples=RESAMPLES, method="percentile",
                                                 random_state=0)
        else:
            theirs_run = lambda: stats.bootstrap(arrays, theirs, n_resamples=RESAMPLES, method="percentile",
                                                 random_state=0)
        t_theirs = timed(theirs_run)
        print(f"{name:12s} {RESAMPLES / t_ours:20,.0f} {RESAMPLES / t_theirs:20,.0f} {t_theirs / t_ours:6.1f}×")
