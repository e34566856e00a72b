"""Outages made for tests. `Forwarder`: a TCP forwarder on loopback that a test cuts and restores,
the database « stopped » for the code under test (connections refused, open ones reset) while the
shared PostgreSQL keeps running. `fill_database`: a SQLite file that may not grow any more, the
room inside it taken (SQLite's own « database or disk is full » on the next sizeable write).

    with Forwarder("127.0.0.1", 5432) as proxy:
        url = proxy.url(postgres_url())   # the same database, through the forwarder
        proxy.cut()                        # refused from now on, every open connection closed
        proxy.restore()                    # listening again on the same port
"""

from __future__ import annotations

import selectors
import socket
import threading
from types import TracebackType

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from models.db import get_engine
from tests.guards import join_or_fail


class Forwarder:
    """Forwards each connection to (`host`, `port`) from a loopback port of its own (`self.port`)."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self.accepted = 0
        self._listener: socket.socket | None = None
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def url(self, database_url: str) -> str:
        """`database_url` with its host and port replaced by the forwarder's."""
        return make_url(database_url).set(host="127.0.0.1", port=self.port).render_as_string(hide_password=False)

    def restore(self) -> None:
        """Listen (again) on the forwarder's port."""
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        thread = threading.Thread(target=self._accept, args=(listener,), name="proxy-accept", daemon=True)
        thread.start()
        self._threads.append(thread)

    def cut(self) -> None:
        """Stop listening (new connections refused) and close every forwarded connection."""
        listener, self._listener = self._listener, None
        if listener is not None:
            _close(listener)  # shutdown wakes the thread blocked in accept()
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            for side in pair:
                _close(side)
        join_or_fail(self._threads, "le relais TCP ne s'arrête pas")
        self._threads = []

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # closed by cut()
                return
            try:
                server = socket.create_connection(self.target, timeout=10)
            except OSError:
                _close(client)
                continue
            server.settimeout(None)
            with self._lock:
                self._pairs.append((client, server))
                self.accepted += 1
            thread = threading.Thread(target=_pump, args=(client, server), name="proxy-pump", daemon=True)
            thread.start()
            self._threads.append(thread)

    def __enter__(self) -> Forwarder:
        self.restore()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.cut()


def _pump(client: socket.socket, server: socket.socket) -> None:
    """Copy bytes both ways until either side closes."""
    with selectors.DefaultSelector() as selector:
        selector.register(client, selectors.EVENT_READ, server)
        selector.register(server, selectors.EVENT_READ, client)
        try:
            while client.fileno() != -1 and server.fileno() != -1:
                for key, _ in selector.select(timeout=1):
                    source = key.fileobj
                    assert isinstance(source, socket.socket)
                    data = source.recv(65536)
                    if not data:
                        return
                    key.data.sendall(data)
        except (OSError, ValueError):  # a side closed by cut()
            return
        finally:
            _close(client)
            _close(server)


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


def fill_database(url: str) -> None:
    """From now on the SQLite file may not grow (every connection refuses a new page), and the room
    left inside it is taken: the next sizeable write finds the « disk » full."""
    engine = get_engine(url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE remplissage (x BLOB)"))
        pages = connection.execute(text("PRAGMA page_count")).scalar_one()
    engine.dispose()  # the pooled connections were opened without the cap

    @event.listens_for(engine, "connect")
    def _cap(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

    for size in (4000, 400, 40, 4):
        try:
            while True:
                with engine.begin() as connection:
                    connection.execute(text("INSERT INTO remplissage VALUES (zeroblob(:n))"), {"n": size})
        except OperationalError:
            continue
