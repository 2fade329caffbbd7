"""Dates resolved the way a careful reader resolves them."""

from datetime import date

from influence_atlas.extract.dates import DateContext, find_dates


def _resolve_all(text: str, ctx: DateContext | None = None) -> list[tuple[str, str | None]]:
    ctx = ctx or DateContext()
    out = []
    for dm in find_dates(text):
        r = ctx.resolve(dm)
        out.append((text[dm.start : dm.end], r.value if r else None))
    return out


def test_explicit_dates_in_english_and_french():
    got = dict(_resolve_all("It began on March 27, 2022 and again le 5 avril 2023, then on 2024-01-02."))
    assert got == {"March 27, 2022": "2022-03-27", "le 5 avril 2023": "2023-04-05", "2024-01-02": "2024-01-02"}


def test_relative_dates_follow_the_running_context():
    text = ("In 2020 the crisis deepened. On Aug. 20 the officers struck. The following day, the envoy came. "
            "Earlier that month, crowds gathered. A year later the talks failed.")
    assert [v for _, v in _resolve_all(text)] == ["2020", "2020-08-20", "2020-08-21", "2020-08", "2021-08"]


def test_bare_month_moves_forward_from_the_narrative():
    text = "In August 2022, troops left. And in June, the council voted. That same month the mission ended."
    assert [v for _, v in _resolve_all(text)] == ["2022-08", "2023-06", "2023-06"]


def test_bare_month_after_a_whole_year_that_already_told_later_months():
    text = "In April 2022 a ban came; in August 2022 troops left. Ties grew in 2022. In February, the minister came."
    assert _resolve_all(text)[-1] == ("In February", "2023-02")


def test_vague_dates_keep_year_precision_and_invent_nothing():
    got = _resolve_all("In early 2022 things changed; the early 1960s were different. In May the rains came.")
    assert got[0] == ("early 2022", "2022")
    assert got[1][1] == "1960"
    # "In May" now has a context year (2022) to lean on; a text with no year gives nothing.
    assert _resolve_all("In May the rains came.") == [("In May", None)]


def test_weekday_and_month_from_a_stated_publication_date():
    ctx = DateContext(published=date(2024, 1, 30))
    got = _resolve_all("The juntas announced on Sunday their exit. In December, talks had failed.", ctx)
    assert got == [("on Sunday", "2024-01-28"), ("In December", "2023-12")]


def test_a_planned_year_does_not_carry_a_bare_month_past_the_publication_date():
    # "by 2023" of a plan moves the context two years ahead of a story published in January 2022: the bare
    # "December 14" it then tells as past is the December before publication, not one after it.
    ctx = DateContext(published=date(2022, 1, 7))
    text = "Troops arrived in 2022 and the force will shrink by 2023. They came since the Danes left on December 14."
    assert _resolve_all(text, ctx)[-1] == ("December 14", "2021-12-14")


def test_modal_may_and_figures_are_not_dates():
    assert _resolve_all("It may rain. More than 2,000 people and 1,500 troops; 59N6-TE radars.") == []


def test_a_span_of_days_is_dated_by_its_first_day():
    ctx = DateContext(year=2021)
    got = {}
    for text in ("between 5 and 7 June 2021", "overnight 3–4 May", "du 12 au 14 mars 2022", "from June 28 to 30, 2021"):
        (dm,) = find_dates(text)
        r = ctx.resolve(dm, update=False)
        got[text] = (r.value, r.precision, r.qualifier)
    assert got == {
        "between 5 and 7 June 2021": ("2021-06-05", "day", "span"),
        "overnight 3–4 May": ("2021-05-03", "day", "span"),
        "du 12 au 14 mars 2022": ("2022-03-12", "day", "span"),
        "from June 28 to 30, 2021": ("2021-06-28", "day", "span"),
    }


def test_french_day_and_month_take_the_running_year():
    text = "En septembre 2022, la mission a pris fin. Le 4 octobre, les troupes sont parties; le 1er novembre aussi."
    assert [v for _, v in _resolve_all(text)] == ["2022-09", "2022-10-04", "2022-11-01"]


