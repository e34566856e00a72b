"""Simulated people for the load bench (bench/load.py): each a persistent HTTP client (like a
browser) holding its own personal link, opening its pages and acting through the real forms.

A territory opens its page, its calendar feed and a session's .ics, and answers a session
invitation (the opposite of its current answer, so that every accepted answer is a change the
database must record once); the consultancy opens its list and a pilot's page, and hands in a
deliverable (a small PDF) from its own share of them; a juror opens the list and an application's
sheet; the Cerdd opens a pilot's overview. A fraction of forms is posted twice on purpose, one
after the other or both at once (the same one-time token): the second must be refused (409) and
nothing recorded twice. Every accepted act goes to the `Ledger` that bench/load_verify.py checks
against the database.
"""

from __future__ import annotations

import asyncio
import html
import random
import re
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

PDF = b"%PDF-1.4\n% livrable du banc de charge\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
REPLAYED = "déjà été envoyé"
"""The words of the refusal of a form posted a second time (`models.links.FormReplayed`)."""
FORM = re.compile(r'<form class="action" method="post"(?: enctype="multipart/form-data")? action="([^"]+)">\s*'
                  r'<input type="hidden" name="jeton" value="([^"]+)">')


@dataclass
class Person:
    """One simulated person: `kind` (territoire, prestataire, jure, cerdd, nu), the paths of its
    pages, and what it may act on (a territory's SIREN; a consultant's share of deliverables)."""

    kind: str
    paths: dict[str, str]
    siren: str | None = None
    deliverables: list[tuple[str, str]] = field(default_factory=list)
    receipts: list[str] = field(default_factory=list)
    pages: int = 1


@dataclass
class Act:
    """An act the portal accepted (2xx/303): what it must have recorded."""

    kind: str  # « reponse » or « remise »
    siren: str
    key: str
    value: str  # « oui »/« non » for an answer, the file's name for a hand-in


@dataclass
class Tally:
    """What a run saw: latencies per page kind, statuses, accepted and refused acts."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter[int] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    busy: int = 0  # 503 with Retry-After: the portal said it was full, as it should under overload
    refused: Counter[str] = field(default_factory=Counter)
    """The busy 503s per page kind (`latencies` holds the pages served only)."""
    accepted: list[Act] = field(default_factory=list)
    replays_refused: int = 0
    no_form: int = 0
    seconds: float = 0.0

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    def summary(self) -> dict[str, Any]:
        kinds = {}
        for kind in sorted(set(self.latencies) | set(self.refused)):  # a kind refused every time: 0 served
            values = self.latencies.get(kind, [])
            ordered = sorted(values)
            kinds[kind] = {"count": len(values), "busy_503": self.refused[kind],
                           "per_s": len(values) / self.seconds if self.seconds else 0.0,
                           "p50": percentile(ordered, 50), "p95": percentile(ordered, 95),
                           "p99": percentile(ordered, 99), "mean": statistics.fmean(values) if values else 0.0}
        served = sum(len(values) for values in self.latencies.values())  # answers, not refusals nor failures
        return {"requests": self.requests, "served": served,
                "per_s": served / self.seconds if self.seconds else 0.0,
                "seconds": self.seconds, "errors": len(self.errors), "busy_503": self.busy,
                "statuses": dict(sorted(self.statuses.items())), "acts_accepted": len(self.accepted),
                "replays_refused": self.replays_refused, "no_form": self.no_form, "kinds": kinds,
                "first_errors": self.errors[:10]}


def merged(tallies: list[Tally]) -> Tally:
    """The runs `tallies` as one run: their answers, refusals and acts together, their seconds added
    (the rounds of one side of a floor measured in turn)."""
    whole = Tally()
    for tally in tallies:
        for kind, values in tally.latencies.items():
            whole.latencies[kind].extend(values)
        whole.statuses.update(tally.statuses)
        whole.errors.extend(tally.errors)
        whole.busy += tally.busy
        whole.refused.update(tally.refused)
        whole.accepted.extend(tally.accepted)
        whole.replays_refused += tally.replays_refused
        whole.no_form += tally.no_form
        whole.seconds += tally.seconds
    return whole


def percentile(ordered: list[float], rank: float) -> float:
    """The `rank`-th percentile of sorted values (nearest rank); 0 when none."""
    if not ordered:
        return 0.0
    index = max(0, min(len(ordered) - 1, round(rank / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


class Browser:
    """One person's client: every request timed under its page kind, every status judged."""

    def __init__(self, base: str, tally: Tally) -> None:
        self.client = httpx.AsyncClient(base_url=base, timeout=60.0, follow_redirects=False)
        self.tally = tally
        self.refused = False
        """This person's last request was refused as full (the tally is everyone's)."""

    async def close(self) -> None:
        await self.client.aclose()

    async def call(self, kind: str, method: str, path: str, expect: tuple[int, ...] = (200,),
                   **options: Any) -> httpx.Response | None:
        """One request; its latency under `kind`; a status outside `expect` is an error (a 503
        carrying Retry-After is counted apart, as the portal's answer to overload)."""
        started, self.refused = time.perf_counter(), False
        try:
            answer = await self.client.request(method, path, **options)
        except httpx.HTTPError as exc:
            self.tally.errors.append(f"{kind}: {type(exc).__name__} {exc}")
            self.tally.statuses[0] += 1
            return None
        self.tally.statuses[answer.status_code] += 1
        if answer.status_code == 503 and answer.headers.get("retry-after"):
            self.tally.busy += 1  # a refusal, not a page served: left out of the kind's latencies and req/s
            self.refused = True
            self.tally.refused[kind] += 1
            return None
        self.tally.latencies[kind].append(time.perf_counter() - started)
        if answer.status_code not in expect:
            self.tally.errors.append(f"{kind}: HTTP {answer.status_code} {answer.text[:200]!r}")
            return None
        return answer


