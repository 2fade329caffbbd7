"""Claims: figures, sources, hedges, sourcing profile and ClaimReview, on texts written for these tests."""

from __future__ import annotations

import json

import pytest

from influence_atlas.extract.claims import attribute, find_claims, sourcing_profile
from influence_atlas.extract.quantities import find_quantities
from influence_atlas.ontology import load_actor_catalog
from influence_atlas.pipeline import analyze_document, build_document
from influence_atlas.text.readers import Source


@pytest.mark.parametrize("text,value,unit,qualifier", [
    ("more than 2,000 civilians", 2000, "civilians", "more than"),
    ("$10 million a month", 10_000_000, "USD/month", None),
    ("eight million signatures", 8_000_000, "signatures", None),
    ("a third of the deaths", 1 / 3, None, None),
    ("at least 58 women", 58, "women", "at least"),
    ("several dozen civilians", 36, "civilians", "approximately"),
    ("more than 80% of exports", 80, "%", "more than"),
    ("plus de 500 civils", 500, "civils", "plus de"),
    ("1,5 million de déplacés", 1_500_000, "déplacés", None),
    ("10 millions de dollars", 10_000_000, "USD", None),
    ("12 pour cent des voix", 12, "%", None),
])
def test_quantities(text, value, unit, qualifier):
    (q,) = find_quantities(text)
    assert q.value == pytest.approx(value) and q.unit == unit and q.qualifier == qualifier
    assert text[q.start : q.end] == q.text


@pytest.mark.parametrize("text,low,high,unit", [
    ("between 100 and 200 Russians", 100, 200, "russians"),
    ("from 20 to 30 soldiers", 20, 30, "soldiers"),
    ("between 1 and 2 million people", 1_000_000, 2_000_000, "people"),
    ("entre 20 et 30 morts", 20, 30, "morts"),
    ("de 20 à 30 morts", 20, 30, "morts"),
    ("entre 1 et 2 millions de dollars", 1_000_000, 2_000_000, "USD"),
])
def test_ranges(text, low, high, unit):
    (q,) = find_quantities(text)
    assert (q.value, q.upper, q.unit, q.qualifier) == (low, high, unit, "between") and q.text == text


def test_years_dates_and_ordinals_are_not_figures():
    assert find_quantities("In 2021, on March 3, 2022, in the 19th century, a 28-minute video.") == []


def _analysis(text, language=None):
    doc = build_document(Source(name="t.txt", path="t.txt", text=text, meta={"language": language} if language else {}))
    return doc, analyze_document(doc)


def _claims(text, language=None):
    doc, analysis = _analysis(text, language)
    from influence_atlas.nlp import parse
    from influence_atlas.pipeline import ANALYSIS_NEEDS, _sentence_spans

    sentences = [sp for off, sd in parse(doc.text, doc.language, ANALYSIS_NEEDS) for sp in _sentence_spans(doc.text, off, sd)]
    # A flat scorer isolates figures, sources and hedges from the check-worthiness model.
    return find_claims(doc.id, doc.text, sentences, analysis.mentions, load_actor_catalog(), scorer=lambda xs: [0.8] * len(xs),
                       language=doc.language, threshold=0.0)


def test_sources_named_described_and_continued():
    claims = _claims(
        "In early 2023, ACLED reported that more than 1,700 villagers had died in attacks since 2021. "
        "A third of those deaths involved foreign mercenaries.\n\n"
        "According to diplomats in Bamako, the junta paid $10 million a month to the contractors.\n\n"
        "A recent UN report found that at least 58 women were abused. "
        "Selon RFI, plus de 500 civils ont été tués à Moura en mars 2022.\n\n"
        "The junta allegedly received two attack helicopters in 2022."
    )
    by_start = {c.text.split()[0:3].__str__(): c for c in claims}
    sources = [(c.text[:20], c.attributed_to, c.reporting_verb) for c in claims]
    assert ("In early 2023, ACLE", "ACLED", "reported") in [(a[:19], b, v) for a, b, v in sources]
    assert any(c.text.startswith("A third of those") and c.attributed_to == "ACLED" for c in claims)
    assert any(c.text.startswith("According to diplomats") and c.attributed_to == "diplomats in bamako" for c in claims)
    assert any(c.text.startswith("A recent UN report") and c.attributed_to == "United Nations" for c in claims)
    assert any(c.text.startswith("Selon RFI") and c.attributed_to == "RFI" for c in claims)
    hedged = next(c for c in claims if c.text.startswith("The junta allegedly"))
    assert hedged.attributed_to is None and hedged.hedged and "allegedly" in hedged.hedges
    assert by_start
    for c in claims:
        for q in c.quantities:
            assert c.text[q.start - c.start : q.end - c.start] == q.text


