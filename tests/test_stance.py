"""Stance toward actors, with the real spaCy pipelines, the packaged gazetteer and the packaged stance lexicon."""

from __future__ import annotations

import pytest

from influence_atlas.errors import OntologyError
from influence_atlas.extract.stance import find_stances, lexicon_stances
from influence_atlas.nlp import parse
from influence_atlas.ontology import load_actor_catalog
from influence_atlas.ontology.lexicons import load_stance_lexicon
from influence_atlas.records import Mention
from influence_atlas.pipeline import ANALYSIS_NEEDS, _sentence_spans, analyze_document, build_document
from influence_atlas.text.readers import Source


def analyse(text: str, language: str | None = None):
    """Return (document, mentions, sentence spans) as the pipeline makes them."""
    doc = build_document(Source(name="t.txt", path="t.txt", text=text, meta={"language": language} if language else {}))
    mentions = analyze_document(doc).mentions
    sentences = []
    for offset, sdoc in parse(doc.text, doc.language, ANALYSIS_NEEDS):
        sentences.extend(_sentence_spans(doc.text, offset, sdoc))
    return doc, mentions, sentences


def stances(text: str, language: str | None = None) -> dict:
    doc, mentions, sentences = analyse(text, language)
    found = find_stances(doc.id, doc.text, sentences, mentions, doc.language)
    for st in found:
        assert -2.0 <= st.score <= 2.0
        assert st.evidence and all(doc.text[s:e].strip() for s, e in st.evidence)
        assert all((s, e) in sentences for s, e in st.evidence), "evidence must be whole sentences"
    return {st.actor: st for st in found if not st.holder}  # the author's own stances


def test_own_voice_praise_and_blame_go_to_the_actor_they_are_said_of():
    text = (
        "Russia has been a reliable partner for the Sahel. Russian instructors helped the army recapture several towns, "
        "improving security for millions. Meanwhile Western hegemony and French interference kept the region dependent "
        "for decades. France failed to stop the jihadists despite years of operations."
    )
    got = stances(text, "en")
    assert got["Russia"].score >= 0.5
    assert got["France"].score <= -0.5
    assert got["The West"].score <= -0.5
    # The evidence points at the words that show the lean.
    assert any("reliable partner" in text_of(text, ev) for ev in got["Russia"].evidence)


def text_of(text: str, span: tuple[int, int]) -> str:
    return build_document(Source(name="t.txt", path="t.txt", text=text, meta={})).text[span[0] : span[1]]


def test_quoted_and_attributed_speech_is_not_the_authors_stance():
    text = (
        "The Kremlin claims that its brutal enemies in Paris plunder Africa. "
        "“France is a predatory and arrogant power,” said a spokesman for the junta. "
        "According to pro-Russian bloggers, French soldiers looted gold mines in Mali. "
        "France held talks with Mali in Bamako on Tuesday. France also met officials from Niger."
    )
    got = stances(text, "en")
    assert abs(got["France"].score) < 0.5


def test_negation_flips_and_contrast_keeps_the_main_clause():
    negated = stances("The UN mission in Mali was not effective. The UN mission also failed to protect civilians.", "en")
    assert negated["United Nations"].score < -0.5
    text = (
        "While critics focus on the abuses of the Wagner Group, local populations value what Russia has achieved: "
        "Russian help has brought visible gains in safety. Russia remains a reliable partner."
    )
    got = stances(text, "en")
    assert got["Russia"].score >= 0.5
    # The conceded, attributed clause does not make the author hostile to Wagner.
    assert got["Wagner Group"].score > -0.5


def test_debunked_claims_do_not_blame_their_target():
    text = (
        "Fake pictures purportedly showing a French patrol robbing shops in Gao spread on Facebook. "
        "Fact-checkers traced the fake pictures to accounts close to Wagner. France had no troops in the area."
    )
    got = stances(text, "en")
    assert got["France"].score > -0.5


