"""3D molecule views with py3Dmol, plus static pictures for places without JavaScript.

:class:`View` is a ``py3Dmol.view`` that needs no network: its HTML carries the 3Dmol.js shipped in
``xatom/viz/js`` inline (py3Dmol itself makes the browser load it from a CDN), so the views render offline in
JupyterLab, the Notebook and exported HTML pages. Until the viewer has drawn, a message (and, if given, a static
picture) covers its box, so a front end without JavaScript or WebGL shows that message, never a blank box.
"""
from __future__ import annotations

import base64
import functools
import html
import io
from pathlib import Path

import py3Dmol

from ..errors import DataFormatError
from ..molecule import Molecule

LIBRARY = Path(__file__).with_name("js") / "3Dmol-min.js"
FALLBACK_TEXT = ("3D view not shown: it needs JavaScript and WebGL in the browser (in JupyterLab or the Notebook, "
                 "trust the notebook and run the cell; in an HTML page, allow scripts; without WebGL, "
                 "use the static picture).")


@functools.lru_cache(maxsize=1)
def library_script() -> str:
    """``<script>`` that defines ``$3Dmol`` from the shipped 3Dmol.js once per page and resolves py3Dmol's loader.

    The library runs with ``define``, ``exports`` and ``module`` hidden, so that a page with require.js (the
    classic notebook, nbconvert's HTML) still gets the global ``$3Dmol`` that py3Dmol's commands use.
    """
    text = LIBRARY.read_text(encoding="utf-8")
    for breaker in ("</script", "<!--"):
        if breaker in text.lower():
            raise DataFormatError(f"{LIBRARY} contains {breaker!r}, which would end its inline <script> early")
    return ("<script>\nif (typeof window.$3Dmol === 'undefined') {\n(function (define, exports, module) {\n"
            f"{text}\n}}).call(window);\n}}\nwindow.$3Dmolpromise = Promise.resolve();\n</script>\n")


def _png(picture) -> bytes:
    """PNG bytes of a matplotlib figure (closed afterwards) or of PNG bytes as given."""
    if isinstance(picture, bytes):
        return picture
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    picture.savefig(buffer, format="png", dpi=72, bbox_inches="tight")
    plt.close(picture)
    return buffer.getvalue()


class View(py3Dmol.view):
    """A py3Dmol view whose HTML needs no network (3Dmol.js inline) and says so when it cannot draw.

    Args:
        width, height: size of the view in pixels.
        picture: optional static picture (matplotlib figure or PNG bytes) shown with the message where the
            view cannot be drawn.
    """

    def __init__(self, width: int = 420, height: int = 320, picture=None):
        # js="" : py3Dmol's loader never runs, library_script() has set $3Dmolpromise before its script.
        super().__init__(width=width, height=height, js="")
        self.size = (int(width), int(height))
        self.picture = None if picture is None else _png(picture)

    def _fallback(self) -> str:
        width, height = self.size
        image = "" if self.picture is None else (
            '<br><img style="max-width:100%" alt="static picture of this view" '
            f'src="data:image/png;base64,{base64.b64encode(self.picture).decode()}">')
        return (f'<div id="xatom3dfallback_UNIQUEID" style="position:absolute;left:0;top:0;z-index:1;'
                f'width:{width}px;min-height:{height}px;box-sizing:border-box;padding:6px;overflow:auto;'
                'background:#fff8e1;border:1px solid #c9a227;color:#333;font:13px sans-serif">'
                f"{html.escape(FALLBACK_TEXT)}{image}</div>")

    def _make_html(self):
        # The message is removed by the last of the viewer's commands, so it stays wherever one of them fails.
        commands = self.startjs
        self.startjs = (self._fallback() + commands
                        + '\nvar fallback_UNIQUEID = document.getElementById("xatom3dfallback_UNIQUEID");\n'
                        + 'if (fallback_UNIQUEID) fallback_UNIQUEID.remove();\n')
        try:
            body = super()._make_html()
        finally:
            self.startjs = commands
        width, height = self.size
        return (f'<div class="xatom-view" style="position:relative;width:{width}px;min-height:{height}px">'
                f"{library_script()}{body}</div>")


