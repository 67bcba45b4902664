"""Copy one figure per notebook (from the saved outputs) into docs/figures/ for the README, at most 900 px wide:

    python tools/readme_figures.py
"""
import base64
import io
from pathlib import Path

import nbformat
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
PICK = {"00_data": 0, "01_training_table": 1, "02_energy_contributions": 0, "03_aromatic_rings": 0,
        "04_partial_charges": 0, "05_local_chemical_potential": 0, "06_electrostatic_potential": 0,
        "07_element_embeddings": 1, "08_your_molecule": 2}
"""Which image of each notebook (0 = the first one) shows it best."""

if __name__ == "__main__":
    out = ROOT / "docs" / "figures"
    out.mkdir(parents=True, exist_ok=True)
    for name, k in PICK.items():
        nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
        images = [o["data"]["image/png"] for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                  if "image/png" in o.get("data", {})]
        image = Image.open(io.BytesIO(base64.b64decode(images[min(k, len(images) - 1)])))
        if image.width > 900:
            image = image.resize((900, round(image.height * 900 / image.width)))
        image.convert("RGB").save(out / f"{name[:2]}.png", optimize=True)
        print(name, image.size)