@pytest.mark.parametrize("text,language", [
    ("Clips purportedly showing a French unit robbing a mine in Mali went round on social media this spring.", "en"),
    ("A video allegedly showing French troops killing civilians in Mali was traced to a network of accounts.", "en"),
    ("Photoshopped images of French paratroopers emptying a market were shared on Telegram.", "en"),
    ("Des photos truquées montrant des soldats français en train de piller de l'or au Mali ont circulé sur Facebook.", "fr"),
])
def test_material_shown_as_other_than_it_is_does_not_blame_what_it_shows(text, language):
    assert stances(text, language)["France"].score > -0.5


def test_french_text():
    text = (
        "La Russie est un partenaire fiable et sincère pour le Mali. Les instructeurs russes ont aidé l'armée à reprendre "
        "le contrôle de plusieurs villes. La France a pillé les ressources du Sahel pendant des décennies et son opération "
        "militaire a échoué. La domination française appartient au passé."
    )
    got = stances(text, "fr")
    assert got["Russia"].score >= 0.5
    assert got["France"].score <= -0.5


def test_french_reported_speech_and_victims():
    text = (
        "Selon des blogueurs prorusses, la France serait une puissance prédatrice et arrogante. "
        "L'invasion de l'Ukraine par la Russie a provoqué des massacres. La Russie mène une guerre brutale contre l'Ukraine."
    )
    got = stances(text, "fr")
    assert abs(got["France"].score) < 0.5
    assert got["Russia"].score <= -0.5
    assert got["Ukraine"].score > 0


def test_influence_operations_are_blamed_on_who_runs_them():
    text = (
        "Yevgeny Prigozhin bankrolled a notorious troll factory. Companies run by Prigozhin ran covert influence "
        "operations on Facebook. Facebook removed the networks in October. Facebook published its findings."
    )
    got = stances(text, "en")
    assert got["Yevgeny Prigozhin"].score <= -0.5
    # The platform that takes the operation down is not blamed for it.
    assert abs(got["Facebook"].score) < 0.5
    fr = stances("La Russie mène des opérations d'influence clandestines en Afrique. "
                 "La Russie a signé un accord avec le Tchad en mai.", "fr")
    assert fr["Russia"].score <= -0.5


def test_words_inside_names_and_what_actors_fight_do_not_judge_them():
    text = (
        "Mali and Niger agreed to set up a joint battalion to fight terrorists along their border. Mali held talks with Niger. "
        "Grain for the United Nations left port aboard the chartered Brave Commander. The United Nations thanked donors."
    )
    got = stances(text, "en")
    assert abs(got["Mali"].score) < 0.5 and abs(got["Niger"].score) < 0.5
    assert abs(got["United Nations"].score) < 0.5


@pytest.mark.parametrize("text, language, blamed, acting", [
    ("Freedonia adopted sanctions against the Sylvanian Guard for torture and summary executions.", "en", "Sylvanian Guard", "Freedonia"),
    ("Freedonia sanctioned the Sylvanian Guard over repeated human rights violations.", "en", "Sylvanian Guard", "Freedonia"),
    ("Freedonia recalled its measures against the Sylvanian Guard, which is involved in torture.", "en", "Sylvanian Guard", "Freedonia"),
    ("La Freedonie a adopté des sanctions contre la Garde sylvanienne, accusée de torture.", "fr", "Sylvanian Guard", "Freedonia"),
])
def test_the_fault_an_act_answers_is_its_targets_not_the_actors(tmp_path, monkeypatch, text, language, blamed, acting):
    """Sanctions, measures or condemnation against an actor "for" / "over" / "involved in" a fault: the lexicon's hostile
    words of the fault are said of the target, not of the actor that acts."""
    monkeypatch.setenv("ATLAS_ACTORS", str(_made_up_actors(tmp_path)))
    got = lexicon_words(text, language)
    assert got.get(blamed, 0.0) <= -0.5
    assert got.get(acting, 0.0) == 0.0


