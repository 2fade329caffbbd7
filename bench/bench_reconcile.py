"""Reconciliation alone at scale: synthetic records written straight into a store, then `pipeline.reconcile` timed.

Usage: .venv/bin/python bench/bench_reconcile.py [--sizes 1000,10000] [--dbs sqlite,postgres] [--save]

No NLP runs: each synthetic document is a few sentences drawn from the stories it retells, with its events, claims,
mentions and stances written as records (`Store.add_document`'s tables, `Store.replace_analyses`). Stories carry
realistic blocking keys: an event type, one to three actors of the packaged actor catalogue (a heavy-tailed draw over
a few hundred names), a date between 2015 and 2024 (day, month or year precision, some undated), a place and a toll.
About one story per six documents, retold by a Zipf-like number of documents with perturbed tolls, date precision
and wording, so linking has real work to do (and a syndicated story is retold hundreds of times at 100k documents).

Each size runs in two subprocesses per database: `generate` (not timed) then `reconcile`, which reports CPU seconds
(all threads of the process; a PostgreSQL server's own processes are not counted), wall seconds, the peak resident
memory of the process (VmHWM, the models and libraries included) and the memory it held before reconciling, and the
links per kind; then (unless `--passes 1`) it reconciles the same store again (`again_*`: the next reconciliation, which reads the encoder
rows the first kept in the store instead of encoding, and must give the same links). The growth figures compare consecutive sizes (x10 documents should cost at most x12 time).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import new_pg_database, pg_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

TYPES = ["armed_clash", "attack", "violence_against_civilians", "protest", "coup", "deployment", "withdrawal",
         "training", "arms_transfer", "agreement", "diplomatic_meeting", "sanction", "media_restriction",
         "information_operation"]
VERBS = {"armed_clash": "fought", "attack": "attacked", "violence_against_civilians": "killed civilians near",
         "protest": "protested against", "coup": "seized power from", "deployment": "deployed troops beside",
         "withdrawal": "withdrew from", "training": "trained", "arms_transfer": "delivered weapons to",
         "agreement": "signed an agreement with", "diplomatic_meeting": "met", "sanction": "sanctioned",
         "media_restriction": "suspended the broadcasts of", "information_operation": "ran a disinformation campaign against"}
MONTHS = "January February March April May June July August September October November December".split()
CLAIM_FORMS = ["{a} said that {n} {unit} were involved in the operation near {place} in {month} {year}.",
               "According to {a}, at least {n} {unit} took part in what happened in {place}.",
               "{a} denied reports that {n} {unit} had been sent to {place}.",
               "Officials close to {a} claimed that {b} was responsible for the events in {place}."]
UNITS = ["soldiers", "civilians", "mercenaries", "instructors", "people", "fighters"]
FILLER = ["The situation in the region remains tense according to local observers and humanitarian groups.",
          "Analysts say the security crisis has deepened over the past several years across the Sahel.",
          "Several media outlets relayed the account on social networks within hours of its publication.",
          "Residents interviewed by telephone described a climate of fear and uncertainty in the area.",
          "Diplomats in the capital declined to comment on the reports when contacted this week."]


def catalogue_actors() -> list[str]:
    """Return the canonical names of the packaged actor catalogue most likely to key a block, in catalogue order."""
    from influence_atlas.ontology import load_actor_catalog

    return [e.name for e in load_actor_catalog().entries
            if e.kind in ("person", "armed_group", "state", "government_body", "igo", "company", "party")][:400]


def stories(n_docs: int, seed: int) -> list[dict]:
    """Return the happenings the synthetic documents retell: about one per six documents."""
    rng = random.Random(seed)
    actors = catalogue_actors()
    weights = [1 / (i + 1) ** 0.9 for i in range(len(actors))]
    out = []
    for s in range(max(20, n_docs // 6)):
        etype = rng.choice(TYPES)
        names = list(dict.fromkeys(rng.choices(actors, weights, k=rng.randint(1, 3))))
        year, month, day = rng.randint(2015, 2024), rng.randint(1, 12), rng.randint(1, 28)
        r = rng.random()
        date = None if r < 0.1 else str(year) if r < 0.3 else f"{year}-{month:02d}" if r < 0.6 else f"{year}-{month:02d}-{day:02d}"
        place = f"Kel{rng.randint(1, 5000)}ville"
        toll = rng.randint(2, 600) if etype in ("attack", "armed_clash", "violence_against_civilians") else None
        other = names[1] if len(names) > 1 else rng.choice(actors)
        when = f"on {day} {MONTHS[month - 1]} {year}" if date and len(date) == 10 else \
            f"in {MONTHS[month - 1]} {year}" if date and len(date) == 7 else f"in {year}" if date else "recently"
        ev = [f"{names[0]} {VERBS[etype]} {other} near {place} {when}" + (f", leaving {toll} dead." if toll else "."),
              f"Reports say {names[0]} {VERBS[etype]} {other} in the {place} area {when}."]
        fill = dict(a=names[0], b=other, n=rng.randint(10, 900), unit=rng.choice(UNITS), place=place,
                    month=MONTHS[month - 1], year=year)
        claims = [form.format(**fill) for form in rng.sample(CLAIM_FORMS, 3)]
        out.append(dict(type=etype, actors=names, date=date, place=place, toll=toll, events=ev, claims=claims))
    return out


def synthetic_analyses(n_docs: int, seed: int, start: int = 0, count: int | None = None):
    """Yield (Document, Analysis) for documents start .. start+count of the synthetic corpus of n_docs documents."""
    from influence_atlas.records import Actor, Analysis, Claim, Document, Event, EventActor, Mention, Stance

    told = stories(n_docs, seed)
    story_weights = [1 / (i + 1) ** 0.6 for i in range(len(told))]
    for i in range(start, min(n_docs, start + (count or n_docs))):
        rng = random.Random(f"{seed}:{i}")
        picks = list(dict.fromkeys(rng.choices(range(len(told)), story_weights, k=rng.randint(1, 2))))
        parts: list[tuple[str, str, dict]] = []  # (kind, sentence, story)
        for k in picks:
            st = told[k]
            parts.append(("event", rng.choice(st["events"]), st))
            for c in rng.sample(st["claims"], rng.randint(1, 2)):
                parts.append(("claim", c, st))
        parts.insert(rng.randint(0, len(parts)), ("filler", rng.choice(FILLER), None))
        text, spans = "", []
        for kind, sentence, st in parts:
            spans.append((kind, len(text), len(text) + len(sentence), sentence, st))
            text += sentence + " "
        text += f"\nDispatch {i}."
        doc_id = hashlib.sha256(text.encode()).hexdigest()
        lang = "fr" if rng.random() < 0.1 else "en"
        doc = Document(doc_id, f"syn{i:07d}", f"synthetic/{i}", text, title=f"Dispatch {i}", language=lang,
                       published=f"{rng.randint(2015, 2024)}-01-01", words=len(text.split()))
        events, claims, mentions, stances, actors = [], [], [], [], {}
        for n, (kind, s, e, sentence, st) in enumerate(spans):
            if st is None:
                continue
            for name in st["actors"]:
                at = sentence.find(name)
                if at >= 0:
                    mentions.append(Mention(doc_id, s + at, s + at + len(name), name, "ORG", name, "bench", 1.0))
                    actors[name] = Actor(name, "organisation")
            if kind == "event":
                date = st["date"] if rng.random() < 0.7 or not st["date"] else st["date"][:4]
                toll = None if st["toll"] is None else max(1, int(st["toll"] * rng.uniform(0.6, 1.5)))
                acts = tuple(EventActor(a, "agent" if j == 0 else "target") for j, a in enumerate(st["actors"]))
                events.append(Event(f"ev_{doc_id[:12]}{n}", doc_id, st["type"], date, None, acts, st["place"], None, None,
                                    toll, None, "asserted", s, e, sentence, "bench", "bench", 0.8))
            else:
                claims.append(Claim(f"cl_{doc_id[:12]}{n}", doc_id, s, e, sentence, 0.8, (), None, None, None, False, (),
                                    "bench", 0.8))
        for name in list(actors)[:2]:
            span = next((s, e) for _, s, e, sentence, st in spans if st and name in sentence)
            stances.append(Stance(doc_id, name, round(rng.uniform(-2, 2), 2), (span,), "bench", 0.6))
        yield doc, Analysis(doc_id, mentions, list(actors.values()), events, claims, stances)


def generate(url: str, n_docs: int, seed: int) -> dict:
    """Write the synthetic corpus of n_docs documents into the store at url; return counts."""
    from sqlalchemy import insert, text as sql

    from influence_atlas.store import open_store
    from influence_atlas.store.schema import documents

    store = open_store(url)
    counts = dict(documents=0, events=0, claims=0, stances=0, mentions=0)
    batch = 500
    for lo in range(0, n_docs, batch):
        pairs = list(synthetic_analyses(n_docs, seed, lo, batch))
        with store.transaction() as conn:  # documents in bulk: Store.add_document's columns, one statement per batch
            conn.execute(insert(documents), [dict(id=d.id, name=d.name, path=d.path, title=d.title, language=d.language,
                                                  published=d.published, published_estimated=False, authors="[]",
                                                  genre=None, url=None, outlet=None, words=d.words, text=d.text,
                                                  ingested_at="2026-01-01T00:00:00") for d, _ in pairs])
            if store.dialect == "sqlite":
                conn.execute(sql("INSERT INTO documents_fts(doc_id, title, body) VALUES (:i, :t, :b)"),
                             [{"i": d.id, "t": d.title, "b": d.text} for d, _ in pairs])
        store.replace_analyses([a for _, a in pairs], "bench")
        counts["documents"] += len(pairs)
        for _, a in pairs:
            for k in ("events", "claims", "stances", "mentions"):
                counts[k] += len(getattr(a, k))
    store.close()
    return counts


def vm_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def stand_in_encoder(texts: list[str]) -> "np.ndarray":
    """Return 384-wide rows for texts without a model: the normalised sum of a fixed pseudo-random row per word (seeded
    by the word's crc32), so retellings of one story are near each other. For measuring pair scoring at sizes where
    the real encoders would take hours (`--stand-in-encoder`); the links differ from the real encoders' links."""
    import re
    import zlib

    import numpy as np

    out = np.zeros((len(texts), 384), np.float32)
    for i, text in enumerate(texts):
        for word in re.findall(r"\w+", text.lower()):
            row = _WORD_ROWS.get(word)
            if row is None:
                if len(_WORD_ROWS) >= 50_000:  # every document has a number of its own: bound the memo, not the rows
                    _WORD_ROWS.clear()
                row = _WORD_ROWS[word] = np.random.default_rng(zlib.crc32(word.encode())).standard_normal(384).astype(np.float32)
            out[i] += row
        norm = float(np.linalg.norm(out[i]))
        out[i] /= norm if norm else 1.0
    return out


_WORD_ROWS: dict = {}


def run_reconcile(url: str, stand_in: bool = False, passes: int = 2) -> dict:
    """Reconcile the store at url (`passes` 2: twice, the second reading the encoder rows the first kept); return CPU
    and wall seconds, memory, links per kind and what `link_blocks` logged (pairs, units, CPU-s per step)."""
    from influence_atlas.pipeline import reconcile
    from influence_atlas.reconcile import blocks

    if stand_in:  # the rows kept by this pass are the stand-in's, so the second pass reads them too
        blocks.encode_sentences = blocks.encode_multilingual = stand_in_encoder
    from influence_atlas.reconcile.features import load_link_models
    from influence_atlas.store import open_store

    load_link_models()
    steps: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: steps.append(record.getMessage())
    logging.getLogger("influence_atlas.reconcile").addHandler(handler)
    logging.getLogger("influence_atlas.reconcile").setLevel(logging.INFO)
    store = open_store(url)
    before_mb = vm_kb("VmRSS") / 1024
    cpu, wall = time.process_time(), time.perf_counter()
    links = reconcile(store)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    kinds: dict[str, int] = {}
    for link in links:
        kinds[link.kind] = kinds.get(link.kind, 0) + 1
    digest = hashlib.sha1("\n".join(sorted(f"{l.id} {l.score}" for l in links)).encode()).hexdigest()[:12]
    peak_mb = round(vm_kb("VmHWM") / 1024)
    first, steps[:] = list(steps), []
    out = dict(cpu_s=round(cpu, 1), wall_s=round(wall, 1), peak_rss_mb=peak_mb, rss_before_mb=round(before_mb),
               links=len(links), by_kind=kinds, links_digest=digest, steps=" | ".join(first))
    if passes > 1:
        # Again, as the next `atlas analyze` does after new documents: the encoder rows the first pass kept are read.
        cpu2, wall2 = time.process_time(), time.perf_counter()
        again = reconcile(store)
        cpu2, wall2 = time.process_time() - cpu2, time.perf_counter() - wall2
        same = hashlib.sha1("\n".join(sorted(f"{l.id} {l.score}" for l in again)).encode()).hexdigest()[:12] == digest
        out.update(again_cpu_s=round(cpu2, 1), again_wall_s=round(wall2, 1), again_same_links=same,
                   again_steps=" | ".join(steps), again_peak_rss_mb=round(vm_kb("VmHWM") / 1024))
    store.close()
    return out


def _part(*args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="1000,10000", help="documents' worth of records, comma-separated")
    ap.add_argument("--dbs", default="sqlite,postgres", help="sqlite, postgres")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--pg-url", help="admin URL of a PostgreSQL server to use instead of a throwaway one")
    ap.add_argument("--label", default="", help="a name for the code measured (kept in the results)")
    ap.add_argument("--save", action="store_true", help="append the runs to bench/results/reconcile.json")
    ap.add_argument("--stand-in-encoder", action="store_true",
                    help="encode with a hashed bag of words instead of the models (pair scoring at large sizes)")
    ap.add_argument("--passes", type=int, choices=(1, 2), default=2,
                    help="1: reconcile once (no second pass over the kept encoder rows)")
    ap.add_argument("--keep", help="folder to keep the SQLite stores in (reconciled, encoder rows kept), for "
                                   "measuring later passes with --again")
    ap.add_argument("--again", help="a kept SQLite store (from --keep): reconcile it twice more, print the figures")
    ap.add_argument("--part", choices=("generate", "reconcile"), help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    ap.add_argument("--size", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.part == "generate":
        print(json.dumps(generate(a.url, a.size, a.seed)))
        return
    if a.part == "reconcile":
        print(json.dumps(run_reconcile(a.url, a.stand_in_encoder, a.passes)))
        return
    if a.again:
        print(json.dumps(dict(db="sqlite", store=a.again, label=a.label, load_avg=round(os.getloadavg()[0], 1),
                              **_part("--part", "reconcile", "--url", f"sqlite:///{Path(a.again).resolve()}"))))
        return
    dbs = a.dbs.split(",")
    pg, folder = pg_server(a.pg_url) if "postgres" in dbs else (None, None)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    rows = []
    try:
        with tempfile.TemporaryDirectory(prefix="atlas-reconcile-") as tmp:
            for size in [int(s) for s in a.sizes.split(",")]:
                for db in dbs:
                    where = Path(a.keep).resolve() if a.keep else Path(tmp)
                    url = new_pg_database(pg, f"rec_{size}") if db == "postgres" else f"sqlite:///{where}/rec-{size}.db"
                    made = _part("--part", "generate", "--url", url, "--size", str(size), "--seed", str(a.seed))
                    stand_in = ["--stand-in-encoder"] if a.stand_in_encoder else []
                    stand_in += ["--passes", str(a.passes)]
                    row = dict(db=db, documents=size, records=made, commit=commit, label=a.label,
                               load_avg=round(os.getloadavg()[0], 1), encoder="stand-in" if stand_in else "models",
                               **_part("--part", "reconcile", "--url", url, *stand_in))
                    prev = next((r for r in reversed(rows) if r["db"] == db and r["documents"] < size), None)
                    if prev:
                        row["growth_vs"] = prev["documents"]
                        row["cpu_growth"] = round(row["cpu_s"] / max(prev["cpu_s"], 0.1), 1)
                        row["wall_growth"] = round(row["wall_s"] / max(prev["wall_s"], 0.1), 1)
                    rows.append(row)
                    print(json.dumps(row), flush=True)
                    if db == "sqlite" and not a.keep:
                        Path(f"{tmp}/rec-{size}.db").unlink(missing_ok=True)
    finally:
        if folder:
            subprocess.run(["bash", str(ROOT / "scripts" / "pg_test_server.sh"), "stop", folder], check=False)
    print(f"\n{'db':9} {'docs':>8} {'CPU s':>8} {'wall s':>8} {'peak MB':>8} {'before MB':>10} {'links':>9} {'growth':>7} "
          f"{'again CPU s':>12}")
    for r in rows:
        print(f"{r['db']:9} {r['documents']:>8} {r['cpu_s']:>8} {r['wall_s']:>8} {r['peak_rss_mb']:>8} {r['rss_before_mb']:>10} "
              f"{r['links']:>9} {r.get('cpu_growth', ''):>7} {r.get('again_cpu_s', ''):>12}")
    if a.save:
        out = ROOT / "bench" / "results" / "reconcile.json"
        old = json.loads(out.read_text()) if out.exists() else []
        out.write_text(json.dumps((old if isinstance(old, list) else []) + rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
