"""Narratives endorsed or reported, taxonomy files, discovery and the offline embeddings, with the real pipelines."""

from __future__ import annotations

import subprocess
import sys
from itertools import combinations

import numpy as np
import pytest
from typer.testing import CliRunner

from influence_atlas.cli import app
from influence_atlas.errors import OntologyError
from influence_atlas.extract.embeddings import embed_sentences
from influence_atlas.extract.narratives import discover_narratives, find_narratives
from influence_atlas.ontology.narratives import load_taxonomy
from influence_atlas.pipeline import ingest

from test_stance import analyse  # pytest puts tests/ on sys.path


def narratives(text: str, language: str | None = None, taxonomy=None) -> dict[str, object]:
    doc, mentions, sentences = analyse(text, language)
    hits = find_narratives(doc.id, doc.text, sentences, mentions, doc.language, taxonomy)
    for h in hits:
        assert h.mode in ("endorsed", "reported") and 0 < h.score <= 1
        assert h.evidence and all((s, e) in sentences for s, e in h.evidence)
    return {h.narrative: h for h in hits}


def test_packaged_taxonomy_has_the_default_ids_with_both_languages():
    tax = load_taxonomy()
    ids = [n.id for n in tax.narratives]
    assert ids == ["N1", "N2", "N3", "N4", "N5", "N6", "N7", "N8", "C1", "C2", "C3", "C4", "C5"]
    for n in tax.narratives:
        assert n.name and n.description
        assert n.cues.get("en") and n.cues.get("fr"), n.id
        assert n.examples.get("en") and n.examples.get("fr"), n.id


def test_own_voice_endorses_and_quotes_only_report():
    own = (
        "For sixty years France has treated the Sahel as its backyard, and French companies kept looting African gold. "
        "This neo-colonial order is finally collapsing. Russian instructors have helped the army recapture the north, "
        "restoring security where Western forces had failed."
    )
    got = narratives(own, "en")
    assert got["N2"].mode == "endorsed"
    assert got["N3"].mode == "endorsed"
    quoted = (
        "Posts shared by pro-junta pages accuse France of neo-colonial looting of African gold. "
        "“Russia restored security where the French failed,” a blogger told supporters in Bamako. "
        "The authorities have postponed the elections twice and banned political parties. "
        "Human rights groups say the junta keeps its grip on power with Russian backing."
    )
    got = narratives(quoted, "en")
    assert got["N2"].mode == "reported"
    assert got["N3"].mode == "reported"


@pytest.mark.xfail(strict=True, reason="known regression: the meaning-based presence head (v2) still scores a one-sentence text whose narrative is avoided, not negated, as present")
def test_debunked_claim_is_reported_and_negated_claim_is_dropped():
    text = (
        "A fact-checking site debunked stories that falsely claimed UN peacekeepers were colluding with jihadists in Mali. "
        "The stories were traced to a network of fake accounts run by pro-Kremlin operators, part of a Russian "
        "disinformation campaign."
    )
    got = narratives(text, "en")
    assert got["N6"].mode == "reported"
    assert got["C4"].mode == "endorsed"
    denied = "Russian engagement in Mali is designed to avoid the extraction of gold or any mining concessions."
    assert "C2" not in narratives(denied, "en")


@pytest.mark.xfail(strict=True, reason="known regression: the presence head (v2) misses C4 in this four-sentence French text (probability 0.5 below the calibrated 0.8)")
def test_french_text_endorsed_and_reported():
    text = (
        "Depuis 2022, les soldats maliens et les mercenaires russes du groupe Wagner ont commis des exactions contre les "
        "civils. Notre enquête documente l'exécution sommaire de dizaines de villageois. "
        "Sur les réseaux sociaux, des pages prorusses diffusent une propagande qui présente la Russie comme le libérateur "
        "de l'Afrique face au néocolonialisme français. Selon ces publications, les casques bleus seraient complices des "
        "terroristes."
    )
    got = narratives(text, "fr")
    assert got["C1"].mode == "endorsed"
    assert got["C4"].mode == "endorsed"
    assert got["N1"].mode == "reported"
    assert got["N6"].mode == "reported"


TAXONOMY = r"""
version: 1
narratives:
  - id: W1
    name: Wind farms kill birds
    description: Wind turbines are said to slaughter birds and bats.
    cues:
      en: ['turbines? (?:\w+ ){0,3}(?:kill|slaughter)\w* (?:\w+ ){0,2}birds']
      fr: ['éoliennes? (?:\w+ ){0,3}tu\w* (?:\w+\W+){0,3}oiseaux']
    examples:
      en: [Wind turbines are a massacre for birds.]
"""


