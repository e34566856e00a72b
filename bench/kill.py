"""Crash safety of delivery: a deliverer subprocess is SIGKILLed at random points, 100 times,
while it delivers the outbox to a real SMTP sink on loopback; then one last run finishes.

Reports how many notices were delivered, lost (never received) and doubled under distinct
Message-IDs (received in two different messages: an undetectable duplicate), and how many copies
arrived again under the same Message-ID (a duplicate the receiver can discard).

Usage: `.venv/bin/python bench/kill.py [KILLS] [SINGLES] [PEOPLE]` (defaults 100, 3000, 300: the
singles, plus 3 digestible reminders for each of PEOPLE, which travel as digests). About a minute:
each deliverer is a process forked from this one once the modules are imported, so that it starts
at once; it shares nothing with its parent but the SQLite file and the SMTP sink's port.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.synchronize
import os
import random
import signal
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
AT = "2015-04-20T09:00"  # a Monday, within sending hours


def deliverer(url: str, port: int, ready: multiprocessing.synchronize.Event | None = None) -> None:
    """The child: deliver everything due, 1 ms per message on top of SMTP (a slow relay)."""
    from datetime import timedelta

    from sqlmodel import Session

    from models.clock import parse_instant
    from models.db import get_engine
    from notifications.deliver import DeliveryPolicy, deliver_due
    from notifications.message import Message
    from notifications.routing import Channels
    from notifications.smtp import SmtpChannel

    class Slow(SmtpChannel):
        def send(self, message: Message) -> None:
            time.sleep(0.001)
            super().send(message)

    channel = Slow(host="127.0.0.1", port=port, sender="Cerdd - Transitions <transitions@cerdd.org>", timeout=5)
    if ready is not None:
        ready.set()
    with Session(get_engine(url), expire_on_commit=False) as session:
        deliver_due(session, as_of=parse_instant(AT), channels=Channels.single(channel),
                    policy=DeliveryPolicy(batch_size=25, lease=timedelta(0)))
    os._exit(0)  # as a killed process would: no cleanup shared with the parent


def main(kills: int, singles: int, people: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="transitions-bench-kill-"))
    url = f"sqlite:///{work / 'bench.db'}"
    os.environ.update({"DATABASE_URL": url, "OUTBOX_DIR": str(work / "outbox"), "PREFECT_HOME": str(work / "p")})

    import email
    from email import policy as email_policy

    from aiosmtpd.controller import Controller
    from sqlmodel import select

    from models.clock import parse_instant
    from models.context import install_programme, load_ctx
    from models.db import dispose_engines, migrate, session_scope
    from models.notices import NoticeKind, Recipient
    from models.tables import Notice
    from notifications.render import portal_linker, render_notice
    from transitions.programmes import load_programme

    migrate(url)
    at = parse_instant(AT)
    with session_scope(url) as session:
        install_programme(session, load_programme(ROOT / "programmes" / "cerdd-2015.yaml"), at, "bench")
    with session_scope(url) as session:
        ctx = load_ctx(session, renderer=render_notice, linker=portal_linker())
        for index in range(singles):
            ctx.notify(NoticeKind.CALL_LAUNCHED, [Recipient(f"epci{index}@example.org", f"EPCI n°{index}")],
                       key=f"lot-{index}", context={}, at=at)
        for person in range(people):
            for rank in range(3):
                ctx.notify(NoticeKind.DEADLINE_REMINDER, [Recipient(f"referent{person}@example.org", "Référent")],
                           key=f"r-{person}-{rank}", context={"intention": {"name": f"EPCI {person}.{rank}"},
                                                              "appel": ctx.definition.call}, at=at)
    total = singles + 3 * people

    received: list[tuple[str, tuple[int, ...]]] = []

    class Sink:
        async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
            message = email.message_from_bytes(envelope.content, policy=email_policy.default)
            carried = tuple(int(n) for n in str(message["X-Transitions-Notices"]).split())
            received.append((str(message["Message-ID"]), carried))
            return "250 OK"

    from tests.notifications.servers import free_port

    port = free_port()
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    import notifications.deliver  # noqa: F401  (imported once, before forking)
    import notifications.smtp  # noqa: F401

    dispose_engines()  # no connection crosses a fork
    forks = multiprocessing.get_context("fork")
    started = time.perf_counter()
    killed_mid_run = 0
    try:
        for _ in range(kills):
            ready = forks.Event()
            child = forks.Process(target=deliverer, args=(url, port, ready))
            child.start()
            ready.wait(30)
            time.sleep(random.uniform(0.0, 0.3))
            killed_mid_run += child.exitcode is None  # still delivering when killed
            os.kill(child.pid or 0, signal.SIGKILL)
            child.join()
        final = forks.Process(target=deliverer, args=(url, port))
        final.start()
        final.join()
        assert final.exitcode == 0
        time.sleep(0.5)  # the sink's last messages
    finally:
        controller.stop()
    elapsed = time.perf_counter() - started

    with session_scope(url) as session:
        statuses = defaultdict(int)
        for notice in session.exec(select(Notice)).all():
            statuses[notice.status] += 1
        ids = [n.id for n in session.exec(select(Notice)).all()]
    messages_of: dict[int, set[str]] = defaultdict(set)
    for message_id, carried in received:
        for notice_id in carried:
            messages_of[notice_id].add(message_id)
    lost = [i for i in ids if not messages_of.get(i)]
    doubled = [i for i in ids if len(messages_of.get(i, ())) > 1]
    same_id_copies = len(received) - len({m for m, _ in received})
    lines = [
        f"# Delivery under SIGKILL ({time.strftime('%Y-%m-%d')})",
        "",
        f"`bench/kill.py {kills} {singles} {people}`: {total} notices ({singles} single, {3 * people} reminders "
        f"travelling as {people} digests of 3), a deliverer subprocess killed with SIGKILL {kills} times at a "
        f"random point 0–300 ms after it started delivering ({killed_mid_run} kills landed before it finished), "
        "then one last run; a real SMTP sink (aiosmtpd) on loopback; SQLite; lease 0 (a killed claim is "
        "taken over at once).",
        "",
        "| figure | value |",
        "| --- | --- |",
        f"| notices | {total} |",
        f"| recorded as sent | {statuses.get('envoye', 0)} |",
        f"| still pending / given up | {statuses.get('en_attente', 0)} / {statuses.get('abandonne', 0)} |",
        f"| messages received by the sink | {len(received)} |",
        f"| distinct Message-IDs received | {len({m for m, _ in received})} |",
        f"| **lost** (never received) | **{len(lost)}** |",
        f"| **doubled under distinct Message-IDs** | **{len(doubled)}** |",
        f"| copies received again under the same Message-ID (detectable) | {same_id_copies} |",
        f"| wall time | {elapsed:.0f} s |",
        "",
    ]
    report = "\n".join(lines)
    print(report)
    (ROOT / "bench" / "RESULTS-kill.md").write_text(report, encoding="utf-8")
    if lost or doubled or statuses.get("en_attente"):
        sys.exit(1)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--deliver"]:  # one deliverer by hand: --deliver URL PORT
        deliverer(sys.argv[2], int(sys.argv[3]))
    else:
        numbers = [int(a) for a in sys.argv[1:4]]
        main(*(numbers + [100, 3000, 300][len(numbers):]))
