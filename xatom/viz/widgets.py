"""Interactive explorers for the notebooks (ipywidgets + py3Dmol), each with a static fallback picture.

* :class:`MoleculeExplorer`: pick a molecule (QM9 index, SMILES found in QM9, or any SMILES), a model and
  a fold; atoms are coloured by their latent energy Ê_i or charge q̂_i, with values as labels, a table, and
  a colour bar.
* :class:`FieldExplorer`: the same molecule picker plus field (local chemical potential Ω or ESP), probe
  element, model, cut-plane offset and isovalue; a live isosurface and a contour plot of the cut.

The computing lives in :mod:`xatom.analysis` (latent values, :class:`~xatom.analysis.fields.MolecularField`);
the explorers' plain methods (``select``, ``values``, ``current``) choose what to compute and the widgets only
call them, so everything is testable without a browser. ``static_figure()`` gives the picture used where no JavaScript
runs (GitHub, nbval, the HTML report).

Every model call goes through the domain check (:mod:`xatom.domain`): outside the widgets its
:class:`~xatom.errors.OutOfDomainWarning` is emitted as usual; the widgets show it (``note``) in their status
line instead, and an untrained element there is a message, not an exception.
"""
from __future__ import annotations

import functools
import html
import warnings
from typing import NamedTuple

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import display
from matplotlib import cm, colors, patheffects

from .. import zoo
from ..zoo import QM9_MODELS, split_name
from ..analysis.esp import latent_charges
from ..analysis.fields import (ESP_LABEL, MolecularField, SurroundingGrid, esp_field, isovalue_for, omega_field,
                               omega_label)
from ..analysis.grids import molecular_plane
from ..analysis.probe import LocalChemicalPotential
from ..bonds import bonded_pairs
from ..data.lookup import molecule_from_text
from ..domain import DomainNotes, warn_out_of_domain
from ..errors import OutOfDomainWarning, XatomError
from ..inference import latent_values
from . import fields
from .view3d import face_on

LATENT_LABELS = {"energy": "Ê_i (kcal/mol)", "dipole": "q̂_i (e)"}


@functools.lru_cache(maxsize=16)
def _shipped(name: str, fold: int):
    return zoo.load(name, fold)


READABLE = [patheffects.withStroke(linewidth=2.2, foreground="white")]
"""Label outline: black text with a white halo reads on dark and light atoms alike."""


def _hex(rgba) -> str:
    return colors.to_hex(rgba)