def test_taxonomy_file_replaces_the_packaged_one(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(TAXONOMY, encoding="utf-8")
    text = ("The new turbines kill thousands of birds every year. Offshore turbines also slaughter migrating birds. "
            "Wagner mercenaries massacred civilians in Moura.")
    got = narratives(text, "en", taxonomy=str(path))
    assert set(got) == {"W1"} and got["W1"].mode == "endorsed"
    assert set(narratives("Les éoliennes tuent des milliers d'oiseaux, disent les opposants.", "fr", taxonomy=str(path))) == {"W1"}


@pytest.mark.parametrize("body, words", [
    ("narratives: []\n", ["non-empty 'narratives' list"]),
    ("narratives:\n  - id: X1\n    description: no name\n    cues: {en: [x]}\n", ["narrative 'X1'", "'name' is required"]),
    ("narratives:\n  - id: X2\n    name: Bad\n    cues: {en: ['(unclosed']}\n", ["narrative 'X2'", "bad pattern", "(unclosed"]),
    ("narratives:\n  - id: X3\n    name: Typo\n    cue: {en: [x]}\n", ["narrative 'X3'", "unknown field(s) cue"]),
    ("narratives:\n  - {id: X4, name: A, cues: {en: [a]}}\n  - {id: X4, name: B, cues: {en: [b]}}\n", ["'X4' is defined twice"]),
    ("narratives: [unclosed\n", ["not valid YAML"]),
    ("narratives:\n  - {id: X5, name: A, parent: X9}\n", ["narrative 'X5'", "parent 'X9' is not a narrative"]),
    ("narratives:\n  - {id: X6, name: A}\n  - {id: X7, name: B, parent: X6}\n  - {id: X8, name: C, parent: X7}\n",
     ["narrative 'X8'", "two levels at most"]),
    ("narratives:\n  - {id: 'X;1', name: A}\n", ["narratives[0]", "'id' is required"]),
    ("labelled: {documents: nowhere}\nnarratives:\n  - {id: X9, name: A}\n", ["labelled", "'documents'", "'labels'"]),
    ("sides: {blue: {favours: [A]}}\nnarratives:\n  - {id: Y1, name: A, side: red}\n", ["sides.blue", "no narrative", "red"]),
    ("sides: {red: {likes: [A]}}\nnarratives:\n  - {id: Y2, name: A, side: red}\n", ["sides.red", "'favours'", "'opposes'"]),
    ("sides: {red: {favours: A}}\nnarratives:\n  - {id: Y3, name: A, side: red}\n", ["sides.red", "'favours' must be a list"]),
    ("sides: [red]\nnarratives:\n  - {id: Y4, name: A, side: red}\n", ["'sides' must map"]),
])
def test_bad_taxonomy_file_gives_a_clear_error(tmp_path, body, words):
    path = tmp_path / "bad.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(OntologyError) as info:
        load_taxonomy(str(path))
    message = str(info.value)
    assert str(path) in message
    for w in words:
        assert w in message


def test_missing_taxonomy_file(tmp_path):
    with pytest.raises(OntologyError, match="not found"):
        load_taxonomy(str(tmp_path / "nope.yaml"))


DEBT = [
    "Chinese loans have trapped several African governments in debt they cannot repay.",
    "Beijing lends money for ports and railways and then takes the ports when the loans go unpaid.",
    "The debt owed to Chinese banks now eats a third of the state budget every year.",
    "Critics of the railway deal say Chinese lenders wrote loan terms that strip away control of the port.",
    "Unpaid Chinese loans could hand strategic ports and mines to Beijing.",
]
FLOODS = [
    "Heavy floods destroyed thousands of homes along the Niger river this summer.",
    "The rainy season brought the worst flooding in decades to the capital and its suburbs.",
    "Flood waters cut the main road and left villages without clean water for weeks.",
    "Aid agencies warn that the floods have ruined harvests across the river valley.",
]
OTHER = [
    "Wagner mercenaries massacred civilians in the central region.",  # covered by the taxonomy (C1)
    "The football team won the cup.",  # too short
    "Schools reopened in the north after a long strike by teachers over unpaid wages.",
]


def test_discovery_clusters_uncovered_sentences_with_counts():
    sentences = DEBT + FLOODS + OTHER
    sources = ["a", "b", "a", "c", "b", "d", "d", "e", "e", "a", "b", "c"]
    found = discover_narratives(sentences, sources=sources, min_size=3)
    assert found, "expected candidate clusters"
    by_size = sorted(found, key=lambda c: -c.count)
    assert by_size == found, "largest clusters first"
    debt = next(c for c in found if any("Chinese" in s or "Beijing" in s for s in c.sentences))
    assert debt.count >= 3 and debt.documents >= 2
    assert set(debt.sentences) <= set(DEBT) and len(debt.sentences) <= 3
    assert any(k in debt.keywords for k in ("chinese", "loans", "debt", "ports", "beijing"))
    flat = {s for c in found for s in c.sentences}
    assert OTHER[0] not in flat and OTHER[1] not in flat
    assert discover_narratives(sentences, sources=sources, min_size=3) == found, "deterministic"
    with pytest.raises(ValueError):
        discover_narratives(sentences, sources=sources[:2])


def test_embeddings_load_without_torch_and_rank_paraphrases_first():
    code = (
        "import sys\n"
        "from influence_atlas.extract.embeddings import embed_sentences\n"
        "v = embed_sentences(['Soldiers executed villagers.', 'Troops killed people in the village.'])\n"
        "assert v.shape[0] == 2 and abs(float((v[0] ** 2).sum()) - 1) < 1e-4\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
        "print('ok', v.shape[1])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ok")
    v = embed_sentences(["Soldiers executed dozens of villagers.", "Troops summarily killed many people in a village.",
                         "The central bank raised interest rates.", ""])
    assert float(v[0] @ v[1]) > float(v[0] @ v[2])
    assert not np.any(v[3]), "a text without tokens embeds to zeros"


def test_cli_lists_taxonomy_and_discovers(tmp_path, atlas_db):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "debt.txt").write_text(" ".join(DEBT), encoding="utf-8")
    (corpus / "floods.txt").write_text(" ".join(FLOODS), encoding="utf-8")
    db = atlas_db
    from influence_atlas.store import open_store

    store = open_store(db)
    ingest(store, [corpus])
    store.close()
    runner = CliRunner()
    listed = runner.invoke(app, ["narratives", "--db", db], env={"COLUMNS": "200"})
    assert listed.exit_code == 0, listed.output
    assert "N1" in listed.output and "C5" in listed.output
    assert "side pro-russia: favours Russia, Wagner Group" in listed.output and "side critical: opposes Russia" in listed.output
    found = runner.invoke(app, ["narratives", "--discover", "--db", db, "--min-size", "3"], env={"COLUMNS": "200"})
    assert found.exit_code == 0, found.output
    assert "candidate 1" in found.output and "sentences in" in found.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("narratives: []\n", encoding="utf-8")
    failed = runner.invoke(app, ["narratives", "--db", db, "--narratives", str(bad)])
    assert failed.exit_code == 2 and "bad.yaml" in failed.output


