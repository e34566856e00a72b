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


def parse_instant(text: str) -> datetime:
    """Read an ISO 8601 instant; without a zone it is Paris time, between 2000 and 2100. Returns UTC."""
    raw = text.strip()
    shown = "".join(c if c.isprintable() else "?" for c in raw)[:60]
    if not raw.isascii() or len(raw) > 40:
        raise InstantError(f"« {shown} » n'est pas une date ISO 8601 (exemple : 2015-05-07T11:59:59 ou 2015-05-07)")
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InstantError(
            f"« {shown} » n'est pas une date ISO 8601 (exemple : 2015-05-07T11:59:59 ou 2015-05-07)"
        ) from None
    return utc(check_year(value))


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