class _Picker:
    """Shared molecule selection: text → molecule, with the error as a message instead of an exception."""

    def __init__(self, data=None, load=None):
        self.data, self.load = data, load or _shipped
        self.molecule, self.source, self.message, self.text = None, "", "", None
        self._cache, self._notes = {}, {}

    def select(self, text: str) -> bool:
        """Pick a molecule; returns False (and sets ``message``) when the text names none.

        The previous molecule stays selected after a failed pick; picking the same text again is free.
        """
        if text == self.text and self.molecule is not None:
            return True
        try:
            molecule, self.source = molecule_from_text(text, self.data)
        except (XatomError, KeyError, ValueError) as err:
            self.message = f"⚠ {err}"
            return False
        self.molecule = face_on(molecule)
        self.message, self.text = self.source, text
        self.changed()
        return True

    def use(self, molecule, source: str = "given by the user"):
        """Show a :class:`~xatom.molecule.Molecule` built elsewhere (e.g. read from an xyz file)."""
        self.molecule, self.source = face_on(molecule), source
        self.message, self.text = source, molecule.name or molecule.formula
        self.changed()

    def changed(self):
        """Called after a new molecule was picked: forget what was computed for the previous one."""
        self._cache, self._notes = {}, {}

    def _checked(self, key, compute):
        """``compute()`` once per ``key`` and molecule; the domain check's warnings are kept for :attr:`note` and
        passed on."""
        if key not in self._cache:
            with DomainNotes() as notes:
                self._cache[key] = compute()
            self._notes[key] = notes.notes
            warn_out_of_domain(notes.notes)
        return self._cache[key]

    def _model_key(self):
        """Cache key of what the current model computed (set by the subclass)."""
        raise NotImplementedError

    @property
    def note(self) -> list[str]:
        """The domain check's warnings for the current molecule and model (empty: inside the training domain)."""
        return self._notes.get(self._model_key(), [])

    def status(self) -> str:
        """The status line (HTML): where the molecule comes from, then each domain warning."""
        lines = [self.message] + [f"⚠ {n}" for n in self.note]
        return "<br>".join(html.escape(line, quote=False) for line in lines)

    def _quiet(self, compute) -> str | None:
        """Run ``compute()`` for a widget: domain warnings go to the status line, not the output; returns an error
        message (an untrained element, a missing fold) instead of raising, or None."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OutOfDomainWarning)
            try:
                compute()
            except (XatomError, FileNotFoundError) as err:
                return f"⚠ {html.escape(str(err), quote=False)}"
        return None


class MoleculeExplorer(_Picker):
    """Atoms coloured by a model's latent per-atom values.

    Args:
        data: the QM9 data set (for QM9 indices and SMILES look-up), or None.
        models: model names to offer (default :data:`xatom.zoo.QM9_MODELS`).
        folds: folds to offer.
        load: ``load(name, fold)`` → model (default: the shipped zoo, cached).
    """

    def __init__(self, data=None, models=QM9_MODELS,
                 folds=(0,), load=None, start: str = "c1ccccc1O"):
        super().__init__(data, load)
        self.models, self.folds = tuple(models), tuple(folds)
        self.model_name, self.fold = self.models[0], self.folds[0]
        self.select(start)

    @property
    def target(self) -> str:
        return split_name(self.model_name)[1]

    def _model_key(self):
        return ("values", self.model_name, self.fold)

    def values(self) -> np.ndarray:
        """Latent per-atom values of the current molecule (kcal/mol or e)."""
        return self._checked(self._model_key(), lambda: latent_values(self.load(self.model_name, self.fold),
                                                                       self.molecule))

    def table(self) -> pd.DataFrame:
        values = self.values()
        return pd.DataFrame({"atom": np.arange(self.molecule.n_atoms), "element": self.molecule.symbols,
                             LATENT_LABELS[self.target]: np.round(values, 3)})

    def _norm(self, values):
        if self.target == "dipole":
            lim = max(float(np.abs(values).max()), 1e-6)
            return colors.Normalize(-lim, lim), "RdBu"
        return colors.Normalize(float(values.min()), float(values.max())), "viridis"

    def view(self, width: int = 420, height: int = 320):
        """Live py3Dmol view: atoms coloured by value, values as labels."""
        from .view3d import View

        values = self.values()
        norm, cmap = self._norm(values)
        view = View(width=width, height=height, picture=self.static_figure())  # shown where WebGL is missing
        view.addModel(self.molecule.to_xyz(), "xyz")
        for i, v in enumerate(values):
            colour = _hex(plt.get_cmap(cmap)(norm(v)))
            view.setStyle({"index": i}, {"stick": {"radius": 0.12, "color": colour},
                                         "sphere": {"scale": 0.3, "color": colour}})
            view.addLabel(f"{v:.2f}", {"position": dict(zip("xyz", map(float, self.molecule.positions[i]))),
                                       "fontSize": 9, "backgroundOpacity": 0.5})
        view.zoomTo()
        return view

    def static_figure(self):
        """Matplotlib picture: the molecule projected on its best plane, atoms coloured by value, colour bar."""
        values = self.values()
        norm, cmap = self._norm(values)
        plane = molecular_plane(self.molecule.positions, n=2)
        unit = plane.axes / plane.spacing[:, None]
        xy = (self.molecule.positions - self.molecule.positions.mean(0)) @ unit.T
        fig, ax = plt.subplots(figsize=(5.2, 3.8))
        for i, j in bonded_pairs(self.molecule.numbers, self.molecule.positions, strict=False):
            ax.plot(*xy[[i, j]].T, color="0.6", lw=1.5, zorder=1)
        ax.scatter(*xy.T, s=[320 if z > 1 else 140 for z in self.molecule.numbers], c=values, cmap=cmap, norm=norm,
                   edgecolors="k", zorder=2)
        for (x, y), s, v in zip(xy, self.molecule.symbols, values):
            ax.annotate(f"{s}\n{v:.2f}", (x, y), ha="center", va="center", fontsize=6.5, zorder=3,
                        path_effects=READABLE)
        ax.set_aspect("equal")
        ax.set_axis_off()
        ax.set_title(f"{self.molecule.name or self.molecule.formula}: {self.model_name} fold {self.fold}", fontsize=9)
        fig.colorbar(cm.ScalarMappable(norm, cmap), ax=ax, label=LATENT_LABELS[self.target], shrink=0.8)
        return fig

    def widget(self):
        """The ipywidgets interface (text box, model and fold menus, live view, table)."""
        import ipywidgets as w

        text = w.Text(value=self.text or "", description="molecule", placeholder="QM9 index or SMILES")
        model = w.Dropdown(options=self.models, value=self.model_name, description="model")
        fold = w.Dropdown(options=self.folds, value=self.fold, description="fold")
        status, out = w.HTML(), w.Output()

        def redraw(*_):
            ok = self.select(text.value)
            self.model_name, self.fold = model.value, fold.value
            status.value = self.message
            out.clear_output()
            if not ok:
                return
            failed = self._quiet(self.values)  # e.g. this fold was not shipped, or an untrained element
            status.value = failed or self.status()
            if failed:
                return
            with out:
                self.view().show()
                display(self.table())

        for control in (text, model, fold):
            control.observe(redraw, names="value")
        redraw()
        self._controls = {"text": text, "model": model, "fold": fold, "status": status, "output": out}
        return w.VBox([w.HBox([text, model, fold]), status, out])


class FieldChoice(NamedTuple):
    """What the field explorer shows: the menu entry, the probe element (Ω only, else None) and the fold."""

    field: str
    probe: str | None
    fold: int


class FieldExplorer(_Picker):
    """3D fields around a molecule: the probe's local chemical potential Ω or the ESP of latent charges.

    The fields themselves are :class:`~xatom.analysis.fields.MolecularField` objects (values on the box, cuts,
    isosurfaces, each computed once); the explorer picks one per menu choice and draws it.

    Args:
        data: the QM9 data set or None.
        spacing: grid spacing in Å of the 3D box (0.25 Å: ~10⁵ points for a QM9 molecule).
        load: ``load(name, fold)`` → model (default: the shipped zoo, cached).
    """

    FIELDS = {"Ω (local chemical potential)": ("omega", QM9_MODELS[0]),  # SchNet energy
              "ESP, SchNet charges": ("esp", "schnet-dipole"),
              "ESP, BP charges": ("esp", "bp-dipole")}

    def __init__(self, data=None, spacing: float = 0.25, load=None, start: str = "c1ccccc1O"):
        self.spacing, self.fold = spacing, 0
        self.field_name, self.probe = next(iter(self.FIELDS)), "C"
        super().__init__(data, load)
        self.select(start)

    def changed(self):
        super().changed()
        self.grid = SurroundingGrid.around(self.molecule.positions, self.spacing)
        self._fields: dict[FieldChoice, MolecularField] = {}

    @property
    def box(self):
        """The 3D grid (Å) the fields are computed on."""
        return self.grid.box

    def _model_key(self):
        return ("source", self.FIELDS[self.field_name][1], self.fold)

    @property
    def choice(self) -> FieldChoice:
        kind = self.FIELDS[self.field_name][0]
        return FieldChoice(self.field_name, self.probe if kind == "omega" else None, self.fold)

    def current(self) -> MolecularField:
        """The field of the current molecule, menu choice, probe and fold (made once per choice)."""
        choice = self.choice
        if choice not in self._fields:
            kind, name = self.FIELDS[choice.field]

            def make():  # the model call, through the domain check (its warnings go to the status line)
                model = self.load(name, choice.fold)
                if kind == "omega":
                    return LocalChemicalPotential(model, self.molecule)
                return latent_charges(model, self.molecule)

            source = self._checked(self._model_key(), make)
            self._fields[choice] = (omega_field(source, choice.probe, self.grid) if kind == "omega"
                                    else esp_field(self.molecule, source, self.grid))
        return self._fields[choice]

    @property
    def label(self) -> str:
        kind = self.FIELDS[self.field_name][0]
        return omega_label(self.probe) if kind == "omega" else ESP_LABEL

    def field(self, points) -> np.ndarray:
        """The selected field at points (Å), kcal/mol."""
        return self.current()(points)

    def volume(self) -> np.ndarray:
        """The selected field on the 3D box (kcal/mol)."""
        return self.current().volume()

    def cut(self, offset: float = 0.0, n: int = 80):
        """(plane grid, field values) on the molecular plane shifted by ``offset`` Å along its normal."""
        return self.current().cut(offset, n)

    @property
    def default_isovalue(self) -> float:
        """The isosurface shown first (:func:`~xatom.analysis.fields.isovalue_for`, the slider's step 0.25 Å⁻²)."""
        return isovalue_for(self.molecule, step=0.25)

    def limit(self, isovalue: float | None = None) -> float:
        """Colour limit: the 98th percentile of |field| on the isosurface."""
        isovalue = self.default_isovalue if isovalue is None else isovalue
        return fields.symmetric_limit(self.current().on_surface(isovalue)[2])

    def view(self, isovalue: float | None = None, width: int = 420, height: int = 320):
        isovalue = self.default_isovalue if isovalue is None else isovalue
        box, surface = self.grid.box, self.grid.proximity
        picture = fields.isosurface_figure(self.molecule, box, surface, self.volume(), isovalue, self.label,
                                           limit=self.limit(isovalue))  # shown where WebGL is missing
        return fields.isosurface_view(self.molecule, box, surface, self.volume(), isovalue,
                                      self.limit(isovalue), width, height, picture=picture)

    def static_figure(self, isovalue: float | None = None, offset: float = 0.0):
        """Isosurface coloured by the field (left) and the contour plot of the cut plane (right)."""
        isovalue = self.default_isovalue if isovalue is None else isovalue
        fig = plt.figure(figsize=(10.5, 4.2))
        grid = fig.add_gridspec(1, 2, width_ratios=(1, 1.1), wspace=0.3)
        limit = self.limit(isovalue)
        fields.isosurface_figure(self.molecule, self.grid.box, self.grid.proximity, self.volume(), isovalue, self.label,
                                 limit=limit, ax=fig.add_subplot(grid[0], projection="3d"),
                                 title=rf"$\sum_i \|\mathbf{{r}} - \mathbf{{r}}_i\|^{{-2}}$ = {isovalue:g} Å$^{{-2}}$")
        plane, values = self.cut(offset)
        fields.plane_contours(plane, values, self.molecule, self.label, ax=fig.add_subplot(grid[1]),
                              title=f"cut {offset:+.1f} Å from the molecular plane")
        fig.suptitle(self.molecule.name or self.molecule.formula, fontsize=10)
        return fig

    def widget(self):
        import ipywidgets as w

        text = w.Text(value=self.text or "", description="molecule", placeholder="QM9 index or SMILES")
        field = w.Dropdown(options=list(self.FIELDS), value=self.field_name, description="field")
        probe = w.Dropdown(options=["H", "C", "N", "O", "F"], value=self.probe, description="probe")
        offset = w.FloatSlider(value=0.0, min=-3.0, max=3.0, step=0.25, description="cut (Å)")
        iso = w.FloatSlider(value=self.default_isovalue, min=1.0, max=6.0, step=0.25, description="isovalue")
        status, live, cut = w.HTML(), w.Output(), w.Output()

        def draw_live(*_):
            live.clear_output()
            with live:
                self.view(iso.value).show()

        def draw_cut(*_):
            cut.clear_output(wait=True)
            with cut:
                plane, values = self.cut(offset.value)
                fig = fields.plane_contours(plane, values, self.molecule, self.label)
                display(fig)  # any backend (plt.show(fig) works only inline)
                plt.close(fig)

        def redraw(*_):
            ok = self.select(text.value)
            self.field_name, self.probe = field.value, probe.value
            probe.disabled = self.FIELDS[field.value][0] != "omega"
            status.value = self.message
            if not ok:
                return
            failed = self._quiet(self.volume)  # e.g. an untrained element
            status.value = failed or self.status()
            if not failed:
                draw_live()
                draw_cut()

        for control in (text, field, probe):
            control.observe(redraw, names="value")
        iso.observe(draw_live, names="value")
        offset.observe(draw_cut, names="value")
        redraw()
        self._controls = {"text": text, "field": field, "probe": probe, "offset": offset, "isovalue": iso,
                          "status": status, "live": live, "cut": cut}
        return w.VBox([w.HBox([text, field, probe]), w.HBox([offset, iso]), status, w.HBox([live, cut])])


class EmbeddingExplorer:
    """PCA of element embeddings: pick the embedding source, the two components and the groups shown.

    Args:
        sources: ``{name: {symbol: vector}}``, e.g. ours and published embeddings.
    """

    def __init__(self, sources: dict):
        from ..analysis import embeddings as E

        self.sources, self.E = dict(sources), E
        self.source, self.components, self.groups = next(iter(self.sources)), (1, 2), tuple(E.MAIN_GROUPS)

    def coordinates(self) -> pd.DataFrame:
        """Element, group, period and the chosen principal-component coordinates of the chosen source."""
        E = self.E
        vectors = self.sources[self.source]
        symbols = [s for s in E.GROUP if s in vectors]
        n = max(self.components)
        coords, ratio = E.pca(E.matrix(vectors, symbols), n)
        frame = pd.DataFrame({"element": symbols, "group": [E.GROUP[s] for s in symbols],
                              "period": [E.PERIOD[s] for s in symbols]})
        for c in self.components:
            frame[f"PC{c}"] = coords[:, c - 1]
        frame.attrs["explained"] = {c: float(ratio[c - 1]) for c in self.components}
        return frame[frame["group"].isin(self.groups)].reset_index(drop=True)

    def static_figure(self, ax=None):
        frame = self.coordinates()
        a, b = (f"PC{c}" for c in self.components)
        fig = None
        if ax is None:
            fig, ax = plt.subplots(figsize=(5.6, 4.6))
        palette = plt.get_cmap("tab10")
        for k, (g, part) in enumerate(frame.groupby("group")):
            ax.scatter(part[a], part[b], s=70, color=palette(k % 10), label=f"group {g}", alpha=0.85)
            for r in part.itertuples():
                ax.annotate(r.element, (getattr(r, a), getattr(r, b)), fontsize=8, ha="center", va="center")
        ex = frame.attrs["explained"]
        ax.set_xlabel(f"{a} ({ex[self.components[0]]:.0%} of the variance)")
        ax.set_ylabel(f"{b} ({ex[self.components[1]]:.0%})")
        ax.set_title(f"element embeddings: {self.source}", fontsize=10)
        ax.legend(fontsize=7, ncol=2, loc="best")
        return fig or ax.figure

    def widget(self):
        import ipywidgets as w

        source = w.Dropdown(options=list(self.sources), value=self.source, description="embedding")
        first = w.BoundedIntText(value=1, min=1, max=6, description="x: PC")
        second = w.BoundedIntText(value=2, min=1, max=6, description="y: PC")
        groups = w.SelectMultiple(options=list(self.E.MAIN_GROUPS), value=self.groups, description="groups")
        out = w.Output()

        def redraw(*_):
            self.source, self.groups = source.value, tuple(groups.value) or tuple(self.E.MAIN_GROUPS)
            self.components = (first.value, second.value)
            out.clear_output(wait=True)
            with out:
                fig = self.static_figure()
                display(fig)  # any backend (plt.show(fig) works only inline)
                plt.close(fig)

        for control in (source, first, second, groups):
            control.observe(redraw, names="value")
        redraw()
        self._controls = {"source": source, "first": first, "second": second, "groups": groups, "output": out}
        return w.VBox([w.HBox([source, groups]), w.HBox([first, second]), out])
