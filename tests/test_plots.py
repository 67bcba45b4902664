"""Figures that hide nothing: the error histogram's overflow bars say how many molecules lie beyond the plotted
range and how far the largest error goes."""
import matplotlib

matplotlib.use("Agg")
import numpy as np
import pytest

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


def test_surface_and_cut_figure_shares_one_colour_range_per_row(water):
    from xatom.analysis.grids import box_grid, molecular_plane, proximity
    from xatom.viz import fields

    molecules = {"water": water, "shifted water": type(water)(water.numbers, water.positions + 1.0)}
    boxes, planes = {}, {}
    for k, (name, mol) in enumerate(molecules.items()):
        box, plane = box_grid(mol.positions, 0.3, 2.0), molecular_plane(mol.positions, n=20)
        field = (k + 1) * np.sin(box.points()[:, 0])  # the second molecule's field twice as strong
        boxes[name] = (box, proximity(box.points(), mol.positions), field)
        planes[name] = (plane, (k + 1) * np.cos(plane.points()[:, 1]))
    fig, cuts, (surface_limit, cut_limit) = fields.surface_and_cut_figure(molecules, boxes, planes, 2.0, "f (u)")
    assert fig.dpi >= 150 and len(fig.axes) == 2 * 2 + 2  # four panels and one colour bar per row
    assert cut_limit == pytest.approx(fields.symmetric_limit(np.concatenate([v for _, v in planes.values()])))
    for name, ax in cuts.items():  # both cuts drawn on the shared range, not on their own
        levels = ax.collections[0].levels if hasattr(ax.collections[0], "levels") else None
        assert levels is not None and levels[-1] == pytest.approx(cut_limit), name
    assert 0 < surface_limit <= 2.0
