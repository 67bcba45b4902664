"""Print every claim record of the executed notebooks, optionally beside an earlier set (before → after):

    python tools/claims_table.py [BEFORE_DIR]      # records of notebooks/output/claims/*.json
"""
import sys
from pathlib import Path

from xatom.analysis.claims import interval_text, read_claims

CLAIMS = Path(__file__).resolve().parents[1] / "notebooks" / "output" / "claims"


def records(folder):
    return {(path.stem[:2], c.id): c for path in sorted(Path(folder).glob("*.json")) for c in read_claims(path)}


def cell(c):
    return "—" if c is None else f"{c.value:.3g} {interval_text(c)} → {c.verdict}"


if __name__ == "__main__":
    after = records(CLAIMS)
    before = records(sys.argv[1]) if len(sys.argv) > 1 else {}
    print("| nb | claim | threshold | " + ("before | after |" if before else "value [95 % interval] → verdict |"))
    print("| --- | --- | --- | " + ("--- | --- |" if before else "--- |"))
    for key in sorted(set(after) | set(before)):
        c = after.get(key) or before[key]
        row = f"| {key[0]} | {key[1]} | {c.comparison} {c.threshold:g} | "
        print(row + (f"{cell(before.get(key))} | {cell(after.get(key))} |" if before else f"{cell(after.get(key))} |"))
