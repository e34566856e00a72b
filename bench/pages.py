"""The portal's pages on a national programme (`bench.national.build`): each bearer's page asked
through the real application (FastAPI, in process), its time and size.

`page_paths(url, secret)` issues a personal link for each kind of bearer (the territory, the Cerdd
and the consultancy of the middle pilot, the consultancy for every pilot, a juror) and returns the
paths of their pages; `client(url, secret)` is the portal on `url` at the programme's present.
`staff_paths(url)` names the back office's pages (every list, its first and last page, and one
detail page of each kind), `sign_in_staff(browser, url)` signs a member of the team in.
`bench/run.py --only pages` measures the territory's page at two sizes in turn, every page's size,
beside a bare FastAPI endpoint. Alone: `python bench/pages.py --url sqlite:///national-1000.db
[--profile territoire]` prints each page's time and size (and a profile of one, with its SQL
statements).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import secrets
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SECRET = secrets.token_urlsafe(48)


def present(url: str) -> datetime:
    """The programme's last tick (or its last fact, for a build that ran its stages without a
    tick): the instant its pages are read at."""
    from sqlmodel import col, func, select

    from models.context import load_ctx
    from models.db import session_scope
    from models.tables import AuditEntry

    with session_scope(url) as session:
        ctx = load_ctx(session)
        last = session.exec(select(func.max(col(AuditEntry.at))).where(AuditEntry.programme_id == ctx.programme_id))
        return ctx.programme.last_tick_at or last.one()


def page_paths(url: str, secret: str = SECRET) -> dict[str, str]:
    """The path of each bearer's page (links issued at the programme's present, valid a year)."""
    from sqlmodel import col, select

    from models import links
    from models.context import load_ctx
    from models.db import migrate, session_scope
    from models.tables import Application, Pilot

    migrate(url)  # a programme built before the newest migration (its indexes) is brought to it first
    at = present(url)
    with session_scope(url) as session:
        ctx = load_ctx(session)
        pilots = session.exec(select(Pilot, Application).join(Application, col(Application.id) == Pilot.application_id)
                              .where(Pilot.programme_id == ctx.programme_id).order_by(col(Pilot.rank))).all()
        siren, receipt = pilots[len(pilots) // 2][1].lead_siren, pilots[len(pilots) // 2][1].receipt_number

        def link(bearer: links.Bearer) -> str:
            return links.current_link(ctx, bearer, secret=secret, at=at, days=365)

        territory = link(links.Bearer("territoire", siren=siren))
        cerdd = link(links.Bearer("cerdd", siren=siren))
        consultancy = link(links.consultancy_bearer())
        juror = link(links.juror_bearer(ctx, ctx.definition.jury.members[0].email))
    return {"territoire": f"/l/{territory}/territoire/{siren}", "cerdd": f"/l/{cerdd}/cerdd/{siren}",
            "prestataire (un pilote)": f"/l/{consultancy}/prestataire/{siren}",
            "prestataire (tous)": f"/l/{consultancy}/prestataire",
            "calendrier (territoire)": f"/l/{territory}/calendrier.ics",
            "calendrier (prestataire, tous)": f"/l/{consultancy}/calendrier.ics",
            "jury": f"/l/{juror}/jury", "jury (une candidature)": f"/l/{juror}/jury/candidature/{receipt}"}


BENCH_STAFF = "banc.mesure@cerdd.example.org"
BENCH_PASSWORD = "Ecluse-Douai-1905!"


def staff_paths(url: str) -> dict[str, str]:
    """The back office's pages (`/equipe/…`): every list of every pilot, application, notice, audit
    entry, person, session and deliverable (its first page and its last), the home and the jury's
    page, and one of each kind of detail page (the middle pilot's, its application, a session, a
    deliverable). Downloads (the report's file, exports, certificates, attached files) are files,
    not pages, and are left out."""
    from sqlmodel import col, func, select

    from models.db import session_scope
    from models.tables import Application, Deliverable, Pilot, TrainingSession

    with session_scope(url) as session:
        middle = session.exec(select(func.count()).select_from(Pilot)).one() // 2
        pilot, application = session.exec(
            select(Pilot, Application).join(Application, col(Application.id) == Pilot.application_id)
            .order_by(col(Pilot.rank)).offset(middle).limit(1)).one()
        training = session.exec(select(TrainingSession).where(TrainingSession.pilot_id == pilot.id)
                                .order_by(col(TrainingSession.id))).first()
        deliverable = session.exec(select(Deliverable).where(Deliverable.pilot_id == pilot.id)
                                   .order_by(col(Deliverable.id))).first()
    paths = {"équipe : accueil": "/equipe/", "équipe : jury": "/equipe/jury", "équipe : rapport": "/equipe/rapport"}
    for name, path in (("pilotes", "/equipe/pilotes"), ("candidatures", "/equipe/candidatures"),
                       ("avis", "/equipe/avis"), ("journal", "/equipe/journal"), ("personnes", "/equipe/personnes"),
                       ("sessions", "/equipe/sessions"), ("livrables", "/equipe/livrables")):
        paths[f"équipe : {name}"] = path
        paths[f"équipe : {name} (dernière page)"] = f"{path}?page=100000"
    paths["équipe : un pilote"] = f"/equipe/pilotes/{application.lead_siren}"
    paths["équipe : une candidature"] = f"/equipe/candidatures/{application.receipt_number}"
    if training is not None:
        paths["équipe : une session"] = f"/equipe/sessions/{training.id}"
    if deliverable is not None:
        paths["équipe : un livrable"] = f"/equipe/livrables/{deliverable.id}"
    return paths


def sign_in_staff(browser: Any, url: str, secret: str = SECRET) -> None:
    """A member of the Cerdd's direction (made and enrolled through the domain the first time, at
    the programme's present: its invitation's key derived under the portal's `secret` as delivery
    derives it) signed in on `browser` through the sign-in page."""
    import re

    import pyotp
    from sqlmodel import select

    from models import staff
    from models.context import load_ctx
    from models.db import session_scope
    from models.links import LinkSettings
    from models.tables import Notice
    from notifications.message import single_message
    from notifications.render import portal_linker, render_notice

    at = present(url)
    with session_scope(url) as session:
        if staff.member_by_email(session, BENCH_STAFF) is None:
            staff.add_member(load_ctx(session, renderer=render_notice, linker=portal_linker()), BENCH_STAFF,
                             "Banc de mesure", "direction", at=at, by="banc", base_url="http://testserver",
                             secret=secret)
    with session_scope(url) as session:
        member = staff.find_member(session, BENCH_STAFF)
        if member.enrolled_at is None:
            notice = session.exec(select(Notice).where(Notice.kind == "invitation_equipe",
                                                       Notice.recipient_email == BENCH_STAFF)).one()
            text = single_message(notice, settings=LinkSettings(secret, "http://testserver", 1)).text
            key = re.findall(r"/equipe/invitation/([A-Za-z0-9_-]+)", text)[0]
            staff.enrol(load_ctx(session), key, BENCH_PASSWORD, BENCH_PASSWORD,
                        pyotp.TOTP(member.totp_secret or "").at(at), at=at)
        totp = member.totp_secret or ""
    page = browser.get("/equipe/connexion").text
    token = re.findall(r'name="jeton" value="([^"]+)"', page)[0]
    # the client's clock is a minute past the present: the code of that instant (a new step)
    code = pyotp.TOTP(totp).at(at + timedelta(minutes=1))
    answer = browser.post("/equipe/connexion", data={"jeton": token, "courriel": BENCH_STAFF,
                                                      "mot_de_passe": BENCH_PASSWORD, "code": code},
                          follow_redirects=False)
    assert answer.status_code == 303, (answer.status_code, answer.text[:500])


def client(url: str, secret: str = SECRET) -> Any:
    """The portal on `url`, its clock at the programme's present (plus a minute)."""
    from fastapi.testclient import TestClient

    from transitions.portal.app import create_app

    at = present(url) + timedelta(minutes=1)
    return TestClient(create_app(url, secret, clock=lambda: at))


