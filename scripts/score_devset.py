#!/usr/bin/env python3
"""Score the development set (../shared/corpus/dev + the seeds) or the cross-source set with the independent scorer.

Ingests the documents into a fresh database, analyses them, exports JSON and runs
../shared/tools/score_gold.py on the whole set, the 28 dev documents, the seeds, and English and
French separately. Usage:

    .venv/bin/python scripts/score_devset.py [--set dev|cross] [--work DIR] [--reuse] [--keys a,b]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus"
SCORER = SHARED / "tools" / "score_gold.py"
KEYS = ("event_p", "event_r", "event_f1", "event_date_exact", "claim_recall", "attribution_acc", "stance_sign_acc",
        "stance_mae", "narrative_p", "narrative_r", "narrative_f1", "entity_p", "entity_r", "ttp_p", "ttp_r",
        "cross_links", "cross_pair_p", "cross_pair_r")


def gold_folder(which: str, work: Path) -> tuple[Path, list[Path], Path]:
    """Return (combined gold folder, document folders, extra actors file) for the set."""
    gold = work / "gold"
    if gold.exists():
        shutil.rmtree(gold)
    gold.mkdir(parents=True)
    base = CORPUS / "gold"
    for name in ("actors.json", "narratives.json"):
        shutil.copy(base / name, gold / name)
    if which == "dev":
        for path in list((CORPUS / "dev" / "gold").glob("*.json")) + list(base.glob("0*.json")):
            shutil.copy(path, gold / path.name)
        shutil.copy(base / "cross.json", gold / "cross.json")
        return gold, [CORPUS / "dev" / "docs", CORPUS / "seeds"], CORPUS / "dev" / "actors_extra.json"
    for path in (CORPUS / "cross" / "gold").glob("*.json"):
        shutil.copy(path, gold / path.name)
    return gold, [CORPUS / "cross" / "docs"], CORPUS / "cross" / "actors_extra.json"


def score(export: Path, gold: Path, actors: Path, docs: list[str] | None = None) -> dict:
    cmd = [sys.executable, str(SCORER), str(export), str(gold), "--json", "--actors", str(actors)]
    if docs:
        cmd += ["--docs", ",".join(docs)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", choices=("dev", "cross"), default="dev")
    ap.add_argument("--work", default=None, help="working folder (default /tmp/atlas-<set>)")
    ap.add_argument("--reuse", action="store_true", help="score the existing export without analysing again")
    ap.add_argument("--keys", default="", help="comma-separated figures to print (default: all)")
    a = ap.parse_args()
    work = Path(a.work or f"/tmp/atlas-{a.set}")
    work.mkdir(parents=True, exist_ok=True)
    gold, folders, actors = gold_folder(a.set, work)
    db, export = work / "atlas.db", work / "export.json"
    atlas = [str(Path(sys.executable).parent / "atlas")]
    if not a.reuse:
        db.unlink(missing_ok=True)
        subprocess.run(atlas + ["ingest", "--db", str(db), *map(str, folders)], check=False,
                       stdout=subprocess.DEVNULL)
        subprocess.run(atlas + ["analyze", "--db", str(db)], check=True, stdout=subprocess.DEVNULL)
        subprocess.run(atlas + ["export", "--db", str(db), "--format", "json", str(export)], check=True,
                       stdout=subprocess.DEVNULL)
    golds = {p.name: json.loads(p.read_text()) for p in gold.glob("*.json")
             if p.name not in ("actors.json", "narratives.json", "cross.json")}
    by_lang: dict[str, list[str]] = {}
    for g in golds.values():
        by_lang.setdefault(g.get("language", "en"), []).append(g["doc"])
    rows = {"all": score(export, gold, actors)}
    if a.set == "dev":
        rows["dev28"] = score(export, gold, actors, [g["doc"] for g in golds.values() if not g["doc"][:3].isdigit()])
        rows["seeds"] = score(export, gold, actors, [g["doc"] for g in golds.values() if g["doc"][:3].isdigit()])
    for lang, docs in sorted(by_lang.items()):
        rows[lang] = score(export, gold, actors, docs)
    keys = [k for k in (a.keys.split(",") if a.keys else KEYS) if k]
    print("set".ljust(8) + "".join(k[:16].rjust(17) for k in keys))
    for name, row in rows.items():
        print(name.ljust(8) + "".join(str(row.get(k, "-"))[:16].rjust(17) for k in keys))
    (work / "scores.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
