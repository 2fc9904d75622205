"""``gdplot serve DIR``: watch every run under DIR in a browser, live; and the serving that
``gdplot train --serve`` does around its training.

The page and its server are :mod:`gdplot.web`. The address is one line on stdout (so a
script can read it); what the server does next (stopped, still serving) goes to stderr.
"""

from __future__ import annotations

import argparse
import errno
import gc
import sys
import time
from pathlib import Path

from gdplot.cli.errors import USAGE_ERROR, CommandError
from gdplot.web import RunServer

__all__ = ["run_serve", "serve_until_interrupted", "start_server"]


def start_server(root: Path, host: str, port: int, *, flag: str = "--port",
                 in_thread: bool = False) -> RunServer:
    """A server of the runs under ``root`` on ``host:port``, its folder watcher started (and
    with ``in_thread``, serving on a daemon thread); a folder that is not one, or an address
    it cannot listen on, is a one-line usage error."""
    if not root.is_dir():
        raise CommandError(f"DIR {str(root)!r} is not a folder", USAGE_ERROR)
    try:
        server = RunServer(root, host=host, port=port)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            reason = (f"{flag} {port}: the port is in use on {host}; choose another "
                      f"({flag} 0 picks a free one)")
        elif exc.errno in (errno.EACCES, errno.EPERM):
            reason = f"{flag} {port}: not allowed to listen there (ports below 1024 need root)"
        else:
            reason = f"cannot listen on --host {host!r} {flag} {port}: {exc.strerror or exc}"
        raise CommandError(reason, USAGE_ERROR) from None
    return server.serve_in_thread() if in_thread else server.start()


def run_serve(args: argparse.Namespace) -> int:
    """Serve DIR until Ctrl-C."""
    server = start_server(args.dir, args.host, args.port)
    print(server.url, flush=True)
    try:
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        _stopped()
    finally:
        server.close()
    return 0


def serve_until_interrupted(server: RunServer, status: int = 0) -> int:
    """After training: keep ``server`` (serving on its own thread) until Ctrl-C, then
    return ``status``."""
    print(f"gdplot: training is over; still serving {server.url} until Ctrl-C",
          file=sys.stderr, flush=True)
    try:
        while True:
            time.sleep(0.5)
    except KeyboardInterrupt:
        _stopped()
    finally:
        server.close()
    return status


def _stopped() -> None:
    """Ctrl-C: the command ends. Its process exits next, and the interpreter's last garbage
    collections would walk every object alive (matplotlib's, after training) for nothing:
    freezing them lets the process end at once."""
    print("gdplot: stopped serving", file=sys.stderr)
    gc.freeze()
