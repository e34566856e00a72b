"""Time as an input: instants, Paris wall-clock dates, ISO durations and the working-day calendar."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

if TYPE_CHECKING:
    import holidays

PARIS = ZoneInfo("Europe/Paris")

_DURATION = re.compile(r"^P(?:(?P<years>[0-9]{1,4})Y)?(?:(?P<months>[0-9]{1,4})M)?(?:(?P<weeks>[0-9]{1,4})W)?"
                       r"(?:(?P<days>[0-9]{1,5})D)?$")
MAX_DURATION_DAYS = 10 * 366
"""A programme's offsets stay within ten years."""
YEARS = (2000, 2100)
"""The years an instant may fall in: the programme's, with a wide margin either side."""


class InstantError(ValueError):
    """An instant or a duration that cannot be read; the message is French."""


def utc(value: datetime) -> datetime:
    """The same instant in UTC; a naive value is read as Paris time."""
    if value.tzinfo is None:
        value = localize(value)
    return value.astimezone(UTC)


def localize(naive: datetime) -> datetime:
    """Attach Paris time to a naive wall-clock value.

    In the autumn overlap the first (summer-time) occurrence is taken; a time that does not
    exist (the spring gap) is refused rather than shifted silently.
    """
    aware = naive.replace(tzinfo=PARIS, fold=0)
    round_trip = aware.astimezone(UTC).astimezone(PARIS).replace(tzinfo=None)
    if round_trip != naive:
        raise InstantError(
            f"l'heure {naive:%d/%m/%Y %H:%M} n'existe pas à Paris (passage à l'heure d'été)"
        )
    return aware


def check_year(value: datetime) -> datetime:
    """`value` if it falls in YEARS (2000–2100); InstantError otherwise (far dates overflow)."""
    low, high = YEARS
    if not low <= value.year <= high:
        raise InstantError(f"la date {value.date().isoformat()} sort des années permises ({low} à {high})")
    return value


DUE_HOUR = time(18, 0)
"""The hour a due date typed as a day ends at, on every door (command line, portal, files): the
programme's working-day due hour (`DeliverableDef.due_time`'s default)."""

_EXAMPLES = "exemples : 2015-05-07T14:30, 2015-05-07, 07/05/2015 14h30, 7 mai 2015"
_ISO_DAY = re.compile(r"(?P<y>[0-9]{4})-(?P<m>[0-9]{2})-(?P<d>[0-9]{2})(?:[T ](?P<rest>.+))?")
_FR_DAY = re.compile(r"(?P<d>[0-9]{1,2})/(?P<m>[0-9]{1,2})/(?P<y>[0-9]{4})(?:\s+(?:à\s+)?(?P<time>.+))?")
_FR_WORDS = re.compile(r"(?:(?P<weekday>lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)\s+)?(?:le\s+)?"
                       r"(?P<d>1er|[0-9]{1,2})\s+(?P<month>[a-zéû]+)\s+(?P<y>[0-9]{4})(?:\s+(?:à\s+)?(?P<time>.+))?")
_FR_TIME = re.compile(r"(?P<h>[0-9]{1,2})\s*(?:[h:]\s*(?P<min>[0-9]{2})?)?")
_MONTH_WORDS = {name: number for number, name in enumerate(
    ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre",
     "décembre"], start=1)} | {"fevrier": 2, "aout": 8, "decembre": 12}


def _shown(text: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in text)[:60]


def _not_a_date(text: str) -> InstantError:
    return InstantError(f"« {_shown(text)} » n'est pas une date ISO 8601 ni une date écrite à la française "
                        f"({_EXAMPLES})")


