"""The development set's gold stances beside the stored documents they score, for the stance training scripts.

`gold_documents(work)` reads the gold folder and database that `scripts/score_devset.py --work WORK` builds and yields,
for each stored document that has a gold file, its file name, its gold record, the document, its sentences and the
store; `alias` maps an actor name to the independent scorer's key (`../shared/tools/score_gold.py`)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(ROOT / "src"))

from influence_atlas.pipeline import document_sentences  # noqa: E402
from influence_atlas.store import open_store  # noqa: E402

_spec = importlib.util.spec_from_file_location("score_gold", SHARED / "tools" / "score_gold.py")
score_gold = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(score_gold)

# Files of the gold folder that are not one document's gold.
_NOT_DOCUMENTS = ("actors.json", "narratives.json", "cross.json", "actors_extra.json")


def scorer_alias(work: Path):
    """Return the scorer's actor-name key function over the run's gold actors and the shared catalogues."""
    return score_gold.Aliases(work / "gold" / "actors.json", SHARED / "corpus" / "gold" / "actors.json",
                              SHARED / "corpus" / "dev" / "actors_extra.json")


def gold_documents(work: Path):
    """Yield (file name, gold record, document, sentences, store) for each stored document with a gold file."""
    golds = {}
    for f in sorted((work / "gold").glob("*.json")):
        if f.name not in _NOT_DOCUMENTS:
            g = json.loads(f.read_text())
            golds[g["doc"]] = g
    store = open_store(str(work / "atlas.db"))
    for doc in store.documents():
        key = Path(doc.name or doc.path).name
        if key in golds:
            yield key, golds[key], doc, document_sentences(doc), store


def cached_rows(cache: str, collect, work: Path):
    """Return `collect(work)`, kept as JSON in the file `cache` and read from it when present (no file when `cache` is
    empty), so a second fit does not analyse the development run again."""
    path = Path(cache) if cache else None
    if path and path.exists():
        return json.loads(path.read_text())
    rows = collect(work)
    if path:
        path.write_text(json.dumps(rows))
    return rows
