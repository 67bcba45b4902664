"""Figures that hide nothing: the error histogram's overflow bars say how many molecules lie beyond the plotted
range and how far the largest error goes."""
import matplotlib

matplotlib.use("Agg")
import numpy as np

from xatom.viz import plots


def test_error_histogram_counts_its_tails():
    rng = np.random.default_rng(0)
    ref = rng.normal(size=4000)
    err = rng.normal(scale=0.1, size=4000)
    err[:3] = [-27.9, 9.0, 12.5]  # outliers far beyond the central 99.5 %
    fig = plots.parity_and_errors({"model": (ref + err, ref)}, {"model": "kcal/mol"})
    hist = fig.axes[1]  # [hexbin, histogram, colour bar]
    lim = np.quantile(np.abs(err), 0.995)
    labels = {t.get_text() for t in hist.texts}
    assert f"{(err < -lim).sum()} beyond\n(to -27.9)" in labels
    assert f"{(err > lim).sum()} beyond\n(to 12.5)" in labels
    heights = np.array([p.get_height() for p in hist.patches])
    assert heights.sum() == err.size  # every molecule is in a bar, the outliers in the end bars
    assert fig.axes[2].get_ylabel() == "molecules per cell"
