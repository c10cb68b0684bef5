"""One server process: the app on a listening socket inherited from the supervisor.

Run as `python -m kg.server.worker` by kg.server.supervisor, never by hand. When a query
outlives its limit the process tells the supervisor, which starts a replacement at once; it keeps
accepting connections until the replacement says it is ready (the supervisor then sends SIGUSR1),
so there is never a gap with fewer accepting workers. Then it stops accepting, lets its other
requests finish, and exits, which ends the runaway query.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
from pathlib import Path

import uvicorn
import uvloop

from kg.server.app import create_app, front_door
from kg.server.settings import ServerSettings

DRAINING = b"draining "  # + pid + newline, written to the status pipe
READY = b"ready "  # + pid + newline: the app is built and about to accept
STOP_ACCEPTING = signal.SIGUSR1  # from the supervisor, once a draining worker's replacement is ready
REPLACEMENT_WAIT = 30.0  # seconds a draining worker waits for that signal before stopping anyway
STARTUP_FAILED = 3  # exit status: the store could not be opened; retrying will not help


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
    server: uvicorn.Server | None = None
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

    loop = uvloop.new_event_loop()
    try:
        app = create_app(args.store, settings, on_runaway)
    except OSError as error:
        print(f"kg serve: cannot open the store {args.store or settings.store}: {error}", file=sys.stderr)
        return STARTUP_FAILED
    server = uvicorn.Server(uvicorn.Config(
        front_door(app),
        http="httptools",
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
    # os._exit, not return: a thread stuck in a runaway query must not keep the process alive.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
