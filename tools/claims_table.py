"""Print every claim record of the executed notebooks, optionally beside an earlier set (before → after):

    python tools/claims_table.py [BEFORE_DIR]      # records of notebooks/output/claims/*.json
"""
import json
import sys
from pathlib import Path

CLAIMS = Path(__file__).resolve().parents[1] / "notebooks" / "output" / "claims"


def records(folder):
    out = {}
    for path in sorted(Path(folder).glob("*.json")):
        for r in json.loads(path.read_text())["claims"]:
            out[(path.stem[:2], r["id"])] = r
    return out


def cell(r):
    if r is None:
        return "—"
    low, high = r.get("low"), r.get("high")
    interval = f" [{low:.3g}, {high:.3g}]" if low is not None else ""
    return f"{r['value']:.3g}{interval} → {r['verdict']}"


if __name__ == "__main__":
    after = records(CLAIMS)
    before = records(sys.argv[1]) if len(sys.argv) > 1 else {}
    print("| nb | claim | threshold | " + ("before | after |" if before else "value [95 % interval] → verdict |"))
    print("| --- | --- | --- | " + ("--- | --- |" if before else "--- |"))
    for key in sorted(set(after) | set(before)):
        r = after.get(key) or before[key]
        row = f"| {key[0]} | {key[1]} | {r['comparison']} {r['threshold']:g} | "
        print(row + (f"{cell(before.get(key))} | {cell(after.get(key))} |" if before else f"{cell(after.get(key))} |"))
