"""Read the development set (../shared/corpus/dev + seeds) the way analysis does, and label its sentences from the gold.

Each document is normalised, parsed into sentences and its actors linked exactly as `atlas analyze` does
(without the dev set's extra actor file: held-out documents bring actors nobody listed). A sentence is
labelled with the types of the gold events whose evidence quote it contains. The parse is cached in
/tmp so that cross-validation runs do not parse again.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from influence_atlas.extract.actors import link_actors
from influence_atlas.nlp import parse
from influence_atlas.ontology import load_actor_catalog
from influence_atlas.pipeline import ANALYSIS_NEEDS, _sentence_spans, build_document
from influence_atlas.records import Document, Mention
from influence_atlas.text.readers import iter_files, read_sources

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus"
CACHE = Path(os.environ.get("ATLAS_EVENTS_DEVSET_CACHE", "/tmp/atlas-events-devset.pkl"))
# The cross-source set (16 documents, four events told by four outlets): a held-out check, read the same way.
CROSS_CACHE = Path(os.environ.get("ATLAS_EVENTS_CROSS_CACHE", "/tmp/atlas-events-crossset.pkl"))


@dataclass
class ParsedDoc:
    """One development document as analysis sees it, with its gold annotation."""

    doc: Document
    sentences: list[tuple[int, int]]
    mentions: list[Mention]
    gold: dict


def gold_paths(which: str = "dev") -> list[Path]:
    """Return the gold files of the development set (dev + seeds) or of the cross-source set."""
    if which == "cross":
        return [p for p in (CORPUS / "cross" / "gold").glob("*.json") if p.name not in ("cross.json", "actors_extra.json")]
    return list((CORPUS / "dev" / "gold").glob("*.json")) + list((CORPUS / "gold").glob("0*.json"))


def gold_files(which: str = "dev") -> dict[str, dict]:
    """Return the gold annotation of every document of the set, by file name."""
    out = {}
    for path in gold_paths(which):
        g = json.loads(path.read_text(encoding="utf-8"))
        out[g["doc"]] = g
    return out


def load_devset(refresh: bool = False, which: str = "dev") -> list[ParsedDoc]:
    """Return the 31 development documents (or the 16 cross-source ones) parsed and linked (cached in /tmp)."""
    cache = CROSS_CACHE if which == "cross" else CACHE
    if cache.exists() and not refresh:
        return pickle.loads(cache.read_bytes())
    golds = gold_files(which)
    catalog = load_actor_catalog(())
    out = []
    folders = [CORPUS / "cross" / "docs"] if which == "cross" else [CORPUS / "dev" / "docs", CORPUS / "seeds"]
    for item in iter_files(folders):
        for source in read_sources(item):
            doc = build_document(source)
            if doc.name not in golds:
                continue
            entities, sentences = [], []
            for offset, sdoc in parse(doc.text, doc.language, ANALYSIS_NEEDS):
                entities.extend((offset + e.start_char, offset + e.end_char, e.label_) for e in sdoc.ents
                                if not all(t.is_stop or t.is_punct for t in e))
                sentences.extend(_sentence_spans(doc.text, offset, sdoc))
            mentions, _ = link_actors(doc.id, doc.text, entities, catalog)
            out.append(ParsedDoc(doc, sentences, mentions, golds[doc.name]))
    out.sort(key=lambda p: p.doc.name)
    cache.write_bytes(pickle.dumps(out))
    return out


def _norm(s: str) -> str:
    s = unicodedata.normalize("NFKC", s or "")
    return re.sub(r"\s+", " ", s.replace("’", "'")).strip().casefold()


def sentence_labels(p: ParsedDoc) -> list[set[str]]:
    """Return, per sentence, the types of the gold events whose evidence it holds (start of the quote suffices)."""
    texts = [_norm(p.doc.text[s:e]) for s, e in p.sentences]
    labels: list[set[str]] = [set() for _ in texts]
    for ev in p.gold["events"]:
        quote = _norm(ev["evidence"])
        words = quote.split()
        probes = [quote, " ".join(words[:6]), " ".join(words[-6:])]
        for probe in probes:
            hits = [i for i, t in enumerate(texts) if probe and probe in t]
            if hits:
                labels[hits[0]].add(ev["type"])
                break
    return labels
