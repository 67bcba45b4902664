"""Claims as data: one record per claim of the paper that a notebook checks, with the statistic, the threshold
fixed in code before the numbers are looked at, the value, its 95 % interval and a verdict out of three.

A notebook makes the records (:func:`claim`, usually from a :class:`~xatom.analysis.bootstrap.Estimate`), shows them
(:func:`show_claims`) and writes them beside the executed notebook (:func:`write_claims`,
``$XATOM_OUTPUT/claims/<notebook stem>.json``); :mod:`xatom.report` reads those files, never the printed text.

Verdicts, for ``value > threshold`` (mirror image for ``<``):

* ``"holds"`` — the whole interval lies above the threshold;
* ``"does not hold"`` — the whole interval lies at or below it;
* ``"undecided"`` — the interval straddles it.

A claim without sampling uncertainty (a count, an exact invariance test, a p-value) has no interval and is decided
by its value alone.
"""
from __future__ import annotations

import html
import json
import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from ..errors import ClaimError, DataFormatError
from ..files import write_atomic
from .bootstrap import Estimate

HOLDS, FAILS, UNDECIDED = "holds", "does not hold", "undecided"
VERDICTS = (HOLDS, FAILS, UNDECIDED)
COLOURS = {HOLDS: "#d4edda", FAILS: "#f8d7da", UNDECIDED: "#fff3cd"}
"""Background colour of each verdict in HTML tables (green, red, amber)."""
COMPARISONS = (">", "<")
CLAIMS_DIR = "claims"
"""Sub-folder of the output folder that holds one ``<notebook stem>.json`` per notebook."""


@dataclass(frozen=True)
class Claim:
    """One checked claim.

    Attributes:
        id: short unique name within its notebook, e.g. ``"T1-energy-mae"``.
        sentence: the paper's sentence (or the claim in plain words).
        statistic: what was measured, e.g. ``"MAE(BP) − MAE(SchNet)"``.
        definition: how it is computed, with its unit and the resampling unit.
        comparison: ``">"`` or ``"<"``: the claim holds when ``value <comparison> threshold``.
        threshold: fixed in code before the numbers are looked at (unit of the statistic).
        value: the statistic of the data.
        low, high: its interval at ``confidence``; None when the value has no sampling uncertainty.
        unit: unit of value and threshold ("" when dimensionless).
        confidence: coverage of the interval, e.g. 0.95.
        n_resamples, seed: of the bootstrap that made the interval (0, None without one).
        note: anything a reader needs to judge the verdict.
    """

    id: str
    sentence: str
    statistic: str
    definition: str
    comparison: str
    threshold: float
    value: float
    low: float | None = None
    high: float | None = None
    unit: str = ""
    confidence: float = 0.95
    n_resamples: int = 0
    seed: int | None = None
    note: str = ""

    def __post_init__(self):
        if self.comparison not in COMPARISONS:
            raise ClaimError(f"claim {self.id!r}: comparison must be one of {COMPARISONS}; got {self.comparison!r}")
        for name in ("threshold", "value"):
            if not math.isfinite(getattr(self, name)):
                raise ClaimError(f"claim {self.id!r}: {name} must be finite; got {getattr(self, name)}")
        if (self.low is None) != (self.high is None):
            raise ClaimError(f"claim {self.id!r}: give both ends of the interval or neither; got "
                             f"{self.low}, {self.high}")
        if self.low is not None and not (math.isfinite(self.low) and math.isfinite(self.high)
                                         and self.low <= self.high):
            raise ClaimError(f"claim {self.id!r}: interval must be finite with low ≤ high; got "
                             f"[{self.low}, {self.high}]")

    @property
    def verdict(self) -> str:
        """``"holds"``, ``"does not hold"`` or ``"undecided"`` (see the module docstring)."""
        low, high = (self.value, self.value) if self.low is None else (self.low, self.high)
        if self.comparison == ">":
            return HOLDS if low > self.threshold else FAILS if high <= self.threshold else UNDECIDED
        return HOLDS if high < self.threshold else FAILS if low >= self.threshold else UNDECIDED

    def to_dict(self) -> dict:
        """JSON-ready fields plus the verdict (written for readers; recomputed when read)."""
        return {**asdict(self), "verdict": self.verdict}

    @classmethod
    def from_dict(cls, record: dict) -> "Claim":
        """The record written by :meth:`to_dict`; refuses one whose stored verdict disagrees with its numbers."""
        record = dict(record)
        stored = record.pop("verdict", None)
        try:
            made = cls(**record)
        except TypeError as err:
            raise DataFormatError(f"claim record {record.get('id')!r} has unknown or missing fields: {err}") from err
        if stored is not None and stored != made.verdict:
            raise DataFormatError(f"claim {made.id!r}: stored verdict {stored!r} disagrees with its numbers "
                                  f"({made.verdict!r})")
        return made