def test_an_act_against_someone_is_said_of_its_object_not_its_agent(tmp_path, monkeypatch):
    monkeypatch.setenv("ATLAS_ACTORS", str(_made_up_actors(tmp_path)))
    got = lexicon_words("The Sylvanian Guard, sanctioned by Freedonia, left the capital.", "en")
    assert got.get("Sylvanian Guard", 0.0) <= -0.5 and got.get("Freedonia", 0.0) == 0.0
    got = lexicon_words("A trading house sanctioned by Freedonia paid the Sylvanian Guard in gold.", "en")
    assert got.get("Freedonia", 0.0) == 0.0 and got.get("Sylvanian Guard", 0.0) == 0.0


def lexicon_words(text: str, language: str) -> dict[str, float]:
    """Return the stance lexicon's reading per actor (evaluative words only: the grammar under test)."""
    doc, mentions, sentences = analyse(text, language)
    return {st.actor: st.score for st in lexicon_stances(doc.id, doc.text, sentences, mentions, doc.language)}


def _made_up_actors(tmp_path):
    path = tmp_path / "actors.yaml"
    path.write_text("version: 1\nactors:\n  - name: Freedonia\n    kind: state\n    aliases: [Freedonie, la Freedonie]\n"
                    "  - name: Sylvanian Guard\n    kind: armed_group\n    aliases: [Garde sylvanienne, la Garde sylvanienne]\n",
                    encoding="utf-8")
    return path


def test_bad_stance_lexicon_names_file_and_entry(tmp_path):
    bad = tmp_path / "stance.yaml"
    bad.write_text("polarity:\n  en:\n    'heroic': 5\n", encoding="utf-8")
    with pytest.raises(OntologyError) as info:
        load_stance_lexicon(str(bad))
    assert str(bad) in str(info.value) and "heroic" in str(info.value) and "between -2 and 2" in str(info.value)
    bad.write_text("polarity:\n  en:\n    'broken(': -1\n", encoding="utf-8")
    with pytest.raises(OntologyError, match=r"broken\("):
        load_stance_lexicon(str(bad))


def test_quoted_words_are_the_speakers_stance_not_the_authors():
    text = (
        "Russia's foreign ministry spoke about France on Monday. "
        "“France is a predatory and arrogant power that plunders Africa,” Russia's foreign ministry said. "
        "France held talks with Mali in Bamako on Tuesday."
    )
    doc, mentions, sentences = analyse(text, "en")
    found = find_stances(doc.id, doc.text, sentences, mentions, doc.language, relay=False)
    own = {st.actor: st for st in found if not st.holder}
    held = {(st.holder, st.actor): st for st in found if st.holder}
    assert abs(own["France"].score) < 0.5
    # The speaker is the ministry, an actor of its own (its state is its country).
    assert held[("Ministry of Foreign Affairs of Russia", "France")].score <= -0.5
    assert all(doc.text[s:e].strip() for s, e in held[("Ministry of Foreign Affairs of Russia", "France")].evidence)
    # The document relays that one speaker without distance (issue 19's product decision): the author's stance is
    # the speaker's, and says so.
    relayed = {st.actor: st for st in find_stances(doc.id, doc.text, sentences, mentions, doc.language) if not st.holder}
    assert relayed["France"].score <= -0.5
    assert relayed["France"].extractor == "stance-relay" and relayed["France"].relayed_from == "Ministry of Foreign Affairs of Russia"


def test_target_model_reads_the_treatment_of_each_target():
    from influence_atlas.extract.target_sentiment import TargetItem, target_polarities

    hostile = "Critics say the corrupt general stole millions and lied to the soldiers' families."
    kind = "The brave Malian soldiers defended the town and saved hundreds of lives."
    got = target_polarities([TargetItem(hostile, hostile.index("general"), hostile.index("general") + 7),
                             TargetItem(kind, kind.index("Malian soldiers"), kind.index("Malian soldiers") + 15)])
    assert got == [-1, 1]


