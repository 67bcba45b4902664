"""3D views without a network: the HTML of every view carries 3Dmol.js inline and loads no script from a URL,
and covers its box with a message (and a static picture) until the viewer has drawn. No browser needed."""
import re
from html.parser import HTMLParser

import matplotlib
import numpy as np
import pytest

from physics import small_model
from xatom.analysis.grids import box_grid, proximity
from xatom.molecule import Molecule
from xatom.viz import fields, view3d
from xatom.viz.widgets import MoleculeExplorer

matplotlib.use("Agg")

WATER = Molecule(numbers=np.array([8, 1, 1]),
                 positions=np.array([[0.0, 0.0, 0.12], [0.0, 0.76, -0.48], [0.0, -0.76, -0.48]]), name="water")


class _Scripts(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sources, self.bodies, self.images, self._inside = [], [], [], False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            self._inside = True
            self.bodies.append("")
            if "src" in attrs:
                self.sources.append(attrs["src"])
        if tag == "img":
            self.images.append(attrs.get("src", ""))

    def handle_endtag(self, tag):
        if tag == "script":
            self._inside = False

    def handle_data(self, data):
        if self._inside:
            self.bodies[-1] += data


def _parse(html: str) -> _Scripts:
    parser = _Scripts()
    parser.feed(html)
    return parser


def _views():
    box = box_grid(WATER.positions, 0.4, margin=2.0)
    surface = proximity(box.points(), WATER.positions)
    esp = box.points()[:, 2]  # any field will do: the view only colours the surface by it
    explorer = MoleculeExplorer(load=lambda name, fold: small_model("schnet", "energy", seed=1),
                                models=("schnet-energy",), start="CCO")
    return {"view_molecule": view3d.view_molecule(WATER, labels=["O", "H", "H"]),
            "isosurface_view": fields.isosurface_view(WATER, box, surface, esp, 3.0, 1.0),
            "MoleculeExplorer.view": explorer.view()}


@pytest.fixture(scope="module")
def views():
    return {name: view._make_html() for name, view in _views().items()}


def test_views_load_no_script_from_a_url_and_carry_the_library_inline(views):
    library = view3d.LIBRARY.read_text(encoding="utf-8")
    for name, html in views.items():
        page = _parse(html)
        assert page.sources == [], f"{name} loads scripts from {page.sources}"
        loaders = [u for body in page.bodies for u in re.findall(r"loadScriptAsync\('([^']*)'\)", body)]
        assert all(not re.match(r"\s*(https?:)?//", u) for u in loaders), f"{name} loader points at {loaders}"
        assert "cdn.jsdelivr" not in html and "3Dmol-min.js'" not in html, name
        assert library in page.bodies[0], f"{name}: the first script is not the shipped 3Dmol.js"
        # the library is defined before py3Dmol's script asks for its promise
        assert html.index("window.$3Dmolpromise = Promise.resolve()") < html.index("$3Dmolpromise.then")


def test_message_covers_the_box_until_the_last_command_and_shows_the_picture(views):
    for name, html in views.items():
        uid = re.search(r'id="3dmolviewer_(\d+)"', html).group(1)
        assert f'id="xatom3dfallback_{uid}"' in html and view3d.FALLBACK_TEXT in html, name
        removal = html.index(f"fallback_{uid}.remove()")
        last_command = max(html.rfind(f"viewer_{uid}.addModel"), html.rfind(f"viewer_{uid}.setStyle"),
                           html.rfind(f"viewer_{uid}.addVolumetricData"), html.rfind(f"viewer_{uid}.addLabel"))
        assert last_command < removal < html.rindex(f"viewer_{uid}.render()"), name
    pictures = [src for src in _parse(views["view_molecule"]).images]
    assert len(pictures) == 1 and pictures[0].startswith("data:image/png;base64,iVBOR")


def test_each_view_gets_its_own_ids_and_the_library_cannot_end_its_script_early():
    first, second = (view3d.view_molecule(WATER)._make_html() for _ in range(2))
    ids = [re.search(r'id="xatom3dfallback_(\d+)"', h).group(1) for h in (first, second)]
    assert ids[0] != ids[1]
    text = view3d.LIBRARY.read_text(encoding="utf-8").lower()
    assert "</script" not in text and "<!--" not in text
    assert len(text) > 400_000  # the whole minified library, not a stub


def test_face_on_turns_a_planar_molecule_to_the_viewer_and_keeps_predictions():
    from xatom import Molecule
    from xatom.viz.view3d import face_on

    rng = np.random.default_rng(0)
    flat = np.c_[rng.normal(size=(8, 2)) * [3.0, 1.5], np.zeros(8)]  # a planar molecule in the xy plane
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    q *= np.sign(np.linalg.det(q))  # a proper rotation
    mol = Molecule(np.array([6, 6, 6, 6, 1, 1, 1, 8]), flat @ q.T + [5.0, -2.0, 1.0])
    turned = face_on(mol)
    assert np.allclose(turned.positions.mean(0), 0.0, atol=1e-12)
    assert np.allclose(turned.positions[:, 2], 0.0, atol=1e-9)  # the plane faces the viewer (z: viewing axis)
    spread = turned.positions.std(0)
    assert spread[0] >= spread[1] >= spread[2]
    d = lambda p: np.linalg.norm(p[:, None] - p[None], axis=-1)
    assert np.allclose(d(turned.positions), d(mol.positions))  # a rigid motion
    # a rotation, not a mirror image: the handedness of a non-planar molecule survives
    chiral = Molecule(np.array([6, 1, 8, 9, 7]), rng.normal(size=(5, 3)))
    triple = lambda p: np.linalg.det(p[1:4] - p[0])
    assert np.isclose(triple(face_on(chiral).positions), triple(chiral.positions))
