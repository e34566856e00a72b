"""A national version of the programme, generated through the product's own functions.

`build(url, pilots)` installs a programme like the 2015 one but with a synthetic register of
`pilots * 1.25` EPCI (valid SIREN, one commune each), submits one application per EPCI (the
CU d'Arras example with its names, SIREN and addresses changed), closes the call, records the
three jurors' sheets (the first `pilots` applications above the threshold, the rest below),
confirms the jury's proposal, signs every charter and ticks the accompaniment forward to
`until`, delivering the notices to a sink (a channel that accepts every message). Every step
goes through the domain functions a user's command would call; only the data is invented.

Sessions are not staggered and each is held at the pilot's own seat (a national programme has
one consultancy team per region), so laying out 1,000 pilots needs no slot search.

Tests import it at small size (`build(url, 20)`); `python bench/national.py --pilots 1000 --url
sqlite:///x.db` builds one on its own (`--pilots 10000` on PostgreSQL for the national scale).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlmodel import Session  # noqa: E402

from models.clock import parse_instant  # noqa: E402
from models.context import ProgrammeBundle, install_programme, load_ctx  # noqa: E402
from models.db import get_engine, migrate, session_scope  # noqa: E402
from models.programme import ProgrammeDefinition  # noqa: E402
from notifications.message import Message  # noqa: E402
from notifications.render import portal_linker, render_notice  # noqa: E402

PROGRAMME = ROOT / "programmes" / "cerdd-2015.yaml"
EXAMPLE = ROOT / "examples" / "candidature-cu-arras.yaml"
INSTALLED = parse_instant("2015-04-01T09:00")
LAUNCH = parse_instant("2015-04-02T09:00")
SUBMITTED = parse_instant("2015-04-20T10:00")
DEADLINE = parse_instant("2015-05-07T12:00")
SCORED = parse_instant("2015-06-01T10:00")
MEETING = parse_instant("2015-06-04T14:00")
SIGNED = parse_instant("2015-06-10T10:00")
KICKOFF = parse_instant("2015-07-01T09:30")
DEFAULT_UNTIL = parse_instant("2016-01-13T09:00")


def siren(number: int) -> str:
    """A valid SIREN (Luhn key) from an 8-digit serial number."""
    body = f"{number:08d}"
    total = 0
    for index, char in enumerate(reversed(body)):
        digit = int(char)
        if index % 2 == 0:  # the key will sit at the right: these positions are doubled
            digit *= 2
            digit = digit - 9 if digit > 9 else digit
        total += digit
    return body + str((10 - total % 10) % 10)


def epci_siren(index: int) -> str:
    return siren(20_000_000 + index)


def epci_name(index: int) -> str:
    return f"CC du Territoire {index:05d}"


def register_csv(count: int) -> str:
    """A register of `count` EPCI, each with one commune, in the 2015 register's columns."""
    lines = ["siren;nom;nature;fiscalite;nb_com;ptot;pmun;insee;siren_com;nom_com;ptot_com;pmun_com"]
    for index in range(count):
        departement = "59" if index % 2 else "62"
        insee = f"{departement}{index % 1000:03d}"
        lines.append(f"{epci_siren(index)};{epci_name(index)};CC;FPU;1;10000;9900;{insee};"
                     f"{siren(30_000_000 + index)};Commune {index:05d};10000;9900")
    return "\n".join(lines) + "\n"


def definition(pilots: int) -> ProgrammeDefinition:
    """The 2015 programme with room for `pilots` pilots and sessions at each pilot's seat."""
    from transitions.programmes import load_programme

    base = load_programme(PROGRAMME).definition.model_dump(mode="json")
    base["slug"] = "national"
    base["title"] = "Transitions économiques des territoires (programme national généré)"
    base["jury"]["pilots"] = {"min": 2, "max": pilots}
    for item in base["accompaniment"]["sessions"]:
        item["stagger"] = None
        item["place"] = "Siège de {territoire}"
    return ProgrammeDefinition.model_validate(base)


class Sink:
    """A channel that accepts every message (the generator's notices need somewhere to go)."""

    name = "file"

    def __init__(self) -> None:
        self.count = 0

    def send(self, message: Message) -> None:
        self.count += 1

    def close(self) -> None:
        pass


@dataclass
class National:
    """What `build` made: the database, the number of pilots, the instant it reached."""

    url: str
    pilots: int
    applications: int
    reached: datetime
    seconds: float


def _form(template: dict[str, Any], index: int) -> Any:
    from models.forms import ApplicationForm

    data = {**template}
    domain = f"territoire-{index:05d}.example.org"
    data["collectivite_chef_de_file"] = {**template["collectivite_chef_de_file"], "nom": epci_name(index),
                                         "siren": epci_siren(index), "courriel": f"accueil@{domain}"}
    for group in ("responsables_operationnels", "referents_politiques", "referents_techniques"):
        data[group] = [{**person, "courriel": f"{group[:12]}-{number}@{domain}"}
                       for number, person in enumerate(template[group])]
    data["partenaires"] = [p for p in template["partenaires"] if p["type"] != "commune"]
    return ApplicationForm.model_validate(data)