def test_the_fine_tuned_layers_read_a_window_around_the_target():
    import numpy as np

    from influence_atlas.extract.encoder import PieceStates
    from influence_atlas.extract.target_sentiment import around_target, target_pieces

    n = 50  # word pieces; states have [CLS] first and [SEP] last
    ps = PieceStates(np.arange(n + 2, dtype=np.float32)[:, None].repeat(3, 1), np.array([[2 * i, 2 * i + 1] for i in range(n)]))
    on = target_pieces(ps.offsets, 40, 44)  # pieces 20 and 21
    cut, mask = around_target(ps, on, window=5)
    assert cut.states[0, 0] == 0 and cut.states[-1, 0] == n + 1  # [CLS] and [SEP] kept
    assert list(cut.states[1:-1, 0]) == list(range(16, 28))  # pieces 15..26 (state rows 16..27)
    assert list(np.flatnonzero(mask)) == [5, 6] and len(mask) == len(cut.offsets) == 12
    whole, same = around_target(ps, on, window=60)
    assert whole is ps and same is on  # a sentence that fits is read whole


def test_silent_actors_are_read_only_while_the_rule_can_fire(monkeypatch):
    import numpy as np

    from influence_atlas.extract import stance as S

    def reading(actor, k):
        return S._Reading(actor, k, S.AUTHOR, 1.0, np.zeros(3), item=S.TargetItem(f"{actor} {k}", 0, len(actor)))

    values = {"Calm": 0.0, "Angry": -0.95}
    readings = [reading(a, k) for k in range(S.MAX_READ) for a in values]
    asked = []

    def fake_read(rs, states=None):
        asked.extend(rs)
        for r in rs:
            v = values[r.actor]
            r.probs = np.array([max(-v, 0.0), 1.0 - abs(v), max(v, 0.0)], np.float32)

    monkeypatch.setattr(S, "_read", fake_read)
    S._read_silent(readings, {"Calm", "Angry"}, -0.7, {})
    calm = [r for r in asked if r.actor == "Calm"]
    angry = [r for r in asked if r.actor == "Angry"]
    assert len(angry) == S.MAX_READ  # the mean can reach the threshold: every sentence is read
    assert 0 < len(calm) < S.MAX_READ  # neutral readings: reading stops once the threshold is out of reach
    features = S.stance_features(S._Tally({a: S._ActorTally({0}, set()) for a in values}, 4), readings)
    assert features["Angry"]["model"] <= -0.7 < features["Calm"]["model"]


def test_stance_score_command_prints_id_and_polarity(tmp_path):
    import json

    from typer.testing import CliRunner

    from influence_atlas.cli import app

    rows = [
        {"id": "a", "sentence": "Critics say the corrupt minister stole millions and lied to voters.", "from": 15, "to": 32},
        {"id": "b", "sentence": "The minister met the delegation on Tuesday.", "from": 4, "to": 12},
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["stance", "score", str(path)])
    assert result.exit_code == 0, result.output
    lines = [line.split("\t") for line in result.output.strip().splitlines()]
    assert [line[0] for line in lines] == ["a", "b"]
    assert all(line[1] in ("-1", "0", "1") for line in lines)
    assert lines[0][1] == "-1"


