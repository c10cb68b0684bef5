"""The SPARQL query editor for people, and the static files it needs (shipped in kg/static/, no CDN).

Browsers asking for HTML at `GET /sparql` (no query) get the editor: a CodeMirror 5 editor with
SPARQL highlighting, buttons that add the dataset's PREFIX declarations, the named queries of
queries/ as examples, and a result table. The page runs queries against /sparql itself with fetch,
so it behaves exactly like any other client. `#query=...` in its URL pre-fills the editor.
"""
from __future__ import annotations

import html
import json
from collections.abc import Iterable
from importlib.resources import files

from fastapi import FastAPI
from fastapi.responses import Response
from starlette.staticfiles import StaticFiles

from kg.rdf.vocabulary import PREFIXES
from kg.server.views.named_queries import NamedQuery, page

DEFAULT_PREFIXES = ("dipl", "rdfs", "schema", "prov", "nif")


STYLESHEET = files("kg").joinpath("templates", "site.css").read_bytes()


def mount_static(app: FastAPI) -> None:
    """Serve kg/static/ at /static (editor script, styles, CodeMirror), and the site's stylesheet at
    /site.css, which every page links, with a release or without (`--data`, `--store`)."""
    app.mount("/static", StaticFiles(packages=[("kg", "static")]), name="static")

    @app.get("/site.css", include_in_schema=False)
    async def stylesheet() -> Response:
        return Response(STYLESHEET, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"})


def editor_page(queries: Iterable[NamedQuery]) -> bytes:
    """The editor page; the named queries become its examples."""
    examples = [{"name": q.name, "title": q.title, "description": q.description, "sparql": q.text} for q in queries]
    start = "".join(f"PREFIX {p}: <{PREFIXES[p]}>\n" for p in DEFAULT_PREFIXES) + \
        "\nSELECT ?item ?label WHERE {\n  ?item rdfs:label ?label .\n}\nLIMIT 20\n"
    options = "".join(f'<option value="{i}">{html.escape(e["title"])}</option>' for i, e in enumerate(examples))
    prefix_buttons = "".join(
        f'<button type="button" class="prefix" data-prefix="{p}" title="{html.escape(iri)}">{p}:</button>'
        for p, iri in PREFIXES.items())
    # No "<" at all inside the JSON data block: neither "</script>" nor "<!--" can end or change it.
    data = json.dumps({"examples": examples, "prefixes": PREFIXES}).replace("<", "\\u003c")
    body = f"""<h1>SPARQL query editor</h1>
<p>Queries run at <a href="/sparql?format=turtle"><code>/sparql</code></a> (SPARQL 1.1 Protocol; the default graph is
the union of all graphs). <kbd>Ctrl</kbd>+<kbd>Enter</kbd> runs the query.</p>
<div class="toolbar">
<label>Example: <select id="examples"><option value="">— choose a named query —</option>{options}</select></label>
<span class="prefixes">Add prefix: {prefix_buttons}</span>
</div>
<textarea id="query" spellcheck="false">{html.escape(start)}</textarea>
<div class="toolbar"><button id="run" type="button">Run query</button> <span id="status" role="status"></span></div>
<div id="results"></div>
<script type="application/json" id="editor-data">{data}</script>"""
    head = ('<link rel="stylesheet" href="/static/codemirror/codemirror.css">'
            '<script src="/static/codemirror/codemirror.min.js" defer></script>'
            '<script src="/static/editor.js" defer></script>')
    return page("SPARQL query editor", body, head)
