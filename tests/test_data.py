"""QM9 parsing and validation, the on-disk cache, and the seeded train/validation/test splits."""
import json
import os
import warnings

import numpy as np
import pandas as pd
import pytest

import xatom.data.qm9 as qm9mod
from xatom.data.qm9 import ATOM_REFERENCE_U0_HARTREE as REF
from xatom.data.qm9 import load_qm9, parse_qm9_frame, read_qm9_csv
from xatom.data.splits import N_FOLDS, load_split, make_splits
from xatom.errors import DataFormatError
from xatom.units import hartree_to_kcal

COLUMNS = ["Index", "SMILES", "N_atoms", "Elements", "XYZ_Ang", "Mulliken_pop", "Dipole_debye",
           "InternalEnergy_0K_au"]


def row(index, elements, xyz, charges=None, dipole=0.5, u0=None, smiles="X", n_atoms=None):
    n = len(elements) if n_atoms is None else n_atoms
    charges = charges if charges is not None else "[" + ",".join(["0."] * len(elements)) + "]"
    return {"Index": index, "SMILES": smiles, "N_atoms": n,
            "Elements": "[" + ",".join(f"'{e}'" for e in elements) + "]", "XYZ_Ang": xyz,
            "Mulliken_pop": charges, "Dipole_debye": dipole,
            "InternalEnergy_0K_au": -40.47893 if u0 is None else u0}


# qm9pack writes numbers like "0." and "1." (no digits after the point)
METHANE = row(1, "CHHHH", "[[-0.0126981359,1.0858041578,0.0080009958],[0.002150416,-0.0060313176,0.0019761204],"
              "[1.0117308433,1.4637511618,0.0002765748],[-0.540815069,1.4475266138,-0.8766437152],"
              "[-0.5238136345,1.4379326443,0.9063972942]]",
              charges="[-0.535689,0.133921,0.133922,0.133923,0.133923]", dipole=0.0, u0=-40.47893, smiles="C")
WATER = row(3, "OHH", "[[0.,0.,0.],[1.,0.,0.],[0.,1.,0.]]", charges="[-0.5,0.25,0.25]", dipole=1.85,
            u0=-76.404702, smiles="O")
HF = row(9, "FH", "[[0.,0.,0.],[0.,0.,.92]]", charges="[-0.4,0.4]", dipole=1.8, u0=-100.4, smiles="F")
WRONG_COUNT = row(4, "NHH", "[[0.,0.,0.],[1.,0.,0.],[0.,1.,0.]]", n_atoms=4)
NAN_COORD = row(5, "OHH", "[[0.,0.,0.],[1.,0.,nan],[0.,1.,0.]]")
UNKNOWN_ELEMENT = row(6, "SHH", "[[0.,0.,0.],[1.3,0.,0.],[0.,1.3,0.]]")
HUGE_COORD = row(7, "OHH", "[[0.,0.,0.],[1.,0.,1e999],[0.,1.,0.]]")


def frame(*rows):
    return pd.DataFrame(list(rows), columns=COLUMNS)


def parse_quietly(df):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return parse_qm9_frame(df)


# ------------------------------------------------------------------------------------------ parsing
def test_good_rows_parse_to_flat_arrays_with_offsets():
    data = parse_qm9_frame(frame(METHANE, WATER, HF))
    assert data.rejected == []
    assert len(data) == 3
    np.testing.assert_array_equal(data.index, [1, 3, 9])
    np.testing.assert_array_equal(data.offsets, [0, 5, 8, 10])
    np.testing.assert_array_equal(data.numbers, [6, 1, 1, 1, 1, 8, 1, 1, 9, 1])
    np.testing.assert_array_equal(data.n_atoms, [5, 3, 2])
    np.testing.assert_array_equal(data.molecule_of_atom, [0] * 5 + [1] * 3 + [2] * 2)
    np.testing.assert_array_equal(data.smiles, ["C", "O", "F"])
    np.testing.assert_allclose(data.dipole_debye, [0.0, 1.85, 1.8])
    np.testing.assert_allclose(data.mulliken_e[5:8], [-0.5, 0.25, 0.25])


