"""Everything the server publishes besides `/sparql`: dumps, dataset description, resource pages."""
from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

from kg.server.views.dumps import dumps_router
from kg.server.views.graphs import graphs_router
from kg.server.views.resources import resources_router
from kg.server.views.shapes import shapes_router
from kg.server.views.site import Site

def release_router(release: Path) -> APIRouter:
    """The routes over one release folder (its store is the executor's; its files are read here)."""
    site = Site(release)
    router = APIRouter()
    router.include_router(dumps_router(site))
    router.include_router(resources_router(site))
    router.include_router(shapes_router(site))
    router.include_router(graphs_router(site))

    return router