def build(url: str, pilots: int, *, until: datetime = DEFAULT_UNTIL, step: timedelta = timedelta(days=7),
          extra: float = 0.25, capacity: int | None = None, verbose: bool = False) -> National:
    """Build the national programme of `pilots` pilots in the (migrated or empty) database `url`,
    ticked weekly from the kick-off to `until` (Paris working-day ticks at 09:00).

    `capacity` (default `pilots`) sizes the programme for more pilots than are built here, so that
    `bench.multiply.multiply` can copy it `capacity // pilots` times: the jury's maximum is
    `capacity`, the register holds every EPCI of the copies, and the applications below the
    threshold take the EPCI numbered from `capacity` on (where a build of `capacity` pilots puts
    them)."""
    from models import charter, jury
    from models import pilots as pilot_rules
    from models.call import close_call, launch_call
    from models.decision import DecisionForm, decide_from_form
    from notifications.deliver import DeliveryPolicy, deliver_due
    from notifications.routing import Channels
    from transitions.intake import read_application

    started = time.perf_counter()

    def say(text: str) -> None:
        if verbose:
            print(f"  [{time.perf_counter() - started:6.1f} s] {text}", file=sys.stderr, flush=True)

    migrate(url)
    count = max(pilots + 2, round(pilots * (1 + extra)))
    capacity = capacity or pilots
    if capacity < pilots:
        raise ValueError(f"capacity {capacity} < pilots {pilots}")
    copies = -(-capacity // pilots)
    register = max(count, capacity + copies * (count - pilots))

    def number(position: int) -> int:  # the EPCI of the position-th application
        return position if position < pilots else capacity + position - pilots

    bundle = ProgrammeBundle(definition(capacity), "national (généré)", "registre-national.csv",
                             register_csv(register))
    with session_scope(url) as session:
        install_programme(session, bundle, INSTALLED, "bench")
        launch_call(load_ctx(session, renderer=render_notice, linker=portal_linker()), LAUNCH)
    submission = read_application(EXAMPLE)
    template = submission.form.model_dump(mode="json")
    from models.applications import submit

    for first in range(0, count, 200):
        with session_scope(url) as session:
            ctx = load_ctx(session, renderer=render_notice, linker=portal_linker())
            for index in range(first, min(count, first + 200)):
                form = _form(template, number(index))
                submit(ctx, form, submission.pieces, at=SUBMITTED + timedelta(seconds=index),
                       submitted_by=form.responsables_operationnels[0].courriel)
    say(f"{count} applications submitted")
    with session_scope(url) as session:
        close_call(load_ctx(session, renderer=render_notice, linker=portal_linker()), DEADLINE)
    with session_scope(url) as session:
        ctx = load_ctx(session, renderer=render_notice, linker=portal_linker())
        criteria = [c.key for c in ctx.definition.jury.criteria]
        for member in ctx.definition.jury.members:
            notes = {epci_siren(number(index)): dict.fromkeys(criteria, 5 if index < pilots else 2)
                     for index in range(count)}
            jury.record_sheet(ctx, jury.ScoreSheet(juror=member.juror, notes=notes), SCORED)
    say("scored")
    _tick(url, MEETING)
    with session_scope(url) as session:
        decide_from_form(load_ctx(session, renderer=render_notice, linker=portal_linker()),
                         DecisionForm(secretaire="Emmanuel Bertin"), MEETING)
    with session_scope(url) as session:
        ctx = load_ctx(session, renderer=render_notice, linker=portal_linker())
        for pilot in pilot_rules.pilots(ctx):
            for party in ctx.definition.accompaniment.charter.parties:
                charter.sign_charter(ctx, pilot, party=party, signatory="Signataire", at=SIGNED)
    say(f"{pilots} pilots selected and signed")
    sink = Channels.single(Sink())
    instant = KICKOFF
    while instant <= until:
        _tick(url, instant)
        with Session(get_engine(url), expire_on_commit=False) as session:
            deliver_due(session, as_of=instant, channels=sink, policy=DeliveryPolicy())
        say(f"ticked {instant:%Y-%m-%d}")
        instant += step
    return National(url, pilots, count, instant - step, time.perf_counter() - started)


def _tick(url: str, instant: datetime) -> None:
    from models.schedule import STAGES, run_stage

    for stage in STAGES:
        with session_scope(url) as session:
            run_stage(session, stage.name, instant, renderer=render_notice, linker=portal_linker())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pilots", type=int, default=100)
    parser.add_argument("--url", required=True)
    parser.add_argument("--until", default="2016-01-13T09:00")
    parser.add_argument("--step-days", type=int, default=7, help="days between two ticks")
    args = parser.parse_args()
    made = build(args.url, args.pilots, until=parse_instant(args.until), step=timedelta(days=args.step_days),
                 verbose=True)
    print(f"{made.pilots} pilots, {made.applications} applications, built in {made.seconds:.1f} s")


if __name__ == "__main__":
    main()
