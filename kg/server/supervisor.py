"""Run several worker processes on one listening socket and keep that many accepting.

Why processes: pyoxigraph cannot cancel a query, so a worker that abandoned a runaway query
must exit to end it (kg.server.worker). The supervisor owns the socket, so connections keep being
accepted by the other workers meanwhile. It starts a replacement as soon as a worker says it is
draining (or dies), and tells the draining worker to stop accepting only once the replacement
says it is ready, so the number of accepting workers never drops.
"""
from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from kg.server.settings import ServerSettings
from kg.server.worker import DRAINING, READY, STARTUP_FAILED, STOP_ACCEPTING


def bind_listener(host: str, port: int) -> socket.socket:
    """A listening TCP socket; IPPROTO_TCP is explicit so accepted sockets get TCP_NODELAY."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(1024)
    listener.set_inheritable(True)
    return listener


class Supervisor:
    """Keeps `settings.workers` accepting worker processes serving `store_path` on `listener`."""

    def __init__(self, store_path: Path | None, settings: ServerSettings, listener: socket.socket) -> None:
        self.store_path, self.settings, self.listener = store_path, settings, listener
        self._status_read, self._status_write = os.pipe()
        self._accepting: dict[int, subprocess.Popen] = {}
        self._draining: dict[int, subprocess.Popen] = {}
        self._replacing: dict[int, int] = {}  # replacement pid → pid of the draining worker it replaces
        self._stopping = False
        self._ready_message: str | None = None
        self._ready: set[int] = set()

    def run(self, ready_message: str) -> int:
        """Serve until SIGINT/SIGTERM; exit status 1 if workers cannot start.

        `ready_message` goes to stdout once every worker accepts connections (those that arrive
        earlier wait in the socket's queue), so whoever waits for it gets the full server.
        """
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._stop)
        self._ready_message = ready_message
        try:
            for _ in range(self.settings.workers):
                self._spawn()
            status = self._watch()
        finally:
            self._shutdown()
        return status

    def _stop(self, signum: int, frame: object) -> None:
        self._stopping = True

    def _spawn(self) -> int:
        worker = subprocess.Popen(
            [
                sys.executable, "-m", "kg.server.worker",
                "--listen-fd", str(self.listener.fileno()),
                "--status-fd", str(self._status_write),
                *(("--store", str(self.store_path)) if self.store_path else ()),
                "--settings", self.settings.to_json(),
            ],
            pass_fds=(self.listener.fileno(), self._status_write),
            # A worker that pyoxigraph aborts (past its memory budget) says so in one line, without a backtrace.
            env={**os.environ, "RUST_BACKTRACE": "0"},
        )
        self._accepting[worker.pid] = worker
        return worker.pid

    def _watch(self) -> int:
        buffer = b""
        while not self._stopping:
            try:
                readable, _, _ = select.select([self._status_read], [], [], 0.2)
            except InterruptedError:
                continue
            if readable:
                buffer += os.read(self._status_read, 4096)
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    if line.startswith(DRAINING):
                        self._replace_draining(int(line.removeprefix(DRAINING)))
                    elif line.startswith(READY):
                        self._on_ready(int(line.removeprefix(READY)))
            for pid, worker in list(self._accepting.items()):
                code = worker.poll()
                if code is None or self._stopping:  # stopping: workers ending is expected, none is replaced
                    continue
                del self._accepting[pid]
                self._ready.discard(pid)
                if code == STARTUP_FAILED:
                    return 1
                if code < 0:
                    print(f"kg serve: worker {pid} was ended by {signal.Signals(-code).name}"
                          f"{' (past its memory budget)' if code == -signal.SIGABRT else ''}; starting another",
                          file=sys.stderr, flush=True)
                replaces = self._replacing.pop(pid, None)
                new = self._spawn()
                if replaces is not None:  # a replacement died: the new one takes over its role
                    self._replacing[new] = replaces
            for pid, worker in list(self._draining.items()):
                if worker.poll() is not None:
                    del self._draining[pid]
        return 0

    def _replace_draining(self, pid: int) -> None:
        """Start a replacement now for a worker with a runaway query; it exits on its own."""
        worker = self._accepting.pop(pid, None)
        if worker is not None:
            self._draining[pid] = worker
            self._replacing[self._spawn()] = pid

    def _on_ready(self, pid: int) -> None:
        """Worker `pid` accepts: announce the server if it was the last to start, and let the draining
        worker it replaces (if any) stop accepting."""
        if self._ready_message is not None:
            self._ready.add(pid)
            if len(self._ready) == self.settings.workers:
                print(self._ready_message, flush=True)
                self._ready_message = None
        draining = self._draining.get(self._replacing.pop(pid, -1))
        if draining is not None and draining.poll() is None:
            draining.send_signal(STOP_ACCEPTING)

    def _shutdown(self) -> None:
        workers = [*self._accepting.values(), *self._draining.values()]
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.settings.timeout + 5
        for worker in workers:
            try:
                worker.wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        self.listener.close()