SKIES = ["Air pollution over the city reached record levels and residents were told to stay indoors.",
         "Smog from factories and traffic chokes the capital every winter.",
         "Doctors warn that dirty air is filling hospitals with children who cannot breathe.",
         "Exhaust fumes and coal plants left a grey haze over the region for a week.",
         "Breathing the polluted air is as harmful as smoking a pack of cigarettes a day, a study found."]
MATCHES = ["The national team won the cup after a late goal in the final.",
           "Fans celebrated in the streets after the striker scored twice.",
           "The coach praised his players after a hard-fought victory in the league.",
           "The goalkeeper saved a penalty and the home side held on to win the match.",
           "Supporters packed the stadium to watch the championship game."]


def labelled_taxonomy(tmp_path, labels: str | None = None):
    """Write a two-narrative taxonomy with sub-narratives and twenty labelled documents; return its path."""
    docs = tmp_path / "docs"
    docs.mkdir()
    lines = []
    for k, pick in enumerate(combinations(range(len(SKIES)), 2)):
        (docs / f"sky{k}.txt").write_text(" ".join(SKIES[i] for i in pick), encoding="utf-8")
        (docs / f"match{k}.txt").write_text(" ".join(MATCHES[i] for i in pick), encoding="utf-8")
        lines += [f"sky{k}.txt\tP\tP.1", f"match{k}.txt\tS\tS.1"]
    (tmp_path / "labels.txt").write_text(labels if labels is not None else "\n".join(lines) + "\n", encoding="utf-8")
    path = tmp_path / "tax.yaml"
    path.write_text("labelled: {documents: docs, labels: labels.txt}\nnarratives:\n"
                    "  - {id: P, name: Pollution}\n  - {id: P.1, name: Dirty air harms health, parent: P}\n"
                    "  - {id: S, name: Sport}\n  - {id: S.1, name: Victories, parent: S}\n", encoding="utf-8")
    return path


