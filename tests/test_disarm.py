"""DISARM: the framework loads from real sources and cues map described behaviours to techniques with evidence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from influence_atlas.errors import OntologyError
from influence_atlas.extract.disarm import find_ttps, load_cues, load_disarm

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
STIX = SHARED / "data" / "disarm" / "DISARM.json"

# Floors on the seed gold (parent-technique level, README rules): raise them, never lower them.
SEED_FLOORS = {"precision": 0.95, "recall": 0.95}


def _hits(text: str, language: str | None, framework=None) -> dict[str, str]:
    """Return {disarm_id: evidence text} for a text."""
    return {tid: text[s:e] for s, e, tid, _, _ in find_ttps(text, language, framework)}


def test_framework_loads_from_pymispgalaxies():
    fw = load_disarm()
    assert fw.source.startswith("pymispgalaxies")
    assert len(fw.techniques) > 250
    assert fw.get("T0086").name == "Develop Image-Based Content"
    assert fw.get("T0007").name == "Create Inauthentic Social Media Pages and Groups"
    assert fw.get("T0086.002") is not None and fw.get("T0086").tactics


def test_shipped_cluster_file_reads_as_pymispgalaxies_does():
    from pymispgalaxies import Cluster

    from influence_atlas.extract.disarm import _from_misp

    cluster = Cluster("disarm-techniques")
    expected = _from_misp({"values": [cluster[name].to_dict() for name in cluster]}, "pymispgalaxies")
    assert load_disarm().techniques == expected


def test_framework_loads_from_the_stix_bundle():
    if not STIX.exists():
        pytest.fail(f"DISARM STIX bundle not found at {STIX} (the tests need ../shared beside the clone, as CI has it)")
    fw = load_disarm(STIX)
    assert len(fw.techniques) == 391
    assert fw.get("T0124").name == "Suppress Opposition"
    assert fw.get("T0124").tactics
    # v1.6 dropped T0007: the cue's next preference is used, with the framework's own name.
    text = "The researchers mapped a coordinated network of Telegram channels that pushed the same posts."
    found = {tid: name for _, _, tid, name, _ in find_ttps(text, "en", fw)}
    assert "T0007" not in found and found.get("T0151.003") == fw.get("T0151.003").name


def test_framework_loads_from_a_misp_cluster_file(tmp_path):
    cluster = {"name": "Techniques", "type": "disarm-techniques", "values": [
        {"value": "Develop Image-Based Content", "meta": {"external_id": "T0086", "kill_chain": ["tactics:Develop Content"]}},
    ]}
    path = tmp_path / "cluster.json"
    path.write_text(json.dumps(cluster), encoding="utf-8")
    fw = load_disarm(path)
    assert fw.get("T0086").tactics == ("Develop Content",)
    hits = find_ttps("Doctored photos of the minister circulated widely.", "en", fw)
    assert [h[2] for h in hits] == ["T0086"]


def test_bad_framework_files_are_named(tmp_path):
    with pytest.raises(OntologyError, match="not found"):
        load_disarm(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"type": "nothing"}', encoding="utf-8")
    with pytest.raises(OntologyError, match="bad.json"):
        load_disarm(bad)


def test_english_cues_point_at_their_words():
    text = ("Investigators found that a network of fake Facebook accounts run from St Petersburg posted "
            "AI-generated images of Sudanese generals. The operators also paid local influencers in Khartoum "
            "to share pro-Kremlin videos. Days later the junta suspended the broadcasts of two foreign radio stations.")
    hits = _hits(text, "en")
    assert hits["T0090"] == "fake Facebook accounts"
    assert hits["T0086.002"] == "AI-generated images"
    assert hits["T0100"] == "paid local influencers"
    assert hits["T0087"] == "pro-Kremlin videos"
    assert hits["T0124"] == "suspended the broadcasts"
    for s, e, tid, name, conf in find_ttps(text, "en"):
        assert 0 <= s < e <= len(text) and name and 0 < conf < 1


def test_french_cues_point_at_their_words():
    text = ("Selon Viginum, un réseau de faux comptes et de pages Facebook coordonnées a diffusé des photos "
            "truquées montrant des soldats français. Des influenceurs rémunérés par Wagner relayaient ces contenus. "
            "La junte a ordonné la suspension de RFI, tandis qu'une manifestation pro-russe était organisée à Niamey.")
    hits = _hits(text, "fr")
    assert hits["T0090"] == "faux comptes"
    assert hits["T0007"] == "pages Facebook coordonnées"
    assert hits["T0086"] == "photos truquées"
    assert hits["T0100"] == "influenceurs rémunérés"
    assert hits["T0124"] == "suspension de RFI"
    assert hits["T0057"] == "manifestation pro-russe"


def test_ordinary_news_maps_to_nothing():
    en = ("Thousands of teachers demonstrated in Dakar on Tuesday to demand higher wages. The union said the strike "
          "would continue. The minister held a press conference on the budget, which is funded by tax receipts.")
    fr = ("Les enseignants ont manifesté à Ouagadougou pour réclamer de meilleurs salaires. "
          "Le gouvernement a tenu une réunion avec les syndicats.")
    assert find_ttps(en, "en") == [] and find_ttps(fr, "fr") == []


def test_language_selects_patterns_and_none_tries_all():
    text = "Des influenceurs rémunérés relayaient ces contenus."
    assert find_ttps(text, "en") == []
    assert [h[2] for h in find_ttps(text, None)] == ["T0100"]


@pytest.mark.parametrize("entry, message", [
    ("- {name: x, techniques: [T86], en: {match: [a]}}", "cue 'x'.*DISARM ids"),
    ("- {name: x, techniques: [T0086], en: {match: ['(']}}", "cue 'x'.*not a valid regular expression"),
    ("- {name: x, techniques: [T0086], en: {match: ['<nope>']}}", "cue 'x'.*undefined macro <nope>"),
    ("- {name: x, techniques: [T0086], colour: red, en: {match: [a]}}", "cue 'x'.*unknown field 'colour'"),
    ("- {name: x, techniques: [T0086]}", "cue 'x'.*at least one language"),
    ("- {techniques: [T0086], en: {match: [a]}}", r"cues\[0\].*'name' is required"),
])
def test_bad_cue_files_name_the_file_and_entry(tmp_path, entry, message):
    path = tmp_path / "my_cues.yaml"
    path.write_text("cues:\n" + entry + "\n", encoding="utf-8")
    with pytest.raises(OntologyError, match=message) as info:
        load_cues((str(path),))
    assert "my_cues.yaml" in str(info.value)


def test_user_cue_files_extend_the_packaged_ones(tmp_path):
    path = tmp_path / "extra.yaml"
    path.write_text("macros: {w: 'spam\\w*'}\ncues:\n- name: spam\n  techniques: [T0049]\n"
                    "  en: {match: ['<w> waves?']}\n", encoding="utf-8")
    cues = load_cues((str(path),))
    assert any(c.name == "spam" for c in cues) and any(c.name == "fabricated-images" for c in cues)
    hits = find_ttps("A spamming wave hit the forums.", "en", cues=cues)
    assert [(h[2], h[3]) for h in hits] == [("T0049", "Flood Information Space")]


def _seed_scores(seeds: Path, gold: Path) -> dict[str, float]:
    from influence_atlas.text.normalise import normalise_text

    tp = fp = fn = 0
    for path in sorted(gold.glob("0*.json")):
        g = json.loads(path.read_text(encoding="utf-8"))
        text = normalise_text((seeds / g["doc"]).read_text(encoding="utf-8"))
        system = {tid.split(".")[0] for _, _, tid, _, _ in find_ttps(text, g.get("language"))}
        accepted: set[str] = set()
        for item in g.get("ttps", []):
            ok = {x.split(".")[0] for x in item["accept"]} & system
            tp, fn = tp + bool(ok), fn + (not ok)
            accepted |= ok
        fp += len(system - accepted)
    return {"precision": tp / max(1, tp + fp), "recall": tp / max(1, tp + fn)}


def test_seed_ttps_meet_the_floors(seeds, gold):
    scores = _seed_scores(seeds, gold)
    for key, floor in SEED_FLOORS.items():
        assert scores[key] >= floor, scores
