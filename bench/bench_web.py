"""Latency of the web app's pages and API calls on a database of 10,000 documents.

Run from the repository root:

    .venv/bin/python bench/bench_web.py [--docs 10000] [--requests 40] [--db PATH] [--keep PATH] [--save]

1. Corpus: the seed texts are analysed for real once (`run_demo`), then copied into `--docs`
   varied documents (a distinct dateline, title, genre, language tag, publication year; event
   dates shifted by up to two years, tolls varied, some events dropped) whose records are the
   seeds' records moved to the new offsets, plus sample stances, narrative hits and
   cross-document links, all written in bulk through `Store` (analysing 10,000 texts with spaCy
   would take hours and measure spaCy, not the app).
2. Server: `atlas serve` in its own process on 127.0.0.1, so the client's timing does not share
   the server's interpreter.
3. Each URL is requested once cold (the first request after start builds the corpus aggregates),
   then `--requests` times; p50 and p95 are reported, with the ratio of each p95 to the p50 of a
   static file served by the same server in the same run (the reference: HTTP and framework
   overhead with no database work).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
DEFAULT_CORPUS = REPO_ROOT.parent / "shared" / "corpus" / "seeds"
RESULTS_FILE = BENCH_DIR / "results" / "web.json"
TARGET_P95_MS = 150.0
PLACES = ("Bamako", "Gao", "Mopti", "Timbuktu", "Ouagadougou", "Niamey", "Kidal", "Ségou", "Dakar", "Abidjan")
GENRES = ("news", "opinion", "ngo_report", "blog", "press_release", "social")
NARRATIVES = ("N1", "N2", "N3", "N4", "N5", "N6", "N7", "N8", "C1", "C2", "C3", "C4", "C5")
STANCE_ACTORS = ("Russia", "France", "Wagner Group", "Mali", "United Nations", "Burkina Faso", "ECOWAS", "United States")


def _shift_date(date: str | None, years: int) -> str | None:
    if not date:
        return None
    return f"{int(date[:4]) + years:04d}{date[4:]}"


def build_corpus(db_path: Path, docs: int, seeds_dir: Path, seed: int = 1) -> dict:
    """Write `docs` varied copies of the analysed seed corpus into a new database at db_path; return counts."""
    from influence_atlas.demo import run_demo
    from influence_atlas.pipeline import analysis_version
    from influence_atlas.records import Analysis, Document, Link, NarrativeHit, Stance
    from influence_atlas.store import open_store

    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        result = run_demo(seeds_dir, tmp)
        src = open_store(str(result.db))
        base = []
        for d in src.documents():
            base.append((d, Analysis(doc=d.id, mentions=src.mentions(d.id), actors=src.actors(mentioned_only=False),
                                     events=src.events(d.id), claims=src.claims(d.id), techniques=src.techniques(d.id),
                                     ttps=src.ttps(d.id))))
        src.close()
    version = analysis_version()
    store = open_store(str(db_path))
    events_by_seed: dict[int, list[list[str]]] = {}
    claim_ids: list[str] = []
    counts = {"documents": 0, "events": 0, "mentions": 0, "claims": 0}
    move = dataclasses.replace
    for i in range(docs):
        j = i % len(base)
        doc, an = base[j]
        header = f"Dispatch {i:05d} from {rng.choice(PLACES)}, {rng.randint(1, 28)} March {rng.randint(2019, 2024)}.\n\n"
        k = len(header)
        text = header + doc.text
        new = Document(id=hashlib.sha256(text.encode()).hexdigest(), name=f"synthetic_{i:05d}_{doc.name}", path=f"synthetic/{i:05d}.txt",
                       text=text, title=f"{doc.title or 'Untitled'} — dispatch {i}", language="fr" if rng.random() < 0.15 else (doc.language or "en"),
                       published=str(rng.randint(2019, 2024)), genre=rng.choice(GENRES), outlet=f"Outlet {i % 97}",
                       words=doc.words + 8)
        if not store.add_document(new):
            continue
        years = rng.randint(-2, 2)
        events = [move(e, id=f"{e.id}_{i}", doc=new.id, start=e.start + k, end=e.end + k, date=_shift_date(e.date, years),
                       fatalities=None if e.fatalities is None else max(0, e.fatalities + rng.randint(-50, 50)))
                  for e in an.events if rng.random() < 0.85]
        claims = [move(c, id=f"{c.id}_{i}", doc=new.id, start=c.start + k, end=c.end + k,
                       quantities=tuple(move(q, start=q.start + k, end=q.end + k) for q in c.quantities)) for c in an.claims]
        spans = [(c.start, c.end) for c in claims] or [(0, k - 2)]
        stances = [Stance(new.id, a, float(rng.choice((-2, -1, 0, 1, 2))), (rng.choice(spans),), "bench-sample", 0.6)
                   for a in rng.sample(STANCE_ACTORS, 3)]
        narratives = [NarrativeHit(new.id, n, rng.choice(("endorsed", "reported")), round(rng.random(), 3), (rng.choice(spans),), "bench-sample")
                      for n in rng.sample(NARRATIVES, 2)]
        store.replace_analysis(Analysis(
            doc=new.id, mentions=[move(m, doc=new.id, start=m.start + k, end=m.end + k) for m in an.mentions],
            actors=an.actors if i < len(base) else [], events=events, claims=claims, stances=stances, narratives=narratives,
            techniques=[move(t, doc=new.id, start=t.start + k, end=t.end + k) for t in an.techniques],
            ttps=[move(t, doc=new.id, start=t.start + k, end=t.end + k) for t in an.ttps]), version)
        events_by_seed.setdefault(j, []).append([e.id for e in events])
        claim_ids.extend(c.id for c in claims)
        counts["documents"] += 1
        counts["events"] += len(events)
        counts["mentions"] += len(an.mentions)
        counts["claims"] += len(claims)
    links = []
    for copies in events_by_seed.values():
        for a, b in zip(copies, copies[1:]):
            for ea in a:
                # The same happening told by two copies: same base id before the copy suffix.
                root = ea.rsplit("_", 1)[0]
                eb = next((x for x in b if x.rsplit("_", 1)[0] == root), None)
                if eb and rng.random() < 0.1:
                    links.append(Link(f"se_{ea}_{eb}", "same_event", (ea, eb), "synthetic", 0.9))
    for n in range(min(5000, len(claim_ids) // 2)):
        a, b = rng.sample(claim_ids, 2)
        links.append(Link(f"cx_{n}", "contradicts", (a, b), "synthetic contradiction", round(rng.random(), 3)))
    store.replace_links(links)
    store.close()
    counts["links"] = len(links)
    return counts


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure(db: Path, requests: int) -> tuple[list[dict], float]:
    """Start `atlas serve` over db, time each URL once and then `requests` times; return one row per URL and the
    milliseconds of the very first request (which builds the corpus aggregates)."""
    import httpx

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "influence_atlas", "serve", "--db", str(db), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                httpx.get(base + "/static/atlas.css", timeout=2)
                break
            except httpx.HTTPError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("atlas serve did not start: " + proc.stderr.read().decode()[-2000:])
                time.sleep(0.3)
        with httpx.Client(base_url=base, timeout=120) as client:
            t0 = time.perf_counter()
            total = client.get("/api/documents", params={"limit": 1}).json()["total"]
            cold_start_ms = round((time.perf_counter() - t0) * 1000, 1)
            doc_id = client.get("/api/documents", params={"limit": 1, "offset": total * 2 // 5}).json()["documents"][0]["id"]
            urls = [
                ("reference: static file", "/static/atlas.css"),
                ("page /", "/"), ("page /timeline", "/timeline"), ("page /documents/{id}", f"/documents/{doc_id}"),
                ("api summary", "/api/summary"),
                ("api documents (page 1)", "/api/documents"),
                ("api documents (offset 5000)", "/api/documents?offset=5000"),
                ("api documents ?q=Moura", "/api/documents?q=Moura"),
                ("api documents ?q=Wagner (most match)", "/api/documents?q=Wagner"),
                ("api document {id}", f"/api/documents/{doc_id}"),
                ("api timeline", "/api/timeline"),
                ("api timeline actor+country+period", "/api/timeline?actor=Wagner%20Group&country=Mali&from=2022&to=2023"),
                ("api network", "/api/network"),
                ("api sources", "/api/sources"),
                ("api contradictions", "/api/contradictions"),
                ("api map", "/api/map"),
            ]
            rows = []
            for label, url in urls:
                t0 = time.perf_counter()
                first = client.get(url)
                cold = (time.perf_counter() - t0) * 1000
                if first.status_code != 200:
                    raise SystemExit(f"{url}: HTTP {first.status_code}")
                times = []
                for _ in range(requests):
                    t0 = time.perf_counter()
                    r = client.get(url)
                    times.append((time.perf_counter() - t0) * 1000)
                    r.raise_for_status()
                times.sort()
                rows.append({"view": label, "url": url.split("?")[0] if "{id}" in label else url, "bytes": len(first.content),
                             "first_ms": round(cold, 1), "p50_ms": round(statistics.median(times), 1),
                             "p95_ms": round(times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))], 1)})
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    ref = rows[0]["p50_ms"] or 0.1
    for r in rows:
        r["p95_vs_reference"] = round(r["p95_ms"] / ref, 1)
    return rows, cold_start_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=10_000, help="documents in the generated database")
    parser.add_argument("--requests", type=int, default=40, help="timed requests per URL")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="seed texts to analyse and copy")
    parser.add_argument("--db", type=Path, help="measure this existing database instead of generating one")
    parser.add_argument("--keep", type=Path, help="write the generated database here and keep it")
    parser.add_argument("--save", action="store_true", help=f"also write the figures to {RESULTS_FILE.relative_to(REPO_ROOT)}")
    args = parser.parse_args()
    info: dict = {"python": sys.version.split()[0], "cpus": os.cpu_count(), "requests": args.requests}
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db
        if db is None:
            db = args.keep or Path(tmp) / "bench.db"
            if db.exists():
                raise SystemExit(f"{db} exists; pass it with --db to measure it, or choose another --keep path")
            t0 = time.perf_counter()
            info.update(build_corpus(db, args.docs, args.corpus))
            info["build_s"] = round(time.perf_counter() - t0, 1)
        info["db_mb"] = round(db.stat().st_size / 1e6, 1)
        rows, info["cold_start_ms"] = measure(db, args.requests)
    print(f"first request after start (reads the database, builds the aggregates): {info['cold_start_ms']} ms")
    print(f"{'view':40} {'first ms':>9} {'p50 ms':>8} {'p95 ms':>8} {'p95/ref':>8} {'KB':>8}")
    for r in rows:
        flag = "" if r["p95_ms"] < TARGET_P95_MS else "  over target"
        print(f"{r['view']:40} {r['first_ms']:>9} {r['p50_ms']:>8} {r['p95_ms']:>8} {r['p95_vs_reference']:>8} {r['bytes'] / 1024:>8.0f}{flag}")
    result = {**info, "target_p95_ms": TARGET_P95_MS, "rows": rows}
    print(json.dumps(result))
    if args.save:
        RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
        RESULTS_FILE.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
