"""3D molecule views with py3Dmol, plus static pictures for places without JavaScript."""
from __future__ import annotations

import numpy as np

from ..molecule import Molecule


def view_molecule(molecule: Molecule, width: int = 320, height: int = 260, labels=None):
    """An interactive py3Dmol view (sticks and spheres); ``labels`` (one string per atom) are drawn on atoms."""
    import py3Dmol

    view = py3Dmol.view(width=width, height=height)
    view.addModel(molecule.to_xyz(), "xyz")
    view.setStyle({"stick": {"radius": 0.15}, "sphere": {"scale": 0.25}})
    if labels is not None:
        for pos, text in zip(molecule.positions, labels):
            view.addLabel(str(text), {"position": dict(zip("xyz", map(float, pos))), "fontSize": 10,
                                      "backgroundOpacity": 0.6})
    view.zoomTo()
    return view


def grid_image(smiles: list[str], legends: list[str], mols_per_row: int = 4, size=(220, 180)):
    """A static RDKit 2D depiction grid (PIL image) of SMILES strings."""
    from rdkit import Chem
    from rdkit.Chem import Draw

    mols = [Chem.MolFromSmiles(s) for s in smiles]
    return Draw.MolsToGridImage(mols, molsPerRow=mols_per_row, subImgSize=size, legends=legends)


def element_colors(numbers: np.ndarray) -> list[str]:
    """CPK-like colours per atom, for static matplotlib scatter plots."""
    palette = {1: "#bbbbbb", 6: "#303030", 7: "#3050f8", 8: "#ff0d0d", 9: "#90e050"}
    return [palette.get(int(z), "#ff1493") for z in numbers]
