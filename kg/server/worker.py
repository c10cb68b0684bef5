"""One server process: the app on a listening socket inherited from the supervisor.

Run as `python -m kg.server.worker` by kg.server.supervisor, never by hand. When a query
outlives its limit the process tells the supervisor (which starts a replacement at once), stops
accepting connections, lets its other requests finish, then exits, which ends the runaway query.
"""
from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
from pathlib import Path

import uvicorn
import uvloop

from kg.server.app import create_app, front_door
from kg.server.settings import ServerSettings

DRAINING = b"draining "  # + pid + newline, written to the status pipe
STARTUP_FAILED = 3  # exit status: the store could not be opened; retrying will not help


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--listen-fd", type=int, required=True)
    parser.add_argument("--status-fd", type=int, required=True)
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--settings", required=True, help="ServerSettings as JSON")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format=f"kg serve [{os.getpid()}] %(levelname)s %(message)s")
    settings = ServerSettings.from_json(args.settings)
    listener = socket.socket(fileno=args.listen_fd)
    server: uvicorn.Server | None = None

    def on_runaway() -> None:
        if server is not None and not server.should_exit:
            os.write(args.status_fd, DRAINING + b"%d\n" % os.getpid())
            server.should_exit = True

    try:
        app = create_app(args.store, settings, on_runaway)
    except OSError as error:
        print(f"kg serve: cannot open the store {args.store}: {error}", file=sys.stderr)
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
    loop = uvloop.new_event_loop()
    loop.run_until_complete(server.serve(sockets=[listener]))
    # os._exit, not return: a thread stuck in a runaway query must not keep the process alive.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
