"""What stands between a web browser and localaws's two servers.

They listen on 127.0.0.1, which every page the reader opens can reach through the browser.
Three rules keep pages out while boto3, the SDK and the notebooks' kernels (which send no
Origin header and name the server as 127.0.0.1 or localhost) are unaffected:

- Host allow-list: only 127.0.0.1, localhost and [::1] with the server's own port; a page
  that rebinds its own domain name to 127.0.0.1 (DNS rebinding) sends its domain as Host.
- No cross-origin requests: a request whose Origin is not one of those hosts, or that the
  browser labels Sec-Fetch-Site cross-site or same-site (an image or form from a page), is refused
  before moto or our services see it, so moto's reflected CORS headers and its lenient
  presigned URLs never answer a page, and no CORS preflight succeeds.
- Admin routes change state only for a JSON POST (a page's "simple" request cannot send
  Content-Type application/json cross-origin without a preflight).
"""
from __future__ import annotations

import json

from werkzeug.wrappers import Request, Response

LOCAL_NAMES = ("127.0.0.1", "localhost", "[::1]")


class BrowserGuard:
    def __init__(self, app):
        self.app = app
        self.port: int | None = None

    def hosts(self) -> set[str]:
        return {f"{name}:{self.port}" for name in LOCAL_NAMES} | set(LOCAL_NAMES if self.port in (80, None) else ())

    def origins(self) -> set[str]:
        return {f"http://{host}" for host in self.hosts()}

    def __call__(self, environ, start_response):
        request = Request(environ)
        host = (request.host or "").lower()
        if host not in self.hosts():
            return refuse(f"Host {host[:100]!r} is not this local server", environ, start_response)
        if request.headers.get("Sec-Fetch-Site") in ("cross-site", "same-site"):
            # a page's <img>/<script>/form requests carry no Origin, but browsers label them
            return refuse("request from another site refused: localaws answers local clients only",
                          environ, start_response)
        origin = request.headers.get("Origin")
        if origin is not None and origin.lower().rstrip("/") not in self.origins():
            return refuse(f"cross-origin request from {origin[:100]!r} refused: localaws answers local "
                          "clients only", environ, start_response)
        return self.app(environ, start_response)


def refuse(message: str, environ, start_response):
    body = json.dumps({"__type": "AccessDeniedException", "message": message})
    return Response(body, status=403, content_type="application/json",
                    headers={"x-amzn-ErrorType": "AccessDeniedException"})(environ, start_response)