def getter(browser: Any, path: str) -> Callable[[], int]:
    """Ask `path`; its size in bytes (AssertionError unless 200)."""
    def get() -> int:
        answer = browser.get(path)
        assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
        return len(answer.content)

    return get


def bare_app() -> Any:
    """The floor: a bare FastAPI application whose plain `def` endpoints answer a fixed page of the
    territory page's size (no database, no template), at `/nu` and at the territory page's own path
    (`/l/{token}/territoire/{siren}`), so that a client may ask the floor exactly what it asks the
    portal (`bench/load.py` does): httpx checks a URL character by character, and a personal link's
    200-character path costs its client more than `/nu` (0.03 to 0.25 ms a request, measured in turn
    with one synchronous client)."""
    from fastapi import FastAPI
    from fastapi.responses import HTMLResponse

    app = FastAPI()
    body = "<!doctype html><title>t</title>" + "<p>x</p>" * 1500

    @app.get("/nu")
    def bare() -> HTMLResponse:
        return HTMLResponse(body)

    @app.get("/l/{token}/territoire/{siren}")
    def bare_territory(token: str, siren: str) -> HTMLResponse:
        return HTMLResponse(body)

    return app


PAGE_LIMIT_KB = 300.0
"""No page over 300 KB (issue 25)."""