def test_a_source_line_cites_the_paragraph_above():
    claims = _claims("The junta reportedly took delivery of six armoured vehicles from Russia last week.\n\nThe Africa Report\n\nMore news follows here in a new paragraph about Mali today.")
    first = claims[0]
    assert first.attributed_to == "The Africa Report" and first.reporting_verb == "cited"


def test_nouns_that_look_like_reporting_verbs_are_not_sources():
    catalog = load_actor_catalog()
    doc, analysis = _analysis("This belies the Soviet advisers and client states across the continent in the 1970s.")
    assert attribute(doc.text, 0, analysis.mentions, {e.name: e.kind for e in catalog.entries}).source is None


@pytest.mark.parametrize("text,language,source,verb", [
    ("The ministry said on Monday that 40 soldiers had been killed in the attack near the border town.", "en", "the ministry", "said"),
    ("“The gunmen blocked the bridge with burning tyres before they started shooting,” two army sources told reporters.", "en",
     "two army sources", "told"),
    ("Plus de 500 civils ont été tués dans le village, a déclaré un responsable local à la presse.", "fr", "un responsable local",
     "a déclaré"),
    ("Selon des témoins, les soldats ont incendié une dizaine de maisons du village.", "fr", "des témoins", "selon"),
    ("Western diplomats say the contractors were paid with mining concessions in the north of the country.", "en",
     "western diplomats", "say"),
])
def test_sources_in_every_shape(text, language, source, verb):
    (claim,) = _claims(text, language)
    assert (claim.attributed_to, claim.reporting_verb) == (source, verb)


@pytest.mark.parametrize("text,language,source", [
    # The agent of a passive verb of saying or blaming.
    ("Its fighters are regularly accused of looting by local witnesses and rights groups in the region.", "en", "local witnesses"),
    ("Ses hommes sont souvent accusés de pillages par des habitants du district.", "fr", "des habitants"),
    # Coordinated speakers: the first named leads.
    ("The Malian foreign minister, Abdoulaye Diop, and his Russian counterpart, Sergey Lavrov, denied any contract with the group.",
     "en", "Abdoulaye Diop"),
    # A participle of saying after a clause: the clause's subject speaks.
    ("Vladimir Putin welcomed the delegations in Sochi in October, saying Russia would double its trade with Africa.", "en",
     "Vladimir Putin"),
    # A described source, then what it says, across a comma.
    ("There have been other reports of armed foreigners near the harbour, also indicating that they guard the gold mines.",
     "en", "other reports"),
    # The subject of a relative clause, when nothing else names a source.
    ("The activist, whom the European Union accused of funding the militia, was arrested in March.", "en", "European Union"),
    # Statements handed to reports nobody names.
    ("Russia has reportedly deployed around 150 guards to secure the palace.", "en", "reports"),
    ("Facebook announced that it had taken down two clusters of fake pages aimed at five countries.", "en", "Facebook"),
    # More verbs of saying, English and French.
    ("Local officials pointed out that the convoy had left the base two days before the attack.", "en", "local officials"),
    ("Des habitants ont nié toute présence de soldats étrangers dans le village.", "fr", "des habitants"),
    # An adverb of insistence between the auxiliary and the verb of saying.
    ("The Kremlin has always denied any contract with the foreign contractors.", "en", "Russia"),
    ("Two local officials have consistently said that the figures published by the army were false.", "en",
     "two local officials"),
])
def test_sources_in_other_shapes(text, language, source):
    (claim,) = _claims(text, language)
    assert claim.attributed_to == source


def test_two_statements_with_sources_of_their_own_are_two_claims():
    first, second = _claims("The Kremlin denies any link to the contractors, but Western diplomats call them an arm of the Russian state.", "en")
    assert (first.attributed_to, second.attributed_to) == ("Russia", "western diplomats")
    assert first.text.endswith("contractors") and second.text.startswith("but Western diplomats")


