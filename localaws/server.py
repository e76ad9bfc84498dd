"""The HTTP server for the services localaws computes itself (moto answers the rest).

One port serves them all: each service says whether a request is its own (by
X-Amz-Target for JSON-protocol services, by path for REST ones), the first that claims
it answers.
"""
from __future__ import annotations

import logging
import threading
import traceback
from typing import Callable, Protocol

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from .protocol import AwsError, json_error

log = logging.getLogger("localaws")


class Service(Protocol):
    def matches(self, request: Request) -> bool: ...
    def __call__(self, request: Request) -> Response: ...


class Router:
    def __init__(self, services: list[Service]):
        self.services = services

    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            service = next((s for s in self.services if s.matches(request)), None)
            if service is None:
                raise AwsError("UnknownOperationException",
                               f"localaws has no service for {request.method} {request.path} "
                               f"(X-Amz-Target={request.headers.get('X-Amz-Target')!r})", 404)
            response = service(request)
        except AwsError as err:
            response = json_error(err)
        except Exception as err:  # a bug of ours: say so as AWS would, log the traceback
            log.error("internal error on %s %s\n%s", request.method, request.path,
                      traceback.format_exc())
            response = json_error(AwsError("InternalFailure", f"localaws internal error: {err!r}", 500))
        return response(environ, start_response)


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):  # one line per request would drown the notebook logs
        pass


class HttpServer:
    """A threaded WSGI server on 127.0.0.1 (port 0 picks a free one), behind the browser
    guard (localaws/browser.py)."""

    def __init__(self, app: Callable, host: str = "127.0.0.1", port: int = 0,
                 request_handler: type = _QuietHandler):
        from .browser import BrowserGuard

        guard = BrowserGuard(app)
        self._server = make_server(host, port, guard, threaded=True, request_handler=request_handler)
        guard.port = self._server.server_address[1]
        # serve_forever notices shutdown() only every poll_interval (0.5 s by default): with two
        # servers that was up to 1 s of the 3 s `serve` has to stop in after SIGINT/SIGTERM
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True, name="localaws-http")

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "HttpServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