def test_coordinates_written_as_0_dot_and_1_dot_are_read_exactly():
    data = parse_qm9_frame(frame(WATER, HF))
    np.testing.assert_array_equal(data.positions[:3], [[0, 0, 0], [1, 0, 0], [0, 1, 0]])
    np.testing.assert_array_equal(data.positions[3:], [[0, 0, 0], [0, 0, 0.92]])


def test_atomization_energy_is_u0_minus_atomic_references_in_kcal():
    data = parse_qm9_frame(frame(METHANE, WATER))
    assert data.energy_kcal[0] == pytest.approx(hartree_to_kcal(-40.47893 - REF[6] - 4 * REF[1]), rel=1e-12)
    assert data.energy_kcal[0] == pytest.approx(-396.0, abs=0.1)
    assert data.energy_kcal[1] == pytest.approx(hartree_to_kcal(-76.404702 - REF[8] - 2 * REF[1]), rel=1e-12)


def test_bad_rows_are_reported_with_their_index_and_a_warning_and_good_rows_survive():
    df = frame(METHANE, WRONG_COUNT, NAN_COORD, UNKNOWN_ELEMENT, WATER, HUGE_COORD, HF)
    with pytest.warns(UserWarning, match=r"4 QM9 row\(s\) failed validation.*QM9 index 4"):
        data = parse_qm9_frame(df)
    reasons = dict(data.rejected)
    assert sorted(reasons) == [4, 5, 6, 7]
    assert "N_atoms" in reasons[4]
    assert "element" in reasons[6]
    assert "non-finite" in reasons[7]
    np.testing.assert_array_equal(data.index, [1, 3, 9])
    np.testing.assert_array_equal(data.numbers, [6, 1, 1, 1, 1, 8, 1, 1, 9, 1])
    ref = parse_qm9_frame(frame(METHANE, WATER, HF))
    for key in ("positions", "offsets", "energy_kcal", "dipole_debye", "mulliken_e"):
        np.testing.assert_array_equal(getattr(data, key), getattr(ref, key), err_msg=key)


def test_nan_coordinate_is_reported_as_non_finite():
    data = parse_quietly(frame(METHANE, NAN_COORD))
    assert "finite" in dict(data.rejected)[5]


@pytest.mark.parametrize("bad, word", [
    (dict(Mulliken_pop="[0.1,0.2]"), "Mulliken"),
    (dict(Dipole_debye=-1.0), "dipole"),
    (dict(Dipole_debye=np.nan), "dipole"),
    (dict(InternalEnergy_0K_au=np.nan), "U0"),
    (dict(Elements="['O','H']"), "elements"),
])
def test_each_validation_rule_rejects_its_row(bad, word):
    broken = dict(WATER, Index=5, **bad)
    with pytest.warns(UserWarning):
        data = parse_qm9_frame(frame(METHANE, broken))
    assert [i for i, _ in data.rejected] == [5]
    assert word in data.rejected[0][1]
    np.testing.assert_array_equal(data.index, [1])


def test_missing_column_raises_data_format_error():
    with pytest.raises(DataFormatError, match="Dipole_debye"):
        parse_qm9_frame(frame(METHANE).drop(columns=["Dipole_debye"]))


def test_rows_out_of_index_order_raise():
    with pytest.raises(DataFormatError):
        parse_qm9_frame(frame(WATER, METHANE))


def test_table_without_any_valid_row_raises_data_format_error():
    with pytest.raises(DataFormatError):
        parse_quietly(frame(WRONG_COUNT, UNKNOWN_ELEMENT))


def write_csv(path, *rows, extra_columns=True):
    df = frame(*rows)
    if extra_columns:  # qm9pack's files carry many more columns than xatom reads
        df.insert(0, "XYZ_file", [f"dsgdb9nsd_{r['Index']:06d}.xyz" for r in rows])
        df["HOMO_au"] = -0.3
    df.to_csv(path, index=False)
    return path


