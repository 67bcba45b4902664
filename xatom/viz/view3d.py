"""3D molecule views with py3Dmol, plus static pictures for places without JavaScript."""
from __future__ import annotations


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