@pytest.mark.parametrize("text,language", [
    ("Criticised by France and by its neighbours, the junta postponed the elections until 2024.", "en"),
    ("Sur la vidéo diffusée par les internautes, on aperçoit une dizaine de camions stationnés près du fleuve.", "fr"),
])
def test_a_participle_that_only_qualifies_a_noun_attributes_nothing(text, language):
    (claim,) = _claims(text, language)
    assert claim.attributed_to is None


def test_nested_source_has_a_relay_and_pronouns_follow_the_named_source():
    claims = _claims("Human Rights Watch reported that witnesses said soldiers executed at least 30 men in the market.\n\n"
                     "Amnesty International documented the killings of several herders near the river last year.\n\n"
                     "It said the victims were buried in two mass graves outside the village.", "en")
    first, second, third = claims
    assert (first.attributed_to, first.relayed_by) == ("witnesses", "Human Rights Watch")
    assert second.attributed_to == "Amnesty International" and second.relayed_by is None
    assert third.attributed_to == "Amnesty International"


def test_the_outlet_a_source_told_relays_it():
    (claim,) = _claims("Seven mercenaries were killed in two ambushes in October, two army sources told Reuters on Thursday.", "en")
    assert (claim.attributed_to, claim.relayed_by, claim.reporting_verb) == ("two army sources", "Reuters", "told")


def test_a_quotation_over_several_sentences_belongs_to_its_speaker():
    claims = _claims("\"Les soldats sont arrivés au marché vers midi avec des camions. Ils ont arrêté plus de vingt hommes du village. "
                     "Nous ne les avons jamais revus\", a déclaré Amadou Diallo, un habitant de la commune.", "fr")
    assert [c.attributed_to for c in claims] == ["Amadou Diallo"] * len(claims) and len(claims) == 3


def test_nothing_is_attributed_that_the_text_does_not_attribute():
    claims = _claims("The junta expelled the Danish envoy in March 2023 after weeks of tension. "
                     "Thousands of protesters marched through the capital waving Russian flags on Friday. "
                     "The government announced new elections for 2024, months later than promised.", "en")
    assert len(claims) == 3 and all(c.attributed_to is None and c.relayed_by is None for c in claims)


def test_a_document_the_stage_cannot_read_yields_no_claims_and_a_warning():
    doc, analysis = _analysis("The junta expelled the Danish envoy in March 2023 after weeks of tension.")

    def broken(texts):
        raise ValueError("scorer failed on this document")

    with pytest.warns(RuntimeWarning, match="skipped"):
        assert find_claims(doc.id, doc.text, [(0, len(doc.text))], analysis.mentions, load_actor_catalog(), scorer=broken) == []


def test_questions_and_repeated_headlines_are_not_claims():
    claims = _claims("Junta expels French ambassador from Mali\n\nThe junta expels French ambassador from Mali after a row over "
                     "remarks by the French foreign minister.\n\nWill Russia fill the gap left by France in the Sahel?", "en")
    assert [c.text[:9] for c in claims] == ["The junta"]


def test_sourcing_profile_and_claimreview(store, tmp_path):
    from influence_atlas.export import export
    from influence_atlas.pipeline import analyze, ingest

    (tmp_path / "a.txt").write_text(
        "Sahel Report\n\nBy Awa Traoré\n\nIn 2023, Human Rights Watch reported that soldiers killed at least 40 civilians in Moura. "
        "The junta allegedly paid $10 million a month to Wagner Group in 2022. "
        "ACLED counted more than 2,000 civilian deaths in Mali since December 2021.", encoding="utf-8")
    ingest(store, [tmp_path])
    analyze(store)
    claims = store.claims()
    assert claims, "the pipeline stores claims"
    prof = sourcing_profile(claims)
    assert prof["claims"] == len(claims) and 0 < prof["sourced_share"] <= 1 and prof["distinct_sources"] >= 1
    data = json.loads(export(store, "json", tmp_path / "o.json").read_text())
    assert data["documents"][0]["sourcing"]["claims"] == len(claims)
    ld = json.loads(export(store, "claimreview", tmp_path / "cr.json").read_text())
    assert ld["@context"] == "https://schema.org"
    assert all(item["@type"] == "Claim" and item["text"] and item["appearance"]["name"] for item in ld["@graph"])
    assert not any("reviewRating" in json.dumps(item) for item in ld["@graph"]), "no rating is invented"


