"""``gdplot serve`` over raw HTTP: what it serves, everything it refuses, and its live stream."""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

import pytest

from gdplot.data.run_folder import MANIFEST_NAME
from gdplot.data.run_status import STATUS_NAME
from serve_helpers import TIMEOUT, get, png, raw_request, write_run

SECRET = b"secret: never served"


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    """runs/a: a run with a loss plot and two fit frames; beside it files never to be served:
    an unlisted file in the run folder and in DIR, a file outside DIR, a listed name that is
    a link out of DIR, and a linked folder holding a run outside DIR."""
    root = tmp_path / "runs"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(SECRET)
    write_run(outside / "elsewhere", {"loss.png": SECRET})
    write_run(root / "a", {
        "loss.png": png((200, 0, 0)),
        "fit_epoch0002.png": png((0, 200, 0)),
        "fit_epoch0004.png": png((0, 0, 200)),
    })
    (root / "a" / "secret.txt").write_bytes(SECRET)
    (root / "secret.txt").write_bytes(SECRET)
    os.symlink(outside / "secret.txt", root / "a" / "boundary_epoch0004.png")
    # The manifest lists the link, as if a run had written it.
    manifest = json.loads((root / "a" / MANIFEST_NAME).read_text())
    manifest["files"].append("boundary_epoch0004.png")
    (root / "a" / MANIFEST_NAME).write_text(json.dumps(manifest))
    os.symlink(outside / "elsewhere", root / "linked")
    return root


def state(port: int) -> dict:
    response = get(port, "/api/runs")
    assert response.status == 200
    return json.loads(response.body)


# -- what it serves ------------------------------------------------------------------------


def test_page_assets_and_state(serve, runs):
    server = serve(runs)
    page = get(server.port, "/")
    assert page.status == 200 and b"/static/app.js" in page.body
    assert "default-src 'none'" in page.headers["content-security-policy"]
    for asset in ("/static/app.js", "/static/style.css", "/static/favicon.svg"):
        assert get(server.port, asset).status == 200
    (run,) = state(server.port)["runs"]
    assert run["name"] == "a"
    assert run["status"]["model"] == "linear" and run["state"] == "finished"
    assert sorted(run["plots"]) == ["fit", "loss"]  # the link out is not offered
    assert run["plots"]["fit"]["epoch"] == 4  # the newest frame


def test_serves_listed_files_get_and_head(serve, runs):
    server = serve(runs)
    run = state(server.port)["runs"][0]
    url = run["plots"]["fit"]["url"]
    assert url.startswith("/files/a/fit_epoch0004.png?v=")
    response = get(server.port, url)
    assert response.status == 200
    assert response.headers["content-type"] == "image/png"
    assert response.body == (runs / "a" / "fit_epoch0004.png").read_bytes()
    head = get(server.port, url, method="HEAD")
    assert head.status == 200 and head.body == b""
    assert int(head.headers["content-length"]) == len(response.body)
    # An older frame the manifest lists, and the status file.
    assert get(server.port, "/files/a/fit_epoch0002.png").status == 200
    status = get(server.port, f"/files/a/{STATUS_NAME}")
    assert status.status == 200 and json.loads(status.body)["format"] == "gdplot-run-status"


# -- refusals: paths -------------------------------------------------------------------------

REFUSED_PATHS = [
    "/files/a/secret.txt",  # in a run folder, not listed
    "/files/secret.txt",  # in DIR, not a run's
    f"/files/a/{MANIFEST_NAME}",  # gdplot's own bookkeeping
    "/files/a/.gdplot.lock",
    "/files/a/boundary_epoch0004.png",  # listed, but a link out of DIR
    "/files/linked/loss.png",  # a run in a folder reached through a link out of DIR
    "/files/../outside/secret.txt",
    "/files/a/../../outside/secret.txt",
    "/files/%2e%2e/outside/secret.txt",
    "/files/%2E%2E/%2e%2e/outside/secret.txt",
    "/files/a/..%2f..%2foutside%2fsecret.txt",
    "/files/a/%2e%2e%2f%2e%2e%2foutside%2fsecret.txt",
    "/files//etc/passwd",
    "/files/%2fetc%2fpasswd",
    "/files/a/%00loss.png",
    "/files/a/loss.png%00",
    "/files/a/..%5c..%5coutside%5csecret.txt",
    "/files/a/./loss.png",
    "/files/a%2floss.png",
    "/files/a/%ff",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/../../etc/passwd",
    "/etc/passwd",
    "/static/../run_status.py",
    "/static/%2e%2e/server.py",
    "/static/server.py",
    "/static/",
    "/a/loss.png",
    str(Path(__file__).resolve()),
]


@pytest.mark.parametrize("path", REFUSED_PATHS)
def test_refuses_paths_outside_what_runs_listed(serve, runs, path):
    server = serve(runs)
    response = get(server.port, path)
    assert response.status in (400, 404), (path, response.status)
    assert SECRET not in response.body


