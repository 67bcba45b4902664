"""Element-embedding analysis: clustering metrics, orderings, published embeddings."""
import importlib.util

import numpy as np
import pytest

from physics import random_rotation, small_model
from xatom.analysis import embeddings as E


def _clustered(noise=0.05, seed=0, dims=8):
    rng = np.random.default_rng(seed)
    centres = {g: rng.normal(size=dims) * 5 for g in E.MAIN_GROUPS}
    return {s: centres[E.GROUP[s]] + 0.3 * E.PERIOD[s] * np.eye(dims)[0] + noise * rng.normal(size=dims) for s in E.GROUP}


def test_perfect_groups_score_high_and_random_vectors_low():
    m = E.clustering_metrics(_clustered())
    assert m["purity_full"] == pytest.approx(1.0) and m["silhouette_full"] > 0.8
    base = E.random_baseline(_clustered(), dims=8, n_draws=20)
    assert base["mean"]["purity_full"] < 0.35 and abs(base["mean"]["silhouette_full"]) < 0.15


def test_period_order_and_distance_correlation():
    v = _clustered(noise=0.0)
    assert E.period_order(v, 2) == pytest.approx(1.0)  # built ordered along axis 0 within every group
    rot = random_rotation(3)
    turned = {s: np.concatenate([x[:3] @ rot.T, x[3:]]) for s, x in v.items()}
    assert E.distance_correlation(v, turned) == pytest.approx(1.0, abs=1e-3)  # near-ties among equal distances
    h = E.hydrogen_and_alkali(v)
    assert h["ratio"] > 0 and set(h) == {"H_to_alkali", "alkali_to_alkali", "ratio"}


def test_embedding_rows_of_a_schnet_model():
    model = small_model("schnet", "formation_energy")
    v = E.from_model(model)
    assert len(v) == len(E.GROUP)
    np.testing.assert_array_equal(v["O"], model.representation.embedding.weight[8].detach().numpy())


@pytest.mark.skipif(importlib.util.find_spec("elementembeddings") is None, reason="elementembeddings not installed")
def test_published_embeddings_are_read_from_the_package_files():
    megnet = E.published("megnet16")
    assert megnet["Na"].shape == (16,) and "Null" not in megnet
    assert len(E.published("mat2vec")["O"]) == 200
    with pytest.raises(FileNotFoundError):
        E.published("no-such-embedding")