def _day(year: int, month: int, day: int) -> date:
    """The calendar day, or InstantError naming what does not exist (« le 31 juin 2015 n'existe pas »)."""
    low, high = YEARS
    if not low <= year <= high:
        raise InstantError(f"l'année {year} sort des années permises ({low} à {high})")
    if not 1 <= month <= 12:
        raise InstantError(f"le mois {month} n'existe pas (de 1 à 12)")
    length = (date(year + month // 12, month % 12 + 1, 1) - date(year, month, 1)).days
    if not 1 <= day <= length:
        named = f"le {'1er' if day == 1 else day} {_MONTHS[month - 1]} {year}"
        why = f"{year} n'est pas bissextile" if month == 2 and day == 29 else f"{_MONTHS[month - 1]} a {length} jours"
        raise InstantError(f"{named} n'existe pas ({why})")
    return date(year, month, day)


def _french_time(text: str) -> time:
    match = _FR_TIME.fullmatch(text.strip())
    if match is None:
        raise InstantError(f"« {_shown(text)} » n'est pas une heure (exemples : 14h30, 14:30, 9h)")
    hour, minute = int(match["h"]), int(match["min"] or 0)
    if hour > 23 or minute > 59:
        raise InstantError(f"l'heure {hour}h{minute:02d} n'existe pas (de 0h00 à 23h59)")
    return time(hour, minute)


def typed_paris(naive: datetime) -> datetime:
    """A wall-clock value a person typed, as a Paris instant (UTC): an hour the clocks skip (spring)
    or go through twice (autumn) is refused, naming what to type instead."""
    first, second = naive.replace(tzinfo=PARIS, fold=0), naive.replace(tzinfo=PARIS, fold=1)
    shown = f"le {format_paris(first, with_time=False)} à {naive.hour}h{naive.minute:02d}"
    if first.utcoffset() == second.utcoffset():
        return first.astimezone(UTC)
    stamp = naive.strftime("%Y-%m-%dT%H:%M")
    readings = sorted({first.astimezone(UTC), second.astimezone(UTC)})
    if all(paris(reading).replace(tzinfo=None) != naive for reading in readings):  # the spring gap
        raise InstantError(f"{shown} n'existe pas à Paris (passage à l'heure d'été : à 2h00 il est 3h00) : "
                           f"choisissez une autre heure, ou écrivez {stamp}+01:00 (soit "
                           f"{paris(readings[-1]):%Hh%M} heure d'été)")
    raise InstantError(f"{shown} est ambigu à Paris (passage à l'heure d'hiver : cette heure a lieu deux fois) : "
                       f"écrivez {stamp}+02:00 pour la première (heure d'été, {readings[0]:%Hh%M} UTC) ou "
                       f"{stamp}+01:00 pour la seconde (heure d'hiver, {readings[1]:%Hh%M} UTC)")


def read_typed(text: str, day_ends_at: time) -> datetime:
    """Read a date or an instant a person typed: ISO 8601 (`2015-06-12`, `2015-06-12T14:30`, with or
    without a zone) or French (`12/06/2015`, `12/06/2015 14h30`, `12 juin 2015`, `vendredi 12 juin
    2015 à 14h30`). Without a zone it is Paris time; a day without an hour is `day_ends_at` that day.
    Between 2000 and 2100. Returns UTC; InstantError (French) naming what is wrong otherwise."""
    raw = " ".join(text.split())
    if not raw or len(raw) > 60:
        raise _not_a_date(text)
    iso = _ISO_DAY.fullmatch(raw)
    if iso is not None:
        day = _day(int(iso["y"]), int(iso["m"]), int(iso["d"]))
        rest = iso["rest"]
        if rest is None:
            return typed_paris(datetime.combine(day, day_ends_at))
        if not raw.isascii():
            raise _not_a_date(text)
        try:
            value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            return typed_paris(datetime.combine(day, _french_time(rest)))  # 2015-06-12 14h30
        return value.astimezone(UTC) if value.tzinfo is not None else typed_paris(value)
    numeric = _FR_DAY.fullmatch(raw)
    words = _FR_WORDS.fullmatch(raw.lower())
    if numeric is not None:
        day, when = _day(int(numeric["y"]), int(numeric["m"]), int(numeric["d"])), numeric["time"]
    elif words is not None and words["month"] in _MONTH_WORDS:
        number = 1 if words["d"] == "1er" else int(words["d"])
        day, when = _day(int(words["y"]), _MONTH_WORDS[words["month"]], number), words["time"]
        if words["weekday"] and words["weekday"] != _WEEKDAYS[day.weekday()]:  # one of the two is a typo
            shown = f"{'1er' if day.day == 1 else day.day} {_MONTHS[day.month - 1]} {day.year}"
            raise InstantError(f"le {shown} est un {_WEEKDAYS[day.weekday()]}, pas un {words['weekday']} : "
                               "corrigez le jour ou la date")
    else:
        raise _not_a_date(text)
    return typed_paris(datetime.combine(day, _french_time(when) if when else day_ends_at))


def parse_instant(text: str) -> datetime:
    """Read an instant people typed (`read_typed`); a day alone is its first minute, 0h00. Returns UTC."""
    return check_year(read_typed(text, time(0, 0)))


def parse_due(text: str, hour: time = DUE_HOUR) -> datetime:
    """Read a due date people typed (`read_typed`); a day alone ends at `hour` (18h00, `DUE_HOUR`),
    whichever door it came through. Returns UTC."""
    return check_year(read_typed(text, hour))


def paris(value: datetime) -> datetime:
    return value.astimezone(PARIS)


def format_paris(value: datetime, *, with_time: bool = True) -> str:
    """French wall-clock rendering in Paris time, e.g. « jeudi 7 mai 2015 à 12h00 »."""
    local = paris(value)
    day = "1er" if local.day == 1 else str(local.day)
    text = f"{_WEEKDAYS[local.weekday()]} {day} {_MONTHS[local.month - 1]} {local.year}"
    if with_time:
        text += f" à {local.hour}h{local.minute:02d}"
    return text


_WEEKDAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]
_MONTHS = [
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
]  # fmt: skip


def format_number(value: float) -> str:
    """A French decimal: 2.23 → « 2,23 », 3.0 → « 3 »."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


def parse_duration(text: str) -> relativedelta:
    """Read an ISO 8601 calendar duration (P3M, P2W, P1M15D); months are calendar months."""
    match = _DURATION.match(text.strip()) if text else None
    if not match or text.strip() == "P":
        text = "".join(c if c.isprintable() else "?" for c in text)[:40]
        raise InstantError(f"« {text} » n'est pas une durée ISO 8601 (exemples : P3M, P2W, P10D)")
    parts = {key: int(value) for key, value in match.groupdict().items() if value}
    days = parts.get("years", 0) * 366 + parts.get("months", 0) * 31 + parts.get("weeks", 0) * 7 + parts.get("days", 0)
    if days > MAX_DURATION_DAYS:
        raise InstantError(f"« {text} » est une durée trop longue (dix ans au plus)")
    return relativedelta(years=parts.get("years", 0), months=parts.get("months", 0),
                         weeks=parts.get("weeks", 0), days=parts.get("days", 0))


def format_duration(text: str) -> str:
    """An ISO duration in French words: P12M → « 12 mois », P1M15D → « 1 mois et 15 jours »."""
    parse_duration(text)  # refuses what is not a duration
    match = _DURATION.match(text.strip())
    assert match is not None
    words = {"years": ("an", "ans"), "months": ("mois", "mois"), "weeks": ("semaine", "semaines"),
             "days": ("jour", "jours")}
    parts = []
    for unit, value in match.groupdict().items():
        if value and int(value):
            one, many = words[unit]
            parts.append(f"{int(value)} {one if int(value) == 1 else many}")
    if not parts:
        return "0 jour"
    return " et ".join([", ".join(parts[:-1]), parts[-1]]) if len(parts) > 1 else parts[0]


def add_paris(start: datetime, offset: relativedelta, at: time | None = None) -> datetime:
    """Add a calendar offset in Paris wall-clock time (months keep their day across DST)."""
    local = paris(start).replace(tzinfo=None) + offset
    if at is not None:
        local = datetime.combine(local.date(), at)
    return utc(local)


@lru_cache(maxsize=1)
def _supported_countries() -> frozenset[str]:
    """The country codes `holidays` knows (aliases included), once per process.

    Read from its registry (a static table): `holidays.list_supported_countries()` gives the same
    codes but imports every country's module to list its subdivisions (~500 modules, a tenth of a
    second of a cold command), and a programme only ever asks for one country."""
    from holidays.registry import EntityLoader

    return frozenset(EntityLoader.get_country_codes())


def check_country(code: str) -> str:
    """A country whose public holidays are known (`holidays`), for the working-day calendar."""
    if code not in _supported_countries():
        raise ValueError(f"pays « {code} » inconnu du calendrier des jours fériés (exemple : FR)")
    return code


class WorkingCalendar:
    """French working days (public holidays from `holidays`) and a sending window."""

    def __init__(self, country: str = "FR", send_at: time = time(9, 0),
                 hours: tuple[time, time] = (time(8, 0), time(18, 0))) -> None:
        self.country = country
        self.send_at = send_at
        self.hours = hours
        self._shifted: dict[tuple[date, int], datetime] = {}

    @lru_cache(maxsize=64)  # noqa: B019  (calendars live as long as the programme)
    def _holidays(self, year: int) -> holidays.HolidayBase:
        import holidays  # imported at the first working day asked: a command reading dates only skips it

        return holidays.country_holidays(self.country, years=year)

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self._holidays(day.year)

    def next_working_day(self, day: date) -> date:
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def shift_working_days(self, day: date, count: int) -> date:
        """Move `count` working days (negative: backwards) from `day`."""
        step = 1 if count >= 0 else -1
        remaining = abs(count)
        while remaining:
            day += timedelta(days=step)
            if self.is_working_day(day):
                remaining -= 1
        return day

    def sending_instant(self, day: date) -> datetime:
        """The instant a notice planned for `day` goes out: next working day, at the send hour."""
        return utc(datetime.combine(self.next_working_day(day), self.send_at))

    def may_send(self, instant: datetime) -> bool:
        """Whether a notice may leave at `instant`: a working day, within the sending hours (Paris)."""
        local = paris(instant)
        start, end = self.hours
        return self.is_working_day(local.date()) and start <= local.time() < end

    def next_sending(self, instant: datetime) -> datetime:
        """`instant` itself when a notice may leave then; otherwise the sending time (`send_at`) of
        the same day if the sending hours have not begun yet, else of the next working day."""
        if self.may_send(instant):
            return instant
        local = paris(instant)
        day = local.date()
        if not (self.is_working_day(day) and local.time() < self.hours[0]):
            day = self.next_working_day(day + timedelta(days=1))
        return self.sending_instant(day)

    def before(self, anchor: datetime, working_days: int) -> datetime:
        """Sending instant `working_days` working days before the anchor's Paris date."""
        return self._shifted_sending(paris(anchor).date(), -working_days)

    def after(self, anchor: datetime, working_days: int) -> datetime:
        """Sending instant `working_days` working days after the anchor's Paris date."""
        return self._shifted_sending(paris(anchor).date(), working_days)

    def _shifted_sending(self, day: date, count: int) -> datetime:
        """`sending_instant(shift_working_days(day, count))`, memoised: a pure function of the date
        (the calendar's rules never change), asked for every reminder of every series at each tick."""
        found = self._shifted.get((day, count))
        if found is None:
            if len(self._shifted) >= 100_000:  # bounded: a long-lived process sees new dates every day
                self._shifted.clear()
            found = self._shifted[(day, count)] = self.sending_instant(self.shift_working_days(day, count))
        return found


@lru_cache(maxsize=16)
def working_calendar(country: str = "FR", send_at: time = time(9, 0),
                     hours: tuple[time, time] = (time(8, 0), time(18, 0))) -> WorkingCalendar:
    """One shared calendar per set of rules (its holidays computed once per year)."""
    return WorkingCalendar(country, send_at, hours)
