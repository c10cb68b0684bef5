"""Everything the server publishes besides `/sparql`: dumps, dataset description, resource pages;
without a release (`kg serve --data` or `--store`), a home page saying what is served instead."""
from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pyoxigraph import NamedNode, Store

from kg.server.conneg import HTML, JSON, choose_for
from kg.server.views.browse import browse_router
from kg.server.views.dumps import dumps_router
from kg.server.views.graphs import graphs_router
from kg.server.views.resources import resources_router, run
from kg.server.views.search import search_router
from kg.server.views.shapes import shapes_router
from kg.server.views.site import Site, render
from kg.server.views.visual import visual_router

MAX_GRAPHS_LISTED = 50  # named graphs named on the home page of served files


def release_router(site: Site) -> APIRouter:
    """The routes over one release folder (its store is the executor's; its files are read here)."""
    router = APIRouter()
    router.include_router(dumps_router(site))
    router.include_router(search_router(site))
    router.include_router(browse_router(site))
    router.include_router(visual_router(site))  # /timeline, /network: before the resource pages' catch-all
    router.include_router(resources_router(site))
    router.include_router(shapes_router(site))
    router.include_router(graphs_router(site))
    return router


def served_data_router() -> APIRouter:
    """`/` under `kg serve --data FILE...` or `--store URL`: what this server serves and how to query it."""
    router = APIRouter()

    async def home(request: Request) -> Response:
        settings = request.app.state.settings
        representation = choose_for(request, (HTML, JSON))
        if settings.store:
            served = {"kind": "store", "store": settings.store, "graphs": None}
        else:
            def graphs(store: Store) -> list[str]:
                names = []
                for graph in store.named_graphs():
                    names.append(str(graph.value if isinstance(graph, NamedNode) else graph))
                    if len(names) > MAX_GRAPHS_LISTED:
                        break
                return names

            served = {"kind": "files", "files": list(settings.data_files),
                      "graphs": await run(request, graphs)}
        if representation is JSON:
            return Response(json.dumps(served), media_type=JSON.content_type, headers={"Vary": "Accept"})
        body = render("served.html", title="What this server serves", served=served, most=MAX_GRAPHS_LISTED)
        return Response(body, media_type=HTML.content_type, headers={"Vary": "Accept"})

    router.add_api_route("/", home, methods=["GET", "HEAD"], include_in_schema=False)
    return router