def claim(id: str, sentence: str, statistic: str, definition: str, comparison: str, threshold: float,
          estimate: Estimate | float, *, unit: str = "", note: str = "") -> Claim:
    """Make a :class:`Claim` from a bootstrap :class:`Estimate` (value and interval) or a plain number (no interval).

    Args:
        id, sentence, statistic, definition, comparison, threshold, unit, note: see :class:`Claim`.
        estimate: from :func:`xatom.analysis.bootstrap.bootstrap`, or a number without sampling uncertainty.
    """
    if isinstance(estimate, Estimate):
        return Claim(id, sentence, statistic, definition, comparison, float(threshold), estimate.value,
                     estimate.low, estimate.high, unit, estimate.confidence, estimate.n_resamples, estimate.seed,
                     note)
    return Claim(id, sentence, statistic, definition, comparison, float(threshold), float(estimate), unit=unit,
                 note=note)


def _number(x: float) -> str:
    """Three significant digits, always with a decimal point (``-1.0``, not ``-1``), so that a notebook check
    reads every printed value as a float and compares it with a tolerance, never as an exact integer."""
    text = f"{x:.3g}"
    return text if any(c in text for c in ".einfa") else text + ".0"


def interval_text(c: Claim) -> str:
    """``"[low, high]"`` (with its confidence when not 95 %) or ``"exact"`` when the claim has no interval."""
    if c.low is None:
        return "exact"
    return f"[{_number(c.low)}, {_number(c.high)}]" + ("" if c.confidence == 0.95 else f" ({c.confidence:.0%})")


def claims_table(claims) -> pd.DataFrame:
    """One line per claim (indexed by id): sentence, statistic, value, interval, threshold, unit, verdict."""
    rows = [{"id": c.id, "claim": c.sentence, "statistic": c.statistic, "value": _number(c.value),
             "interval": interval_text(c), "threshold": f"{c.comparison} {_number(c.threshold)}",
             "unit": c.unit, "verdict": c.verdict} for c in claims]
    columns = ["id", "claim", "statistic", "value", "interval", "threshold", "unit", "verdict"]
    table = pd.DataFrame(rows)
    return (table if rows else pd.DataFrame(columns=columns)).set_index("id")


def claims_html(claims) -> str:
    """An HTML table of the claims with coloured verdicts; definitions and notes as a second line."""
    head = "".join(f"<th>{h}</th>" for h in ("id", "claim", "statistic", "value", "interval", "threshold",
                                              "verdict"))
    rows = []
    for c in claims:
        detail = html.escape(c.definition) + (f" <i>{html.escape(c.note)}</i>" if c.note else "")
        unit = f" {html.escape(c.unit)}" if c.unit else ""
        rows.append(
            f"<tr><td>{html.escape(c.id)}</td><td>{html.escape(c.sentence)}<br><small>{detail}</small></td>"
            f"<td>{html.escape(c.statistic)}</td><td>{_number(c.value)}{unit}</td><td>{interval_text(c)}</td>"
            f"<td>{html.escape(c.comparison)} {_number(c.threshold)}</td>"
            f'<td class="verdict" style="background:{COLOURS[c.verdict]}"><b>{c.verdict}</b></td></tr>')
    return f'<table class="claims"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


class ClaimsView:
    """What a notebook cell shows: the coloured HTML table, and a plain-text table (stable, for nbval)."""

    def __init__(self, claims):
        self.claims = list(claims)

    def _repr_html_(self) -> str:
        return claims_html(self.claims)

    def __repr__(self) -> str:
        table = claims_table(self.claims)
        return table.drop(columns="claim").to_string()


def show_claims(claims) -> ClaimsView:
    """Display the claims in a notebook (HTML with coloured verdicts; plain text elsewhere)."""
    return ClaimsView(claims)


def output_dir() -> Path:
    """The output folder: ``$XATOM_OUTPUT`` (set by ``xatom reproduce``), else ``output`` (relative)."""
    return Path(os.environ.get("XATOM_OUTPUT", "output"))


def claims_path(notebook: str, output: Path | None = None) -> Path:
    """``<output>/claims/<notebook stem>.json``; ``notebook`` is a stem or a file name."""
    return Path(output if output is not None else output_dir()) / CLAIMS_DIR / f"{Path(notebook).stem}.json"


def write_claims(notebook: str, claims, output: Path | None = None) -> Path:
    """Write the claim records of ``notebook`` (its stem, e.g. ``"01_training_table"``); returns the file.

    Args:
        notebook: the notebook's stem or file name.
        claims: the :class:`Claim` records; their ids must be unique.
        output: output folder; default :func:`output_dir`.
    """
    claims = list(claims)
    ids = [c.id for c in claims]
    if len(set(ids)) != len(ids):
        raise ClaimError(f"claim ids must be unique in {notebook}; repeated: "
                         f"{sorted({i for i in ids if ids.count(i) > 1})}")
    path = claims_path(notebook, output)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"notebook": Path(notebook).stem, "claims": [c.to_dict() for c in claims]}
    write_atomic(path, json.dumps(record, indent=1, ensure_ascii=False) + "\n")
    return path


def read_claims(path: Path) -> list[Claim]:
    """The claims of one file written by :func:`write_claims`."""
    try:
        record = json.loads(Path(path).read_text())
        return [Claim.from_dict(c) for c in record["claims"]]
    except (json.JSONDecodeError, KeyError, TypeError) as err:
        raise DataFormatError(f"{path} is not a claims file: {err}") from err
