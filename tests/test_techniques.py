"""Persuasion techniques: packaged models run without torch, the CLI speaks the task formats, quality gates."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from influence_atlas.cli import app
from influence_atlas.extract import techniques as T

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
PTC = SHARED / "data" / "ptc2020"
SCORER = SHARED / "tools" / "score_ptc.py"

# Floors on the PTC articles held out of the shipped weights (models/techniques/heldout.txt), scored by
# ../shared/tools/score_ptc.py: raise them when the models improve, never lower them.
FLOORS = {"tc": 0.62, "si": 0.40}

ARTICLES = {
    "1001": "Tax hike passes\n\nThe corrupt, treacherous politicians have betrayed every hard-working family once again. "
            "Only a fool would believe their lies! Everyone knows this disastrous plan will destroy the nation. "
            "Make America great again.\n",
    "1002": "Council meets\n\nThe council met on Tuesday to discuss the budget. The mayor said the vote would take "
            "place next week. Critics called the plan a shameful betrayal of voters.\n",
}


@pytest.fixture(scope="module")
def articles_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("articles")
    for aid, text in ARTICLES.items():
        (folder / f"article{aid}.txt").write_text(text, encoding="utf-8")
    (folder / "README.md").write_text("not an article", encoding="utf-8")
    return folder


def test_models_load_and_run_without_torch():
    code = (
        "import json, sys\n"
        "from influence_atlas.extract.techniques import find_techniques, find_technique_spans, classify_spans\n"
        f"text = {ARTICLES['1001']!r}\n"
        "found = find_techniques(text)\n"
        "spans = find_technique_spans(text)\n"
        "labels = classify_spans(text, [(s, e) for s, e, _ in spans])\n"
        "print(json.dumps({'torch': 'torch' in sys.modules, 'found': found, 'spans': spans, 'labels': labels}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["torch"] is False
    text = ARTICLES["1001"]
    assert result["found"], "the loaded-language article should yield technique spans"
    for s, e, label, conf in result["found"]:
        assert 0 <= s < e <= len(text) and label in T.TECHNIQUES and 0 < conf <= 1
        assert text[s].isalnum() and text[e - 1].isalnum()  # spans are trimmed of edge punctuation
    assert [(s, e) for s, e, _ in result["spans"]] == [(s, e) for s, e, _, _ in result["found"]]
    assert [x[2] for x in result["labels"]] == [x[2] for x in result["found"]]


def test_cli_writes_the_task_formats(articles_dir, tmp_path):
    runner = CliRunner()
    spans_out, labels_out = tmp_path / "spans.txt", tmp_path / "labels.txt"
    result = runner.invoke(app, ["techniques", "spans", str(articles_dir), str(spans_out)])
    assert result.exit_code == 0, result.output
    rows = [ln.split("\t") for ln in spans_out.read_text(encoding="utf-8").splitlines()]
    assert rows and all(len(r) == 3 and r[0] in ARTICLES for r in rows)
    for aid, s, e in rows:
        assert 0 <= int(s) < int(e) <= len(ARTICLES[aid])
    # A span listed twice (two gold techniques on one span) gets two different techniques.
    s = ARTICLES["1002"].index("shameful betrayal")
    e = s + len("shameful betrayal")
    given = f"1001\t4\t8\n1002\t{s}\t{e}\n1002\t{s}\t{e}\n"
    (tmp_path / "given.txt").write_text(given, encoding="utf-8")
    result = runner.invoke(app, ["techniques", "classify", str(articles_dir), str(tmp_path / "given.txt"), str(labels_out)])
    assert result.exit_code == 0, result.output
    labelled = [ln.split("\t") for ln in labels_out.read_text(encoding="utf-8").splitlines()]
    assert [(r[0], int(r[2]), int(r[3])) for r in labelled] == [("1001", 4, 8), ("1002", s, e), ("1002", s, e)]
    assert all(r[1] in T.TECHNIQUES for r in labelled) and labelled[1][1] != labelled[2][1]


def test_cli_reports_bad_inputs(articles_dir, tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["techniques", "spans", str(tmp_path / "nowhere"), str(tmp_path / "o.txt")])
    assert result.exit_code == 2 and "not a folder" in result.output
    bad = tmp_path / "bad.txt"
    bad.write_text("1001\t4\t8\n1001\tfour\teight\n", encoding="utf-8")
    result = runner.invoke(app, ["techniques", "classify", str(articles_dir), str(bad), str(tmp_path / "o.txt")])
    assert result.exit_code == 2 and re.search(r"bad\.txt:2", result.output)
    other = tmp_path / "other.txt"
    other.write_text("999\t0\t4\n", encoding="utf-8")
    result = runner.invoke(app, ["techniques", "classify", str(articles_dir), str(other), str(tmp_path / "o.txt")])
    assert result.exit_code == 2 and "999" in result.output


def test_sentences_and_tokens_keep_offsets():
    text = "He said: \"This is a disgrace!\" Really?\nYes. It is."
    index = T.ArticleIndex(text)
    assert [text[s:e] for s, e in index.sentences] == ['He said: "This is a disgrace!"', "Really?", "Yes.", "It is."]
    assert all(text[t.start:t.end] == t.text for t in index.tokens)
    assert index.token_range(10, 14) == (4, 5) and index.tokens[4].text == "This"


def _score(mode: str, labels_dir: Path, pred: Path) -> float:
    out = subprocess.run([sys.executable, str(SCORER), mode, str(labels_dir), str(pred)],
                         capture_output=True, text=True, check=True)
    return float(re.search(r"F1=([0-9.]+)", out.stdout.strip().splitlines()[-1]).group(1))


def test_quality_gate_on_held_out_ptc_articles(tmp_path):
    if not (PTC / "articles").is_dir() or not SCORER.exists():
        pytest.fail(f"PTC data or scorer not found under {SHARED} (the tests need ../shared beside the clone, as CI has it)")
    heldout = (T.MODEL_DIR / "heldout.txt").read_text(encoding="utf-8").split()
    labels_dir = tmp_path / "labels"
    labels_dir.mkdir()
    models = T.load_models()
    si_lines, tc_lines = [], []
    for aid in heldout:
        name = f"article{aid}.task2-TC.labels"
        gold = (PTC / "labels" / name).read_text(encoding="utf-8")
        (labels_dir / name).write_text(gold, encoding="utf-8")
        article = models.article((PTC / "articles" / f"article{aid}.txt").read_text(encoding="utf-8"))
        si_lines += [f"{aid}\t{s}\t{e}\n" for s, e, _ in models.spans(article)]
        spans = [(int(r.split("\t")[2]), int(r.split("\t")[3])) for r in gold.splitlines() if r.strip()]
        tc_lines += [f"{aid}\t{t}\t{s}\t{e}\n" for s, e, t, _ in models.classify(article, spans)]
    (tmp_path / "si.txt").write_text("".join(si_lines), encoding="utf-8")
    (tmp_path / "tc.txt").write_text("".join(tc_lines), encoding="utf-8")
    scores = {"si": _score("si", labels_dir, tmp_path / "si.txt"), "tc": _score("tc", labels_dir, tmp_path / "tc.txt")}
    for key, floor in FLOORS.items():
        assert scores[key] >= floor, scores


def test_span_decoding_mixes_in_the_sentence_mean():
    """A lone likely token in an unlikely sentence fades once mixed with its sentence; old 3-value rules still load."""
    import numpy as np

    index = T.ArticleIndex("Calm words here today. Evil traitors destroy everything now!")
    probs = np.array([0.05, 0.6, 0.05, 0.05, 0.0, 0.5, 0.55, 0.5, 0.45, 0.4, 0.0], np.float32)
    mixed = T.sentence_mixed(index, probs, 0.5)
    assert mixed[1] == pytest.approx(0.5 * 0.6 + 0.5 * probs[:5].mean())
    assert mixed[6] == pytest.approx(0.5 * 0.55 + 0.5 * probs[5:].mean())
    text = lambda rule: [index.text[s:e] for s, e, _ in T.decode_spans(index, probs, rule)]  # noqa: E731
    assert text(T.SpanDecoding(0.3, 0.45, 0)) == ["words", "Evil traitors destroy everything now"]
    assert text(T.SpanDecoding(0.3, 0.45, 0, 0.5)) == ["Evil traitors destroy everything now"]
    assert T.SpanDecoding.from_array(np.array([0.2, 0.4, 4], np.float32)) == T.SpanDecoding(0.2, 0.4, 4, 0.0)
    rule = T.SpanDecoding(0.15, 0.3, 1, 0.2)
    assert T.SpanDecoding.from_array(rule.to_array()) == rule


def _reference_layer(x, bias, w, heads=12):
    """BERT's post-LN encoder layer in plain numpy (torch weight layout), to check the tagger's ONNX nodes."""
    from math import erf, sqrt

    import numpy as np

    def norm(t, g, b):
        mu = t.mean(-1, keepdims=True)
        return (t - mu) / np.sqrt(((t - mu) ** 2).mean(-1, keepdims=True) + 1e-12) * g + b

    bsz, n, d = x.shape
    split = lambda t: t.reshape(bsz, n, heads, d // heads).transpose(0, 2, 1, 3)  # noqa: E731
    q, k, v = (split(x @ w[f"w{c}"].T + w[f"b{c}"]) for c in "qkv")
    att = q @ k.transpose(0, 1, 3, 2) / sqrt(d // heads) + bias
    att = np.exp(att - att.max(-1, keepdims=True))
    att /= att.sum(-1, keepdims=True)
    x = norm((att @ v).transpose(0, 2, 1, 3).reshape(bsz, n, d) @ w["wo"].T + w["bo"] + x, w["g1"], w["b1"])
    h = x @ w["wi"].T + w["bi"]
    h = 0.5 * h * (1 + np.vectorize(erf)(h / sqrt(2)))
    return norm(h @ w["wf"].T + w["bf"] + x, w["g2"], w["b2"])


def _tagger_model(tagger, nodes, inits, d: int) -> bytes:
    """The serialised model of a tagger's `graph_nodes`: inputs "hidden" (batch x width x d) and the attention mask."""
    from influence_atlas.extract import onnx_proto as proto

    graph = proto.make_graph(nodes, "tagger", [proto.value_info("hidden", proto.FLOAT, [None, None, d]),
                                               proto.value_info("attention_mask", proto.INT64, [None, None])],
                             [proto.value_info(tagger.OUTPUT, proto.FLOAT, [None, None])], inits)
    return proto.make_model(graph, {"": 17, T.QUANTISED_DOMAIN: 1}, ir_version=10)


