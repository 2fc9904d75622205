"""``gdplot serve``'s HTTP server: a read-only page of every run under a folder.

The standard library's :class:`~http.server.ThreadingHTTPServer` serves it: one daemon
thread per connection, so a slow or stalled client holds only its own thread (and a socket
timeout frees that). At most ``max_connections`` are served at once: one more is answered
503 with ``Retry-After`` and closed, so a flood of connections cannot grow the threads
without bound. One watcher thread scans the folder every ``poll_interval`` seconds
(:class:`~gdplot.web.runs.RunScanner`); when what the page shows changes, every
``/events`` stream (Server-Sent Events) is woken to push the new state.

What it serves, and nothing else:

- ``/`` and ``/static/...``: the page's own assets, read once at start;
- ``/api/runs``: the state as JSON; ``/events``: the same, pushed on every change;
- ``/files/<run folder>/<name>``: a file a run's manifest lists (or its status file), looked
  up by URL in the scanner's map of such files; a request's path is never joined onto
  the filesystem.

Refused: a ``Host`` header other than the served address (DNS rebinding: a page of another
site whose name resolves to 127.0.0.1 must not read the runs), with 403; any method but
GET and HEAD, with 405; anything else, with 404 (or 400 for a malformed request).
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import socketserver
import stat
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from gdplot.validation import check_int, check_real
from gdplot.web.runs import RunScanner

__all__ = ["RunServer"]

#: Seconds a connection may sit idle (or a client stall a write) before it is dropped.
SOCKET_TIMEOUT = 10.0
#: Seconds between keep-alive comments on an idle event stream.
PING_SECONDS = 15.0
#: Connections served at once (each holds a thread): many tabs' event streams and images.
MAX_CONNECTIONS = 64
#: Seconds the 503 answer to a connection over the limit may take to write.
_REFUSE_TIMEOUT = 1.0
_BUSY = (b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\n"
         b"Connection: close\r\n\r\n")

_ASSETS = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/static/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/static/style.css": ("style.css", "text/css; charset=utf-8"),
    "/static/favicon.svg": ("favicon.svg", "image/svg+xml"),
}
_TYPES = {".png": "image/png", ".gif": "image/gif", ".json": "application/json"}
_PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_WILDCARDS = ("", "0.0.0.0", "::")


def _read_assets() -> dict[str, tuple[bytes, str]]:
    folder = resources.files("gdplot.web") / "static"
    return {url: (folder.joinpath(name).read_bytes(), kind)
            for url, (name, kind) in _ASSETS.items()}


def _host_in_url(host: str) -> str:
    return f"[{host}]" if ":" in host else host


class RunServer(ThreadingHTTPServer):
    """Serve the runs under ``root`` at ``http://host:port/`` (``port=0``: a free one).

    ``start()`` starts the watcher (``serve_forever`` then serves), ``serve_in_thread()``
    does both on a daemon thread; ``close()`` stops everything, event streams included.
    """

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, root: str | os.PathLike[str], host: str = "127.0.0.1", port: int = 8000,
                 *, poll_interval: float = 0.5, max_connections: int = MAX_CONNECTIONS) -> None:
        poll_interval = check_real(poll_interval, "poll_interval", minimum=0, inclusive=False)
        max_connections = check_int(max_connections, "max_connections", minimum=1)
        root_path = Path(root)
        if not root_path.is_dir():
            raise NotADirectoryError(f"DIR {str(root)!r} is not a folder")
        if ":" in host:
            self.address_family = socket.AF_INET6
        self.scanner = RunScanner(root_path)
        self.poll_interval = poll_interval
        self.assets = _read_assets()
        # Guards ``_state_json`` and ``_version``; notified when the state changes or on close.
        self._changed = threading.Condition()
        self._state_json = b""
        self._version = 0
        self.stopping = threading.Event()
        self._watcher: threading.Thread | None = None
        self._server_thread: threading.Thread | None = None
        # One slot per connection being served; taken by the accepting thread, given back by
        # the connection's thread when it ends.
        self.max_connections = max_connections
        self._slots = threading.BoundedSemaphore(max_connections)
        super().__init__((host, port), _Handler)
        self.host = host
        self.port = self.server_address[1]
        self._allowed = self._allowed_hosts()
        # Bound to every interface, this machine's names are allowed too (looked up once).
        self._own_names = ({socket.gethostname().lower(), socket.getfqdn().lower()}
                           if host in _WILDCARDS else set())
        self._poll()  # the first state is ready before the first request

    def server_bind(self) -> None:
        # HTTPServer's server_bind looks up the host's FQDN (DNS, possibly slow): not needed.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in _WILDCARDS else self.host
        return f"http://{_host_in_url(host)}:{self.port}/"

    # -- the Host check --------------------------------------------------------------------

    def _allowed_hosts(self) -> set[str]:
        names = {"127.0.0.1", "localhost", "[::1]", _host_in_url(self.host.lower())}
        allowed = {f"{name}:{self.port}" for name in names}
        if self.port == 80:
            allowed |= names
        return allowed

    def host_allowed(self, value: str | None) -> bool:
        """Whether a request's ``Host`` header names this server (see the module docstring).

        Bound to every interface, any IP address with our port is accepted too, and this
        machine's name: rebinding needs a DNS name that the attacker controls."""
        if value is None:
            return False
        value = value.strip().lower()
        if value in self._allowed:
            return True
        if self.host not in _WILDCARDS:
            return False
        if value.startswith("["):  # [IPv6]:port
            name, _, port = value[1:].partition("]:")
        else:
            name, _, port = value.rpartition(":")
        if not name or port != str(self.port):
            return False
        try:
            ipaddress.ip_address(name)
            return True
        except ValueError:
            return name in self._own_names

    # -- the state and its watcher ---------------------------------------------------------

    def _poll(self) -> None:
        state = self.scanner.scan()
        encoded = json.dumps(state, separators=(",", ":"), allow_nan=False).encode()
        with self._changed:
            if encoded != self._state_json:
                self._state_json = encoded
                self._version += 1
                self._changed.notify_all()

    def _watch(self) -> None:
        while not self.stopping.wait(self.poll_interval):
            try:
                self._poll()
            except Exception:  # a folder vanishing mid-scan: try again next time
                continue

    def state(self) -> tuple[int, bytes]:
        with self._changed:
            return self._version, self._state_json

    def wait_for_change(self, seen: int, timeout: float) -> tuple[int, bytes] | None:
        """The state if its version is past ``seen`` (waiting up to ``timeout``), else None."""
        with self._changed:
            self._changed.wait_for(
                lambda: self._version != seen or self.stopping.is_set(), timeout
            )
            if self._version != seen and not self.stopping.is_set():
                return self._version, self._state_json
            return None

    # -- life cycle --------------------------------------------------------------------------

    def start(self) -> RunServer:
        """Start the folder watcher (once)."""
        if self._watcher is None:
            self._watcher = threading.Thread(target=self._watch, name="gdplot-serve-watch",
                                             daemon=True)
            self._watcher.start()
        return self

    def serve_in_thread(self) -> RunServer:
        """Watch and serve on daemon threads; returns at once."""
        self.start()
        self._server_thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.2},
            name="gdplot-serve", daemon=True,
        )
        self._server_thread.start()
        return self

    def close(self) -> None:
        """Stop serving: event streams end, the socket closes. Safe to call twice."""
        self.stopping.set()
        with self._changed:
            self._changed.notify_all()
        if self._server_thread is not None:
            self.shutdown()
            self._server_thread.join(timeout=2)
            self._server_thread = None
        self.server_close()

    def __enter__(self) -> RunServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the connection limit ----------------------------------------------------------------

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self._refuse(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:  # no thread started: nothing else gives the slot back
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def _refuse(self, request: socket.socket) -> None:
        """Answer a connection over the limit with 503 and close it, from the accepting
        thread: a short timeout bounds the write, so a client that never reads holds
        nothing."""
        try:
            request.settimeout(_REFUSE_TIMEOUT)
            request.sendall(_BUSY)
            request.shutdown(socket.SHUT_WR)
            # Read what the client sent already: closing with unread input resets the
            # connection, and the client could lose the answer.
            request.setblocking(False)
            request.recv(65536)
        except OSError:
            pass
        finally:
            self.shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client gone mid-response is routine for a live page; no traceback on stderr.
        pass


class _Handler(BaseHTTPRequestHandler):
    server: RunServer
    protocol_version = "HTTP/1.1"
    server_version = "gdplot"
    sys_version = ""
    timeout = SOCKET_TIMEOUT

    def log_message(self, format: str, *args: Any) -> None:
        pass  # a page polls images: a line per request would drown the terminal

    def handle_one_request(self) -> None:
        """The standard handler's loop step, except that the method is checked by
        :meth:`_route` (405 for any but GET/HEAD, not 501)."""
        try:
            self.raw_requestline = self.rfile.readline(65537)
            if len(self.raw_requestline) > 65536:
                self.requestline = self.request_version = self.command = ""
                self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
                return
            if not self.raw_requestline:
                self.close_connection = True
                return
            if not self.parse_request():
                return
            self._route()
            self.wfile.flush()
        except (TimeoutError, ConnectionError):
            self.close_connection = True

    # -- responses -------------------------------------------------------------------------

    def _send(self, status: int, body: bytes, content_type: str,
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _refuse(self, status: HTTPStatus, reason: str,
                headers: dict[str, str] | None = None) -> None:
        self.close_connection = True
        self._send(status, f"{status.value} {status.phrase}: {reason}\n".encode(),
                   "text/plain; charset=utf-8", {"Connection": "close", **(headers or {})})

    # -- routing ---------------------------------------------------------------------------

    def _route(self) -> None:
        hosts = self.headers.get_all("Host") or []
        if len(hosts) != 1 or not self.server.host_allowed(hosts[0]):
            self._refuse(HTTPStatus.FORBIDDEN, "Host header not allowed")
            return
        if self.command not in ("GET", "HEAD"):
            self._refuse(HTTPStatus.METHOD_NOT_ALLOWED, "read-only", {"Allow": "GET, HEAD"})
            return
        path, _, _query = self.path.partition("?")
        if not path.startswith("/"):  # an absolute URI or "*": not for us
            self._refuse(HTTPStatus.BAD_REQUEST, "request target must be a path")
            return
        if path in self.server.assets:
            body, content_type = self.server.assets[path]
            headers = {"Cache-Control": "no-cache"}
            if path == "/":
                headers.update({"Content-Security-Policy": _PAGE_POLICY,
                                "X-Frame-Options": "DENY"})
            self._send(HTTPStatus.OK, body, content_type, headers)
        elif path == "/api/runs":
            _, body = self.server.state()
            self._send(HTTPStatus.OK, body, "application/json", {"Cache-Control": "no-store"})
        elif path == "/events":
            self._events()
        elif path.startswith("/files/"):
            self._file(path)
        else:
            self._refuse(HTTPStatus.NOT_FOUND, "no such page")

    def _file(self, path: str) -> None:
        target = self._listed_file(path)
        if target is None:
            self._refuse(HTTPStatus.NOT_FOUND, "not a file of a run")
            return
        try:
            # No link followed at the last step; the folders were found without following any.
            fd = os.open(target, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            self._refuse(HTTPStatus.NOT_FOUND, "not a file of a run")
            return
        with os.fdopen(fd, "rb") as file:
            st = os.fstat(file.fileno())
            if not stat.S_ISREG(st.st_mode):
                self._refuse(HTTPStatus.NOT_FOUND, "not a file of a run")
                return
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type",
                             _TYPES.get(target.suffix.lower(), "application/octet-stream"))
            self.send_header("Content-Length", str(st.st_size))
            self.send_header("X-Content-Type-Options", "nosniff")
            # Each version of a file has its own URL (``?v=``), so a cached copy stays valid.
            self.send_header("Cache-Control", "private, max-age=86400")
            self.end_headers()
            if self.command == "HEAD":
                return
            remaining = st.st_size
            while remaining > 0:
                chunk = file.read(min(remaining, 1 << 16))
                if not chunk:  # shorter than its stat said; the Content-Length is now wrong
                    self.close_connection = True
                    return
                self.wfile.write(chunk)
                remaining -= len(chunk)

    def _listed_file(self, path: str) -> Path | None:
        """The file the scanner offers at ``path``, after normalising its percent-encoding;
        ``None`` for a path with an empty, ``.``, ``..`` or separator-holding part."""
        parts = []
        for raw in path[len("/files/"):].split("/"):
            try:
                part = unquote(raw, errors="strict")
            except UnicodeDecodeError:
                return None
            if part in ("", ".", "..") or "/" in part or "\\" in part or "\0" in part:
                return None
            parts.append(quote(part, safe=""))
        target = self.server.scanner.files.get("/files/" + "/".join(parts))
        if target is None:
            return None
        root = str(self.server.scanner.root)
        real = os.path.realpath(target)
        if os.path.commonpath([root, real]) != root:  # a folder turned into a link meanwhile
            return None
        return target

    def _events(self) -> None:
        """Server-Sent Events: the state now, then again on every change, until the client
        goes or the server stops. Pings keep an idle stream's connection checked."""
        self.close_connection = True
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if self.command == "HEAD":
            return
        server = self.server
        version, body = server.state()
        self.wfile.write(b"retry: 1000\n" + _event(version, body))
        self.wfile.flush()
        idle = 0.0
        while not server.stopping.is_set():
            changed = server.wait_for_change(version, timeout=1.0)
            if changed is not None:
                version, body = changed
                self.wfile.write(_event(version, body))
                idle = 0.0
            else:
                idle += 1.0
                if idle < PING_SECONDS:
                    continue
                self.wfile.write(b": ping\n\n")
                idle = 0.0
            self.wfile.flush()


def _event(version: int, body: bytes) -> bytes:
    return b"event: state\nid: %d\ndata: " % version + body + b"\n\n"
