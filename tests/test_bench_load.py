"""The load bench (bench/load.py) at tiny size on PostgreSQL: the real portal, people acting, ticks
running, and its check that every accepted act is recorded exactly once, which must catch an act
recorded twice, one recorded without being accepted, and one accepted but never recorded."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from bench.load import bench_load as run_bench
from bench.load import cached, copy_of, parser
from bench.load_people import Act, Tally, merged
from bench.load_report import Configuration
from bench.load_verify import mark, verify
from models.context import load_ctx
from models.db import session_scope
from models.deliverables import hand_in_file
from models.tables import Application, Deliverable, Pilot, TrainingSession
from models.training import answer_invitation
from tests.needs import postgres_url

PDF = b"%PDF-1.4\n% livrable de test\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def test_people_act_and_every_accepted_act_is_recorded_once(tmp_path):
    server = postgres_url()
    options = parser().parse_args(["--pg", server, "--pilots", "6", "--people", "6", "--seconds", "5",
                                   "--floor-seconds", "1", "--tick-every", "1.5", "--double", "0.5",
                                   "--out", str(tmp_path / "RESULTS-load.md")])
    configs, _ = run_bench(options)
    (config,) = configs
    assert config.errors == 0, config.mixed["first_errors"] + config.ticks
    assert config.problems == []
    assert config.mixed["acts_accepted"] > 0 and config.mixed["replays_refused"] > 0
    assert config.mixed["kinds"]["territoire"]["count"] > 0 and len(config.ticks) >= 2
    assert len(config.rounds) == 4  # the two floors in turn, four rounds
    report = (tmp_path / "RESULTS-load.md").read_text(encoding="utf-8")
    assert "| 6 | 6 |" in report and "recorded exactly once" in report and "in 4 rounds" in report


def test_rounds_in_turn_add_up_and_the_ratio_is_their_median():
    first, second = Tally(seconds=2.0), Tally(seconds=6.0)
    first.latencies["nu"].extend([0.01] * 100)
    second.latencies["nu"].extend([0.02] * 500)
    second.statuses[200] = 500
    whole = merged([first, second]).summary()
    assert whole["seconds"] == 8.0 and whole["kinds"]["nu"]["count"] == 600
    assert whole["kinds"]["nu"]["per_s"] == 75.0 and whole["requests"] == 500
    config = Configuration(100, 50, rounds=[0.31, 0.19, 0.27, 0.25])
    assert config.ratio == 0.26  # the median: one slow round does not make the figure
    assert config.spread == "0.19–0.31 in 4 rounds"


def test_the_check_catches_an_act_recorded_twice_or_never():
    server = postgres_url()
    with copy_of(server, cached(server, 6), "load_test_verify") as url:
        since = mark(url)
        with session_scope(url) as session:
            ctx = load_ctx(session)
            at = ctx.present(since.at)
            siren, pilot = session.exec(select(Application.lead_siren, Pilot).join(
                Pilot, col(Pilot.application_id) == Application.id).order_by(col(Pilot.rank))).first()
            meeting = session.exec(select(TrainingSession).where(TrainingSession.pilot_id == pilot.id,
                                                                 TrainingSession.key == "seminaire-diffusion")).one()
            answer_invitation(ctx, pilot, meeting, attending=True, people="Camille Martin", at=at)
            answer_invitation(ctx, pilot, meeting, attending=False, people="", at=at + timedelta(minutes=1))
            deliverable = session.exec(select(Deliverable).where(Deliverable.pilot_id == pilot.id,
                                                                 Deliverable.key == "rapport-final")).one()
            hand_in_file(ctx, deliverable, filename="rapport.pdf", data=PDF, at=at, by="prestataire")
        accepted = [Act("reponse", siren, "seminaire-diffusion", "non"),
                    Act("remise", siren, "plan-ressources", "plan.pdf")]
        problems = verify(url, since, accepted)
    assert f"answers to session {siren}/seminaire-diffusion: 1 accepted, 2 recorded" in problems
    assert any(p.startswith("hand-ins of deliverable n°") and p.endswith("0 accepted, 1 recorded") for p in problems)
    assert f"hand-ins of deliverable {siren}/plan-ressources: 1 accepted, 0 recorded" in problems
    assert "0 form tokens spent for 2 accepted acts" in problems


def test_a_quick_run_leaves_the_committed_results_and_drops_what_it_built():
    from bench.load import QUICK_RESULTS, RESULTS, settle, to_drop

    quick = parser().parse_args(["--quick"])
    settle(quick)
    assert quick.out == QUICK_RESULTS and QUICK_RESULTS.parent.name == "bench-load-quick"
    assert QUICK_RESULTS.parent.parent.name == "var" and quick.pilots == "10"
    assert to_drop(quick, {10: "load_cache_10_x"}, {10: 4.2}) == ["load_cache_10_x"]
    assert to_drop(quick, {10: "load_cache_10_x"}, {}) == []  # a cache it found is not its to drop
    kept = parser().parse_args(["--quick", "--keep-cache"])
    assert to_drop(kept, {10: "load_cache_10_x"}, {10: 4.2}) == []
    full = parser().parse_args([])
    settle(full)
    assert full.out == RESULTS and to_drop(full, {100: "load_cache_100_x"}, {100: 60.0}) == []


def test_a_form_refused_as_full_then_posted_again_counts_as_one_accepted_act():
    """The bench's own accounting: a first post answered 503 (full, its form unread) leaves its
    one-time token unspent, so the same form posted again is accepted (303), not a replay; both
    orders of a double post end with one act accepted and no error."""
    import asyncio
    import random

    import httpx
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    from bench.load_people import Browser, Tally, post_form

    spent: list[str] = []

    async def form(request):  # noqa: ANN001, ANN202
        if not spent:
            spent.append("refused")
            return Response("complet", status_code=503, headers={"Retry-After": "5"})
        if "accepted" in spent:
            return Response("Ce formulaire a déjà été envoyé", status_code=409)
        spent.append("accepted")
        return Response(status_code=303, headers={"Location": "/"})

    async def post_twice(seed: float) -> tuple[bool, Tally]:
        spent.clear()
        tally = Tally()
        browser = Browser("http://portail", tally)
        browser.client = httpx.AsyncClient(transport=httpx.ASGITransport(Starlette(routes=[
            Route("/f", form, methods=["POST"])])), base_url="http://portail")
        rng = random.Random()
        rng.random = iter([0.0, seed]).__next__  # always double; then in turn (< 0.5) or at once
        accepted = await post_form(browser, "réponse (POST)", "/f", {"jeton": "t"}, None, rng, 1.0)
        await browser.close()
        return accepted, tally

    for order in (0.1, 0.9):  # in turn, at once
        accepted, tally = asyncio.run(post_twice(order))
        assert accepted and tally.errors == [] and tally.busy == 1, (order, tally.errors)
        assert spent == ["refused", "accepted"]


def test_another_persons_refusal_during_a_double_post_leaves_the_second_post_a_replay():
    """The review: the tally is everyone's, so « was my first post refused? » read from its count
    took another person's 503 for this one's, expected the second post to be accepted and counted
    its right 409 as an error. Read from this person's own last answer."""
    import asyncio
    import random

    import httpx
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    from bench.load_people import Browser, Tally, post_form

    gate, sent = asyncio.Event(), []

    async def form(request):  # noqa: ANN001, ANN202
        sent.append(request)
        if len(sent) > 1:
            return Response("Ce formulaire a déjà été envoyé", status_code=409)
        await gate.wait()  # the first send is accepted once someone else was refused meanwhile
        return Response(status_code=303, headers={"Location": "/"})

    async def full(request):  # noqa: ANN001, ANN202
        return Response("complet", status_code=503, headers={"Retry-After": "5"})

    async def main() -> tuple[bool, Tally]:
        tally = Tally()  # as `drive` makes it: one for every person
        app = Starlette(routes=[Route("/f", form, methods=["POST"]), Route("/p", full)])
        one, other = Browser("http://portail", tally), Browser("http://portail", tally)
        for browser in (one, other):
            browser.client = httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://portail")
        rng = random.Random()
        rng.random = iter([0.0, 0.1]).__next__  # a double post, in turn

        async def refused_meanwhile() -> None:
            await asyncio.sleep(0.05)
            await other.call("territoire", "GET", "/p")
            gate.set()

        accepted, _ = await asyncio.gather(post_form(one, "réponse (POST)", "/f", {"jeton": "t"}, None, rng, 1.0),
                                           refused_meanwhile())
        await one.close()
        await other.close()
        return accepted, tally

    accepted, tally = asyncio.run(main())
    assert accepted and tally.errors == [] and tally.busy == 1 and tally.replays_refused == 1, tally.errors
