"""Ingest + analyse throughput of Influence Atlas, as a ratio against bare spaCy `nlp.pipe` measured in the same run.

Run from the repository root:

    .venv/bin/python bench/bench_ingest.py [--words 200000] [--corpus DIR] [--save]

The parent process writes a corpus of repeated seed texts to a temporary folder, then runs
the reference (`--part reference`) and the Atlas measurement (`--part atlas`) each in its
own subprocess so that each peak RSS is its own, and prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import emit

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
DEFAULT_CORPUS = REPO_ROOT.parent / "shared" / "corpus" / "seeds"
RESULTS_FILE = BENCH_DIR / "results" / "ingest.json"
WARM_UP_TEXT = "Warm-up note\n\nOfficials in Bamako met ECOWAS envoys in Abuja on 3 March 2024 to discuss the transition."


def peak_rss_mb() -> float:
    """Return this process's peak resident set size in MB (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def write_corpus(seeds_dir: Path, words: int, out_dir: Path) -> dict:
    """Write repeated copies of the seed texts into out_dir until they hold at least `words` words; return a summary."""
    from influence_atlas.text.normalise import count_words

    seeds = sorted(seeds_dir.glob("*.txt"))
    if not seeds:
        raise SystemExit(f"no seed texts (*.txt) in {seeds_dir}; pass --corpus DIR")
    texts = [(p.stem, p.read_text(encoding="utf-8")) for p in seeds]
    out_dir.mkdir(parents=True, exist_ok=True)
    total = copies = 0
    while total < words:
        stem, text = texts[copies % len(texts)]
        # A unique last line makes every copy a distinct document: the store deduplicates by sha256 of the text.
        body = f"{text.rstrip()}\n\nCopy {copies + 1}.\n"
        (out_dir / f"copy_{copies + 1:06d}_{stem}.txt").write_text(body, encoding="utf-8")
        total += count_words(body)
        copies += 1
    return {"seeds": len(seeds), "documents": copies, "raw_words": total}


def read_normalised(corpus_dir: Path) -> list[str]:
    """Return the normalised text of every generated document, in file-name order."""
    from influence_atlas.text.normalise import normalise_text

    return [normalise_text(p.read_text(encoding="utf-8")) for p in sorted(corpus_dir.glob("*.txt"))]


def measure_reference(corpus_dir: Path) -> dict:
    """Time bare spaCy `nlp.pipe` (n_process=1) over the normalised texts, model loaded beforehand."""
    from influence_atlas.nlp import load_pipeline
    from influence_atlas.pipeline import ANALYSIS_NEEDS
    from influence_atlas.text.normalise import count_words

    texts = read_normalised(corpus_dir)
    started = time.perf_counter()
    # The same pipeline, with the same components on, that `analyze` runs.
    nlp = load_pipeline("en", ANALYSIS_NEEDS)
    nlp(WARM_UP_TEXT)
    load_s = time.perf_counter() - started

    started = time.perf_counter()
    docs = list(nlp.pipe(texts, n_process=1))
    seconds = time.perf_counter() - started
    return {
        "part": "reference",
        "pipeline": f"{nlp.meta.get('name')}-{nlp.meta.get('version')}",
        "components": list(nlp.pipe_names),
        "documents": len(docs),
        "words": sum(count_words(t) for t in texts),
        "tokens": sum(len(d) for d in docs),
        "load_s": load_s,
        "seconds": seconds,
        "peak_rss_mb": peak_rss_mb(),
    }


def measure_atlas(corpus_dir: Path) -> dict:
    """Time Atlas `ingest` and `analyze` into a fresh SQLite store, models loaded beforehand."""
    from influence_atlas.pipeline import analyze, analyze_document, build_document, ingest
    from influence_atlas.store import open_store
    from influence_atlas.text.readers import Source

    started = time.perf_counter()
    # Warm up every lazily loaded model (spaCy, lingua, dateparser, gazetteer) on a document never stored.
    warm = build_document(Source(name="warm-up.txt", path="warm-up.txt", text=WARM_UP_TEXT))
    analyze_document(warm)
    load_s = time.perf_counter() - started

    with tempfile.TemporaryDirectory(prefix="atlas-bench-db-") as tmp:
        store = open_store(str(Path(tmp) / "bench.db"))
        try:
            started = time.perf_counter()
            ingested = ingest(store, [corpus_dir])
            ingest_s = time.perf_counter() - started

            started = time.perf_counter()
            analysed = analyze(store)
            analyse_s = time.perf_counter() - started

            words = sum(d.words for d in store.documents())
        finally:
            store.close()
    if ingested.failed or ingested.unchanged:
        failures = "; ".join(str(e) for e in ingested.failed[:5])
        raise SystemExit(f"ingest did not add every copy: {len(ingested.unchanged)} unchanged, {len(ingested.failed)} failed {failures}")
    return {
        "part": "atlas",
        "documents": len(ingested.added),
        "analysed": analysed.documents,
        "mentions": analysed.mentions,
        "words": words,
        "load_s": load_s,
        "ingest_s": ingest_s,
        "analyse_s": analyse_s,
        "peak_rss_mb": peak_rss_mb(),
    }


