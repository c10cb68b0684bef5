"""One server process: the app on a listening socket inherited from the supervisor.

Run as `python -m kg.server.worker` by kg.server.supervisor, never by hand. When a query
outlives its limit the process tells the supervisor, which starts a replacement at once; it keeps
accepting connections until the replacement says it is ready (the supervisor then sends SIGUSR1),
so there is never a gap with fewer accepting workers. Then it stops accepting, lets its other
requests finish, and exits, which ends the runaway query.

All workers wait on the one listening socket, and the kernel wakes them all when connections
arrive. uvloop's own server accepts every pending connection in one go, so the first worker to run
took a whole burst (eight keep-alive clients all on one worker, the others idle). Here a worker
accepts one connection at a time, and the more it already holds the longer it lets the others
try first. Only connections that are busy count (answering a request, or accepted a moment ago):
a thousand slow clients still sending their headers must not slow down accepting everyone else.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable
from pathlib import Path

import uvicorn
import uvloop
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from kg.sparql.executor import OTHER_STACK_BYTES, QueryExecutor, QueryOverMemory
from kg.server.app import create_app, front_door
from kg.server.memory_guard import MemoryGuard
from kg.server.sandbox import sandbox_worker
from kg.server.settings import ServerSettings

DRAINING = b"draining "  # + pid + newline, written to the status pipe
READY = b"ready "  # + pid + newline: the app is built and about to accept
STOP_ACCEPTING = signal.SIGUSR1  # from the supervisor, once a draining worker's replacement is ready
REPLACEMENT_WAIT = 30.0  # seconds a draining worker waits for that signal before stopping anyway
STARTUP_FAILED = 3  # exit status: the store could not be opened; retrying will not help
ACCEPT_DEFERRAL = 0.001  # seconds a worker waits per connection it holds before accepting another
MAX_ACCEPT_DEFERRAL = 0.02
ACCEPT_RETRY = 0.1  # seconds before accepting again after an error (such as no file descriptors left)
JUST_ACCEPTED = 0.05  # seconds a new connection counts as busy, before its first request is read
OVER_MEMORY_GRACE = 0.1  # seconds a worker past its memory budget gives its 503s to go out before it exits
LATER_THREADS = 64  # threads a worker may start after its memory budget is set (file reads, its guard)
REQUEST_TIMEOUT_BODY = (b'{"status": 408, "error": "Request Timeout", "message": "the request\'s headers and body '
                        b'did not arrive within the server\'s deadline; send the whole request at once"}')


class AcceptOneAtATime:
    """Accepts connections on `listener` one at a time, deferring to less busy workers.

    `connections` is the worker's set of open connections (uvicorn keeps it). This object stands
    where uvicorn keeps the asyncio servers it closes on shutdown.
    """

    def __init__(self, listener: socket.socket, create_protocol: Callable[[], asyncio.Protocol],
                 connections: set) -> None:
        self.listener, self.create_protocol, self.connections = listener, create_protocol, connections
        self.listener.setblocking(False)
        self.fd = listener.fileno()  # kept: uvicorn closes the socket before this task ends
        self.loop = asyncio.get_running_loop()
        self.task = self.loop.create_task(self._accept_forever())

    async def _accept_forever(self) -> None:
        while True:
            await self._readable()
            active = sum(1 for connection in self.connections if getattr(connection, "busy", True))
            if active:
                await asyncio.sleep(min(ACCEPT_DEFERRAL * active, MAX_ACCEPT_DEFERRAL))
            try:
                connection, _ = self.listener.accept()
            except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                continue  # another worker took it, or the client gave up
            except OSError as error:  # out of file descriptors or memory: keep serving what is open
                logging.warning("cannot accept a connection: %s", error)
                await asyncio.sleep(ACCEPT_RETRY)
                continue
            try:
                await self.loop.connect_accepted_socket(self.create_protocol, connection)
            except OSError:
                connection.close()

    async def _readable(self) -> None:
        ready = self.loop.create_future()
        self.loop.add_reader(self.fd, lambda: ready.done() or ready.set_result(None))
        try:
            await ready
        finally:
            self.loop.remove_reader(self.fd)

    def close(self) -> None:
        self.task.cancel()

    async def wait_closed(self) -> None:
        await asyncio.gather(self.task, return_exceptions=True)


def closing_connections_when(draining: Callable[[], bool], app: Callable) -> Callable:
    """`app`, whose responses ask clients to close their connection (`Connection: close`) once `draining()`.

    A draining worker stops when its replacement is ready, closing the keep-alive connections it holds: a
    client that sent its next request on one just then would get no answer at all. Told to close, clients
    reconnect, to the workers that stay.
    """
    async def closing_app(scope: dict, receive: Callable, send: Callable) -> None:
        if not draining():
            return await app(scope, receive, send)

        async def send_closing(message: dict) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), (b"connection", b"close")]}
            await send(message)
        await app(scope, receive, send_closing)
    return closing_app


def request_deadline_protocol(deadline: float) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol, closing connections whose request is not all in within `deadline` seconds.

    uvicorn bounds the idle time between keep-alive requests but not the time a request takes to
    arrive, so a client sending a header line every few seconds (slowloris) or an endless chunked
    body holds a connection as long as it likes. Here the clock starts when a connection opens or a
    request begins, and stops when the request's body is complete; at the deadline the client gets
    408 (if no response began) and the connection is closed. Written against uvicorn's
    HttpToolsProtocol hooks (connection_made, on_message_begin, on_message_complete,
    connection_lost): pyproject.toml pins the uvicorn versions this was tested with.
    """
    class RequestDeadlineProtocol(HttpToolsProtocol):
        _deadline_timer: asyncio.TimerHandle | None = None
        _accepted_at = 0.0

        @property
        def busy(self) -> bool:
            """Whether this connection is being answered, or was accepted less than JUST_ACCEPTED seconds ago."""
            return ((self.cycle is not None and not self.cycle.response_complete)
                    or self.loop.time() - self._accepted_at < JUST_ACCEPTED)

        def send_400_response(self, msg: str) -> None:
            """A request the HTTP parser refused (a URL past its limit, bad bytes): the project's JSON error."""
            body = json.dumps({"status": 400, "error": "Bad Request",
                               "message": f"the HTTP request cannot be read: {msg}"}).encode()
            self.transport.write(b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\n"
                                 b"connection: close\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body))
            self.transport.close()

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._accepted_at = self.loop.time()
            self._start_clock()

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._start_clock()

        def on_message_complete(self) -> None:
            super().on_message_complete()
            self._stop_clock()

        def connection_lost(self, exc: Exception | None) -> None:
            self._stop_clock()
            super().connection_lost(exc)

        def _start_clock(self) -> None:
            if self._deadline_timer is None:
                self._deadline_timer = self.loop.call_later(deadline, self._too_slow)

        def _stop_clock(self) -> None:
            if self._deadline_timer is not None:
                self._deadline_timer.cancel()
                self._deadline_timer = None

        def _too_slow(self) -> None:
            self._deadline_timer = None
            if self.transport.is_closing():
                return
            if self.cycle is None or not self.cycle.response_started:
                self.transport.write(
                    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
                    b"content-length: %d\r\n\r\n%s" % (len(REQUEST_TIMEOUT_BODY), REQUEST_TIMEOUT_BODY))
            if self.cycle is not None:
                self.cycle.disconnected = True
                self.cycle.message_event.set()
            self.transport.close()

    return RequestDeadlineProtocol


class WorkerServer(uvicorn.Server):
    """uvicorn's server with AcceptOneAtATime on the inherited socket instead of loop.create_server."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await self.lifespan.startup()

        def create_protocol() -> asyncio.Protocol:
            return self.config.http_protocol_class(
                config=self.config, server_state=self.server_state, app_state=self.lifespan.state)

        self.servers = [AcceptOneAtATime(sock, create_protocol, self.server_state.connections) for sock in sockets]
        self.started = True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--listen-fd", type=int, required=True)
    parser.add_argument("--status-fd", type=int, required=True)
    parser.add_argument("--store", type=Path, default=None, help="the store's folder (none with a remote store)")
    parser.add_argument("--settings", required=True, help="ServerSettings as JSON")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format=f"kg serve [{os.getpid()}] %(levelname)s %(message)s")
    settings = ServerSettings.from_json(args.settings)
    listener = socket.socket(fileno=args.listen_fd)
    server: WorkerServer | None = None
    draining = False

    def stop_accepting() -> None:
        if server is not None:
            server.should_exit = True

    def on_runaway() -> None:
        nonlocal draining
        if server is not None and not draining:
            draining = True
            os.write(args.status_fd, DRAINING + b"%d\n" % os.getpid())
            loop.call_later(REPLACEMENT_WAIT, stop_accepting)

    def on_over_memory(resident: int) -> None:
        """On the event loop: answer the queries in progress with 503, ask for a replacement, and exit."""
        nonlocal draining
        logging.warning("past its memory budget (%d MB of %d MB): answering its queries 503 and exiting",
                        resident >> 20, settings.max_query_memory >> 20)
        executor = app.state.executor
        if isinstance(executor, QueryExecutor):
            executor.abandon_all(QueryOverMemory(
                f"the query took this server process past its memory budget of {settings.max_query_memory >> 20} MB; "
                "simplify the query or add a LIMIT"))
        for acceptor in getattr(server, "servers", ()):  # no new connection may land here: it would get no answer
            acceptor.close()
        if not draining:
            draining = True
            os.write(args.status_fd, DRAINING + b"%d\n" % os.getpid())
        loop.call_later(OVER_MEMORY_GRACE, _exit_now)

    loop = uvloop.new_event_loop()
    try:
        app = create_app(args.store, settings, on_runaway)
    except OSError as error:
        print(f"kg serve: cannot open the store {args.store or settings.store}: {error}", file=sys.stderr)
        return STARTUP_FAILED
    sandbox_worker(settings)  # embedded mode: no network sockets from here on (see kg.server.sandbox)
    if not settings.store:  # a remote store's queries take their memory elsewhere
        guard = MemoryGuard(settings.max_query_memory, lambda resident: loop.call_soon_threadsafe(on_over_memory, resident))
        try:
            guard.start(reserve=LATER_THREADS * OTHER_STACK_BYTES)
        except ValueError as error:
            print(f"kg serve: {error}", file=sys.stderr)
            return STARTUP_FAILED
    server = WorkerServer(uvicorn.Config(
        closing_connections_when(lambda: draining, front_door(app)),
        http=request_deadline_protocol(settings.request_deadline),
        lifespan="off",
        access_log=False,
        log_level="warning",
        server_header=False,
        # Requests still running when draining are under their own time limits.
        timeout_graceful_shutdown=int(settings.timeout) + 2,
    ))
    loop.add_signal_handler(STOP_ACCEPTING, stop_accepting)
    os.write(args.status_fd, READY + b"%d\n" % os.getpid())
    loop.run_until_complete(server.serve(sockets=[listener]))
    _exit_now()


def _exit_now() -> None:
    """os._exit, not return: a thread stuck in a runaway query must not keep the process alive."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
