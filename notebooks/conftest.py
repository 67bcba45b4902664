"""nbval settings for the notebooks.

* Outputs that legitimately vary (py3Dmol/widget HTML with time-based ids, JavaScript, warnings on stderr) are never
  compared.
* Checked cells (``# NBVAL_CHECK_OUTPUT``) compare their text outputs number by number with a tolerance and the
  rest of the text exactly. Another CPU or kernel dispatch (AVX-512 vs AVX2, one thread vs several) adds in another
  order, and a value near a rounding boundary then prints its last digit one unit off (8.563 vs 8.562): no failure.

The rule (:func:`numeric_mismatch`; tested in ``tests/test_nbval_numeric.py``):

* A number with a decimal point or an exponent (``8.562``, ``-0.24``, ``1.5e-05``) is a measured value. It passes
  when |new − saved| ≤ max(1e-3 · max(|new|, |saved|), 2 units of its last printed digit): the relative part serves
  values printed with many digits (-1755.3, 139.665), the units part values printed with few (0.038, 1.2).
* A number without either (``130831``, ``29``, the 3 of "3 folds") is a count, an index or a size and must be equal.
  So must a float printed without decimals (``f"{x:.0f}"``): print a measured value with at least one decimal to
  give it the tolerance. A number printed as an integer on one side and with decimals on the other differs.
* Digits inside words or versions (``QM9``, ``C6H6O``, ``sp3``, ``0.11.0``) are text.
* Text between the numbers must be equal, and so must the count of numbers, except that the width of a run of
  spaces or tabs is free and spaces next to a number may be missing (column padding moves when a number gains a
  digit or a sign). Line breaks count.
"""
from __future__ import annotations

import re
from decimal import Decimal

from nbval.plugin import IPyNbCell

RELATIVE_TOLERANCE = Decimal("1e-3")
LAST_DIGIT_UNITS = 2

# optional sign (ASCII or U+2212), digits with an optional fraction, optional exponent; not part of a word or of
# a dotted version string, and a sentence's full stop after it is not a decimal point
_NUMBER = re.compile(r"(?<![\w.])[-+\u2212]?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?(?!\w|\.[0-9])")
_SPACES = re.compile(r"[ \t]+")


def _split(text: str) -> tuple[list[str], list[str], list[int]]:
    """Numbers of ``text``, the text around them (one more piece than numbers) and each number's line (from 1)."""
    numbers, between, lines, start = [], [], [], 0
    for m in _NUMBER.finditer(text):
        between.append(text[start:m.start()])
        numbers.append(m.group())
        lines.append(text.count("\n", 0, m.start()) + 1)
        start = m.end()
    between.append(text[start:])
    return numbers, between, lines


def _normal_text(piece: str, after_number: bool, before_number: bool) -> str:
    piece = _SPACES.sub(" ", piece)
    if after_number:
        piece = piece.lstrip(" ")
    if before_number:
        piece = piece.rstrip(" ")
    return piece


def _is_float(token: str) -> bool:
    return "." in token or "e" in token or "E" in token


def _value(token: str) -> Decimal:
    return Decimal(token.replace("\u2212", "-"))


def _last_digit_unit(token: str) -> Decimal:
    return Decimal(1).scaleb(_value(token).as_tuple().exponent)


def numeric_mismatch(saved: str, new: str) -> str | None:
    """Compare a checked cell's new text output with the saved one, numbers within tolerance (module docstring).

    Args:
        saved: the output stored in the notebook.
        new: the output of this run.

    Returns:
        None where they agree, else a sentence naming the first difference (line numbers from 1).
    """
    saved_numbers, saved_text, saved_lines = _split(saved)
    new_numbers, new_text, _ = _split(new)
    if len(saved_numbers) != len(new_numbers):
        return f"the saved output holds {len(saved_numbers)} numbers, the new one {len(new_numbers)}"
    last = len(saved_text) - 1
    for i, (a, b) in enumerate(zip(saved_text, new_text)):
        if _normal_text(a, i > 0, i < last) != _normal_text(b, i > 0, i < last):
            where = f"after number {i} ({saved_numbers[i - 1]})" if i else "before the first number"
            return f"the text {where} differs: saved {a!r}, new {b!r}"
    for n, (a, b, line) in enumerate(zip(saved_numbers, new_numbers, saved_lines), start=1):
        if _is_float(a) != _is_float(b):
            return f"number {n} (line {line}) is printed as {a} in the saved output and as {b} in the new one"
        difference = abs(_value(a) - _value(b))
        if not _is_float(a):
            if difference:
                return f"integer {n} (line {line}) differs: saved {a}, new {b} (integers must be equal)"
            continue
        tolerance = max(RELATIVE_TOLERANCE * max(abs(_value(a)), abs(_value(b))),
                        LAST_DIGIT_UNITS * max(_last_digit_unit(a), _last_digit_unit(b)))
        if difference > tolerance:
            return (f"number {n} (line {line}) differs: saved {a}, new {b}, by {difference} > {tolerance} "
                    f"(the larger of {RELATIVE_TOLERANCE} relative and {LAST_DIGIT_UNITS} units of the last digit)")
    return None


class NumericText(str):
    """A text output of a checked cell whose ``==`` is :func:`numeric_mismatch` (nbval compares with ``!=``)."""

    def __eq__(self, other):
        if not isinstance(other, str):
            return NotImplemented
        return numeric_mismatch(str(self), str(other)) is None

    def __ne__(self, other):
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = None  # equal texts may differ in their digits


class NumericToleranceCell(IPyNbCell):
    """nbval's notebook cell, comparing text outputs with :class:`NumericText` and naming the first difference."""

    def sanitize(self, s):
        s = super().sanitize(s)
        return NumericText(s) if isinstance(s, str) else s

    def format_output_compare(self, key, left, right):
        super().format_output_compare(key, left, right)
        if isinstance(left, str) and isinstance(right, str):
            self.comparison_traceback.append(f"  first difference: {numeric_mismatch(left, right)}")


def pytest_collectstart(collector):
    if collector.fspath and collector.fspath.ext == ".ipynb":
        collector.skip_compare += ("text/html", "application/javascript", "application/vnd.jupyter.widget-view+json",
                                   "stderr")


def pytest_itemcollected(item):
    # nbval creates its cells itself; each one becomes the subclass that differs only in how outputs compare
    if type(item) is IPyNbCell:
        item.__class__ = NumericToleranceCell