def test_read_qm9_csv_concatenates_files_in_order(tmp_path):
    a = write_csv(tmp_path / "a.csv", METHANE, WATER)
    b = write_csv(tmp_path / "b.csv", UNKNOWN_ELEMENT, HF)
    with pytest.warns(UserWarning, match="QM9 index 6"):
        data = read_qm9_csv([a, b])
    np.testing.assert_array_equal(data.index, [1, 3, 9])
    assert data.rejected[0][0] == 6
    ref = parse_qm9_frame(frame(METHANE, WATER, HF))
    np.testing.assert_allclose(data.positions, ref.positions, rtol=0, atol=0)
    np.testing.assert_allclose(data.energy_kcal, ref.energy_kcal, rtol=1e-15)
    mol = data.molecule(int(data.rows_of(3)[0]))
    assert mol.formula == "H2O"
    with pytest.raises(KeyError, match="2"):
        data.rows_of([1, 2])


def test_missing_binary_or_foreign_qm9_csv_is_refused_by_name(tmp_path):
    good = write_csv(tmp_path / "good.csv", METHANE)
    with pytest.raises(DataFormatError, match="gone.csv.*does not exist"):
        read_qm9_csv([good, tmp_path / "gone.csv"])
    with pytest.raises(DataFormatError, match="gone.csv.*does not exist"):
        load_qm9(cache_dir=tmp_path / "cache", paths=[tmp_path / "gone.csv"])
    (tmp_path / "picture.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff\xfe\x00" * 50)
    with pytest.raises(DataFormatError, match="picture.csv"):
        read_qm9_csv([good, tmp_path / "picture.csv"])
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    with pytest.raises(DataFormatError, match=r"other.csv.*N_atoms"):
        read_qm9_csv([tmp_path / "other.csv"])
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataFormatError, match="empty.csv"):
        read_qm9_csv([tmp_path / "empty.csv"])


# ------------------------------------------------------------------------------------------ cache
def assert_same_data(a, b):
    for key in ("numbers", "positions", "offsets", "index", "energy_kcal", "dipole_debye", "mulliken_e", "smiles"):
        np.testing.assert_array_equal(getattr(a, key), getattr(b, key), err_msg=key)
    assert [tuple(r) for r in a.rejected] == [tuple(r) for r in b.rejected]


@pytest.fixture
def csv_source(tmp_path):
    return write_csv(tmp_path / "qm9_part1.csv", METHANE, WATER, UNKNOWN_ELEMENT, HF)


def _forbid_parsing(monkeypatch):
    def fail(paths):
        raise AssertionError("the cache should have been used, but the CSV was parsed again")

    monkeypatch.setattr(qm9mod, "read_qm9_csv", fail)


def test_cache_is_built_then_reused_with_rejected_rows(tmp_path, csv_source, monkeypatch):
    cache = tmp_path / "cache"
    with pytest.warns(UserWarning):
        built = load_qm9(cache_dir=cache, paths=[csv_source])
    assert (cache / "qm9.npz").exists() and (cache / "qm9.json").exists()
    manifest = json.loads((cache / "qm9.json").read_text())
    assert manifest["n_molecules"] == 3
    _forbid_parsing(monkeypatch)
    again = load_qm9(cache_dir=cache, paths=[csv_source])
    assert_same_data(built, again)
    assert again.rejected == [(6, built.rejected[0][1])]