def _random_bert_layers(rng, count: int, d: int) -> list[dict]:
    """Return `count` BERT post-LN layers of width d with random weights (torch layout: out x in), drawn from `rng`."""
    import numpy as np

    shapes = {"wq": (d, d), "wk": (d, d), "wv": (d, d), "wo": (d, d), "wi": (4 * d, d), "wf": (d, 4 * d),
              "bq": (d,), "bk": (d,), "bv": (d,), "bo": (d,), "bi": (4 * d,), "bf": (d,)}
    layers = [{k: rng.normal(0, 0.05, s).astype(np.float32) for k, s in shapes.items()} for _ in range(count)]
    for w in layers:
        w.update(g1=rng.uniform(0.5, 1.5, d), b1=rng.normal(0, 0.1, d), g2=rng.uniform(0.5, 1.5, d), b2=rng.normal(0, 0.1, d))
    return layers


def test_span_tagger_graph_computes_bert_layers(tmp_path):
    """The tagger's ONNX nodes (appended to MiniLM at load time) equal BERT layers + a logistic head, masks included."""
    import numpy as np
    import onnx
    import onnxruntime as ort

    rng = np.random.default_rng(7)
    d = 384
    layers = _random_bert_layers(rng, 2, d)
    tagger = T.SpanTagger(layers, rng.normal(0, 0.2, d), 0.3, "hidden")
    tagger.save(tmp_path / "si.npz", decoding=np.array([0.1, 0.3, 1], np.float32))
    tagger, extra = T.SpanTagger.load(tmp_path / "si.npz")  # float16 round trip, as shipped
    assert extra["decoding"].tolist() == pytest.approx([0.1, 0.3, 1])

    nodes, inits = tagger.graph_nodes("attention_mask")
    model = _tagger_model(tagger, nodes, inits, d)
    onnx.checker.check_model(onnx.load_from_string(model))  # the graph written without onnx is a valid model
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])

    x = rng.normal(0, 1, (3, 9, d)).astype(np.float32)
    mask = np.ones((3, 9), np.int64)
    mask[1, 6:] = 0
    mask[2, 3:] = 0
    (got,) = session.run(None, {"hidden": x, "attention_mask": mask})

    h = x.astype(np.float64)
    bias = (1.0 - mask[:, None, None, :]) * -1e4
    for w in tagger.layers:
        h = _reference_layer(h, bias, {k: v.astype(np.float64) for k, v in w.items()})
    want = 1 / (1 + np.exp(-(h @ tagger.head_w + tagger.head_b)))
    assert got.shape == (3, 9)
    assert np.abs(got - want)[mask == 1].max() < 1e-4
    # padding must not leak into real pieces: the same row alone, unpadded, gives the same probabilities
    (alone,) = session.run(None, {"hidden": x[2:3, :3], "attention_mask": mask[2:3, :3]})
    assert np.abs(alone[0] - got[2, :3]).max() < 1e-5


