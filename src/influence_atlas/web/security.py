"""What stands between the web app and the network: Host and Origin checks, an access token for non-loopback
binds, security headers on every response, and HEAD answered like GET.

A pure ASGI middleware, so it sees every request first, the OpenAPI pages and static files included.
"""

from __future__ import annotations

import hmac
import secrets
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlencode, urlsplit

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
TOKEN_COOKIE = "atlas_token"
# Headers every response carries; pages set their own stricter Content-Security-Policy.
BASE_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}
# Data answers and anything without its own policy: nothing may run or be embedded.
DATA_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# The OpenAPI pages (/docs, /redoc) start Swagger UI and ReDoc with an inline script, from files this server sends.
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
            "form-action 'none'")
DOCS_PATHS = ("/docs", "/redoc", "/docs-assets")


def new_token() -> str:
    """Return a fresh random access token."""
    return secrets.token_urlsafe(24)


def host_name(value: str) -> str:
    """Return the host part of a Host header or URL authority ("[::1]:8765" -> "::1"), lower-cased."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class Guard:
    """ASGI middleware: refuse foreign Host and Origin headers (DNS rebinding, cross-site requests), ask for the
    token when one is set, add the security headers, and answer HEAD as GET without a body."""

    def __init__(self, app, allowed_hosts: frozenset[str] | set[str] = LOOPBACK_HOSTS, token: str | None = None):
        self.app = app
        self.allowed = frozenset(host_name(h) for h in allowed_hosts) | LOOPBACK_HOSTS
        self.token = token

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        problem = self._refuse(scope, headers)
        if problem is not None:
            return await _plain(send, *problem)
        if self.token is not None:
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            if hmac.compare_digest(query.get("token", [""])[0].encode(), self.token.encode()):
                # The link printed at start-up: keep the token in a cookie and drop it from the address bar.
                rest = {k: v for k, v in query.items() if k != "token"}
                location = scope["path"] + ("?" + urlencode(rest, doseq=True) if rest else "")
                cookie = f"{TOKEN_COOKIE}={self.token}; HttpOnly; SameSite=Strict; Path=/"
                return await _plain(send, 303, "signed in", [(b"location", location.encode()),
                                                             (b"set-cookie", cookie.encode())])
            if not self._has_token(headers):
                return await _plain(send, 401, "this server needs its access token: open the link `atlas serve` printed, "
                                               "or send `Authorization: Bearer TOKEN`")
        head = scope["method"] == "HEAD"
        if head:
            scope = dict(scope, method="GET")
        path = scope["path"]

        async def guarded_send(message):
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k.encode(), v.encode()) for k, v in BASE_HEADERS.items() if k.encode() not in names]
                if b"content-security-policy" not in names:
                    csp = DOCS_CSP if path.startswith(DOCS_PATHS) else DATA_CSP
                    extra.append((b"content-security-policy", csp.encode()))
                if b"cache-control" not in names:
                    extra.append((b"cache-control", b"no-store"))
                message = dict(message, headers=list(message.get("headers", [])) + extra)
            elif message["type"] == "http.response.body" and head:
                message = dict(message, body=b"")
            await send(message)

        return await self.app(scope, receive, guarded_send)

    def _refuse(self, scope, headers: dict) -> tuple[int, str] | None:
        host = host_name(headers.get("host", ""))
        if not host or host not in self.allowed:
            return 421, "unknown Host: this server answers to its own names only (see `atlas serve --allowed-host`)"
        origin = headers.get("origin")
        if origin and origin != "null" and host_name(urlsplit(origin).netloc) not in self.allowed:
            return 403, "requests from other sites are refused"
        return None

    def _has_token(self, headers: dict) -> bool:
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer ") and hmac.compare_digest(auth[7:].strip().encode(), self.token.encode()):
            return True
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get("cookie", ""))
        except Exception:  # a malformed cookie header is no token
            return False
        value = cookie.get(TOKEN_COOKIE)
        return value is not None and hmac.compare_digest(value.value.encode(), self.token.encode())


async def _plain(send, status: int, text: str, headers: list | None = None) -> None:
    body = (text + "\n").encode()
    base = [(k.encode(), v.encode()) for k, v in BASE_HEADERS.items()]
    await send({"type": "http.response.start", "status": status,
                "headers": base + [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode()),
                                   (b"content-security-policy", DATA_CSP.encode()), (b"cache-control", b"no-store")]
                + (headers or [])})
    await send({"type": "http.response.body", "body": body})
