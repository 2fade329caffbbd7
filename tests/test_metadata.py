from influence_atlas.text.metadata import detect_language, find_authors, guess_title, latest_explicit_year, stated_date


def test_title_is_first_short_paragraph():
    assert guess_title("After the Coup: What Next?\n\nThe body text goes on.") == "After the Coup: What Next?"
    assert guess_title("A long first paragraph that is a sentence, clearly. It ends with a period.\n\nMore.") is None


def test_byline_with_two_authors_and_french_byline():
    assert find_authors("Title\n\nBy Jane Doe and John Smith\n\nText.") == ["Jane Doe", "John Smith"]
    assert find_authors("Titre\n\nPar Awa Traoré et Jean Dupont\n\nTexte.") == ["Awa Traoré", "Jean Dupont"]
    assert find_authors("Illustrations by Marta Lindqvist\n\nText.") == []
    assert find_authors("Titre\n\n- Author, Awa Traoré\n- Role, Correspondante\n\nTexte.") == ["Awa Traoré"]


def test_stated_date_from_dateline():
    assert stated_date("Headline\n\nPublished on March 3, 2023\n\nBody.") == "2023-03-03"
    assert stated_date("Titre\n\n12 mars 2024\n\nCorps du texte.") == "2024-03-12"


def test_estimate_uses_explicit_dates_only():
    assert latest_explicit_year("Troops left in 2021. By March 2023 the deal held. In early 2025 maybe.") == "2023"
    assert latest_explicit_year("Things changed in early 2022.") is None


def test_language_english_and_french():
    assert detect_language("The junta expelled the Danish envoy and welcomed Russian trainers.") == "en"
    assert detect_language("La junte a expulsé l'ambassadeur de France et accueilli des instructeurs russes.") == "fr"


def test_opening_dateline_of_a_news_story():
    assert stated_date("Headline\n\nNiamey, le 28 janvier 2024 — Les régimes militaires ont annoncé") == "2024-01-28"
    assert stated_date("Headline\n\nBAMAKO, Mali (AP) — March 3, 2023 — The junta said") == "2023-03-03"
    assert stated_date("Headline\n\nThe junta said on March 3, 2023 — nothing more.") is None


def test_stated_date_from_a_labelled_iso_date_or_a_numeric_date_line():
    assert stated_date(" date 2022-09 Voici des récits collectés par téléphone auprès d'habitants.") == "2022-09"
    assert stated_date("date 2019-10-31 Seven mercenaries were killed this month.") == "2019-10-31"
    assert stated_date("Headline\n\nOutlet19-05-2025\n\nBody of the article goes on here.") == "2025-05-19"
    # Day and month cannot be told apart: no date rather than a guess.
    assert stated_date("Headline\n\nOutlet 03-04-2025\n\nBody.") is None
    assert stated_date("The plan for 2021-11 was dropped.") is None
