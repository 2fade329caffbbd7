"""Actor linking with the real spaCy pipelines and the packaged gazetteer."""

from __future__ import annotations

import pytest

from influence_atlas.errors import OntologyError
from influence_atlas.ontology import load_actor_catalog
from influence_atlas.pipeline import analyze_document, build_document
from influence_atlas.text.readers import Source


def _mentions(text: str, language: str | None = None, actor_files=()):
    doc = build_document(Source(name="t.txt", path="t.txt", text=text, meta={"language": language} if language else {}))
    analysis = analyze_document(doc, actor_files)
    return analysis.mentions, {a.name: a for a in analysis.actors}


def _linked(mentions) -> dict[str, str | None]:
    return {m.text: m.actor for m in mentions}


def test_gazetteer_is_broad_and_valid():
    catalog = load_actor_catalog()
    names = catalog.by_name()
    assert len(names) >= 300
    kinds = {e.kind for e in catalog.entries}
    assert {"state", "armed_group", "igo", "media", "person", "civil_society", "research"} <= kinds
    for name in ("ECOWAS", "Alliance of Sahel States", "MINUSMA", "JNIM", "Wagner Group", "Assimi Goïta", "Ibrahim Traoré",
                 "Abdourahamane Tiani", "Yevgeny Prigozhin", "RT", "Central African Republic", "Sudan", "Libya"):
        assert name in names, name


def test_short_form_resolves_to_full_name_in_document():
    mentions, _ = _mentions(
        "Colonel Assimi Goïta seized power in August 2020. Nine months later Goïta removed the interim president."
    )
    assert {m.actor for m in mentions if m.text == "Goïta"} == {"Assimi Goïta"}


def test_three_keitas_stay_three_people():
    text = (
        "Modibo Keita, Mali's first president, visited Moscow in 1961. Decades later Ibrahim Boubacar Keïta "
        "was elected. Keïta's government collapsed in 2020. The report was written by Mohamed Keita, "
        "a policy officer. Keita argues that the junta failed."
    )
    mentions, _ = _mentions(text)
    by_text = {}
    for m in mentions:
        by_text.setdefault(m.text, set()).add(m.actor)
    assert by_text["Modibo Keita"] == {"Modibo Keita"}
    assert by_text["Ibrahim Boubacar Keïta"] == {"Ibrahim Boubacar Keïta"}
    assert by_text["Keïta"] == {"Ibrahim Boubacar Keïta"}
    assert "Mohamed Keita" in by_text["Mohamed Keita"]
    assert by_text["Keita"] == {"Mohamed Keita"}


def test_surname_that_is_a_demonym_is_not_a_country():
    mentions, actors = _mentions("The report, with photographs by Daniel French, explains why French troops left Mali.")
    linked = _linked(mentions)
    assert linked["Daniel French"] == "Daniel French"
    assert linked.get("French troops") == "France" or any(m.actor == "France" for m in mentions if "French" in m.text and m.start > 40)
    assert not any(m.actor == "France" and m.start < 40 for m in mentions)
    assert actors["Daniel French"].kind == "unknown"


def test_flags_and_demonyms_link_to_states():
    mentions, _ = _mentions("With Mali 🇲🇱 isolated, Russian diplomats arrived and Burkinabe officers cheered 🇧🇫.")
    flags = {m.text: m.actor for m in mentions}
    assert flags["🇲🇱"] == "Mali" and flags["🇧🇫"] == "Burkina Faso"
    assert flags["Russian"] == "Russia"
    assert next(m for m in mentions if m.text == "Russian").label == "NORP"


def test_unknown_entities_are_kept_as_actors_of_unknown_kind():
    mentions, actors = _mentions("Fatoumata Zeinabou Dembélé, a spokesperson for the Coalition for Sahel Dignity, spoke in Bamako.")
    assert "Fatoumata Zeinabou Dembélé" in actors and actors["Fatoumata Zeinabou Dembélé"].kind == "unknown"


def test_french_text_uses_french_pipeline_and_french_aliases():
    text = ("La junte malienne dirigée par le colonel Assimi Goïta a annoncé le départ de la MINUSMA. "
            "Le groupe Wagner et l'armée malienne sont accusés par Human Rights Watch.")
    mentions, _ = _mentions(text)
    actors = {m.actor for m in mentions}
    assert {"Mali", "Assimi Goïta", "MINUSMA", "Wagner Group", "Human Rights Watch"} <= actors


