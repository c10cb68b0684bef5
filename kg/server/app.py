"""The FastAPI application of one server process: `/sparql` plus whatever routers others add."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Route

from kg.sparql.executor import QueryExecutor
from kg.sparql.remote import RemoteQueryExecutor
from kg.server.views import reconcile
from kg.server.views.editor import editor_page, mount_static
from kg.server.errors import install_error_handlers
from kg.server.views.named_queries import load_named_queries, named_queries_router
from kg.server.openapi import document_sparql
from kg.server.views.release import release_router, served_data_router
from kg.server.views.site import Site
from kg.server.security_headers import SecurityHeaders
from kg.server.settings import ServerSettings
from kg.server.sparql import EXPOSED_HEADERS, Receive, Scope, Send, SparqlEndpoint


def create_app(store_path: Path | None, settings: ServerSettings,
               on_runaway: Callable[[], None] | None = None) -> FastAPI:
    """Build the app over the read-only store at `store_path`, or the remote store `settings.store`.

    `on_runaway` is called when a query outlives its time limit (see kg.sparql.executor); pages and
    APIs are added with `app.include_router(...)`, and can run queries through `app.state.executor`.
    """
    if settings.store:
        executor = RemoteQueryExecutor(settings.store, settings.threads, settings.timeout, settings.store_graphs)
    else:
        executor = QueryExecutor(store_path, settings.threads, on_runaway, settings.timeout)
    # No /docs or /redoc: FastAPI's pages load their scripts from a CDN; /openapi.json is served.
    app = FastAPI(title="diplomacy-kg", summary="Linked data about diplomacy news, over SPARQL 1.1",
                  docs_url=None, redoc_url=None)
    app.state.executor = executor
    app.state.settings = settings
    install_error_handlers(app)
    # A raw ASGI route: every method reaches the endpoint, which answers 405 itself where needed.
    # Worker processes reach it before FastAPI and its middleware (see `front_door`).
    queries = load_named_queries(Path(settings.queries) if settings.queries else None)
    site = Site(Path(settings.release)) if settings.release else None
    app.state.sparql = SparqlEndpoint(executor, settings, editor_page(queries.values(), site))
    app.router.routes.append(Route("/sparql", app.state.sparql, include_in_schema=False))
    document_sparql(app)
    app.include_router(named_queries_router(queries))
    mount_static(app)
    app.include_router(reconcile.router)
    # The release served (its pages, search, browse), None with --data or --store; pages render it in their chrome.
    app.state.site = site
    if app.state.site:  # dumps, dataset description, resource pages (not with --data)
        app.include_router(release_router(app.state.site))
    else:  # --data or --store: a home page saying what is served
        app.include_router(served_data_router())
    # Public read-only data: any origin may read, and no credentials are ever involved.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET", "HEAD", "POST", "OPTIONS"],
        allow_headers=["*"],
        allow_credentials=False,
        expose_headers=list(EXPOSED_HEADERS),
        max_age=86400,
    )
    return app


def front_door(app: FastAPI) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """The ASGI app a worker serves: `/sparql` straight to its lean endpoint, the rest to `app`.

    The endpoint sets its own CORS headers; skipping FastAPI's routing and middleware stack saves
    more than a cheap query costs. Every request is seen as addressed to the configured public URL
    (`settings.public_url`): absolute URLs in redirects, manifests and pages never come from a
    client's Host header, which anyone can spoof. Every response gets the security headers of
    kg.server.security_headers (a Content-Security-Policy and more on pages, nosniff on all).
    """
    sparql = app.state.sparql
    public = app.state.settings.public_url
    scheme, _, netloc = public.partition("://") if public else (None, "", "")
    host_header = (b"host", netloc.encode("latin-1"))

    async def dispatch(scope: Scope, receive: Receive, send: Send) -> None:
        if scheme is not None and scope["type"] == "http":
            scope["scheme"] = scheme
            scope["headers"] = [host_header, *(item for item in scope["headers"] if item[0] != b"host")]
        if scope["type"] == "http" and scope["path"] == "/sparql":
            await sparql(scope, receive, send)
        else:
            await app(scope, receive, send)

    return SecurityHeaders(dispatch)
