"""Outbox throughput: queue N notices in the database and deliver them as .eml files, against a
baseline that renders and writes the same messages with no database. Also peak Python memory.

Usage: `.venv/bin/python bench/outbox.py [N] [ROUNDS]` (default 2000, 3). Figures are ratios to the
baseline measured in the same run, in turn with it (A, B, A, B…), wall and CPU, since the machine is
shared.
"""

from __future__ import annotations

import os
import sys
import tempfile
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
WORK = Path(tempfile.mkdtemp(prefix="transitions-bench-outbox-"))
os.environ.update({"DATABASE_URL": f"sqlite:///{WORK / 'bench.db'}", "OUTBOX_DIR": str(WORK / "outbox"),
                   "PREFECT_HOME": str(WORK / "prefect")})

from sqlmodel import Session, delete  # noqa: E402

from bench.timing import in_turn  # noqa: E402
from config.settings import get_settings  # noqa: E402
from models.clock import parse_instant  # noqa: E402
from models.context import install_programme  # noqa: E402
from models.db import get_engine, migrate, session_scope  # noqa: E402
from models.notices import NoticeKind, Recipient  # noqa: E402
from models.tables import Notice  # noqa: E402
from notifications.channels import build_email  # noqa: E402
from notifications.deliver import deliver_due  # noqa: E402
from notifications.message import single_message  # noqa: E402
from notifications.render import portal_linker, render_notice  # noqa: E402
from notifications.routing import from_settings  # noqa: E402
from transitions.programmes import load_programme  # noqa: E402

AT = parse_instant("2015-04-20T09:00")


def baseline(count: int, definition, folder: Path) -> None:  # type: ignore[no-untyped-def]
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        person = Recipient(f"epci{index}@example.org", f"EPCI {index}")
        rendered = render_notice(NoticeKind.CALL_LAUNCHED, {"programme": definition, "destinataire": person,
                                                            "organisateur": definition.organiser})
        notice = Notice(id=index, dedup_key=str(index), kind="appel_lance", recipient_email=person.email,
                        recipient_name=person.name, subject=rendered.subject, body_text=rendered.text,
                        body_html=rendered.html, core_text=rendered.core_text, created_at=AT, deliver_after=AT,
                        message_id=f"<{index}@b>")
        message = single_message(notice)
        (folder / f"{index}.eml").write_bytes(bytes(build_email(message, "bench <b@example.org>")))


def through_outbox(count: int, url: str) -> None:
    with session_scope(url) as session:
        session.exec(delete(Notice))  # type: ignore[call-overload]
        from models.context import load_ctx

        ctx = load_ctx(session, renderer=render_notice, linker=portal_linker())
        for index in range(count):
            ctx.notify(NoticeKind.CALL_LAUNCHED, [Recipient(f"epci{index}@example.org", f"EPCI {index}")],
                       key=f"bench-{index}", context={}, at=AT)
    channels, policy = from_settings(get_settings())
    with Session(get_engine(url), expire_on_commit=False) as session:
        report = deliver_due(session, as_of=AT, channels=channels, policy=policy)
    assert report.sent == count, report


def measure(actions: dict[str, Callable[[], Any]], rounds: int) -> dict[str, tuple[float, float, float, list[float]]]:
    """Median wall and CPU seconds of each action over `rounds` runs taken in turn (A, B, A, B…,
    `bench.timing.in_turn`), the 1-minute load average before each; then the peak traced memory
    of one more run of each (tracemalloc is slow: not timed)."""
    measured = in_turn(actions, rounds)
    result = {}
    for name, action in actions.items():
        tracemalloc.start()
        action()
        peak = tracemalloc.get_traced_memory()[1] / 1024 / 1024
        tracemalloc.stop()
        result[name] = (measured[name].wall, measured[name].cpu, peak, measured[name].loads)
    return result


def main(count: int, rounds: int = 3) -> None:
    url = get_settings().database_url
    migrate(url)
    with session_scope(url) as session:
        ctx, _ = install_programme(session, load_programme(get_settings().programmes_dir / "cerdd-2015.yaml"), AT,
                                   "bench")
        definition = ctx.definition
    measured = measure({"baseline": lambda: baseline(count, definition, WORK / "baseline"),
                        "outbox": lambda: through_outbox(count, url)}, rounds)
    base_time, base_cpu, base_peak, base_loads = measured["baseline"]
    box_time, box_cpu, box_peak, box_loads = measured["outbox"]
    loads = base_loads + box_loads
    print(f"{count} notices, rendered and written as .eml; medians of {max(rounds, 3)} runs in turn, "
          f"load average {min(loads):.1f}–{max(loads):.1f}")
    print(f"  render + write, no database (baseline): {base_time:6.2f} s wall {base_cpu:6.2f} s CPU  "
          f"{count / base_time:7.0f}/s  peak {base_peak:5.1f} MiB   1.0x")
    print(f"  queue in outbox + deliver (SQLite):     {box_time:6.2f} s wall {box_cpu:6.2f} s CPU  "
          f"{count / box_time:7.0f}/s  peak {box_peak:5.1f} MiB   {box_time / base_time:.1f}x wall, "
          f"{box_cpu / base_cpu:.1f}x CPU, {box_peak / base_peak:.1f}x memory")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000, int(sys.argv[2]) if len(sys.argv) > 2 else 3)