def test_user_file_extends_gazetteer(tmp_path):
    extra = tmp_path / "mine.yaml"
    extra.write_text("actors:\n  - name: Sahel Truth Network\n    kind: media\n    aliases: [STN]\n", encoding="utf-8")
    mentions, actors = _mentions("The STN channel amplified the claim.", actor_files=(str(extra),))
    assert actors["Sahel Truth Network"].kind == "media"


def test_bad_user_file_names_file_and_entry(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("actors:\n  - name: Someone\n    kind: wizard\n", encoding="utf-8")
    with pytest.raises(OntologyError, match=r"bad.yaml: actor 'Someone': unknown kind 'wizard'"):
        load_actor_catalog((str(bad),))


def test_long_texts_are_matched_block_by_block_with_the_same_result():
    from influence_atlas.extract import actors as linker

    gaz = linker.gazetteer_for(load_actor_catalog())
    paragraph = "Wagner Group fighters and Malian troops met ECOWAS envoys; Assimi Goïta spoke to RFI 🇲🇱.\n"
    text = paragraph * 4000
    assert len(text) > 3 * linker._FIND_BLOCK
    found = gaz.find(text)
    one = gaz.find(paragraph)
    assert len(found) == 4000 * len(one)
    step = len(paragraph)
    assert all(text[s:e] == paragraph[s % step : (s % step) + (e - s)] for s, e, _, _ in found)


def test_acronyms_are_matched_written_as_words_or_in_capitals_but_not_common_words():
    from influence_atlas.extract import actors as linker

    gaz = linker.gazetteer_for(load_actor_catalog())

    def found(text):
        return [(text[s:e], entry.name) for s, e, entry, _ in gaz.find(text)]

    assert found("Les casques de la Minusma et de l'Otan, la Cedeao et les FAMA.") == [
        ("Minusma", "MINUSMA"), ("Otan", "NATO"), ("Cedeao", "ECOWAS"), ("FAMA", "Mali")]
    # Three letters stay exact ("Car" is a word); listed exceptions are common names; lower case is never an acronym.
    assert found("Car dealers, Rand Paul and the nato of it.") == []
    assert found("RAND and Rand") == [("RAND", "RAND Corporation")]


def test_an_operation_of_a_state_is_its_own_actor():
    mentions, actors = _mentions("La force Barkhane a quitté Gossi. Les soldats français sont partis.")
    linked = _linked(mentions)
    assert linked["force Barkhane"] == "Operation Barkhane" and actors["Operation Barkhane"].country == "France"
    assert linked["soldats français"] == "France"


def test_a_ministry_is_read_with_its_state_in_either_order_and_by_its_office_alone():
    from influence_atlas.extract import actors as linker

    catalog = load_actor_catalog()
    gaz = linker.gazetteer_for(catalog)

    def linked(text):
        mentions, _ = linker.link_actors("d", text, [], catalog)
        return [(m.text, m.actor, m.extractor) for m in mentions]

    # The state before or after the office, in English and French word orders.
    assert [(t, a) for t, a, _ in linked("The Russia Ministry of Defense and the Ministry of Foreign Affairs of France "
                                          "replied; le ministère de la Défense du Mali aussi.")] == [
        ("Russia Ministry of Defense", "Ministry of Defence of Russia"),
        ("Ministry of Foreign Affairs of France", "Ministry of Foreign Affairs of France"),
        ("ministère de la Défense du Mali", "Ministry of Defence of Mali")]
    # An office alone is the one ministry of that office the document names with its state ...
    found = linked("The defence ministry denied it. Later the Malian defence ministry repeated the denial.")
    assert found[0] == ("defence ministry", "Ministry of Defence of Mali", "office")
    # ... or the office of the state a possessive points to (a state the catalogue lists no ministry for: the state).
    assert linked("Le Mali a répondu par son ministère de la Défense.")[-1] == (
        "ministère de la Défense", "Ministry of Defence of Mali", "office")
    assert linked("Niger sent its defence ministry's envoy.")[-1] == ("defence ministry", "Niger", "office")
    # Left open: two states' ministries of that office named, or none; a state standing next to the office is its own.
    assert [a for _, a, e in linked("The foreign ministry spoke. France's foreign ministry and the Russian foreign "
                                    "ministry disagreed.") if e == "office"] == []
    assert linked("The defence ministry said nothing.") == []
    assert linked("Chad's defence ministry and the defence ministry of Niger said so.") == [
        ("Chad", "Chad", "gazetteer"), ("Niger", "Niger", "gazetteer")]
    assert gaz.office_of["United States Department of State"] == "foreign_office"


def test_an_office_read_as_a_ministry_replaces_the_tagger_s_span():
    mentions, actors = _mentions("Moscou a démenti. Le ministère de la Défense a publié un communiqué. Le ministère "
                                 "russe de la Défense a ajouté que rien ne change.", "fr")
    offices = [(m.text, m.actor) for m in mentions if m.extractor == "office"]
    assert offices == [("ministère de la Défense", "Ministry of Defence of Russia")]
    assert "ministère de la Défense" not in actors and "Ministry of Defence of Russia" in actors


def test_a_surname_without_its_accents_or_tagged_as_a_place_is_the_person_named_in_full():
    from influence_atlas.extract import actors as linker

    catalog = load_actor_catalog()
    text = "Former president Ivo Marešić denied the plot. The court barred Maresic from the election."
    # The tagger's reading of the bare surname as a place does not stand against the person named in full.
    at = text.index("Maresic")
    mentions, _ = linker.link_actors("d", text, [(17, 29, "PERSON"), (at, at + 7, "GPE")], catalog)
    assert [(m.text, m.actor) for m in mentions] == [("Ivo Marešić", "Ivo Marešić"), ("Maresic", "Ivo Marešić")]


def test_a_capitalised_common_word_the_document_also_writes_in_lower_case_is_not_an_actor():
    from influence_atlas.extract import actors as linker

    catalog = load_actor_catalog()
    text = "Commission members met. The commission said little. Police reported it; the Zorvath Commission did not."
    ents = [(0, 10, "ORG"), (text.index("Police"), text.index("Police") + 6, "ORG"),
            (text.index("Zorvath"), text.index("Zorvath") + 18, "ORG")]
    mentions, actors = linker.link_actors("d", text, ents, catalog)
    assert [m.text for m in mentions] == ["Zorvath Commission"]
    # "Police" is never written in lower case here, but the dictionary lists it; an unknown one word stays.
    text = "Kelvora reported it; Police confirmed."
    ents = [(0, 7, "ORG"), (text.index("Police"), text.index("Police") + 6, "ORG")]
    mentions, actors = linker.link_actors("d", text, ents, catalog)
    assert [m.text for m in mentions] == ["Kelvora"]


def test_bylines_and_picture_credits_name_people_the_tagger_missed():
    from influence_atlas.extract import actors as linker

    catalog = load_actor_catalog()
    text = ("Drones over the border\n\nBy Lorna Vetch and Amadou Kessé\n\nBy March 2023, the junta had changed course.\n"
            "A convoy near Gao. (Imre Baltazar/AP)\n© 2021 OLEG SEMYRIN/AFP via Getty Images\n(Photo : Inès Da Cunha)\n"
            "Sources: Reuters/AFP and (Burkina Faso/Mali) archives. MOSCOW (Sahel Wire News / Sputnik) - Talks began.")
    mentions, actors = linker.link_actors("d", text, [], catalog)
    credited = [(m.text, m.actor) for m in mentions if m.extractor == "credit"]
    assert credited == [("Lorna Vetch", "Lorna Vetch"), ("Amadou Kessé", "Amadou Kessé"),
                        ("Imre Baltazar", "Imre Baltazar"), ("OLEG SEMYRIN", "OLEG SEMYRIN"), ("Inès Da Cunha", "Inès Da Cunha")]
    assert actors and all(not a.known for a in actors if a.name in dict(credited))
    # A line opened by "By" that is not a list of names names nobody; a tagged name is not read twice.
    tagged = text.index("Lorna")
    mentions, _ = linker.link_actors("d", text, [(tagged, tagged + 11, "PERSON")], catalog)
    assert [m.extractor for m in mentions if m.text == "Lorna Vetch"] == ["ner"]


def test_a_name_the_tagger_cut_in_two_is_one_person():
    from influence_atlas.extract import actors as linker

    catalog = load_actor_catalog()
    text = "The island is ruled by Jean Okito Ngoy Mbala, head of state for decades, and Ana Ru met Ivo Pel."
    first, second = text.index("Jean"), text.index("Ngoy")
    ents = [(first, second - 1, "PERSON"), (second, second + 10, "PERSON"),
            (text.index("Ana"), text.index("Ana") + 6, "PERSON"), (text.index("Ivo"), text.index("Ivo") + 7, "PERSON")]
    mentions, _ = linker.link_actors("d", text, ents, catalog)
    assert [m.actor for m in mentions if m.label == "PERSON"] == ["Jean Okito Ngoy Mbala", "Ana Ru", "Ivo Pel"]


def test_descriptors_titles_and_cut_names_are_not_part_of_an_organisation():
    from influence_atlas.extract import actors as linker

    catalog = load_actor_catalog()
    text = ("Sources at the Human Rights Watch NGO confirmed it. Le cortège conduit par le Président ivoirien. "
            "Le ministre de la Pêche et de la Recherche a parlé.")
    ents = [(text.index("Human"), text.index(" confirmed"), "ORG"), (text.index("Président"), text.index(" ivoirien"), "ORG"),
            (text.index("Pêche"), text.index(" Recherche"), "ORG")]
    mentions, _ = linker.link_actors("d", text, ents, catalog)
    assert [(m.text, m.actor) for m in mentions if m.label in ("ORG", "PERSON")] == [
        ("Human Rights Watch", "Human Rights Watch")]


def test_an_acronym_inside_a_line_in_capitals_may_be_a_common_word():
    from influence_atlas.extract import actors as linker

    catalog = load_actor_catalog()
    text = "CE QUE LES MERCENAIRES FONT AU NIGER\n\nLa Russie est revenue au Niger. L'AU et la CEDEAO ont réagi."
    mentions, _ = linker.link_actors("d", text, [], catalog)
    assert [m.text for m in mentions if m.actor == "African Union"] == ["AU"]
    assert mentions[[m.text for m in mentions].index("AU")].start > text.index("\n")
    # Where the document never writes the word in lower case, the acronym in capitals stands.
    mentions, _ = linker.link_actors("d", "APPEL DE LA CEDEAO ET DE LA AU SUR LE MALI\n\nLes chefs d'État se sont réunis.", [], catalog)
    assert [m.actor for m in mentions if m.text == "AU"] == ["African Union"]


def test_a_channel_named_after_its_country_and_instructors_of_a_state():
    from influence_atlas.extract import actors as linker

    catalog = load_actor_catalog()
    text = "Footage on Russia 1 TV channel showed Russian instructors in Bangui; “Russia 1” also aired des instructeurs russes."
    mentions, _ = linker.link_actors("d", text, [], catalog)
    assert [(m.text, m.actor) for m in mentions if m.actor] == [
        ("Russia 1 TV channel", "Russia-1"), ("Russian instructors", "Russia"), ("Russia 1", "Russia-1"),
        ("instructeurs russes", "Russia")]


def test_a_platform_s_channel_or_page_named_after_it_is_an_organisation():
    from influence_atlas.extract import actors as linker

    catalog = load_actor_catalog()

    def channels(text):
        mentions, actors = linker.link_actors("d", text, [], catalog)
        return [(m.text, m.actor) for m in mentions if m.extractor == "channel"], actors

    found, actors = channels("A blogger behind the Telegram channel “Nord Vektor” was killed. La chaîne Telegram Kovyl Info l'a dit.")
    assert found == [("Nord Vektor", "Nord Vektor"), ("Kovyl Info", "Kovyl Info")] and not next(a for a in actors if a.name == "Kovyl Info").known
    # No channel word, or a known actor where the name would stand: nothing new.
    assert channels("He posted on Telegram Monday. His Facebook page RT France relayed it.")[0] == []


def test_a_name_after_a_place_s_head_noun_is_a_place():
    from influence_atlas.extract import actors as linker

    catalog = load_actor_catalog()
    text = "Gunmen entered the old market of the city of Tessa Varel. Ivo Pel met Anna Kol in la région de Kel Vora."
    ents = [(text.index(w), text.index(w) + len(w), label) for w, label in
            (("Tessa Varel", "PERSON"), ("Ivo Pel", "PERSON"), ("Anna Kol", "PERSON"), ("Kel Vora", "ORG"))]
    mentions, actors = linker.link_actors("d", text, ents, catalog)
    assert [(m.text, m.label, m.actor) for m in mentions] == [
        ("Tessa Varel", "LOC", None), ("Ivo Pel", "PERSON", "Ivo Pel"), ("Anna Kol", "PERSON", "Anna Kol"), ("Kel Vora", "LOC", None)]


def test_the_outlets_a_dateline_credits_are_organisations():
    from influence_atlas.extract import actors as linker

    catalog = load_actor_catalog()
    text = "Title of the story\n\nBAMAKO (Sahel Wire News / Sputnik - 3rd March, 2021) Talks began in Asia.\n"
    asia = text.index("Asia")
    mentions, actors = linker.link_actors("d", text, [(asia, asia + 4, "LOC")], catalog)
    assert [(m.text, m.actor, m.extractor) for m in mentions if m.label == "ORG"] == [
        ("Sahel Wire News", "Sahel Wire News", "dateline"), ("Sputnik", "Sputnik", "gazetteer")]
    # A place inside a credited outlet's name is not read; a dateline whose brackets hold no names credits nobody.
    text = " date 2021-03-05 (Nordwire- Africa Times) Late in 2020, talks began.\n"
    mentions, _ = linker.link_actors("d", text, [], catalog)
    assert [(m.text, m.label) for m in mentions] == [("Nordwire", "ORG"), ("Africa Times", "ORG")]
    mentions, _ = linker.link_actors("d", "PARIS (the talks went on) - Mali said no.\n", [], catalog)
    assert [m.text for m in mentions] == ["Mali"]


def test_a_possessive_before_an_office_points_to_the_subject_not_the_state_a_preposition_governs():
    from influence_atlas.extract import actors as linker

    catalog = load_actor_catalog()

    def offices(text):
        mentions, _ = linker.link_actors("d", text, [], catalog)
        return [(m.text, m.actor) for m in mentions if m.extractor == "office"]

    assert offices("La France a envoyé deux diplomates au Tchad (N'Djamena) et son ministère des Affaires étrangères a salué "
                   "l'accord.") == [("ministère des Affaires étrangères", "Ministry of Foreign Affairs of France")]
    assert offices("France sent troops to Mali after its defence ministry warned of a crisis.") == [
        ("defence ministry", "Ministry of the Armed Forces of France")]
    # No state named as a subject: the last state named, as before.
    assert offices("After the talks in Mali, its defence ministry spoke.") == [("defence ministry", "Ministry of Defence of Mali")]


def test_un_peacekeepers_are_the_one_un_mission_the_document_names_else_the_united_nations():
    from influence_atlas.extract import actors as linker

    catalog = load_actor_catalog()

    def linked(text):
        mentions, _ = linker.link_actors("d", text, [], catalog)
        return {m.text: m.actor for m in mentions}

    assert linked("MINUSCA patrols Bangui. A convoy of UN peacekeepers was stopped at a checkpoint.")["UN peacekeepers"] == "MINUSCA"
    assert linked("Les casques bleus de la MINUSMA ont quitté Gao.")["casques bleus"] == "MINUSMA"
    # No mission named, or two: the peacekeepers are the United Nations'.
    assert linked("A convoy of UN peacekeepers was stopped at a checkpoint.")["UN peacekeepers"] == "United Nations"
    assert linked("MINUSMA and MINUSCA asked for help; UN peacekeepers waited.")["UN peacekeepers"] == "United Nations"


def test_a_group_named_after_its_state_is_one_name_not_the_state_and_a_cut_name():
    mentions, _ = _mentions("The broadcaster group France Médias Monde said on Monday that it would appeal.", "en")
    linked = _linked(mentions)
    assert linked.get("France Médias Monde") == "France Médias Monde" and "Médias Monde" not in linked and "France" not in linked