@pytest.mark.parametrize("text,language,source", [
    # A described source with where it is, or before an apposition.
    ("The clip belonged to a wider influence operation across the Sahel, two diplomats at the foreign ministry said.", "en",
     "two diplomats at the foreign ministry"),
    ("A Western diplomat, who asked not to be named, said some 250 Russian trainers were stationed in the north.", "en",
     "a western diplomat"),
    # French qualifies the source noun after it.
    ("Un responsable local rappelle que douze pays avaient dénoncé l'arrivée des mercenaires au Burkina Faso.", "fr",
     "un responsable local"),
    # Sources, witnesses and analysts named with a state stay described.
    ("Four Russian mercenaries died in three ambushes last week, two Niger army sources told reporters.",
     "en", "two niger army sources"),
])
def test_described_sources_with_where_they_are(text, language, source):
    (claim,) = _claims(text, language)
    assert claim.attributed_to == source


@pytest.mark.parametrize("text,language,source", [
    ("A Malian army officer, who asked not to be named, said some 250 Russian trainers were stationed in the north.", "en",
     "Mali"),
    ("Russian trainers have since reached Gao, according to one of two Malian army officers interviewed.", "en", "Mali"),
    ("Ce militaire français rappelle que douze pays avaient dénoncé l'arrivée des mercenaires au Burkina Faso.", "fr", "France"),
    ("Nous disposons des mêmes renseignements sur les livraisons d'armes, confirme un officier de l'armée française.", "fr", "France"),
    # Its government or authorities speak for it too.
    ("Yet Mali’s government has denied that foreign fighters operate on its soil.", "en", "Mali"),
    ("Le gouvernement malien a démenti toute présence de mercenaires russes dans le pays.", "fr", "Mali"),
])
def test_one_who_serves_a_state_speaks_for_it(text, language, source):
    (claim,) = _claims(text, language)
    assert claim.attributed_to == source


@pytest.mark.parametrize("text,language,source", [
    # A relative clause set off by commas before the verb: the source stands before it, and the name after the verb
    # opens what was said.
    ("A Western diplomat, who asked not to be named, said Freedonia had paid the rebels in the north.", "en",
     "a western diplomat"),
    ("A senior official in Ruritown, who spoke on condition that his name be withheld, said Russia had sent "
     "400 trainers to Mali.", "en", "a senior official in ruritown"),
    ("Le Rwanda, dont les soldats servent sous le drapeau de l'ONU, a également annoncé qu'il en enverrait davantage.", "fr",
     "Rwanda"),
])
def test_a_source_before_a_relative_clause_is_not_the_name_after_the_verb(text, language, source):
    (claim,) = _claims(text, language)
    assert claim.attributed_to == source


def test_the_same_servant_again_and_a_demonstrative_speaker_after_the_quotation():
    claims = _claims("Eight soldiers dug a trench behind the camp at night, according to a French military officer who asked not to be "
                     "named.\n\nThe men filmed at the camp are thought to belong to the Wagner Group, the officer said.",
                     "en")
    assert [c.attributed_to for c in claims] == ["France", "France"]
    (claim,) = _claims("Des camions et des ingénieurs liés à Wagner ont atteint Sikasso et Mopti, ajoute ce haut-gradé "
                       "français, qui parle de gisements d'or.", "fr")
    assert claim.attributed_to == "France"


def test_a_possessive_source_is_its_owners():
    claims = _claims("Le politologue russe Igor Semenov affirme que ses équipes ont sondé 3 000 personnes au Niger en 2022.\n\n"
                     "En 2023, une de ses études était placardée sur les murs de Niamey, la capitale du pays, indiquant "
                     "que plus de 80 % des habitants soutenaient la présence russe.", "fr")
    assert claims[-1].attributed_to == claims[0].attributed_to and "Semenov" in claims[0].attributed_to