def face_on(molecule: Molecule) -> Molecule:
    """The molecule turned to face the viewer: coordinates in its principal-axes frame, centred at the origin, the
    largest spread along x and the smallest along z (the direction 3Dmol.js looks along), so a planar molecule is
    seen face-on rather than edge-on. A proper rotation and a translation: every prediction is unchanged.
    Periodic structures are returned as they are."""
    import dataclasses

    from ..analysis.grids import principal_axes

    if molecule.cell is not None:
        return molecule
    centre, axes = principal_axes(molecule.positions)
    return dataclasses.replace(molecule, positions=(molecule.positions - centre) @ axes.T)


def view_molecule(molecule: Molecule, width: int = 320, height: int = 260, labels=None):
    """An interactive 3D view (sticks and spheres); ``labels`` (one string per atom) are drawn on atoms.

    Where the browser cannot draw it, a projection of the molecule (:func:`projection_figure`) is shown instead.
    The molecule is shown face-on (:func:`face_on`).
    """
    molecule = face_on(molecule)
    view = View(width=width, height=height, picture=projection_figure(molecule))
    view.addModel(molecule.to_xyz(), "xyz")
    view.setStyle({"stick": {"radius": 0.15}, "sphere": {"scale": 0.25}})
    if labels is not None:
        for pos, text in zip(molecule.positions, labels):
            view.addLabel(str(text), {"position": dict(zip("xyz", map(float, pos))), "fontSize": 10,
                                      "backgroundOpacity": 0.6})
    view.zoomTo()
    return view


def projection_figure(molecule: Molecule):
    """Static picture: the molecule projected on its two largest principal axes, atoms coloured by element.

    Bonded atoms (the project's bond rule, :func:`xatom.bonds.bonded_pairs`) are joined by a line; an element
    without a covalent radius there is drawn without bonds.
    """
    import matplotlib.pyplot as plt

    from ..analysis.grids import principal_axes
    from ..bonds import bonded_pairs
    from .fields import ATOM_COLOURS

    centre, axes = principal_axes(molecule.positions)
    xy = (molecule.positions - centre) @ axes[:2].T
    fig, ax = plt.subplots(figsize=(3.2, 2.6))
    for i, j in bonded_pairs(molecule.numbers, molecule.positions, strict=False):
        ax.plot(*xy[[i, j]].T, color="0.6", lw=1.5, zorder=1)
    ax.scatter(*xy.T, s=[160 if z > 1 else 60 for z in molecule.numbers], edgecolors="k", zorder=2,
               c=[ATOM_COLOURS.get(int(z), "purple") for z in molecule.numbers])
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_title(molecule.name or molecule.formula, fontsize=9)
    return fig


def grid_image(smiles: list[str], legends: list[str], mols_per_row: int = 4, size=(220, 180)):
    """A static RDKit 2D depiction grid (PIL image) of SMILES strings."""
    from rdkit import Chem
    from rdkit.Chem import Draw

    mols = [Chem.MolFromSmiles(s) for s in smiles]
    return Draw.MolsToGridImage(mols, molsPerRow=mols_per_row, subImgSize=size, legends=legends)

def highlighted_grid_image(mols, highlights, legends, mols_per_row: int = 5, size=(230, 190),
                           keep_hydrogens=False):
    """RDKit 2D grid (PIL image) of RDKit ``Mol`` objects with atoms highlighted, keeping their atom indices.

    ``mols`` may carry explicit hydrogens and 3D coordinates (e.g. perceived from an xyz geometry);
    ``highlights[k]`` are atom indices *of that molecule*. Hydrogens are removed for the drawing unless
    ``keep_hydrogens`` (or listed in ``highlights``); indices are mapped to the hydrogen-free copy, then 2D
    coordinates are computed.
    """
    from rdkit import Chem
    from rdkit.Chem import Draw, rdDepictor

    drawn, lists = [], []
    for mol, atoms in zip(mols, highlights):
        mol = Chem.Mol(mol)
        keep = {int(i) for i in atoms}
        for atom in mol.GetAtoms():
            atom.SetIntProp("orig_idx", atom.GetIdx())
        if not keep_hydrogens and not any(mol.GetAtomWithIdx(i).GetAtomicNum() == 1 for i in keep):
            mol = Chem.RemoveHs(mol)
        new = {a.GetIntProp("orig_idx"): a.GetIdx() for a in mol.GetAtoms()}
        mol.RemoveAllConformers()
        rdDepictor.Compute2DCoords(mol)
        drawn.append(mol)
        lists.append([new[i] for i in atoms])
    return Draw.MolsToGridImage(drawn, molsPerRow=mols_per_row, subImgSize=size, legends=list(legends),
                                highlightAtomLists=lists)