def forms(page: str) -> dict[str, str]:
    """The page's action forms: their path (from the form's action) → their one-time token."""
    found = {}
    for action, token in FORM.findall(page):
        found[httpx.URL(html.unescape(action)).path] = html.unescape(token)
    return found


async def post_form(browser: Browser, kind: str, path: str, data: dict[str, str], files: Any, rng: random.Random,
                    double: float) -> bool:
    """Post a form (303 expected); with probability `double` post it twice with the same token, in
    turn or at once: exactly one accepted, the other refused as a replay (409), unless one was
    refused as full (503: nothing read, nothing spent), when the other is accepted. True if accepted."""
    options: dict[str, Any] = {"data": data} | ({"files": files} if files else {})
    if rng.random() >= double:
        return await browser.call(kind, "POST", path, (303,), **options) is not None
    if rng.random() < 0.5:
        first = await browser.call(kind, "POST", path, (303,), **options)
        unread = browser.refused  # refused as full before its form was read: its token is not spent
        second = await browser.call(f"{kind} (deuxième envoi)", "POST", path, (303,) if unread else (409,), **options)
        answers = [first, second]
    else:
        answers = list(await asyncio.gather(browser.call(kind, "POST", path, (303, 409), **options),
                                            browser.call(f"{kind} (deuxième envoi)", "POST", path, (303, 409),
                                                         **options)))
    statuses = sorted(answer.status_code for answer in answers if answer is not None)
    if len(statuses) == 2 and statuses != [303, 409]:
        browser.tally.errors.append(f"{kind}: the same form posted twice answered {statuses}")
    refused = [a for a in answers if a is not None and a.status_code == 409]
    for answer in refused:
        if REPLAYED not in answer.text:
            browser.tally.errors.append(f"{kind}: a second post refused for another reason: {answer.text[:200]!r}")
        else:
            browser.tally.replays_refused += 1
    return any(a is not None and a.status_code == 303 for a in answers)


