"""The tolerant output comparison of notebooks/conftest.py (checked notebook cells on any CPU)."""
import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("notebooks_conftest",
                                               Path(__file__).parents[1] / "notebooks" / "conftest.py")
nbconf = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(nbconf)
numeric_mismatch = nbconf.numeric_mismatch

SAVED_TABLE = """\
                r(charges)  MAD on surface (kcal/mol)  sites
molecule
methane              1.000                      6.862      4
benzene              1.000                      8.562      6
"""


def test_a_last_digit_one_unit_off_passes():
    # the failure of issue 16: 8.563 on an Intel Xeon where the AMD EPYC saved 8.562
    assert numeric_mismatch(SAVED_TABLE, SAVED_TABLE.replace("8.562", "8.563")) is None
    assert numeric_mismatch("dipole 0.038 D", "dipole 0.040 D") is None  # 2 units of the last digit


def test_numbers_beyond_the_tolerance_fail_and_are_named():
    # 1e-3 of 8.57 is 0.0086 (more than 2 units of 0.001): 8.570 passes, 8.572 fails
    assert numeric_mismatch(SAVED_TABLE, SAVED_TABLE.replace("8.562", "8.570")) is None
    message = numeric_mismatch(SAVED_TABLE, SAVED_TABLE.replace("8.562", "8.572"))
    assert message is not None and "saved 8.562, new 8.572" in message and "line 4" in message
    assert numeric_mismatch("dipole 0.038 D", "dipole 0.041 D") is not None


def test_the_relative_tolerance_serves_values_printed_with_many_digits():
    # 1e-3 of 1755.3 is 1.76, far more than 2 units of the last digit (0.2)
    assert numeric_mismatch("mean -1755.3", "mean -1754.1") is None
    assert numeric_mismatch("mean -1755.3", "mean -1753.4") is not None


def test_the_tolerance_is_exact_at_its_boundary_and_symmetric():
    # decimal arithmetic: 0.038 vs 0.040 differs by exactly 2 units, not by 0.0020000000000000018
    assert numeric_mismatch("0.040", "0.038") is None and numeric_mismatch("0.038", "0.040") is None
    assert numeric_mismatch("0.037", "0.040") is not None and numeric_mismatch("0.040", "0.037") is not None


def test_exponents_and_signs():
    assert numeric_mismatch("lr 1.5e-05", "lr 1.6e-05") is None  # last digit 1e-6: 2 units
    assert numeric_mismatch("lr 1.5e-05", "lr 1.8e-05") is not None
    assert numeric_mismatch("x = -0.00", "x = 0.00") is None  # a sign flip of a rounded zero
    assert numeric_mismatch("q \u22120.24 e", "q -0.24 e") is None  # U+2212 minus is a minus
    assert numeric_mismatch("shift +0.4.", "shift -0.4.") is not None


def test_changed_words_fail():
    message = numeric_mismatch("C: 1.2 holds", "C: 1.2 does not hold")
    assert message is not None and "holds" in message
    assert numeric_mismatch("H 0.5\nC 0.4", "H 0.5 C 0.4") is not None  # line breaks are text


def test_a_changed_count_of_numbers_fails():
    message = numeric_mismatch("values 1.0 2.0", "values 1.0 2.0 3.0")
    assert message is not None and "2 numbers" in message and "3" in message


def test_integers_must_be_equal():
    # counts, indices and sizes: no tolerance, however large the number
    assert numeric_mismatch("molecules 130831", "molecules 130832") is not None
    assert numeric_mismatch("3 folds", "2 folds") is not None
    assert numeric_mismatch("minimum -0 kcal/mol", "minimum 0 kcal/mol") is None  # equal values
    # an integer on one side and a float on the other is a change of format
    assert "printed as 5" in numeric_mismatch("5 atoms", "5.0 atoms")


def test_digits_in_words_and_versions_are_text():
    assert numeric_mismatch("QM9 C6H6O sp3", "QM9 C6H6O sp3") is None
    assert numeric_mismatch("QM9 molecule", "QM8 molecule") is not None
    assert numeric_mismatch("nbval 0.11.0", "nbval 0.11.1") is not None


def test_column_padding_may_move():
    # a number that gains a digit or a sign widens a column: pandas and f"{x:5.2f}" pad differently
    saved = "     E   q\nH  9.99 0.10\n"
    assert numeric_mismatch(saved, "      E   q\nH 10.00 0.10\n") is None
    assert numeric_mismatch(" 9.99|", "10.00|") is None
    assert numeric_mismatch("a b 1.0", "a  b 1.0") is None  # a run of spaces is one space
    assert numeric_mismatch("a b 1.0", "ab 1.0") is not None


def test_a_checked_text_compares_with_tolerance_through_nbval():
    """nbval compares ``saved != new`` on what ``sanitize`` returns: the subclass makes that tolerant."""
    from nbval.plugin import IPyNbCell

    assert issubclass(nbconf.NumericToleranceCell, IPyNbCell)
    saved, near, far = (nbconf.NumericText(t) for t in ("E 8.562", "E 8.563", "E 8.600"))
    assert not (saved != near) and saved == "E 8.563"
    assert saved != far
    with pytest.raises(TypeError):
        hash(saved)