@pytest.mark.parametrize("damage", ["truncate", "flip_bytes", "bad_manifest", "delete_manifest"])
def test_corrupted_cache_is_rebuilt(tmp_path, csv_source, damage):
    cache = tmp_path / "cache"
    with pytest.warns(UserWarning):
        built = load_qm9(cache_dir=cache, paths=[csv_source])
    npz, manifest = cache / "qm9.npz", cache / "qm9.json"
    raw = npz.read_bytes()
    if damage == "truncate":
        npz.write_bytes(raw[: len(raw) // 2])
    elif damage == "flip_bytes":
        npz.write_bytes(raw[:100] + bytes(b ^ 0xFF for b in raw[100:120]) + raw[120:])
    elif damage == "bad_manifest":
        manifest.write_text("{not json")
    else:
        manifest.unlink()
    with pytest.warns(UserWarning):  # the CSV is parsed again (it warns about its rejected row)
        rebuilt = load_qm9(cache_dir=cache, paths=[csv_source])
    assert_same_data(built, rebuilt)
    assert npz.read_bytes() == raw  # the rebuilt cache is intact again


def test_corrupted_cache_is_rebuilt_without_verification(tmp_path, csv_source):
    cache = tmp_path / "cache"
    with pytest.warns(UserWarning):
        built = load_qm9(cache_dir=cache, paths=[csv_source])
    raw = (cache / "qm9.npz").read_bytes()
    (cache / "qm9.npz").write_bytes(raw[: len(raw) // 2])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rebuilt = load_qm9(cache_dir=cache, paths=[csv_source], verify=False)
    assert_same_data(built, rebuilt)


def test_cache_is_rebuilt_when_the_source_changes(tmp_path, csv_source):
    cache = tmp_path / "cache"
    with pytest.warns(UserWarning):
        load_qm9(cache_dir=cache, paths=[csv_source])
    write_csv(csv_source, METHANE, WATER, HF)  # the bad row was fixed upstream
    st = os.stat(csv_source)
    os.utime(csv_source, (st.st_atime, st.st_mtime + 10))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no rejected rows any more: no warning
        fresh = load_qm9(cache_dir=cache, paths=[csv_source])
    assert fresh.rejected == []
    np.testing.assert_array_equal(fresh.index, [1, 3, 9])


def test_cache_is_rebuilt_when_a_source_file_is_added(tmp_path, csv_source):
    cache = tmp_path / "cache"
    with pytest.warns(UserWarning):
        first = load_qm9(cache_dir=cache, paths=[csv_source])
    extra = write_csv(tmp_path / "qm9_part2.csv", row(12, "HH", "[[0.,0.,0.],[0.,0.,.74]]", u0=-1.17))
    with pytest.warns(UserWarning):
        both = load_qm9(cache_dir=cache, paths=[csv_source, extra])
    assert len(both) == len(first) + 1
    assert both.index[-1] == 12


def test_real_qm9_has_130831_valid_molecules_of_h_c_n_o_f(qm9):
    assert len(qm9) == 130_831
    assert qm9.rejected == []
    assert set(np.unique(qm9.numbers).tolist()) == {1, 6, 7, 8, 9}
    assert np.all(np.diff(qm9.index) > 0)
    assert qm9.n_atoms.min() >= 3 and qm9.n_atoms.max() == 29
    assert np.all(np.isfinite(qm9.positions)) and np.all(qm9.dipole_debye >= 0)
    assert qm9.offsets[-1] == qm9.numbers.size == qm9.mulliken_e.size
    # Mulliken charges of a neutral molecule sum to ~0
    sums = np.add.reduceat(qm9.mulliken_e, qm9.offsets[:-1])
    assert np.abs(sums).max() < 0.01


# ------------------------------------------------------------------------------------------ splits
SYNTH_INDEX = np.setdiff1d(np.arange(1, 2201), np.arange(5, 2201, 11))  # QM9-like gaps


def test_make_splits_is_deterministic_for_a_seed():
    a = make_splits(SYNTH_INDEX, n_train=1000, n_val=200, n_folds=3, seed=1)
    b = make_splits(SYNTH_INDEX[::-1].copy(), n_train=1000, n_val=200, n_folds=3, seed=1)
    assert sorted(a) == sorted(b) == ["test", "val_0", "val_1", "val_2"]
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


def test_make_splits_differs_for_another_seed():
    a = make_splits(SYNTH_INDEX, n_train=1000, n_val=200, n_folds=2, seed=1)
    b = make_splits(SYNTH_INDEX, n_train=1000, n_val=200, n_folds=2, seed=2)
    for k in a:
        assert not np.array_equal(a[k], b[k]), k


def test_make_splits_sizes_and_disjointness():
    s = make_splits(SYNTH_INDEX, n_train=1000, n_val=200, n_folds=3, seed=1)
    assert s["test"].size == SYNTH_INDEX.size - 1200
    for k in range(3):
        val = s[f"val_{k}"]
        assert val.size == 200 and np.unique(val).size == 200
        assert np.intersect1d(val, s["test"]).size == 0
        assert np.isin(val, SYNTH_INDEX).all()
    assert not np.array_equal(s["val_0"], s["val_1"])


def test_make_splits_refuses_too_few_molecules():
    with pytest.raises(ValueError):
        make_splits(np.arange(100), n_train=90, n_val=10)


@pytest.fixture(scope="module")
def folds():
    return [load_split(k) for k in range(N_FOLDS)]


def test_stored_split_sizes_are_100000_10000_20831(folds):
    for s in folds:
        assert (s.train.size, s.val.size, s.test.size) == (100_000, 10_000, 20_831)


def test_train_val_test_are_disjoint_and_cover_all_of_qm9_in_every_fold(folds, qm9):
    for s in folds:
        assert np.intersect1d(s.train, s.val).size == 0
        assert np.intersect1d(s.train, s.test).size == 0
        assert np.intersect1d(s.val, s.test).size == 0
        union = np.concatenate([s.train, s.val, s.test])
        assert np.unique(union).size == union.size == len(qm9)
        np.testing.assert_array_equal(np.sort(union), qm9.index)


def test_folds_share_the_test_set_but_differ_in_validation_and_training(folds):
    for a in range(N_FOLDS):
        np.testing.assert_array_equal(folds[a].test, folds[0].test)
        for b in range(a + 1, N_FOLDS):
            assert not np.array_equal(folds[a].val, folds[b].val)
            assert not np.array_equal(folds[a].train, folds[b].train)


def test_stored_split_is_what_make_splits_gives_for_qm9(folds, qm9):
    fresh = make_splits(qm9.index)
    np.testing.assert_array_equal(fresh["test"], folds[0].test)
    for k, s in enumerate(folds):
        np.testing.assert_array_equal(fresh[f"val_{k}"], s.val)


def test_split_hash_is_stable_and_differs_across_folds(folds):
    hashes = [s.sha256 for s in folds]
    assert hashes == [load_split(k).sha256 for k in range(N_FOLDS)]
    assert len(set(hashes)) == N_FOLDS
    # checkpoints store this hash: a change of the split file invalidates every trained model
    assert hashes[0] == "fcbeaef4e601d411"


def test_split_hash_does_not_depend_on_order(folds):
    s = folds[1]
    shuffled = type(s)(fold=s.fold, train=s.train[::-1].copy(), val=np.random.default_rng(0).permutation(s.val),
                       test=s.test)
    assert shuffled.sha256 == s.sha256


def test_load_split_rejects_a_fold_out_of_range():
    with pytest.raises(ValueError):
        load_split(N_FOLDS)
    with pytest.raises(ValueError):
        load_split(-1)


def test_random_subset_is_a_seeded_draw_over_the_whole_split():
    from xatom.data import random_subset

    rows = np.arange(10_000)  # sorted like QM9 (by size)
    sub = random_subset(rows, 500, seed=1)
    assert sub.size == 500 and np.unique(sub).size == 500 and np.all(np.diff(sub) > 0)
    assert sub.max() > 9_000 and sub.min() < 1_000  # not the first 500
    np.testing.assert_array_equal(sub, random_subset(rows, 500, seed=1))
    assert not np.array_equal(sub, random_subset(rows, 500, seed=2))
    np.testing.assert_array_equal(random_subset(rows, None), rows)
    with pytest.raises(ValueError, match="between 1 and 10000"):
        random_subset(rows, 0)
