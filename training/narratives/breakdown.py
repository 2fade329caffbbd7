#!/usr/bin/env python3
"""Break the narrative errors of a JSON export down: narratives missed, narratives found that the gold does not hold,
and present narratives with the wrong mode, per document, per narrative and per group (all, dev28, seeds, en, fr).

    .venv/bin/python scripts/score_devset.py --work /tmp/narratives-dev
    .venv/bin/python training/narratives/breakdown.py /tmp/narratives-dev/export.json /tmp/narratives-dev/gold

The gold folder is the combined one `scripts/score_devset.py` writes next to its export (one JSON file per document,
the format of `../shared/corpus/gold/README.md`); documents whose names start with three digits are the seeds.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict
from pathlib import Path

KINDS = ("gold", "system", "right", "missed", "extra", "wrong_mode")


def pairs_by_document(export: dict) -> dict[str, set[tuple[str, str]]]:
    """Return the (narrative, mode) pairs of the export per document name."""
    names = {d["id"]: d["name"] for d in export["documents"]}
    out: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for hit in export["narratives"]:
        out[names[hit["doc"]]].add((hit["narrative"], hit["mode"]))
    return out


def breakdown(export: dict, gold_dir: Path) -> tuple[list[tuple], dict[str, Counter], dict[str, Counter]]:
    """Return per-document rows (name, language, missed, extra, wrong mode), the counts per group and per narrative."""
    system = pairs_by_document(export)
    stems = {Path(name).stem: name for name in system}
    rows, groups, narratives = [], defaultdict(Counter), defaultdict(Counter)
    for path in sorted(gold_dir.glob("*.json")):
        g = json.loads(path.read_text(encoding="utf-8"))
        if "doc" not in g or "narratives" not in g:
            continue
        name, language = g["doc"], g.get("language", "en")
        gold = {(n, m) for m in ("endorsed", "reported") for n in g["narratives"].get(m, [])}
        found = system.get(stems.get(Path(name).stem, name), set())
        gold_ids, found_ids = {n for n, _ in gold}, {n for n, _ in found}
        missed, extra = gold_ids - found_ids, found_ids - gold_ids
        wrong = {n for n in gold_ids & found_ids if not gold & found & {(n, "endorsed"), (n, "reported")}}
        counts = dict(zip(KINDS, (len(gold), len(found), len(gold & found), len(missed), len(extra), len(wrong))))
        for key in ("all", "seeds" if name[:3].isdigit() else "dev28", language):
            groups[key].update(counts)
        for n in missed:
            narratives[n]["missed"] += 1
        for n in extra:
            narratives[n]["extra"] += 1
        for n in wrong:
            narratives[n]["wrong_mode"] += 1
        for n in gold_ids & found_ids - wrong:
            narratives[n]["right"] += 1
        rows.append((name, language, sorted(missed), sorted(extra), sorted(wrong)))
    return rows, groups, narratives


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("export", help="JSON export (atlas export --format json)")
    ap.add_argument("gold", help="folder of gold JSON files, one per document")
    a = ap.parse_args()
    rows, groups, narratives = breakdown(json.loads(Path(a.export).read_text(encoding="utf-8")), Path(a.gold))
    for name, language, missed, extra, wrong in rows:
        if missed or extra or wrong:
            print(f"{name[:48]:48s} {language}  missed {','.join(missed) or '-':12s} extra {','.join(extra) or '-':10s} "
                  f"wrong mode {','.join(wrong) or '-'}")
    print()
    print(f"{'group':8s}" + "".join(f"{k:>11s}" for k in KINDS))
    for key in ("all", "dev28", "seeds", "en", "fr"):
        print(f"{key:8s}" + "".join(f"{groups[key][k]:11d}" for k in KINDS))
    print()
    print(f"{'narrative':10s}" + "".join(f"{k:>11s}" for k in ("right", "missed", "extra", "wrong_mode")))
    for n in sorted(narratives):
        print(f"{n:10s}" + "".join(f"{narratives[n][k]:11d}" for k in ("right", "missed", "extra", "wrong_mode")))


if __name__ == "__main__":
    main()
