"""The SPARQL query editor for people, and the static files the pages need (shipped in kg/static/, no CDN).

Browsers asking for HTML at `GET /sparql` get the editor: YASGUI (@zazuko/yasgui from npm, copied into
kg/static/vendor/ by vendor_js.py) set up for this endpoint by kg/static/editor.js. It shows results as a
table with sorting, paging and prefixed names, IRIs of this dataset linking to this server's pages, a
chart of a query's numbers, downloads as CSV, TSV and JSON, autocompletion of this dataset's prefixes,
classes and properties, and shareable URLs: `/sparql?query=...` opens the editor with that query run.
The named queries of queries/ are its examples. The page runs queries against /sparql with fetch, so it
behaves exactly like any other client.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from importlib.resources import files

from fastapi import FastAPI
from fastapi.responses import Response
from pyoxigraph import RdfFormat, parse
from starlette.staticfiles import StaticFiles

from kg.rdf.vocabulary import PREFIXES, RDF, SHAPES_PREFIXES, VOID
from kg.server.views.named_queries import NamedQuery
from kg.server.views.site import CAMEO_NS, ONTOLOGY_IRI, SHAPES_IRI, Site, render

DEFAULT_PREFIXES = ("dipl", "rdfs", "schema", "prov", "nif")
STYLESHEET = files("kg").joinpath("templates", "site.css").read_bytes()


def mount_static(app: FastAPI) -> None:
    """Serve kg/static/ at /static (page scripts, styles, the npm libraries under vendor/), and the site's
    stylesheet at /site.css, which every page links, with a release or without (`--data`, `--store`)."""
    app.mount("/static", StaticFiles(packages=[("kg", "static")]), name="static")

    @app.get("/site.css", include_in_schema=False)
    async def stylesheet() -> Response:
        return Response(STYLESHEET, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"})


def editor_page(queries: Iterable[NamedQuery], site: Site | None = None) -> bytes:
    """The editor page; the named queries become its examples, and with a release (`site`) its IRIs link
    to this server's pages and its classes and properties are offered as completions."""
    start = "".join(f"PREFIX {p}: <{PREFIXES[p]}>\n" for p in DEFAULT_PREFIXES) + \
        "\nSELECT ?item ?label WHERE {\n  ?item rdfs:label ?label .\n}\nLIMIT 20\n"
    data = {
        "examples": [{"name": q.name, "title": q.title, "description": q.description, "sparql": q.text}
                     for q in queries],
        "prefixes": {**PREFIXES, **SHAPES_PREFIXES, **({"entity": f"{site.base}entity/"} if site else {})},
        "start": start,
        "local": local_namespaces(site) if site else [],
        "terms": dataset_terms(site) if site else None,
        "release": site.manifest.get("release", "") if site else "",
    }
    # No "<" at all inside the JSON data block: neither "</script>" nor "<!--" can end or change it.
    encoded = json.dumps(data).replace("<", "\\u003c")
    return render("query_editor.html", site=site, title="SPARQL query editor", data=encoded).encode()


def local_namespaces(site: Site) -> list[tuple[str, str]]:
    """(IRI prefix, local path prefix) pairs: an IRI under one is served here at that path (see Site.path_for_iri)."""
    return [(ONTOLOGY_IRI, "/ontology"), (SHAPES_IRI, "/shapes"), (CAMEO_NS, "/cameo/"), (site.base, "/")]


def dataset_terms(site: Site) -> dict[str, list[str]]:
    """The classes and properties the release uses, from its VoID partitions (no query at start-up)."""
    classes, properties = set(), set()
    for triple in parse(site.description, format=RdfFormat.TURTLE):
        if triple.predicate.value == VOID + "class":
            classes.add(triple.object.value)
        elif triple.predicate.value == VOID + "property":
            properties.add(triple.object.value)
    properties.add(RDF.type.value)
    return {"classes": sorted(classes), "properties": sorted(properties)}