def measure_pages(built: dict[int, Path], work: Path, rounds: int) -> tuple[dict[str, Any], dict[str, float]]:
    """The territory's page at each size of `built` (national programmes, SQLite: copied into
    `work` first) and the bare endpoint (« nu »), sampled in turn (`bench.timing.in_turn`, keys
    « territoire SIZE » and « nu »); and every page's size in KB at the largest size: each bearer's
    and each of the back office's (`staff_paths`, a member of the team signed in)."""
    import shutil

    from fastapi.testclient import TestClient

    from bench.timing import in_turn
    from models.db import dispose_engines

    dispose_engines()  # every write-ahead log checkpointed into its file before the copies
    sizes = sorted(built)
    urls, clients, paths = {}, {}, {}
    for size in sizes:
        copy = work / f"pages-{size}.db"
        shutil.copyfile(built[size], copy)
        urls[size] = f"sqlite:///{copy}"
        paths[size] = page_paths(urls[size])
        clients[size] = client(urls[size]).__enter__()
    floor = TestClient(bare_app()).__enter__()
    actions: dict[str, Callable[[], Any]] = {f"territoire {size}": getter(clients[size], paths[size]["territoire"])
                                             for size in sizes}
    actions["nu"] = getter(floor, "/nu")
    for action in actions.values():
        action()  # warm
    measured = in_turn(actions, max(10 * rounds, 31))
    largest = clients[sizes[-1]]
    sign_in_staff(largest, urls[sizes[-1]])  # the back office's lists too, after the timings
    every = {**paths[sizes[-1]], **staff_paths(urls[sizes[-1]])}
    weights = {name: getter(largest, path)() / 1024 for name, path in every.items()}
    for browser in (*clients.values(), floor):
        browser.__exit__(None, None, None)
    return measured, weights


def profile(browser: Any, path: str, rounds: int = 20) -> pstats.Stats:
    """The portal answering `path` `rounds` times, profiled, and the SQL statements of one answer
    printed. cProfile sees one thread: the handlers, which FastAPI runs on worker threads, run inline
    on the event loop's thread while it profiles."""
    import anyio.to_thread
    from fastapi.testclient import TestClient
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    profiler, app, threads, sent = cProfile.Profile(), browser.app, anyio.to_thread.run_sync, []

    async def observed(scope: Any, receive: Any, send: Any) -> None:
        profiler.enable()
        try:
            await app(scope, receive, send)
        finally:
            profiler.disable()

    async def inline(function: Callable[..., Any], *args: Any, **_: Any) -> Any:
        return function(*args)

    def count(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    anyio.to_thread.run_sync = inline  # type: ignore[assignment]
    try:
        with TestClient(observed) as inlined:
            get = getter(inlined, path)
            get()  # warm (this and the next answer are left out of the profile)
            event.listen(Engine, "before_cursor_execute", count)
            get()
            event.remove(Engine, "before_cursor_execute", count)
            print(f"{len(sent)} SQL statements for one answer:", *(" " + " ".join(s.split()).split(" FROM ")[-1][:110]
                                                                 for s in sent), sep="\n")
            profiler = cProfile.Profile()  # `observed` profiles into this one from now on
            for _ in range(rounds):
                get()
    finally:
        anyio.to_thread.run_sync = threads  # type: ignore[assignment]
    return pstats.Stats(profiler)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--profile", default="", help="a page's name: its profile (cumulative, top 30)")
    args = parser.parse_args()
    paths = page_paths(args.url)
    with client(args.url) as browser:
        sign_in_staff(browser, args.url)
        paths.update(staff_paths(args.url))
        for name, path in paths.items():
            get = getter(browser, path)
            get()  # warm
            start = time.perf_counter()
            size = get()
            print(f"{name:36} {time.perf_counter() - start:8.3f} s {size / 1024:10.1f} KB", flush=True)
        if args.profile:
            profile(browser, paths[args.profile]).sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    main()