def test_refuses_absolute_request_targets(serve, runs):
    server = serve(runs)
    for target in (f"http://127.0.0.1:{server.port}/files/a/loss.png", "*",
                   "file:///etc/passwd"):
        response = get(server.port, target)
        assert response.status == 400, target


def test_refuses_a_folder_that_becomes_a_link_out(serve, runs, tmp_path):
    """A run folder replaced by a link after the scan found it is not followed."""
    server = serve(runs, poll_interval=3600)  # no rescan during the test
    assert get(server.port, "/files/a/loss.png").status == 200
    os.rename(runs / "a", tmp_path / "moved")
    os.symlink(tmp_path / "outside" / "elsewhere", runs / "a")
    response = get(server.port, "/files/a/loss.png")
    assert response.status == 404 and SECRET not in response.body


# -- refusals: Host, methods ---------------------------------------------------------------------


def test_allows_the_served_host_names(serve, runs):
    server = serve(runs)
    for host in (f"127.0.0.1:{server.port}", f"localhost:{server.port}",
                 f"LOCALHOST:{server.port}", f"[::1]:{server.port}"):
        assert get(server.port, "/api/runs", host=host).status == 200, host


@pytest.mark.parametrize("host", [
    "evil.example:{port}",  # DNS rebinding: a foreign name resolving to 127.0.0.1
    "localhost.evil.example:{port}",
    "127.0.0.1.nip.io:{port}",
    "127.0.0.1:{other}",  # another port
    "localhost",  # no port: port 80
    "127.0.0.1",
    "",
])
def test_refuses_foreign_host_headers(serve, runs, host):
    server = serve(runs)
    value = host.format(port=server.port, other=server.port + 1)
    for path in ("/", "/api/runs", "/events", "/files/a/loss.png"):
        response = get(server.port, path, host=value)
        assert response.status == 403, (value, path)
        assert SECRET not in response.body and b"loss.png" not in response.body


def test_refuses_missing_and_repeated_host_headers(serve, runs):
    server = serve(runs)
    response = raw_request(server.port, b"GET /api/runs HTTP/1.0\r\n\r\n")
    assert response.status == 403
    response = get(server.port, "/api/runs", extra="Host: evil.example\r\n")
    assert response.status == 403


def test_binding_to_another_address_allows_it(serve, runs):
    server = serve(runs, host="127.0.0.2")
    with socket.create_connection(("127.0.0.2", server.port), timeout=TIMEOUT) as sock:
        sock.sendall(f"GET /api/runs HTTP/1.1\r\nHost: 127.0.0.2:{server.port}\r\n"
                     "Connection: close\r\n\r\n".encode())
        assert sock.recv(100).startswith(b"HTTP/1.1 200")
    assert server.url == f"http://127.0.0.2:{server.port}/"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE",
                                    "CONNECT", "PROPFIND", "FOO"])
def test_read_only(serve, runs, method):
    server = serve(runs)
    before = sorted(p.name for p in (runs / "a").iterdir())
    response = get(server.port, "/files/a/loss.png", method=method,
                   extra="Content-Length: 5\r\n")
    assert response.status == 405
    assert response.headers["allow"] == "GET, HEAD"
    assert sorted(p.name for p in (runs / "a").iterdir()) == before


# -- clients that stall ----------------------------------------------------------------------------


def test_stalled_clients_never_block_others(serve, runs):
    server = serve(runs)
    stalled = []
    try:
        for _ in range(4):  # half a request line, never finished
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT)
            sock.sendall(b"GET /files/a/loss.png HTT")
            stalled.append(sock)
        for _ in range(4):  # event streams never read
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT)
            sock.sendall(f"GET /events HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n"
                         .encode())
            stalled.append(sock)
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT)
        sock.sendall(f"GET /files/a/loss.png HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
                     .encode())  # headers never ended
        stalled.append(sock)
        started = time.monotonic()
        for _ in range(5):
            assert get(server.port, "/files/a/loss.png").status == 200
        assert time.monotonic() - started < TIMEOUT
    finally:
        for sock in stalled:
            sock.close()


def test_connections_over_the_limit_are_answered_busy_and_a_freed_slot_serves_again(serve, runs):
    server = serve(runs, max_connections=2)
    held = [socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT)
            for _ in range(2)]  # connected, no request yet: each holds a handler thread
    try:
        deadline = time.monotonic() + TIMEOUT
        while (busy := get(server.port, "/api/runs")).status != 503:  # both are accepted
            assert time.monotonic() < deadline, "a third connection was served"
            time.sleep(0.05)
        assert busy.headers.get("retry-after") == "1"
        held.pop().close()  # its thread ends, and gives its slot back
        while (served := get(server.port, "/api/runs")).status != 200:
            assert served.status == 503
            assert time.monotonic() < deadline, "the freed slot was never taken again"
            time.sleep(0.05)
        assert json.loads(served.body)["runs"]
    finally:
        for sock in held:
            sock.close()