def test_int8_span_tagger_stays_close_to_float():
    """The run-time tagger multiplies its weights in int8 (SpanTagger.INT8): on BERT-like layers its probabilities stay
    within a few hundredths of the float32 graph's (a broken scale or zero point would move them by tenths)."""
    import numpy as np
    import onnxruntime as ort

    rng = np.random.default_rng(11)
    d = 384
    layers = _random_bert_layers(rng, 3, d)
    tagger = T.SpanTagger(layers, rng.normal(0, 0.2, d), 0.3, "hidden")

    def session(int8: bool):
        nodes, inits = tagger.graph_nodes("attention_mask", int8=int8)
        return ort.InferenceSession(_tagger_model(tagger, nodes, inits, d), providers=["CPUExecutionProvider"])

    x = rng.normal(0, 1, (4, 12, d)).astype(np.float32)
    mask = np.ones((4, 12), np.int64)
    mask[1, 8:] = 0
    mask[3, 4:] = 0
    feed = {"hidden": x, "attention_mask": mask}
    (exact,) = session(False).run(None, feed)
    (quantised,) = session(True).run(None, feed)
    diff = np.abs(quantised - exact)[mask == 1]
    assert not np.array_equal(quantised, exact)  # the int8 path did run
    assert diff.mean() < 0.02 and diff.max() < 0.1, (diff.mean(), diff.max())  # random layers: about 0.011 and 0.047