def run_part(part: str, corpus_dir: Path) -> dict:
    """Run one measurement in a fresh interpreter and return the JSON it prints last."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--part", part, "--corpus-dir", str(corpus_dir)]
    done = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, cwd=REPO_ROOT)
    if done.returncode != 0:
        raise SystemExit(f"`{' '.join(cmd)}` failed with exit code {done.returncode}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def summarise(words: int, corpus: dict, ref: dict, atlas: dict) -> dict:
    """Return every figure of the run in one flat dict: seconds, words/s, ratios, peak RSS."""
    both_s = atlas["ingest_s"] + atlas["analyse_s"]

    def rate(seconds: float) -> float:
        return round(words / seconds, 1) if seconds > 0 else float("inf")

    return {
        "bench": "ingest",
        "words": words,
        "documents": atlas["documents"],
        "seeds": corpus["seeds"],
        "pipeline": ref["pipeline"],
        "components": ref["components"],
        "mentions": atlas["mentions"],
        "reference_s": round(ref["seconds"], 3),
        "ingest_s": round(atlas["ingest_s"], 3),
        "analyse_s": round(atlas["analyse_s"], 3),
        "ingest_analyse_s": round(both_s, 3),
        "reference_words_per_s": rate(ref["seconds"]),
        "ingest_words_per_s": rate(atlas["ingest_s"]),
        "analyse_words_per_s": rate(atlas["analyse_s"]),
        "ingest_analyse_words_per_s": rate(both_s),
        "ratio": round(both_s / ref["seconds"], 3),
        "analyse_ratio": round(atlas["analyse_s"] / ref["seconds"], 3),
        "reference_peak_rss_mb": round(ref["peak_rss_mb"], 1),
        "atlas_peak_rss_mb": round(atlas["peak_rss_mb"], 1),
        "reference_load_s": round(ref["load_s"], 3),
        "atlas_load_s": round(atlas["load_s"], 3),
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
    }


def print_table(r: dict) -> None:
    """Print the human-readable table of one run."""
    print(f"\n{r['words']:,} words in {r['documents']} documents ({r['seeds']} seeds repeated), pipeline {r['pipeline']} ({', '.join(r['components'])})\n")
    rows = [
        ("reference: bare nlp.pipe", r["reference_s"], r["reference_words_per_s"], r["reference_peak_rss_mb"]),
        ("atlas ingest", r["ingest_s"], r["ingest_words_per_s"], None),
        ("atlas analyse", r["analyse_s"], r["analyse_words_per_s"], None),
        ("atlas ingest + analyse", r["ingest_analyse_s"], r["ingest_analyse_words_per_s"], r["atlas_peak_rss_mb"]),
    ]
    print(f"{'measurement':<26} {'seconds':>9} {'words/s':>10} {'peak RSS MB':>12}")
    for name, seconds, rate, rss in rows:
        print(f"{name:<26} {seconds:>9.2f} {rate:>10,.0f} {'' if rss is None else f'{rss:.0f}':>12}")
    print(f"\nratio (atlas ingest + analyse) / (bare nlp.pipe): {r['ratio']:.2f}x"
          f"   (analyse alone: {r['analyse_ratio']:.2f}x)\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="folder of seed *.txt texts (default: %(default)s)")
    parser.add_argument("--words", type=int, default=200_000, help="corpus size in words, reached by repeating the seeds (default: %(default)s)")
    parser.add_argument("--save", action="store_true", help=f"also write the JSON figures to {RESULTS_FILE.relative_to(REPO_ROOT)}")
    parser.add_argument("--part", choices=("reference", "atlas"), help="run one measurement only and print its JSON (used by the parent run)")
    parser.add_argument("--corpus-dir", type=Path, help="an already generated corpus folder for --part (default: generate one)")
    args = parser.parse_args(argv)

    if args.part:
        measure = measure_reference if args.part == "reference" else measure_atlas
        if args.corpus_dir:
            print(json.dumps(measure(args.corpus_dir)))
            return 0
        with tempfile.TemporaryDirectory(prefix="atlas-bench-corpus-") as tmp:
            write_corpus(args.corpus, args.words, Path(tmp))
            print(json.dumps(measure(Path(tmp))))
        return 0

    with tempfile.TemporaryDirectory(prefix="atlas-bench-corpus-") as tmp:
        corpus_dir = Path(tmp)
        corpus = write_corpus(args.corpus, args.words, corpus_dir)
        print(f"corpus: {corpus['documents']} documents, {corpus['raw_words']:,} raw words from {args.corpus}", file=sys.stderr)
        print("measuring reference (bare spaCy nlp.pipe) ...", file=sys.stderr)
        ref = run_part("reference", corpus_dir)
        print("measuring atlas (ingest, analyze) ...", file=sys.stderr)
        atlas = run_part("atlas", corpus_dir)
    if ref["words"] != atlas["words"] or ref["documents"] != atlas["documents"]:
        raise SystemExit(f"reference and atlas saw different corpora: {ref['documents']} docs/{ref['words']} words "
                         f"vs {atlas['documents']} docs/{atlas['words']} words")
    result = summarise(atlas["words"], corpus, ref, atlas)
    print_table(result)
    emit(result, RESULTS_FILE, args.save)
    return 0


if __name__ == "__main__":
    sys.exit(main())
