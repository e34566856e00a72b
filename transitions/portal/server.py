"""Serving the portal with uvicorn, in one process or several sharing a port (`--workers`): no
access log (a personal link's token is in the path), errors to the data directory's error log,
never a traceback on a page."""

from __future__ import annotations

import logging
import re
from typing import Any

TOKEN_IN_PATH = re.compile(r"/l/[^/\s\"?]+")


class RedactTokens(logging.Filter):
    """Hides the token of any /l/<token>/… path a log line would carry."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = TOKEN_IN_PATH.sub("/l/***", str(record.msg))
        if record.args:
            record.args = tuple(TOKEN_IN_PATH.sub("/l/***", a) if isinstance(a, str) else a
                                for a in (record.args if isinstance(record.args, tuple) else (record.args,)))
        return True


class RedactingFormatter(logging.Formatter):
    """Masks tokens in the whole formatted record, traceback included."""

    def format(self, record: logging.LogRecord) -> str:
        return TOKEN_IN_PATH.sub("/l/***", super().format(record))


def log_config(error_log: str | None) -> dict[str, Any]:
    """uvicorn's logging: its errors (tokens redacted) to stderr and, if given, the error log; the
    access log off."""
    handlers: dict[str, Any] = {"console": {"class": "logging.StreamHandler", "filters": ["redact"],
                                            "formatter": "plain", "stream": "ext://sys.stderr"}}
    if error_log:
        handlers["file"] = {"class": "logging.FileHandler", "filename": error_log, "encoding": "utf-8",
                            "filters": ["redact"], "formatter": "plain", "delay": True}
    names = list(handlers)
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": RedactTokens}},
        "formatters": {"plain": {"()": RedactingFormatter,
                                 "format": "%(asctime)s %(levelname)s %(name)s : %(message)s"}},
        "handlers": handlers,
        "loggers": {
            "uvicorn": {"handlers": names[:1], "level": "INFO", "propagate": False},
            "uvicorn.error": {"handlers": names, "level": "WARNING", "propagate": False},
            "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
            "transitions.portail": {"handlers": names, "level": "WARNING", "propagate": False},
        },
    }


GRACEFUL_SHUTDOWN = 5
"""Seconds the portal waits for requests under way once asked to stop, before it closes them."""


def portal_app() -> Any:
    """The portal on the settings' database and secret: the app factory each worker process calls
    (`transitions portal --workers N`)."""
    from config.settings import get_settings
    from transitions.portal.app import create_app

    settings = get_settings()
    app = create_app(settings.database_url, settings.require_portal_secret(), publish_events=True,
                     deliver_at_once=True)
    collect_less()
    return app


GC_THRESHOLDS = (50_000, 20, 10)
"""The portal process's garbage collector thresholds (Python's: 700, 10, 10)."""


def collect_less() -> None:
    """The portal process's garbage collector, tuned for pages: what start-up made (modules,
    templates, the programme's definition) is frozen out of every collection (`gc.freeze`), and a
    young collection waits for 50,000 new container objects rather than 700 (`GC_THRESHOLDS`). A
    page makes a few thousand short-lived objects (ORM rows, template context) and keeps none; at
    Python's defaults the collector ran about every page and walked the kept years
    (`models.read.pilot_year.YEARS`) in its oldest generation: 0.3 ms of a 5 ms page, 0.08 ms with
    these (measured in process, 1,400 pages, `gc.callbacks`). Cycles are still collected: a page
    leaves 25–60 KiB of them, so a process holds 10–25 MB more between two young collections (measured
    by the hostile review)."""
    import gc

    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def server_options() -> dict[str, Any]:
    """uvicorn's options for the portal: no access log, errors to the data directory's log, the proxy's
    headers trusted, a bounded graceful shutdown."""
    from config.private_files import private_umask
    from config.settings import get_settings

    private_umask()  # its error log, uploads and database files for their owner only (workers inherit it)
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return {"access_log": False, "log_config": log_config(str(settings.error_log)), "proxy_headers": True,
            "server_header": False, "date_header": True, "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN}


def build_server(host: str, port: int, *, app: Any = None) -> Any:
    """A uvicorn server for the portal (the settings' database and secret unless `app` is given)."""
    import uvicorn

    options = server_options()  # first: the umask before any file is created
    return uvicorn.Server(uvicorn.Config(app if app is not None else portal_app(), host=host, port=port, **options))


def run(host: str, port: int, workers: int = 1) -> None:
    """Serve the portal until SIGINT or SIGTERM: in this process, or in `workers` processes sharing
    the port (uvicorn's supervisor restarts a worker that dies; every worker reads and writes the
    same database, where one-time form tokens, link versions and throttles live)."""
    if workers == 1:
        build_server(host, port).run()
        return
    import uvicorn

    uvicorn.run("transitions.portal.server:portal_app", factory=True, host=host, port=port, workers=workers,
                **server_options())


def workers_warning(database_url: str, workers: int) -> str | None:
    """What to tell the operator about `workers` portal processes on `database_url`, in French:
    nothing on PostgreSQL; on a SQLite file, that writes go one at a time (each process takes the
    file's write lock in turn: correct, not faster); a SQLite database in memory is refused
    (InvalidInput: each process would have its own)."""
    from sqlalchemy.engine import make_url

    from models.errors import InvalidInput

    parsed = make_url(database_url)
    if workers == 1 or parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:" or "mode=memory" in str(parsed.query):
        raise InvalidInput(f"--workers {workers} : une base SQLite en mémoire n'est pas partagée entre processus ; "
                           "indiquez un fichier ou PostgreSQL dans DATABASE_URL.")
    return (f"Attention : {workers} processus sur une base SQLite. Les pages se lisent en parallèle, mais les "
            "écritures (formulaires, nouveaux liens) passent une à une, chacune attendant le verrou du fichier ; "
            "pour plusieurs processus, préférez PostgreSQL (DATABASE_URL=postgresql+psycopg://…).")
