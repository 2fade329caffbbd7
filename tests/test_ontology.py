"""The ontology loader package: every file validated with errors naming file and entry; the analysis version covers
every input that changes results."""

from __future__ import annotations

import re
import shutil

import pytest

from influence_atlas.errors import OntologyError
from influence_atlas.ontology import files
from influence_atlas.ontology.claim_cues import load_claim_cues
from influence_atlas.ontology.dates import load_date_words
from influence_atlas.ontology.disarm import load_cues
from influence_atlas.ontology.events import load_actor_types, load_event_types
from influence_atlas.ontology.places import load_place_supplement
from influence_atlas.ontology.words import load_name_words, load_quantity_words
from influence_atlas.versions import MODELS_DIR, analysis_inputs, analysis_version


def test_every_packaged_file_loads_and_counts_in_the_version():
    assert load_event_types() and load_actor_types().types and load_place_supplement() and load_cues() and load_claim_cues()
    assert load_date_words().months and load_name_words().patterns["titles"] and load_quantity_words().values["numbers"]
    inputs = set(analysis_inputs())
    assert set(files.packaged_files()) <= inputs
    models = {p for p in MODELS_DIR.rglob("*") if p.is_file()}
    assert any(p.suffix == ".npz" for p in models) and models <= inputs  # every packaged model file, weights included


