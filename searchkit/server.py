"""`searchkit serve`: the search page and its JSON API over HTTP. The only module that
imports starlette and uvicorn (loaded only by this command).

It serves a person's private notes, so: loopback by default; requests naming any
other host are refused (DNS rebinding); only GET; a Content-Security-Policy that
lets the page load nothing from elsewhere; paths checked by api.py. The index on
disk is the one the watcher keeps in sync: each search reads its latest commit.
"""

from __future__ import annotations

import contextlib
import ipaddress
import signal
import socket
import threading
from collections.abc import Awaitable, Callable, Generator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import api
from .errors import SearchkitError
from .index import Index

STATIC = Path(__file__).parent / "static"
PAGE_FILES = {"app.js": "text/javascript", "style.css": "text/css", "icon.svg": "image/svg+xml"}
SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
SHUTDOWN_GRACE_S = 2
WATCHER_STOP_S = 10


@dataclass(frozen=True)
class Listener:
    """The bound socket and the URL it answers at."""

    socket: socket.socket
    host: str  # as in a Host header: [::1] for IPv6
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def is_loopback(host: str) -> bool:
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def listen(host: str, port: int) -> Listener:
    """Bind `host:port` (0: a free port) before the server starts, so its URL is known."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        raise SearchkitError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}); choose another --port (0 picks a free one)"
        ) from None
    sock.set_inheritable(True)
    shown = f"[{host.strip('[]')}]" if family == socket.AF_INET6 else host
    return Listener(sock, shown, sock.getsockname()[1])


class Guard:
    """ASGI middleware: refuses requests for another host (403) and anything but GET
    (405); adds the security headers to every answer."""

    def __init__(self, app: ASGIApp, bound_host: str) -> None:
        self.app = app
        self.allowed = {bound_host.lower(), *LOOPBACK_NAMES}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        headers = dict(scope["headers"])
        if host_name(headers.get(b"host", b"").decode("latin-1")) not in self.allowed:
            answer = _error(403, "this server answers only requests for localhost; open it at its printed URL")
        elif scope["method"] not in ("GET", "HEAD"):
            answer = _error(405, "the API is read-only: only GET")
            answer.headers["allow"] = "GET, HEAD"
        else:
            await self.app(scope, receive, send_with_headers)
            return
        await answer(scope, receive, send_with_headers)


def host_name(header: str) -> str:
    """The host of a Host header, without its port: `[::1]:8000` → `[::1]`."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[: header.find("]") + 1] if "]" in header else header
    return header.split(":", 1)[0]


def make_app(index_path: Path, bound_host: str) -> ASGIApp:
    """The page, its files, and the API over the index at `index_path`."""
    ix = Index(index_path)
    # one Index for every request thread: its open snapshot is swapped when a sync commits
    lock = threading.Lock()

    def warm_up() -> None:
        """Open the snapshot and load the segmenter before the first keystroke needs
        them (~0.4 s on the vault)."""
        with lock, contextlib.suppress(SearchkitError):
            ix.search("搜索 引擎", limit=1)

    threading.Thread(target=warm_up, name="searchkit-warm-up", daemon=True).start()

    def endpoint(handler: Callable[[Index, Mapping[str, str]], dict[str, Any]]) -> Callable[..., Awaitable[Response]]:
        def answer(params: Mapping[str, str]) -> Response:
            with lock:
                try:
                    return Response(api.encode(handler(ix, params)), media_type="application/json")
                except api.ApiError as exc:
                    return _error(exc.status, exc.message)

        async def run(request: Request) -> Response:
            return await run_in_threadpool(answer, dict(request.query_params))

        return run

    async def page(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in PAGE_FILES:
            return _error(404, "not found")
        return FileResponse(STATIC / name, media_type=f"{PAGE_FILES[name]}; charset=utf-8")

    async def icon(request: Request) -> Response:
        return FileResponse(STATIC / "icon.svg", media_type="image/svg+xml")

    async def not_found(request: Request, exc: Exception) -> Response:
        return _error(404, "not found")

    routes = [
        Route("/", page),
        Route("/static/{name}", static),
        Route("/favicon.ico", icon),
        Route("/api/search", endpoint(api.search)),
        Route("/api/related", endpoint(api.related)),
        Route("/api/document", endpoint(api.document)),
    ]
    app = Starlette(routes=routes, exception_handlers={404: not_found})
    return Guard(app, bound_host)


def _error(status: int, message: str) -> Response:
    return Response(api.encode({"error": message}), status_code=status, media_type="application/json")


class _Server(uvicorn.Server):
    """uvicorn's server, telling when it listens, and stopping on SIGINT/SIGTERM
    without raising the signal again afterwards (which would end the process before
    the watcher is stopped)."""

    def __init__(self, config: uvicorn.Config, on_ready: Callable[[], None]) -> None:
        super().__init__(config)
        self.on_ready = on_ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self.on_ready()

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        def stop(signum: int, frame: FrameType | None) -> None:
            self.handle_exit(signum, frame)

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def serve(
    index_path: Path,
    listener: Listener,
    *,
    follow: Path | None,
    report: Callable[[str], None],
    on_ready: Callable[[], None],
) -> None:
    """Serve the index at `index_path` on `listener` until Ctrl-C or SIGTERM, keeping
    it in sync with the folder `follow` meanwhile (None: as it is). `on_ready` is
    called once the server listens; `report` is given a line for each sync."""
    follower = thread = None
    if follow is not None:
        from .watch import Follower, follow_in_background

        follower = Follower(index_path, follow, report)
        thread = follow_in_background(follower)
    config = uvicorn.Config(
        make_app(index_path, listener.host),
        log_level="warning",
        access_log=False,
        lifespan="off",
        server_header=False,
        timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
    )
    try:
        _Server(config, on_ready).run(sockets=[listener.socket])
    finally:
        if follower is not None and thread is not None:
            follower.stop()  # a sync under way is cancelled, not left half-written
            thread.join(timeout=WATCHER_STOP_S)
        listener.socket.close()
