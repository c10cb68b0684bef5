"""Security headers on everything a worker serves, and the one rule for which values become links.

`SecurityHeaders` is a plain ASGI wrapper (not FastAPI middleware) because `/sparql`, editor page
included, bypasses FastAPI's middleware (see kg.server.app.front_door). It adds, when the response
starts:

- to every response: `X-Content-Type-Options: nosniff`, so no browser runs a result as a script
  or renders it as a page whatever it holds;
- to HTML pages: a Content-Security-Policy that allows scripts, styles and requests from this
  server only (no inline script, no `javascript:` URLs, no plug-ins, no `<base>`, no framing),
  `X-Frame-Options: DENY` for browsers without `frame-ancestors`, and a Referrer-Policy that sends
  only the origin to other sites.

The reconciliation preview card is made to be shown in an iframe of OpenRefine's page, so it may be
framed by any page; it runs nothing and loads nothing (its policy is `default-src 'none'`), with
its own inline style. Headers a response already carries are kept.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Message = MutableMapping[str, Any]
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PAGE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; object-src 'none'; "
               "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
# The reconcile preview: inline style only, nothing loaded, shown in other sites' iframes.
FRAMED_CARD_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
                      "frame-ancestors *")
FRAMED_CARD_PATHS = frozenset({"/reconcile/preview"})
NOSNIFF = (b"x-content-type-options", b"nosniff")
PAGE_HEADERS = (
    (b"content-security-policy", PAGE_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
)
FRAMED_CARD_HEADERS = (
    (b"content-security-policy", FRAMED_CARD_POLICY.encode()),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
)
DOCUMENT_TYPES = (b"text/html", b"application/xhtml+xml", b"image/svg+xml")


class SecurityHeaders:
    """ASGI wrapper adding nosniff to every HTTP response, and the page policy to HTML ones."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        page_headers = FRAMED_CARD_HEADERS if scope["path"] in FRAMED_CARD_PATHS else PAGE_HEADERS

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = with_security_headers(list(message.get("headers", ())), page_headers)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def with_security_headers(headers: list[tuple[bytes, bytes]],
                          page_headers: tuple[tuple[bytes, bytes], ...] = PAGE_HEADERS) -> list[tuple[bytes, bytes]]:
    """`headers` plus nosniff, plus `page_headers` when the content is a document; present names are kept."""
    present = {name.lower() for name, _ in headers}
    content_type = next((value for name, value in headers if name.lower() == b"content-type"), b"")
    wanted = (NOSNIFF, *page_headers) if content_type.lower().lstrip().startswith(DOCUMENT_TYPES) else (NOSNIFF,)
    return headers + [header for header in wanted if header[0] not in present]


def web_link(iri: str) -> str | None:
    """`iri` when it is safe as a link target (an http or https URL), else None: shown as text.

    An allow-list on the raw string: `javascript:`, `data:` and the like in any letter case, or with
    spaces or control characters in front (which browsers strip), never match.
    """
    return iri if iri[:8].lower().startswith(("http://", "https://")) else None