def test_changing_one_ontology_file_changes_the_analysis_version(tmp_path, monkeypatch):
    copy = tmp_path / "ontology"
    shutil.copytree(files.PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    monkeypatch.setattr(files, "PACKAGE_DIR", copy)
    before = analysis_version()
    assert analysis_version() == before
    voice = copy / "voice.yaml"
    voice.write_text(voice.read_text(encoding="utf-8") + "\n# one more line\n", encoding="utf-8")
    assert analysis_version() != before


def test_user_files_change_the_analysis_version(tmp_path, monkeypatch):
    monkeypatch.delenv("ATLAS_DISARM_CUES", raising=False)
    before = analysis_version()
    actors = tmp_path / "actors.yaml"
    actors.write_text("actors:\n  - name: Someone New\n    kind: person\n", encoding="utf-8")
    with_actors = analysis_version((str(actors),))
    assert with_actors != before
    cues = tmp_path / "cues.yaml"
    cues.write_text("cues:\n  - name: paid posters\n    techniques: [T0049]\n    en:\n      match: ['paid posters?']\n",
                    encoding="utf-8")
    monkeypatch.setenv("ATLAS_DISARM_CUES", str(cues))
    with_cues = analysis_version()
    assert with_cues not in (before, with_actors)
    seen = {before, with_actors, with_cues}
    for variable, body in (("ATLAS_DATE_WORDS", "same_day:\n  de: ['am selben Tag']\n"),
                           ("ATLAS_EVENT_TYPES", "event_types:\n  - id: coup\n    triggers:\n      de: [Staatsstreich]\n"),
                           ("ATLAS_VOICE_WORDS", "negation:\n  de: [nicht]\n"),
                           ("ATLAS_CLAIM_CUES", "determiners:\n  de: [die]\n"),
                           ("ATLAS_STANCE_WORDS", "victim:\n  de: [Opfer]\n"),
                           ("ATLAS_NAME_WORDS", "titles:\n  de: [Oberst]\n"),
                           ("ATLAS_QUANTITY_WORDS", "numbers:\n  de: {zwei: 2}\n")):
        path = tmp_path / f"{variable}.yaml"
        path.write_text(body, encoding="utf-8")
        monkeypatch.setenv(variable, str(path))
        assert analysis_version() not in seen
        seen.add(analysis_version())


def test_event_negators_and_hedge_kinds_are_the_voice_files(tmp_path, monkeypatch):
    import yaml

    from influence_atlas.ontology.events import load_event_cues

    data = yaml.safe_load(files.PACKAGE_DIR.joinpath("event_types.yaml").read_text(encoding="utf-8"))
    voice = yaml.safe_load(files.PACKAGE_DIR.joinpath("voice.yaml").read_text(encoding="utf-8"))
    assert all(p in load_event_cues().cues["negation"] for p in voice["negation"]["fr"])
    assert dict(load_event_cues().hedges)["planned"] == files.alternation("x", [p for ps in voice["hedge_kinds"]["planned"].values() for p in ps])
    own = tmp_path / "voice.yaml"
    own.write_text(yaml.safe_dump({"negation": {"en": ["nowhere near"]}, "hedge_kinds": {"denied": {"de": ["bestritten"]}}}),
                   encoding="utf-8")
    monkeypatch.setenv("ATLAS_VOICE_WORDS", str(own))
    extended = load_event_cues()
    assert "nowhere near" in extended.cues["negation"] and "bestritten" in dict(extended.hedges)["denied"]
    monkeypatch.delenv("ATLAS_VOICE_WORDS")
    assert "nowhere near" not in load_event_cues().cues["negation"]
    path = tmp_path / "event_types.yaml"
    for cue in ("negation", "hedges"):
        path.write_text(yaml.safe_dump({**data, "cues": {**data["cues"], cue: {"en": ["not"]}}}), encoding="utf-8")
        with pytest.raises(OntologyError, match=rf"event_types.yaml: cues: {cue} is read from voice.yaml"):
            load_event_cues(str(path))
    own = tmp_path / "more" / "voice.yaml"  # (a new path: files are read once per path)
    own.parent.mkdir()
    own.write_text(yaml.safe_dump({"hedge_kinds": {"rumoured": {"en": ["rumoured"]}}}), encoding="utf-8")
    monkeypatch.setenv("ATLAS_VOICE_WORDS", str(own))
    with pytest.raises(OntologyError, match=r"voice.yaml: hedge_kinds must give only denied, suspected, alleged, planned \(not rumoured\)"):
        load_event_cues()


def test_user_event_types_add_types_and_triggers(tmp_path, monkeypatch):
    from influence_atlas.ontology.events import EVENT_TYPES, event_type_ids, load_event_cues, load_event_types

    own = tmp_path / "event_types.yaml"
    own.write_text("event_types:\n  - id: hack_and_leak\n    acled: [Strategic developments, Other]\n    suppresses: [other]\n"
                   "    triggers:\n      en: ['leaked (?:e-?mails|documents)']\n  - id: coup\n    triggers:\n      de: [Staatsstreich]\n"
                   "cues:\n  onset:\n    de: [seit]\n", encoding="utf-8")
    monkeypatch.setenv("ATLAS_EVENT_TYPES", str(own))
    types = {t.id: t for t in load_event_types()}
    assert event_type_ids()[-1] == "hack_and_leak" and "hack_and_leak" not in EVENT_TYPES
    assert types["hack_and_leak"].triggers["en"].search("It published leaked emails.") and types["hack_and_leak"].suppresses == ("other",)
    assert types["coup"].triggers["de"].search("der Staatsstreich") and types["coup"].triggers["en"].search("a coup")
    assert "seit" in load_event_cues().cues["onset"] and "since" in load_event_cues().cues["onset"]
    for i, (body, message) in enumerate((("event_types:\n  - id: Hack\n", r"event type 'Hack': an id is lower-case"),
                          ("event_types:\n  - id: leak\n    suppresses: [nothing]\n", r"event type 'leak': unknown type\(s\) in 'suppresses': nothing"),
                          ("event_types:\n  - id: leak\n  - id: leak\n", r"event type 'leak': given twice in one file"),
                          ("acled: {}\n", r"unknown section\(s\) acled"),
                          ("cues:\n  onset:\n    de: ['seit(']\n", r"cues.onset: bad pattern 'seit\('"),
                          ("cues:\n  soon:\n    de: [bald]\n", r"cues: unknown soon"))):
        own = tmp_path / str(i) / "event_types.yaml"  # (a new path each time: files are read once per path)
        own.parent.mkdir()
        own.write_text(body, encoding="utf-8")
        monkeypatch.setenv("ATLAS_EVENT_TYPES", str(own))
        with pytest.raises(OntologyError, match=r"event_types.yaml: " + message):
            load_event_cues() if message.startswith("cues") else load_event_types()


def test_user_voice_claim_cue_and_stance_files_extend_the_packaged_ones(tmp_path, monkeypatch):
    from influence_atlas.ontology.lexicons import load_stance_lexicon, load_voice_cues

    voice = tmp_path / "voice.yaml"
    voice.write_text("reporting_verbs:\n  de: [sagte]\n", encoding="utf-8")
    claims = tmp_path / "claim_cues.yaml"
    claims.write_text("determiners:\n  de: [die]\n", encoding="utf-8")
    stance = tmp_path / "stance.yaml"
    stance.write_text("polarity:\n  en: {'heroic': -1, 'scheming': -2}\nvictim:\n  de: [Opfer]\nblame_events: [coup]\n"
                      "grammar:\n  agent_links: ['on behalf of']\n", encoding="utf-8")
    assert "sagte" not in load_voice_cues().get("reporting_verbs", "de").pattern
    monkeypatch.setenv("ATLAS_VOICE_WORDS", str(voice))
    monkeypatch.setenv("ATLAS_CLAIM_CUES", str(claims))
    monkeypatch.setenv("ATLAS_STANCE_WORDS", str(stance))
    assert load_voice_cues().get("reporting_verbs", "de").search("er sagte") and load_voice_cues().get("reporting_verbs", "en").search("said")
    assert "die" in load_claim_cues()["determiners"] and "the" in load_claim_cues()["determiners"]
    lexicon = load_stance_lexicon()
    scores = {p.pattern: score for p, score in lexicon.polarity["en"]}
    assert scores["(?<!\\w)(?:heroic)(?!\\w)"] == -1 and scores["(?<!\\w)(?:scheming)(?!\\w)"] == -2
    assert lexicon.victim["de"].search("die Opfer") and "coup" in lexicon.blame_events and len(lexicon.blame_events) > 1
    assert lexicon.grammar.agent_after.match(" on behalf of the ") and lexicon.grammar.agent_after.match(" linked to the ")
    (tmp_path / "bad").mkdir()  # (new paths: files are read once per path)
    stance, claims = tmp_path / "bad" / "stance.yaml", tmp_path / "bad" / "claim_cues.yaml"
    monkeypatch.setenv("ATLAS_CLAIM_CUES", str(claims))
    monkeypatch.setenv("ATLAS_STANCE_WORDS", str(stance))
    stance.write_text("polarity:\n  en: {'heroic': 3}\n", encoding="utf-8")
    with pytest.raises(OntologyError, match=r"stance.yaml: polarity.en entry 'heroic': score must be"):
        load_stance_lexicon()
    claims.write_text("adverbs:\n  en: [also]\n", encoding="utf-8")
    with pytest.raises(OntologyError, match=r"claim_cues.yaml: unknown section\(s\) adverbs"):
        load_claim_cues()


def test_user_word_files_extend_the_packaged_ones(tmp_path):
    dates = tmp_path / "dates.yaml"
    dates.write_text("months:\n  de:\n    names: {januar: 1, 'märz': 3}\nsame_day:\n  de: ['am selben Tag']\n", encoding="utf-8")
    words = load_date_words((str(dates),))
    assert words.months["de"].names == {"januar": 1, "märz": 3} and words.months["en"].names["may"] == 5
    assert words.phrases["same_day"]["de"] == ["am selben Tag"] and "am selben Tag" not in load_date_words().phrase("same_day")
    quantities = tmp_path / "quantities.yaml"
    quantities.write_text("numbers:\n  de: {zwei: 2}\nnot_units:\n  de: [der]\n", encoding="utf-8")
    extended = load_quantity_words((str(quantities),))
    assert extended.values["numbers"]["zwei"] == 2 and extended.values["numbers"]["two"] == 2 and "der" in extended.words("not_units")


@pytest.mark.parametrize("loader, body, message", [
    (load_date_words, "months:\n  de:\n    names: {januar: 13}\n", r"months.de.names: 'januar' must map to a number from 1 to 12"),
    (load_date_words, "months:\n  de:\n    names: {mai: 6}\n", r"months: 'mai' is 5 in fr and 6 in de"),
    (load_date_words, "same_day:\n  de: ['(am) selben Tag']\n", r"same_day.de: pattern '\(am\) selben Tag' has a capturing group"),
    (load_date_words, "units:\n  de:\n    hour: [Stunde]\n", r"units.de: expected a mapping of day, week, month, year"),
    (load_date_words, "holidays: {}\n", r"unknown section\(s\) holidays"),
    (load_name_words, "name_glue:\n  de: ['von der']\n", r"name_glue.de: 'von der' must be one word"),
    (load_name_words, "titles:\n  de: ['Oberst(']\n", r"titles.de: bad pattern 'Oberst\('"),
    (load_quantity_words, "numbers:\n  de: {zwei: two}\n", r"numbers.de: 'zwei' must map to a number"),
    (load_quantity_words, "currencies:\n  de: {Mark: 3}\n", r"currencies.de: 'Mark' must be a lower-case phrase"),
])
def test_word_file_errors_name_the_file_and_the_entry(tmp_path, loader, body, message):
    path = tmp_path / "words.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(OntologyError, match=r"words.yaml: " + message if "is 5 in" not in message else message):
        loader((str(path),))


@pytest.mark.parametrize("loader, name, body, message", [
    (load_event_types, "event_types.yaml", "event_types:\n  - id: coup\n    priority: 3\n",
     r"event_types.yaml: event type 'coup': unknown field\(s\) priority"),
    (load_event_types, "event_types.yaml", "event_types:\n  - id: coup\n    triggers:\n      en: ['coup(']\n",
     r"event_types.yaml: event type 'coup': triggers.en: bad pattern 'coup\('"),
    (load_actor_types, "actor_types.yaml", "actor_types:\n  - id: rebels\n    inter: 2\n    label: rebels\n    colour: red\n",
     r"actor_types.yaml: actor type 'rebels': unknown field\(s\) colour"),
    (load_place_supplement, "places.yaml", "places:\n  - name: Nowhere\n    country: ML\n",
     r"places.yaml: places\[0\]: needs name, country, latitude, longitude"),
    (load_event_types, "event_types.yaml", "- just a list\n", r"event_types.yaml: expected a mapping"),
    (load_claim_cues, "claim_cues.yaml", "determiners:\n  en: ['the']\n", r"claim_cues.yaml: missing section\(s\) vague_quantifiers"),
    (load_event_types, "missing.yaml", None, r"missing.yaml: event types file not found"),
])
def test_errors_name_the_file_and_the_entry(tmp_path, loader, name, body, message):
    path = tmp_path / name
    if body is not None:
        path.write_text(body, encoding="utf-8")
    with pytest.raises(OntologyError, match=message):
        loader(str(path))


def test_one_list_of_analysed_languages():
    """The languages with a spaCy pipeline are the languages the word lists and lexicons are written for."""
    from influence_atlas.nlp import PIPELINES
    from influence_atlas.ontology.acled import LANGUAGES as ACLED_LANGUAGES
    from influence_atlas.ontology.narratives import LANGUAGES as NARRATIVE_LANGUAGES
    from influence_atlas.text.metadata import ANALYSED_LANGUAGES, LANGUAGES

    assert set(PIPELINES) == set(ANALYSED_LANGUAGES) == set(ACLED_LANGUAGES) == set(NARRATIVE_LANGUAGES)
    assert set(ANALYSED_LANGUAGES) <= set(LANGUAGES)


def test_claim_cues_bad_pattern_and_unknown_section(tmp_path):
    import yaml

    data = yaml.safe_load(files.PACKAGE_DIR.joinpath("claim_cues.yaml").read_text(encoding="utf-8"))
    path = tmp_path / "claim_cues.yaml"
    path.write_text(yaml.safe_dump({**data, "relatives": {"en": ["who("]}}), encoding="utf-8")
    with pytest.raises(OntologyError, match=r"claim_cues.yaml: relatives.en: bad pattern 'who\('"):
        load_claim_cues(str(path))
    path.write_text(yaml.safe_dump({**data, "adverbs": {"en": ["also"]}}), encoding="utf-8")
    with pytest.raises(OntologyError, match=r"claim_cues.yaml: unknown section\(s\) adverbs"):
        load_claim_cues(str(path))


def test_a_user_event_type_is_found_in_a_text(tmp_path, monkeypatch):
    from influence_atlas.pipeline import analyze_document, build_document
    from influence_atlas.text.readers import Source

    own = tmp_path / "event_types.yaml"
    own.write_text("event_types:\n  - id: hack_and_leak\n    suppresses: [other]\n    triggers:\n      en: ['leaked (?:e-?mails|documents)']\n",
                   encoding="utf-8")
    text = "On 3 May 2022, Russian hackers leaked emails of the embassy in Bamako, officials said."
    doc = build_document(Source(name="t.txt", path="t.txt", text=text, meta={}))
    assert "hack_and_leak" not in {e.type for e in analyze_document(doc).events}
    monkeypatch.setenv("ATLAS_EVENT_TYPES", str(own))
    found = [e for e in analyze_document(doc).events if e.type == "hack_and_leak"]
    assert found and found[0].date == "2022-05-03" and text[found[0].start:found[0].end].startswith("On 3 May")


def test_any_of_finds_something_exactly_where_one_of_its_patterns_matches():
    from influence_atlas.ontology.lexicons import load_stance_lexicon

    # The packaged stance words (all in the whole-word frame, joined under one frame) and a mixed list (joined as is).
    framed = tuple(p for p, _ in load_stance_lexicon().polarity["en"])
    mixed = (re.compile(r"\bcoup(?:s)?\b", re.I), re.compile(r"(?<![\w-])fake\s+news", re.I), re.compile(r"\d+%", re.I))
    texts = ["The junta staged a coup on Sunday.", "Soldiers committed atrocities in the village.", "It rose 40% in May.",
             "Nothing here at all.", "A coupon is not a coup-like event.", "fake  news spread", "unfake news", "",
             "The massacred, the massacre's toll", "Brutality; brutal"]
    for patterns in (framed, mixed):
        screen = files.any_of(patterns)
        assert screen is not None
        for text in texts:
            assert bool(screen.search(text)) == any(p.search(text) for p in patterns), (text, patterns[0].pattern)
    assert files.any_of(framed).pattern.startswith(r"(?<!\w)(?:(?:")  # one frame for all


def test_screen_of_builds_each_owners_screen_once_and_keeps_owners_apart():
    built = []

    def gather(patterns):
        def patterns_of():
            built.append(patterns)
            return patterns
        return patterns_of

    first = (re.compile(r"(?<!\w)(?:coup)(?!\w)", re.I), re.compile(r"(?<!\w)(?:raid)(?!\w)", re.I))
    second = (re.compile(r"(?<!\w)(?:truce)(?!\w)", re.I),)
    screen = files.screen_of(first, "en", gather(first))
    assert files.screen_of(first, "en", gather(first)) is screen and built == [first]  # gathered once
    assert screen.search("a coup") and not screen.search("a truce")
    other = files.screen_of(second, "en", gather(second))  # another table, same key: its own screen
    assert other.search("a truce") and not other.search("a coup")
    assert files.screen_of(first, "fr", gather(first)) is not None and len(built) == 3  # another key: built again


def test_any_of_refuses_patterns_it_cannot_join_faithfully():
    assert files.any_of((re.compile("a", re.I), re.compile("b"))) is None  # different flags
    assert files.any_of((re.compile(r"(a)\1"), re.compile("b"))) is None  # a group reference would point elsewhere
    assert files.any_of((re.compile(r"(?P<x>a)(?P=x)"), re.compile("b"))) is None
    assert files.any_of((re.compile("a", re.X), re.compile("b", re.X))) is None  # verbose mode: comments run on
    assert files.any_of(()) is None
    # A framed pattern whose middle is an alternation of its own is not moved under the shared frame.
    loose = (re.compile(r"(?<!\w)(?:ab)|(?:cd)(?!\w)", re.I), re.compile(r"(?<!\w)(?:ef)(?!\w)", re.I))
    screen = files.any_of(loose)
    for text in ("xcd", "abx", "ef", "xef", "cdx"):
        assert bool(screen.search(text)) == any(p.search(text) for p in loose), text