def test_labelled_documents_train_a_classifier_and_classify_writes_subtask2_lines(tmp_path):
    path = labelled_taxonomy(tmp_path)
    tax = load_taxonomy(str(path))
    assert tax.labelled is not None and len(tax.labelled.labels) == 20
    assert [n.id for n in tax.children("P")] == ["P.1"] and tax.by_id()["P.1"].parent == "P"
    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "a.txt").write_text("Thick smog and polluted air sent hundreds of people to hospital this week.", encoding="utf-8")
    (articles / "b.txt").write_text("The team celebrated a victory after scoring a goal in the last minute.", encoding="utf-8")
    out = tmp_path / "pred.txt"
    result = CliRunner().invoke(app, ["narratives", "classify", str(articles), str(out), "--narratives", str(path)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").splitlines() == ["a.txt\tP\tP.1", "b.txt\tS\tS.1"]


def test_labels_file_errors_name_the_line(tmp_path):
    path = labelled_taxonomy(tmp_path, labels="sky0.txt\tP\tP.1\nmatch0.txt\tNOPE\n")
    with pytest.raises(OntologyError, match=r"labels.txt:2: unknown narrative id\(s\) 'NOPE'"):
        load_taxonomy(str(path))
    (tmp_path / "labels.txt").write_text("missing.txt\tP\n", encoding="utf-8")
    path.write_text(path.read_text() + "  - {id: Q, name: Other things}\n", encoding="utf-8")
    with pytest.raises(OntologyError, match="labels.txt:1: document 'missing.txt' not found"):
        load_taxonomy(str(path))


def test_classify_errors_are_clear(tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["narratives", "classify", str(tmp_path / "none"), str(tmp_path / "out.txt")])
    assert result.exit_code != 0 and "not a folder of articles" in result.output
    (tmp_path / "empty").mkdir()
    result = runner.invoke(app, ["narratives", "classify", str(tmp_path / "empty"), str(tmp_path / "out.txt")])
    assert result.exit_code != 0 and "no .txt articles" in result.output


def test_analysis_version_follows_the_taxonomy(tmp_path, monkeypatch):
    from influence_atlas.pipeline import analysis_version

    before = analysis_version()
    path = tmp_path / "mine.yaml"
    path.write_text(TAXONOMY, encoding="utf-8")
    monkeypatch.setenv("ATLAS_NARRATIVES", str(path))
    assert analysis_version() != before


def test_a_narrative_voiced_only_by_others_is_reported_even_on_the_leading_side():
    from influence_atlas.extract.narratives import MODE_FEATURES, DocumentFeatures, load_heads, score_features

    def endorsed(own: float, others: float, side: float) -> float:
        mode = np.zeros((1, len(MODE_FEATURES)), np.float32)
        mode[0, [MODE_FEATURES.index(k) for k in ("cue_endorsed", "cue_reported", "same_side", "bias")]] = (own, others, side, 1.0)
        presence = np.zeros((1, len(load_heads()["presence"]["weights"])), np.float32)
        return float(score_features(DocumentFeatures(("C1",), presence, mode, [[]], np.zeros(1)))[1][0])

    assert endorsed(0.5, 0.0, 1.0) == 1.0
    assert endorsed(0.5, 0.5, 1.0) == 1.0      # the author voices it too
    assert endorsed(0.0, 0.5, 1.0) == 0.0      # only quoted or attributed words carry it
    assert endorsed(0.0, 0.0, 1.0) == 1.0      # no cue at all: the side decides
    assert endorsed(0.0, 0.0, -1.0) == 0.0


def test_a_debunking_word_that_names_another_narratives_topic_does_not_report_the_cue():
    from influence_atlas.extract.narratives import PRESENCE_FEATURES, narrative_features

    text = ("Wagner backed the junta in Bamako for years. The Russian group keeps autocratic rulers in power and runs "
            "disinformation campaigns for them. Its fighters trained the presidential guard.")
    doc, mentions, sentences = analyse(text, "en")
    feats = narrative_features(doc.text, sentences, mentions, doc.language)
    row = {n: feats.presence[j] for j, n in enumerate(feats.narratives)}
    own, others = PRESENCE_FEATURES.index("cue_endorsed"), PRESENCE_FEATURES.index("cue_reported")
    # "disinformation" is C4's cue here, not a denial of the C3 cue beside it: both stay in the author's voice.
    assert row["C3"][own] > 0 and row["C3"][others] == 0
    assert row["C4"][own] > 0
    debunked = ("The claim that Wagner keeps autocratic rulers in power is a fabrication, the embassy said in a statement "
                "to reporters in Bamako.")
    doc, mentions, sentences = analyse(debunked, "en")
    feats = narrative_features(doc.text, sentences, mentions, doc.language)
    assert feats.presence[feats.narratives.index("C3"), own] == 0


def test_a_relay_without_distance_endorses_what_the_speaker_advances():
    """Issue 19's product decision: in a document relaying a speaker without distance, narratives the mode head
    would call reported count as endorsed, except those whose cues sit in a debunking sentence."""
    from influence_atlas.extract.narratives import MODE_FEATURES, PRESENCE_FEATURES, DocumentFeatures, score_features

    presence = np.zeros((2, len(PRESENCE_FEATURES)), np.float32)
    mode = np.zeros((2, len(MODE_FEATURES)), np.float32)
    mode[:, MODE_FEATURES.index("cue_reported")] = 3.0  # both narratives voiced only by others
    mode[:, MODE_FEATURES.index("bias")] = 1.0
    debunked = np.array([False, True])
    plain = score_features(DocumentFeatures(("C1", "C2"), presence, mode, [[], []], np.zeros(1), False, debunked))[1]
    relayed = score_features(DocumentFeatures(("C1", "C2"), presence, mode, [[], []], np.zeros(1), True, debunked))[1]
    assert plain[0] < 0.5 and plain[1] < 0.5
    assert relayed[0] >= 0.5 and relayed[1] < 0.5


def test_an_author_whose_stance_turns_against_a_side_reports_its_narratives(tmp_path):
    """A side's narratives are not endorsed by an author hostile to what the side favours (or friendly to what it
    opposes), whatever the rest of the cascade says; an author who leans both ways, or neither, leaves the mode alone."""
    from influence_atlas.extract.narratives import MODE_FEATURES, PRESENCE_FEATURES, DocumentFeatures, _against_side, score_features
    from influence_atlas.ontology.narratives import Taxonomy
    from influence_atlas.records import Stance

    path = tmp_path / "sides.yaml"
    path.write_text("sides:\n  red: {favours: [Redland, Red Army]}\n  blue: {opposes: [Redland]}\n"
                    "narratives:\n  - {id: R1, name: Redland brings peace, side: red}\n"
                    "  - {id: B1, name: Redland's army kills civilians, side: blue}\n  - {id: X1, name: Weather}\n", encoding="utf-8")
    tax = load_taxonomy(str(path))
    assert tax.sides["red"].favours == ("Redland", "Red Army") and tax.sides["blue"].opposes == ("Redland",)

    def against(*readings, holder=""):
        return dict(zip(("R1", "B1", "X1"), _against_side(tax, [Stance("d", a, s, (), "test", 1.0, holder) for a, s in readings]).tolist()))

    assert against(("Red Army", -1.2)) == {"R1": True, "B1": False, "X1": False}
    assert against(("Redland", 0.9)) == {"R1": False, "B1": True, "X1": False}
    assert against(("Redland", -1.2), ("Red Army", 0.8)) == {"R1": False, "B1": False, "X1": False}  # both ways
    assert against(("Redland", -0.4)) == {"R1": False, "B1": False, "X1": False}  # inside the neutral band
    assert against(("Red Army", -1.5), holder="Blueland") == {"R1": False, "B1": False, "X1": False}  # a quoted speaker's
    no_sides = Taxonomy(tax.narratives, str(path), "x")
    assert not _against_side(no_sides, [Stance("d", "Red Army", -1.5, (), "test", 1.0)]).any()  # a taxonomy without sides

    presence = np.zeros((2, len(PRESENCE_FEATURES)), np.float32)
    mode = np.zeros((2, len(MODE_FEATURES)), np.float32)
    mode[:, MODE_FEATURES.index("same_side")] = 1.0  # both on the leading side: endorsed by the side rule
    mode[:, MODE_FEATURES.index("bias")] = 1.0
    turned = np.array([True, False])
    endorsed = score_features(DocumentFeatures(("R1", "B1"), presence, mode, [[], []], np.zeros(1), True, None, None, turned))[1]
    assert endorsed[0] == 0.0 and endorsed[1] == 1.0  # even a relay without distance does not outweigh the author's stance
