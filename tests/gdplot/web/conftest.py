"""Fixtures of the ``gdplot serve`` tests: a server on a free port."""

from __future__ import annotations

from pathlib import Path

import pytest

from gdplot.web import RunServer


@pytest.fixture
def serve():
    """Start RunServers on free ports (watching every 0.1 s); closed when the test ends."""
    servers: list[RunServer] = []

    def start(root: Path, **kwargs) -> RunServer:
        kwargs.setdefault("poll_interval", 0.1)
        server = RunServer(root, port=0, **kwargs).serve_in_thread()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()