async def territory_answer(browser: Browser, person: Person, rng: random.Random, double: float) -> None:
    page = await browser.call("territoire", "GET", person.paths["territoire"])
    if page is None:
        return
    open_forms = {path: token for path, token in forms(page.text).items() if "/session/" in path}
    if not open_forms:
        browser.tally.no_form += 1
        return
    path = rng.choice(sorted(open_forms))
    key = path.rsplit("/session/", 1)[1]
    section = page.text[page.text.find(f'action="{path}') if f'action="{path}' in page.text else 0:]
    section = section[:section.find("</form>")]
    attending = 'value="oui" required checked' in section
    presence = "non" if attending else "oui"
    data = {"jeton": open_forms[path], "presence": presence, "participants": "Camille Martin\nDominique Leroy"}
    if await post_form(browser, "réponse (POST)", path, data, None, rng, double):
        browser.tally.accepted.append(Act("reponse", person.siren or "", key, presence))


async def consultancy_hand_in(browser: Browser, person: Person, rng: random.Random, double: float) -> None:
    while person.deliverables:
        siren, key = person.deliverables[-1]
        page = await browser.call("prestataire (un pilote)", "GET", f"{person.paths['prestataire']}/{siren}")
        if page is None:
            return
        wanted = [path for path in forms(page.text) if path.endswith(f"/livrable/{key}/remise")]
        person.deliverables.pop()
        if not wanted:  # handed in or not yet open: the next of this consultant's share
            browser.tally.no_form += 1
            continue
        name = f"livrable-{siren}-{key}.pdf"
        if await post_form(browser, "remise (POST)", wanted[0], {"jeton": forms(page.text)[wanted[0]]},
                           {"fichier": (name, PDF, "application/pdf")}, rng, double):
            browser.tally.accepted.append(Act("remise", siren, key, name))
        return


Step = Callable[[Browser, Person, random.Random, float], Awaitable[None]]


def reader(kind: str, path_of: Callable[[Person, random.Random], str]) -> Step:
    async def read(browser: Browser, person: Person, rng: random.Random, double: float) -> None:
        await browser.call(kind, "GET", path_of(person, rng))
    return read


STEPS: dict[str, list[tuple[Step, int]]] = {
    "territoire": [(reader("territoire", lambda p, r: p.paths["territoire"]), 4),
                   (reader("calendrier (territoire)", lambda p, r: p.paths["calendrier"]), 1),
                   (reader("session (.ics)", lambda p, r: p.paths["session"]), 1),
                   (territory_answer, 2)],
    "prestataire": [(reader("prestataire (liste)",
                            lambda p, r: f"{p.paths['prestataire']}?page={r.randint(1, p.pages)}"), 2),
                    (consultancy_hand_in, 2)],
    "jure": [(reader("jury (liste)", lambda p, r: f"{p.paths['jury']}?page={r.randint(1, p.pages)}"), 1),
             (reader("jury (candidature)", lambda p, r: f"{p.paths['jury']}/candidature/{r.choice(p.receipts)}"), 2)],
    "cerdd": [(reader("cerdd", lambda p, r: p.paths["cerdd"]), 1)],
    "territoire seul": [(reader("territoire", lambda p, r: p.paths["territoire"]), 1)],
    "nu": [(reader("nu", lambda p, r: p.paths.get("territoire", "/nu")), 1)],
}


async def live(browser: Browser, person: Person, rng: random.Random, deadline: float, think: float,
               double: float) -> None:
    steps, weights = zip(*STEPS[person.kind], strict=True)
    while time.monotonic() < deadline:
        step = rng.choices(steps, weights)[0]
        await step(browser, person, rng, double)
        await asyncio.sleep(rng.uniform(0, 2 * think))


async def drive(base: str, people: list[Person], seconds: float, *, seed: int, think: float = 0.05,
                double: float = 0.1) -> Tally:
    """Every person lives for `seconds` against `base` (one client each), `think` seconds between
    two steps on average (seeded); posts doubled with probability `double`."""
    tally = Tally()
    browsers = [Browser(base, tally) for _ in people]
    started = time.monotonic()
    deadline = started + seconds
    try:
        await asyncio.gather(*(live(browser, person, random.Random(seed * 1000 + index), deadline, think, double)
                               for index, (browser, person) in enumerate(zip(browsers, people, strict=True))))
    finally:
        tally.seconds = time.monotonic() - started
        await asyncio.gather(*(browser.close() for browser in browsers))
    return tally


def run(base: str, people: list[Person], seconds: float, **options: Any) -> Tally:
    return asyncio.run(drive(base, people, seconds, **options))