@pytest.mark.parametrize("value", [0, -1, 2.5, True, "8"])
def test_max_connections_is_checked(runs, value):
    from gdplot.web import RunServer

    with pytest.raises((TypeError, ValueError), match="max_connections"):
        RunServer(runs, port=0, max_connections=value)


# -- the event stream ---------------------------------------------------------------------------


class EventReader:
    """Reads ``/events`` on a raw socket, one event at a time, each within a deadline."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.sock.sendall(f"GET /events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        self.buffer = b""
        head = self._until(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), head
        assert b"text/event-stream" in head

    def _until(self, end: bytes) -> bytes:
        while end not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("the stream ended")
            self.buffer += chunk
        item, _, self.buffer = self.buffer.partition(end)
        return item

    def next_state(self) -> dict:
        while True:
            event = self._until(b"\n\n")
            data = [line[6:] for line in event.split(b"\n") if line.startswith(b"data: ")]
            if data:
                return json.loads(b"\n".join(data))

    def wait_for(self, predicate, seconds: float = 10.0) -> dict:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            current = self.next_state()
            if predicate(current):
                return current
        raise AssertionError("no such state within the deadline")

    def close(self) -> None:
        self.sock.close()


def test_events_deliver_a_new_frame(serve, runs):
    server = serve(runs)
    events = EventReader(server.port)
    try:
        first = events.next_state()
        assert first["runs"][0]["plots"]["fit"]["epoch"] == 4
        write_run(runs / "a", {"fit_epoch0006.png": png((9, 9, 9)),
                               "fit_epoch0004.png": png((0, 0, 200)),
                               "loss.png": png((200, 0, 0))}, epoch=6)
        started = time.monotonic()
        now = events.wait_for(lambda s: s["runs"][0]["plots"]["fit"]["epoch"] == 6)
        assert time.monotonic() - started < 5
        assert now["runs"][0]["status"]["epoch"] == 6
        assert get(server.port, now["runs"][0]["plots"]["fit"]["url"]).body == png((9, 9, 9))
    finally:
        events.close()


def test_a_changed_live_file_gets_a_new_version(serve, runs):
    server = serve(runs)
    events = EventReader(server.port)
    try:
        url = events.next_state()["runs"][0]["plots"]["loss"]["url"]
        tmp = runs / "a" / ".loss.tmp"
        tmp.write_bytes(png((1, 2, 3), size=(70, 50)))
        os.replace(tmp, runs / "a" / "loss.png")  # as gdplot writes it
        now = events.wait_for(lambda s: s["runs"][0]["plots"]["loss"]["url"] != url)
        assert get(server.port, now["runs"][0]["plots"]["loss"]["url"]).body == \
            png((1, 2, 3), size=(70, 50))
    finally:
        events.close()


def test_a_run_started_later_appears(serve, runs):
    server = serve(runs)
    events = EventReader(server.port)
    try:
        assert [r["name"] for r in events.next_state()["runs"]] == ["a"]
        write_run(runs / "sweep" / "lr-0.5", {"loss.png": png((5, 5, 5))}, state="running",
                  lr=0.5)
        now = events.wait_for(lambda s: len(s["runs"]) == 2)
        later = now["runs"][1]
        assert later["name"] == "sweep/lr-0.5"
        assert later["status"]["settings"]["lr"] == 0.5
        assert get(server.port, later["plots"]["loss"]["url"]).body == png((5, 5, 5))
    finally:
        events.close()


def test_event_streams_end_on_close(serve, runs):
    server = serve(runs)
    streams = [EventReader(server.port) for _ in range(3)]
    for stream in streams:
        stream.next_state()
    started = time.monotonic()
    server.close()
    for stream in streams:
        with pytest.raises((EOFError, ConnectionError)):
            stream.next_state()
        stream.close()
    assert time.monotonic() - started < 3


def test_bound_to_every_interface_allows_addresses_not_foreign_names(runs):
    """With --host 0.0.0.0 the page is reached by this machine's addresses and name, which
    rebinding cannot use; a foreign name is still refused. (Not served: only the check.)"""
    from gdplot.web import RunServer

    with RunServer(runs, host="0.0.0.0", port=0) as server:
        port = server.port
        assert server.url == f"http://127.0.0.1:{port}/"
        for host in (f"192.168.1.20:{port}", f"[fe80::1]:{port}", f"127.0.0.1:{port}",
                     f"{socket.gethostname()}:{port}"):
            assert server.host_allowed(host), host
        for host in (f"evil.example:{port}", f"192.168.1.20:{port + 1}", "192.168.1.20",
                     f"[fe80::1:{port}", None):
            assert not server.host_allowed(host), host