def test_what_a_channel_posts_is_its_owners():
    claims = _claims("Its busiest outlet is the ‘African Initiative’ Telegram channel, which has posted 940 messages since May.\n\n"
                     "A widely shared post on the Telegram channel claimed that a US security firm was negotiating with the ministry "
                     "of energy.\n\nAccording to the Telegram channel’s profile, the outlet is a Russian media project covering the Sahel.",
                     "en")
    assert [c.attributed_to for c in claims[1:]] == ["African Initiative", "African Initiative"]
    # A channel never named with its owner stays what the words say.
    (claim,) = _claims("According to the Telegram channel’s profile, the outlet is a Russian media project covering the Sahel.", "en")
    assert claim.attributed_to == "Telegram"


def test_a_description_that_refers_back_to_a_person_stays_that_person():
    claims = _claims("The Russian ambassador, Alexander Bikantov, said that 1,135 Russian instructors were working in the country.\n\n"
                     "“They do not take part in the fighting against the rebels,” the Russian ambassador added.", "en")
    assert [c.attributed_to for c in claims] == ["Alexander Bikantov", "Alexander Bikantov"]


def test_a_word_that_tells_one_source_from_another_is_not_its_name():
    claims = _claims("Three gendarmes were wounded on Nov. 4 in the province, a military source told reporters.\n\n"
                     "Six more gendarmes were attacked on Nov. 19 in the same province, a separate military source told reporters.\n\n"
                     "According to the second source, two of the gendarmes later died in hospital.", "en")
    assert [c.attributed_to for c in claims] == ["a military source"] * 3
    (claim,) = _claims("Un autre responsable local affirme que les soldats ont quitté la ville de Gao en janvier.", "fr")
    assert claim.attributed_to == "un responsable local"


def test_he_refers_back_to_a_person_never_to_a_body():
    claims = _claims("Human Rights Watch reported that soldiers executed at least 30 men in the market last March.\n\n"
                     "“The soldiers came at noon and took every man they found in the market,” he added.", "en")
    assert claims[0].attributed_to == "Human Rights Watch" and claims[1].attributed_to is None
    claims = _claims("The ambassador, Alexander Bikantov, said that 1,135 Russian instructors were working in the country.\n\n"
                     "“They do not take part in the fighting against the rebels in the north,” he added.", "en")
    assert [c.attributed_to for c in claims] == ["Alexander Bikantov", "Alexander Bikantov"]


def test_a_quotation_belongs_to_the_speaker_who_introduces_it_or_is_named_above_it():
    claims = _claims("On September 1, Human Rights Watch said on Twitter:\n\n"
                     "“Soldiers executed at least 30 men in the market. UN records show that the army was there that day.”", "en")
    assert len(claims) >= 2 and all(c.attributed_to == "Human Rights Watch" for c in claims if c.text.startswith(("“", "UN")))
    claims = _claims("Human Rights Watch\n\n“Soldiers executed at least 30 men in the market on the first day of the operation.”", "en")
    assert claims[-1].attributed_to == "Human Rights Watch"


def test_a_name_in_an_apposition_speaks_and_a_trailing_frame_relays():
    (claim,) = _claims("The foreign minister of Mali, Abdoulaye Diop, said that the Russian trainers landed in December.", "en")
    assert claim.attributed_to == "Abdoulaye Diop"
    (claim,) = _claims("Le chef de la diplomatie malienne, Abdoulaye Diop, a assuré que les militaires russes n'étaient que des "
                       "formateurs, rapporte l'AFP.", "fr")
    assert (claim.attributed_to, claim.relayed_by) == ("Abdoulaye Diop", "AFP")


def test_an_inverted_pronoun_after_any_participle_is_the_speaker_named_before():
    claims = _claims("Le ministre Abdoulaye Diop a affirmé que la coopération avec Moscou continuerait.\n\n"
                     "« Les instructeurs russes sont au Mali à la demande du gouvernement », a-t-il rappelé.", "fr")
    assert claims[-1].attributed_to == "Abdoulaye Diop"