def test_the_same_day_takes_the_day_in_context():
    got = _resolve_all("On 23 January 2024 the channel opened. A post went viral the same day.")
    assert got[-1] == ("the same day", "2024-01-23")
    assert _resolve_all("A post went viral the same day.") == [("the same day", None)]


def test_a_month_only_publication_date_anchors_days_and_gives_weekdays_its_month():
    from influence_atlas.extract.dates import published_context

    ctx = published_context("2022-09")
    assert ctx.published_precision == "month"
    assert _resolve_all("Soldiers raided the village le 4 septembre.", ctx) == [("le 4 septembre", "2022-09-04")]
    # Which Sunday is unknown, but not the month, while the narrative stays in the publication month.
    assert _resolve_all("On Sunday they left.", published_context("2022-09")) == [("Sunday", "2022-09")]
    assert _resolve_all("date 2022-09 On Sunday they left.", published_context("2022-09")) == [("2022-09", "2022-09"), ("Sunday", "2022-09")]
    assert _resolve_all("In August 2020 they came. On Sunday they left.", published_context("2022-09")) == [
        ("August 2020", "2020-08"), ("Sunday", None)]
    assert _resolve_all("In 2020 they came. On Sunday they left.") == [("2020", "2020"), ("Sunday", None)]
    assert _resolve_all("On Sunday they left.", published_context("2022-09-07")) == [("Sunday", "2022-09-04")]
    assert published_context(None).published is None and published_context("2021").published is None


def test_an_iso_month_is_a_month():
    assert _resolve_all("date 2021-11 Photos circulated.") == [("2021-11", "2021-11")]


def test_a_month_and_day_before_a_comma_and_a_span_naming_the_month_twice():
    ctx = DateContext(year=2022, month=7)
    assert _resolve_all("On September 1, the channel reported it.", ctx) == [("September 1", "2022-09-01")]
    (dm,) = find_dates("Between July 25 and July 28, rebels ambushed a convoy.")
    r = DateContext(year=2024).resolve(dm)
    assert (r.value, r.qualifier) == ("2024-07-25", "span")
    assert _resolve_all("On May 5, 2021, and again later.") == [("May 5, 2021", "2021-05-05")]


def test_a_bare_month_does_not_roll_past_the_latest_year_stated():
    ctx = DateContext(latest_year=2024)
    assert [v for _, v in _resolve_all("On August 4, 2024, a memorial opened. In late July, rebels attacked.", ctx)] == [
        "2024-08-04", "2024-07"]
    assert [v for _, v in _resolve_all("On August 4, 2024, a memorial opened. In late July, rebels attacked.")] == [
        "2024-08-04", "2025-07"]


def test_french_abbreviated_months_and_the_year_before_publication():
    got = dict(_resolve_all("Le 5 janv. 2022 puis le 3 avr 2021."))
    assert got == {"5 janv. 2022": "2022-01-05", "le 3 avr 2021": "2021-04-03"}
    ctx = DateContext(published=date(2023, 5, 17))
    assert _resolve_all("en avril de l'an passé", ctx) == [("avril de l'an passé", "2022-04")]


def test_shifts_count_back_or_forward_in_their_unit():
    text = "On 10 March 2021 the coup came. Two weeks later the envoy left; trois jours avant, the army moved. Deux ans plus tard, elections."
    assert [v for _, v in _resolve_all(text)] == ["2021-03-10", "2021-03-24", "2021-03-21", "2023-03"]


def test_this_year_and_this_season_are_the_year_of_publication():
    ctx = DateContext(published=date(2021, 11, 3))
    assert _resolve_all("In 2019 the army moved. Earlier this year, the envoy left; cet été, la mission a pris fin.", ctx) == [
        ("2019", "2019"), ("Earlier this year", "2021"), ("cet été", "2021")]
    # Without a stated publication date, the latest year the text states; with neither, no date.
    assert _resolve_all("this summer", DateContext(latest_year=2020)) == [("this summer", "2020")]
    assert _resolve_all("ce printemps") == [("ce printemps", None)]