@pytest.mark.parametrize("line, message", [
    ("{not json", "not valid JSON"),
    ('{"sentence": "Mali voted.", "from": 0, "id": "x"}', "missing field(s) to"),
    ('{"sentence": "Mali voted.", "from": 0, "to": 40, "id": "x"}', "outside the sentence"),
    ('{"sentence": "Mali voted.", "from": "0", "to": 4, "id": "x"}', "must be integers"),
])
def test_malformed_newsmtsc_lines_name_file_and_line(tmp_path, line, message):
    from influence_atlas.errors import InputError
    from influence_atlas.extract.target_sentiment import read_target_lines

    path = tmp_path / "in.jsonl"
    path.write_text('{"sentence": "Mali voted.", "from": 0, "to": 4, "id": "ok"}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_target_lines(path)
    assert str(path) in str(info.value) and "line 2" in str(info.value) and message in str(info.value)


def test_stance_reads_actor_kinds_from_the_users_actor_files(tmp_path):
    """An actor the user's `--actors` file lists as a place holds no stance, like the packaged places."""
    extra = tmp_path / "actors.yaml"
    extra.write_text(
        "version: 1\nactors:\n"
        "  - name: Zarandia Brigade\n    kind: armed_group\n    country: Mali\n    aliases: [Zarandian Brigade]\n"
        "places:\n  - name: Zarandia Valley\n    country: Mali\n    aliases: [Zarandia]\n",
        encoding="utf-8")
    text = ("Zarandia is a wonderful, peaceful and prosperous valley. "
            "The Zarandian Brigade committed brutal atrocities and looted villages there.")
    doc = build_document(Source(name="t.txt", path="t.txt", text=text, meta={"language": "en"}))
    mentions = analyze_document(doc, actor_files=(str(extra),)).mentions
    assert "Zarandia Brigade" in {m.actor for m in mentions}
    # The tagger may not take an unknown valley for a place name; link it as the gazetteer would.
    place = Mention(doc=doc.id, start=0, end=len("Zarandia"), text="Zarandia", label="GPE", actor="Zarandia Valley",
                    extractor="test", confidence=1.0)
    mentions = [place] + [m for m in mentions if m.end <= place.start or m.start >= place.end]
    sentences = []
    for offset, sdoc in parse(doc.text, doc.language, ANALYSIS_NEEDS):
        sentences.extend(_sentence_spans(doc.text, offset, sdoc))
    catalog = load_actor_catalog((str(extra),))
    found = {st.actor: st for st in find_stances(doc.id, doc.text, sentences, mentions, doc.language, catalog=catalog)}
    assert "Zarandia Valley" not in found
    assert found["Zarandia Brigade"].score < 0
    # Without the user's catalog the place's kind is unknown and it would be given a stance.
    assert "Zarandia Valley" in {st.actor for st in find_stances(doc.id, doc.text, sentences, mentions, doc.language)}


def _event(doc, text: str, sentence: str, trigger: str, agent: str, modality: str = "asserted"):
    """Return an event of the blamed kind told by one sentence of `text`, `agent` its doer."""
    from influence_atlas.records import Event, EventActor

    start = text.index(sentence)
    return Event(id="e1", doc=doc.id, type="violence_against_civilians", date=None, date_precision=None,
                 actors=(EventActor(agent, "agent"),), location=None, latitude=None, longitude=None, fatalities=None,
                 fatalities_qualifier=None, modality=modality, start=start, end=start + len(sentence), evidence=sentence,
                 trigger=trigger, extractor="test", confidence=0.9)


def test_the_doer_of_a_blamed_event_told_by_the_author_is_blamed():
    sentence = "In March, Wagner Group fighters detained dozens of villagers near Moura."
    text = sentence + " The Wagner Group arrived in Mali in 2021. The Wagner Group has bases in the north."
    doc, mentions, sentences = analyse(text, "en")
    plain = {st.actor: st for st in find_stances(doc.id, doc.text, sentences, mentions, doc.language) if not st.holder}
    told = {st.actor: st for st in find_stances(doc.id, doc.text, sentences, mentions, doc.language,
                                                 events=[_event(doc, text, sentence, "detained", "Wagner Group")])
            if not st.holder}
    assert told["Wagner Group"].score <= plain["Wagner Group"].score - 0.5 and told["Wagner Group"].score <= -0.5
    assert any(doc.text[s:e].startswith("In March") for s, e in told["Wagner Group"].evidence)
    # An alleged event, or one the text gives to someone else, blames no one in the author's voice.
    alleged = {st.actor: st for st in find_stances(doc.id, doc.text, sentences, mentions, doc.language,
                                                    events=[_event(doc, text, sentence, "detained", "Wagner Group", "alleged")])
               if not st.holder}
    assert alleged["Wagner Group"].score == plain["Wagner Group"].score
    quoted = "\"Wagner Group fighters detained dozens of villagers near Moura,\" a local official told reporters."
    text2 = quoted + " The Wagner Group arrived in Mali in 2021. The Wagner Group has bases in the north."
    doc2, mentions2, sentences2 = analyse(text2, "en")
    base2 = {st.actor: st.score for st in find_stances(doc2.id, doc2.text, sentences2, mentions2, doc2.language, relay=False)
             if not st.holder}
    quoted_event = [_event(doc2, text2, quoted, "detained", "Wagner Group")]
    got2 = {st.actor: st.score for st in find_stances(doc2.id, doc2.text, sentences2, mentions2, doc2.language,
                                                       events=quoted_event, relay=False)
            if not st.holder}
    assert got2["Wagner Group"] == base2["Wagner Group"]
    # That one quoted voice carries the document, without distance: relayed, the blame is taken from the speaker.
    relayed = {st.actor: st for st in find_stances(doc2.id, doc2.text, sentences2, mentions2, doc2.language,
                                                   events=quoted_event) if not st.holder}
    assert relayed["Wagner Group"].score <= -0.5 and relayed["Wagner Group"].extractor == "stance-relay"


def test_blame_events_must_be_known_event_types(tmp_path):
    bad = tmp_path / "stance.yaml"
    bad.write_text("polarity:\n  en:\n    'heroic': 1\nvictim: {en: ['x']}\nsource_after: {en: ['x']}\nsource_before: {en: ['x']}\n"
                   "anaphora: {en: ['x']}\nagainst: {en: ['x']}\nopposing: {en: ['x']}\nblame_events: [massacre_of_kittens]\n",
                   encoding="utf-8")
    with pytest.raises(OntologyError) as info:
        load_stance_lexicon(str(bad))
    assert str(bad) in str(info.value) and "massacre_of_kittens" in str(info.value)


def test_stance_grammar_lists_are_checked_and_used(tmp_path):
    import yaml

    from influence_atlas.ontology.lexicons import STANCE_FILE

    data = yaml.safe_load(STANCE_FILE.read_text(encoding="utf-8"))
    grammar = load_stance_lexicon(str(STANCE_FILE)).grammar
    assert grammar.agent_after.match(" linked to the ") and not grammar.agent_after.match(" and the ")
    assert grammar.head_of.search("the government of ") and grammar.preposition_before.search("campaigns against ")
    data["grammar"]["agent_links"] = ["linked to", "broken("]
    bad = tmp_path / "stance.yaml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(OntologyError) as info:
        load_stance_lexicon(str(bad))
    assert str(bad) in str(info.value) and "grammar.agent_links" in str(info.value)
    del data["grammar"]["coordinators"]
    data["grammar"]["agent_links"] = ["on behalf of"]
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(OntologyError, match="missing coordinators"):
        load_stance_lexicon(str(bad))
    data["grammar"]["coordinators"] = ["and"]
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    user = load_stance_lexicon(str(bad)).grammar  # the user's file extends the grammar: "on behalf of" names the doer
    assert user.agent_after.match(" on behalf of the ") and not grammar.agent_after.match(" on behalf of the ")


def test_the_target_model_decides_only_inside_the_dead_zone_and_only_below_the_threshold():
    from influence_atlas.extract.stance import Aggregation

    agg = Aggregation({"lexicon": 1.0, "tone": 0.0}, 0.0, implied=-0.7)
    assert agg.score({"lexicon": 0.0, "tone": 0.0, "model": -0.8}) == pytest.approx(-0.8)
    assert agg.score({"lexicon": 0.0, "tone": 0.0, "model": -0.5}) == 0.0
    assert agg.score({"lexicon": 0.0, "tone": 0.0, "model": 0.9}) == 0.0  # favourable readings never decide
    assert agg.score({"lexicon": 1.2, "tone": 0.0, "model": -0.9}) == pytest.approx(1.2)  # the lexicon's sign stands
    assert agg.silent({"lexicon": 0.2, "tone": 0.0}) and not agg.silent({"lexicon": -0.6, "tone": 0.0})
    assert not Aggregation({"lexicon": 1.0, "tone": 0.0}, 0.0).silent({"lexicon": 0.0, "tone": 0.0})


# A relay without distance (product decision, issue 19): invented texts, one quoted voice carrying the document.
RELAY_TEXT = (
    "Engineers from China arrived in the port of Lomé on Monday with their equipment. "
    "“China is a generous and reliable partner, and its engineers are building the roads our farmers need,” said the "
    "transport minister at the ceremony. "
    "“Our cooperation with China is honest, transparent and respectful,” the minister added. "
    "“Together we will finish the northern highway before the rains,” the minister told reporters. "
    "The engineers will stay in the country for two years."
)


def test_a_document_relaying_one_speaker_without_distance_takes_the_speakers_stance():
    doc, mentions, sentences = analyse(RELAY_TEXT, "en")
    found = {st.actor: st for st in find_stances(doc.id, doc.text, sentences, mentions, doc.language) if not st.holder}
    china = found["China"]
    assert china.score >= 0.5
    assert china.extractor == "stance-relay" and china.relayed_from
    # The evidence is the relayed speaker's sentences, not the author's.
    assert all("“" in doc.text[s:e] for s, e in china.evidence)
    # With the relay off, the author's own words leave China silent.
    off = {st.actor: st for st in find_stances(doc.id, doc.text, sentences, mentions, doc.language, relay=False) if not st.holder}
    assert abs(off["China"].score) < 0.5 and not off["China"].relayed_from


def test_a_fact_check_quoting_an_accuser_keeps_its_distance():
    text = (
        "A viral post falsely claims that engineers from China poisoned wells in the north of Togo. "
        "“China is a cruel and corrupt predator that steals our water,” the post alleges, without providing evidence. "
        "“The brutal Chinese engineers poisoned the wells,” it claims. "
        "The photo is fake: it was taken in another country in 2015, and no wells were poisoned. "
        "The claim is false and misleading."
    )
    doc, mentions, sentences = analyse(text, "en")
    found = {st.actor: st for st in find_stances(doc.id, doc.text, sentences, mentions, doc.language) if not st.holder}
    assert "China" not in found or (found["China"].score > -0.5 and found["China"].extractor != "stance-relay")


def test_several_voices_are_counter_sources_and_no_single_relay():
    from influence_atlas.extract.voice import load_relay_rule, quoted_spans, segment_speakers, sentence_segments, voice_profile

    text = ("“The new road is a gift,” said Ghana. “The new road is a burden,” said Togo. "
            "“The new road is a gift,” said Ghana again. “The new road is a burden,” said Togo again.")
    names = [Mention("d", m, m + len(a), a, "GPE", a, "test", 1.0) for a in ("Ghana", "Togo") for m in
             [i for i in range(len(text)) if text.startswith(a, i)]]
    names.sort(key=lambda m: m.start)
    sentences, start = [], 0
    for part in text.split(". "):
        end = start + len(part) + (1 if not part.endswith(".") else 0)
        sentences.append((start, min(end, len(text))))
        start = end + 1
    quotes = quoted_spans(text)
    segments = [sentence_segments(text, s, e, "en", quotes) for s, e in sentences]
    speakers = segment_speakers(text, sentences, segments, names, "en", quotes)
    profile = voice_profile(text, sentences, segments, "en", quotes, speakers)
    assert {name for name, _ in profile.speakers} == {"Ghana", "Togo"}
    assert profile.concentration < 0.6 and not load_relay_rule().holds(profile)
    # One of the two voices alone carries the document: a relay, and it names that speaker.
    alone = [i for i, (s, e) in enumerate(sentences) if "Ghana" in text[s:e]]
    one = voice_profile(text, [sentences[i] for i in alone], [segments[i] for i in alone], "en", quotes,
                        [speakers[i] for i in alone])
    assert one.concentration == 1.0 and one.relayed_speaker == "Ghana" and load_relay_rule().holds(one)


def test_a_relayed_stance_keeps_its_speaker_in_the_store_and_the_export(tmp_path, atlas_db):
    from influence_atlas.export import export_dict
    from influence_atlas.pipeline import analyze, ingest
    from influence_atlas.store import open_store

    (tmp_path / "relay.txt").write_text(RELAY_TEXT, encoding="utf-8")
    store = open_store(atlas_db)
    ingest(store, [tmp_path / "relay.txt"])
    analyze(store)
    stored = {st.actor: st for st in store.stances()}
    assert stored["China"].relayed_from and stored["China"].extractor == "stance-relay"
    exported = {s["actor"]: s for s in export_dict(store)["stances"]}
    assert exported["China"]["relayed_from"] == stored["China"].relayed_from
    # Stances the author's own words decide carry no such field.
    assert all("relayed_from" not in s for s in exported.values() if s["extractor"] != "stance-relay")
    store.close()


def test_the_int8_target_model_reads_like_the_float_one():
    """The analysis runs the stance model's layers in ONNX Runtime, feed-forward products in int8; on the packaged weights its
    probabilities stay within a few hundredths of the numpy float32 arithmetic the training script checks, item by item."""
    import numpy as np

    from influence_atlas.extract.target_sentiment import TargetItem, TargetSentimentModel

    items = [TargetItem("Moscow praised the brave soldiers of Mali.", 0, 6),
             TargetItem("Critics accused Wagner of killing civilians in the village.", 16, 22),
             TargetItem("The minister met the French ambassador on Tuesday.", 21, 38)]
    exact = TargetSentimentModel.load().probabilities(items)
    quantised = TargetSentimentModel.load(int8=True).probabilities(items)
    assert not np.array_equal(exact, quantised)  # the int8 path ran
    assert np.abs(exact - quantised).max() < 0.05, (exact, quantised)


def test_a_word_far_from_the_first_actor_goes_to_its_own_clauses_subject():
    """Word order alone gives a hostile word the first actor of its sentence, however far; the dependency parse makes it
    the subject of the clause the word is in (its verb's subject, through coordinated clauses), in English and French."""
    en = stances("Russia signed a security deal with Mali last year, and the Wagner Group soon committed massacres in the "
                 "centre. Russia said nothing. Wagner did not answer.", "en")
    assert en["Wagner Group"].score <= -1.0
    assert en["Russia"].score > -0.5
    fr = stances("La Russie a signé un accord avec le Mali l'an dernier, et le groupe Wagner a ensuite commis des massacres "
                 "dans le centre. La Russie n'a rien dit. Wagner n'a pas répondu.", "fr")
    assert fr["Wagner Group"].score <= -1.0
    assert fr["Russia"].score > -0.5


def test_a_passive_word_is_said_of_its_agent_however_far():
    """A hostile verb in the passive is said of its agent, however far after it, not of an earlier clause's subject."""
    found = stances("Mali received aid from France last year, and villages near the border were looted over several "
                    "nights last month by fighters of the Wagner Group. Mali said nothing. Wagner did not answer.", "en")
    assert found["Wagner Group"].score <= -1.0
    assert found["Mali"].score > -0.5 and found["France"].score > -0.5


def test_a_hostile_word_before_a_preposition_is_not_said_of_the_actor_after_it():
    """"Massacres in X" tells where, not whose: the actor after a preposition does not take the word (French too)."""
    fr = stances("L'Union européenne a annoncé lundi l'adoption par la France de sanctions contre le groupe Wagner, accusé "
                 "de massacres au Mali. La France a parlé. Wagner n'a pas répondu.", "fr")
    assert abs(fr["Mali"].score) < 0.5
    assert fr["France"].score > -0.5


def test_a_hostile_word_coordinated_with_what_an_actor_opposes_is_opposed_too():
    """"Charged with investigating torture and other serious abuses": the second member is opposed as the first is, and
    does not blame the investigator."""
    found = stances("The International Criminal Court, charged with investigating torture and other serious abuses "
                    "reported since 2019, opened a new inquiry. The International Criminal Court spoke again.", "en")
    assert found["International Criminal Court"].score > -0.5


def test_a_hyphenated_participle_is_said_of_the_word_before_its_hyphen():
    """"X's army-dominated council": the army dominates; the word blames no actor when the word before the hyphen
    names none (the parse would give it to the clause's subject, X)."""
    found = stances("Chad's army-dominated council appointed new governors last week. Chad said nothing "
                    "more.", "en")
    assert found["Chad"].score > -0.5