def test_a_first_person_account_no_verb_gives_is_the_one_person_its_paragraph_tells_of():
    claims = _claims("That morning, Ivo Marek was at home with his wife. Armed men broke down the door. “They told me to come out. "
                     "Then they took me to the camp, where I stayed for two days.”", "en")
    assert [c.attributed_to for c in claims if "me" in c.text.split()] == ["Ivo Marek", "Ivo Marek"]
    # A name marked with an asterisk (a changed name) is a person.
    claims = _claims("Ce jour-là, Amina* est chez elle avec ses enfants. Vers 9 h, des hommes armés franchissent sa porte. "
                     "« Ils m’ont dit de sortir. Puis, ils m’ont emmenée au camp, où je suis restée deux jours. »", "fr")
    assert "Amina" in [c.attributed_to for c in claims]
    # Two people in the paragraph: the account stays unattributed.
    claims = _claims("That morning, Ivo Marek met Lena Ortiz at the market. Armed men stopped them. “They told me to come out "
                     "of the car and took my phone.”", "en")
    assert claims[-1].attributed_to is None


def test_one_more_source_of_a_kind_speaks_for_the_state_the_first_served():
    def sources(text):
        return [c.attributed_to for c in _analysis(text)[1].claims]

    assert sources("Troops arrived in the north, a Chadian army officer said on Monday. Another officer, who declined to "
                   "be named, said the convoy had left the capital.") == ["Chad", "Chad"]
    assert sources("Des soldats sont arrivés, a déclaré un responsable malien. Un autre responsable a affirmé que le "
                   "convoi était parti de la capitale.") == ["Mali", "Mali"]
    # Another kind of source, or one of a kind no state was read for, stays as described.
    assert sources("Troops arrived in the north, a Chadian army officer said on Monday. Another witness said the convoy "
                   "had left the capital.") == ["Chad", "another witness"]
    assert sources("Troops arrived in the north, army sources said. Another source said the convoy had left the "
                   "capital.") == ["army sources", "another source"]


def test_a_second_reporting_verb_and_a_statement_s_participle_speak_for_the_clause_s_subject():
    def sources(text):
        return [c.attributed_to for c in _analysis(text)[1].claims]

    assert sources("The Malian government condemned the raid and accused France of spying on its troops near the "
                   "border.") == ["Mali"]
    assert sources("Le gouvernement malien a condamné le raid et a accusé la France d'espionner ses troupes.") == ["Mali"]
    assert sources("The Malian government issued a statement accusing France of spying on its troops near the "
                   "border.") == ["Mali"]
    # A source named in the sentence itself speaks before the clause's subject.
    assert sources("The Malian government condemned the raid and accused France of spying, the spokesman Ivo Marek "
                   "said.") == ["Ivo Marek"]


def test_a_group_named_as_such_speaks_and_a_state_s_demonym_alone_does_not():
    def sources(text):
        return [c.attributed_to for c in _analysis(text)[1].claims]

    assert sources("Western countries accused Moscow of sending mercenaries to the region last year.") == ["The West"]
    assert sources("Russian officials said the convoy had left the capital on Monday.") == ["Russia"]


@pytest.mark.parametrize("text,sources", [
    # A figure before a group does not hide it as the clause's subject; one after a preposition is no subject's.
    ("In March, 9 Western countries met in Oslo and accused Moscow of paying the contractors who guard the gold mines.",
     ["The West"]),
    ("En mars, 9 pays occidentaux ont publié ensemble une lettre qui critique la présence de contractuels armés.",
     ["The West"]),
    ("The arrival of 300 foreign contractors near the gold mines was criticised in March.", [None]),
    # A state's presidency speaks for the state; making it clear is saying.
    ("The Chadian presidency made it clear on Friday that the 200 foreign advisers would stay until June.", ["Chad"]),
    ("La présidence malienne a fait savoir que les 200 conseillers étrangers resteraient jusqu'en juin.", ["Mali"]),
    # A pronoun after a conjunction is a reporting verb's subject: the person the sentence named before it.
    ("The plan dates from the time of Pavel Horak, who toured the mines in 2019 while he claimed that the company employed "
     "5,000 workers.", ["Pavel Horak"]),
    ("Le ministre Ivo Marek a reçu l'ambassadeur lundi et il a déclaré que 300 conseillers resteraient au pays.", ["Ivo Marek"]),
    # Two people named before it: the order alone does not tell which one the pronoun stands for.
    ("Senator Ana Varga, who met Pavel Horak in May, left early because she believed that the 40 votes were lost.", [None]),
])
def test_sources_of_one_sentence(text, sources):
    assert [c.attributed_to for c in _analysis(text)[1].claims] == sources


