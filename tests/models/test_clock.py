import re
from datetime import UTC, date, datetime, time

import pytest

from models.clock import InstantError, WorkingCalendar, format_paris, parse_due, parse_duration, parse_instant


def test_naive_instant_is_paris_time_in_summer_and_winter() -> None:
    assert parse_instant("2015-05-07T12:00") == datetime(2015, 5, 7, 10, 0, tzinfo=UTC)
    assert parse_instant("2015-01-07T12:00") == datetime(2015, 1, 7, 11, 0, tzinfo=UTC)
    assert parse_instant("2015-05-07T12:00:00+00:00") == datetime(2015, 5, 7, 12, 0, tzinfo=UTC)


def test_nonexistent_paris_time_is_refused_in_french() -> None:
    with pytest.raises(InstantError, match="n'existe pas à Paris"):
        parse_instant("2015-03-29T02:30")


def test_garbage_instant_is_refused_with_an_example() -> None:
    with pytest.raises(InstantError, match="ISO 8601"):
        parse_instant("demain midi")


def test_duration_parsing() -> None:
    assert parse_duration("P1M15D").months == 1
    assert parse_duration("P1M15D").days == 15
    with pytest.raises(InstantError):
        parse_duration("3 mois")


def test_working_days_skip_weekends_and_french_holidays() -> None:
    calendar = WorkingCalendar("FR", time(9, 0))
    assert not calendar.is_working_day(date(2015, 5, 1))  # Fête du Travail
    assert not calendar.is_working_day(date(2015, 5, 14))  # Ascension
    assert not calendar.is_working_day(date(2015, 5, 9))  # Saturday
    assert calendar.is_working_day(date(2015, 5, 12))
    # Two working days before Monday 11 May 2015: Thursday 7 May (Friday 8 May is a holiday).
    assert calendar.shift_working_days(date(2015, 5, 11), -2) == date(2015, 5, 6)
    sent = calendar.before(parse_instant("2015-05-11T12:00"), 1)
    assert sent == parse_instant("2015-05-07T09:00")


def test_french_rendering_of_a_date() -> None:
    assert format_paris(parse_instant("2015-05-07T12:00")) == "jeudi 7 mai 2015 à 12h00"


def test_durations_in_french_words() -> None:
    from models.clock import format_duration

    assert format_duration("P12M") == "12 mois"
    assert format_duration("P1M15D") == "1 mois et 15 jours"
    assert format_duration("P1Y2M1D") == "1 an, 2 mois et 1 jour"
    assert format_duration("P2W") == "2 semaines"


def test_the_countries_of_the_calendar_are_those_holidays_lists() -> None:
    """The check reads holidays' registry (no country module imported) and accepts exactly the codes
    `holidays.list_supported_countries()` lists, aliases included; an unknown one is refused in French."""
    import holidays

    from models.clock import _supported_countries, check_country

    assert _supported_countries() == frozenset(holidays.list_supported_countries())
    assert check_country("FR") == "FR"
    assert check_country("UK") == "UK"  # an alias holidays knows
    with pytest.raises(ValueError, match="inconnu du calendrier"):
        check_country("ZZ")


def test_checking_a_country_imports_no_country_module() -> None:
    import subprocess
    import sys

    code = ("import sys; from models.clock import check_country; check_country('FR'); "
            "print(sorted(m for m in sys.modules if m.startswith('holidays.countries.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("typed", ["2015-06-12", "12/06/2015", "12 juin 2015", "vendredi 12 juin 2015",
                                   "12/6/2015"])
def test_a_due_date_typed_as_a_day_ends_at_six_pm_paris(typed: str) -> None:
    assert parse_due(typed) == datetime(2015, 6, 12, 16, 0, tzinfo=UTC)
    assert parse_instant(typed) == datetime(2015, 6, 11, 22, 0, tzinfo=UTC)  # an instant: the day's first minute


@pytest.mark.parametrize("typed", ["2015-06-12T14:30", "2015-06-12 14h30", "12/06/2015 14h30", "12/06/2015 à 14:30",
                                   "12 juin 2015 à 14h30", "2015-06-12T12:30Z"])
def test_french_and_iso_instants_read_alike(typed: str) -> None:
    assert parse_due(typed) == parse_instant(typed) == datetime(2015, 6, 12, 12, 30, tzinfo=UTC)


@pytest.mark.parametrize(("typed", "said"), [
    ("2015-06-31", "le 31 juin 2015 n'existe pas (juin a 30 jours)"),
    ("31/06/2015", "le 31 juin 2015 n'existe pas (juin a 30 jours)"),
    ("29 février 2015", "le 29 février 2015 n'existe pas (2015 n'est pas bissextile)"),
    ("2015-13-01", "le mois 13 n'existe pas"),
    ("12/06/2015 24h00", "l'heure 24h00 n'existe pas"),
    ("12 juinet 2015", "n'est pas une date ISO 8601 ni une date écrite à la française"),
])
def test_impossible_days_are_named(typed: str, said: str) -> None:
    with pytest.raises(InstantError, match=re.escape(said)):
        parse_due(typed)


def test_the_autumn_hour_that_happens_twice_is_refused_naming_both_readings() -> None:
    with pytest.raises(InstantError) as raised:
        parse_instant("25/10/2015 2h30")
    said = str(raised.value)
    assert "ambigu à Paris" in said
    assert "2015-10-25T02:30+02:00" in said and "2015-10-25T02:30+01:00" in said
    assert parse_instant("2015-10-25T02:30+01:00") == datetime(2015, 10, 25, 1, 30, tzinfo=UTC)


def test_the_spring_hour_that_does_not_exist_says_what_to_type() -> None:
    with pytest.raises(InstantError, match=re.escape("n'existe pas à Paris (passage à l'heure d'été")):
        parse_due("29/03/2015 2h30")


def test_a_weekday_that_does_not_match_its_date_is_refused_naming_the_real_one() -> None:
    assert parse_due("vendredi 12 juin 2015") == parse_due("12/06/2015")
    with pytest.raises(InstantError, match="le 13 juin 2015 est un samedi, pas un vendredi"):
        parse_due("vendredi 13 juin 2015")


def test_right_to_left_marks_are_shown_not_obeyed() -> None:
    from models.text import visible

    assert visible("abc\u200fdef\u200e\u061c") == "abc\\u200fdef\\u200e\\u061c"
