"""The FastAPI application of one server process: `/sparql` plus whatever routers others add."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Route

from kg.query_executor import QueryExecutor
from kg.server import reconcile
from kg.server.publishing import publishing_router
from kg.server.settings import ServerSettings
from kg.server.sparql import SparqlEndpoint


def create_app(store_path: Path, settings: ServerSettings, on_runaway: Callable[[], None] | None = None) -> FastAPI:
    """Build the app over the read-only store at `store_path`.

    `on_runaway` is called when a query outlives its time limit (see kg.query_executor); pages and
    APIs are added with `app.include_router(...)`, and can run queries through `app.state.executor`.
    """
    executor = QueryExecutor(store_path, settings.threads, on_runaway)
    app = FastAPI(title="diplomacy-kg", summary="Linked data about diplomacy news, over SPARQL 1.1")
    app.state.executor = executor
    app.state.settings = settings
    # A raw ASGI route: every method reaches the endpoint, which answers 405 itself where needed.
    app.router.routes.append(Route("/sparql", SparqlEndpoint(executor, settings), include_in_schema=False))
    app.include_router(reconcile.router)
    if settings.release:  # dumps, dataset description, resource pages (not with --data)
        app.include_router(publishing_router(Path(settings.release)))
    # Public read-only data: any origin may read, and no credentials are ever involved.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET", "HEAD", "POST", "OPTIONS"],
        allow_headers=["*"],
        allow_credentials=False,
        expose_headers=["X-Result-Limit"],
        max_age=86400,
    )
    return app