def test_a_quotation_that_goes_on_after_its_speaker_is_named_keeps_the_speaker():
    claims = _analysis("“Our embassy keeps a close watch on the northern provinces,” the Freedonian foreign ministry said "
                       "on Tuesday. “At least 40 civilians have died there since January.”\n\n“Nothing has changed on "
                       "the ground since 2021.”")[1].claims
    sources = {c.text[:12]: c.attributed_to for c in claims}
    assert sources["“At least 40"] == sources["“Our embassy"] and sources["“Our embassy"]
    # A quotation in the next paragraph is not the same speaker's.
    assert sources.get("“Nothing has") is None


def test_a_name_inside_a_quotation_is_not_the_relay_of_its_speaker():
    claims = _analysis("“The Wagner Group reported no losses in the olive groves south of the airport,” said Ivo Marek, a "
                       "researcher at Amnesty International.")[1].claims
    assert [(c.attributed_to, c.relayed_by) for c in claims] == [("Ivo Marek", None)]
    # A described speaker after the quotation, and a quotation opened in the sentence before.
    claims = _analysis("“The convoy left the depot on Monday. Moscow said 300 more trucks would come by May,” the minister "
                       "added.")[1].claims
    assert [c.attributed_to for c in claims][-1] == "the minister"


def test_a_name_a_described_source_tells_of_is_not_the_source():
    claims = _analysis("Two surveys about the Wagner Group found that 2,000 fighters were flown to Libya in "
                       "2020.")[1].claims
    assert [c.attributed_to for c in claims] == [None]


def test_a_personal_pronoun_never_refers_back_to_a_thing_or_a_body_described():
    claims = _analysis("The bulletin said the bridge to the port was closed for 12 hours on Monday. He added that 30 "
                       "drivers were stuck on the ramp.")[1].claims
    assert [c.attributed_to for c in claims] == ["the bulletin", None]


def test_they_never_refers_back_to_one_person():
    claims = _analysis("Ivo Marek said on Monday that 40 soldiers had been killed in the north. Even so, because they "
                       "alleged that the raid came from across the border, the talks stalled for 12 days.")[1].claims
    assert [c.attributed_to for c in claims] == ["Ivo Marek", None]


def test_a_definite_description_of_a_thing_is_not_the_person_named_before():
    claims = _analysis("Ivo Marek said on Monday that the officer had been dismissed after 12 complaints.\n\nThe statement "
                       "adds that the officer may challenge the dismissal before 1 May.")[1].claims
    assert [c.attributed_to for c in claims] == ["Ivo Marek", "the statement"]


@pytest.mark.parametrize("text,language,source", [
    # An elided article before a described source ("l’armée", "l'état-major"), with or without a comma before the verb.
    ("L’état-major de l’armée, dans un communiqué publié lundi, indique que 40 soldats ont été tués près de la frontière.",
     "fr", "l’état-major de l’armée"),
    ("L'armée ruritanienne affirme que 300 instructeurs sont arrivés dans la capitale en 2022.", "fr", "l'armée ruritanienne"),
])
def test_a_source_with_an_elided_article_or_an_aside_before_its_verb(text, language, source):
    (claim,) = _claims(text, language)
    assert claim.attributed_to == source


def test_that_after_a_verb_of_saying_opens_what_was_said_not_a_speaker():
    # "that" is a demonstrative too ("..., said that official"): after an aside it still opens the reported clause.
    att = attribute("The army, in a statement on Friday, said that the soldiers withdrew.", 0, [], {}, "en")
    assert (att.source, att.trailing) == ("the army", False)


def test_a_quotation_over_paragraphs_belongs_to_the_speaker_who_opens_it():
    claims = _claims("Dans un communiqué publié mardi, le porte-parole de l’armée indique que : « Trois villages ont été "
                     "attaqués près de la frontière.\n\nUne colonne de 40 véhicules a été repérée le mercredi 20 avril. Le "
                     "lendemain, les assaillants ont incendié deux écoles ». Une enquête a été ouverte le 22 avril.", "fr")
    sources = {" ".join(c.text.split()[:2]): c.attributed_to for c in claims}
    assert sources["Une colonne"] == sources["Le lendemain,"] == "le porte-parole de l’armée"
    assert sources["Une enquête"] is None  # the author's words again, once the quotation closes
