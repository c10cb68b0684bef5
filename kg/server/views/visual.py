"""Pictures of the release: a timeline of events and statements, and an actor–event–claim graph.

- `/timeline` (optionally `?article=<id>`): every dated event and statement, drawn with vis-timeline.
- `/network?about=<path or IRI>` for an article (`/article/<id>`) or an entity (`/entity/<id>`): who takes
  part in which event, who asserts and who denies which claim (in which statement), which claims
  contradict which; drawn with cytoscape.js.

Both read the release through SPARQL, by the ontology's classes and predicates (subclasses of
dipl:Event, dipl:attribution with dipl:stance and prov:agent, dipl:participant, dipl:contradicts), so
new event types or attributions in the data show without a change here. Each page has a JSON twin
(`?format=json`, or `Accept: application/json`) holding the same items or nodes and edges; the page
embeds it and kg/static/timeline.js or network.js draws it (scripts from npm, shipped in the package).
"""
from __future__ import annotations

import json
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from pyoxigraph import Literal, NamedNode, Store

from kg.rdf.vocabulary import PREFIXES
from kg.server.conneg import HTML, JSON, choose_for
from kg.server.views.resources import is_iri, run
from kg.server.views.site import Site

MAX_TIMELINE_ITEMS = 300  # a page of the most recent ones; `skip=` pages back
MAX_EDGES = 300  # of a graph view; a busier one says it shows the first ones
UNION = {"use_default_graph_as_union": True}
PROLOGUE = "".join(f"PREFIX {name}: <{PREFIXES[name]}>\n" for name in ("dipl", "rdfs", "prov", "nif"))

# The most recent dated events and statements first (sorting only their dates: dipl:date and dipl:startDate
# belong to events), then what to show of each.
TIMELINE_QUERY = PROLOGUE + """
SELECT ?item ?class ?label ?date ?start ?end ?speakerLabel ?quote WHERE {
  {
    SELECT DISTINCT ?item ?when WHERE {
      %(scope_open)s { ?item dipl:date ?when } UNION { ?item dipl:startDate ?when } %(scope_close)s
    } ORDER BY DESC(STR(?when)) ?item OFFSET %(offset)d LIMIT %(limit)d
  }
  ?item a ?class . ?class rdfs:subClassOf* dipl:Event .
  OPTIONAL { ?item dipl:date ?date }
  OPTIONAL { ?item dipl:startDate ?start }
  OPTIONAL { ?item dipl:endDate ?end }
  OPTIONAL { ?item rdfs:label ?label }
  OPTIONAL { ?item dipl:speaker/rdfs:label ?speakerLabel }
  OPTIONAL { ?item dipl:quotation|dipl:paraphrase ?span . ?span nif:anchorOf ?quote }
}
ORDER BY DESC(STR(?when)) ?item
"""

# Edges of the actor–event–claim graph: (source, relation, target). The coded acts' actors (GDELT-style
# dipl:sourceActor, dipl:targetActor and their subproperties, e.g. dipl:proposer) of claims and events show
# too, unless the same actor already asserts or denies that claim. %(scope...)s keeps them to one article's
# graph; %(focus)s (VALUES, first, so that the store starts from the given nodes) to those touching them.
EDGES_QUERY = PROLOGUE + """
SELECT DISTINCT ?source ?relation ?target ?statement WHERE {
  %(focus)s
  %(scope_open)s
  {
    ?target dipl:attribution ?attribution .
    ?attribution prov:agent ?source ; dipl:stance ?stance .
    OPTIONAL { ?attribution prov:hadActivity ?statement }
    BIND (IF(?stance = dipl:Denies, "denies", "asserts") AS ?relation)
  } UNION {
    ?target dipl:participant ?source .
    BIND ("takes part in" AS ?relation)
  } UNION {
    ?source dipl:contradicts ?target .
    BIND ("contradicts" AS ?relation)
  } UNION {
    VALUES (?coded ?relation) { %(coded)s }
    ?target ?coded ?source .
    FILTER NOT EXISTS { ?target a dipl:Statement }  # a statement's actors are its speaker's stances
  }
  %(scope_close)s
}
LIMIT %(limit)d
"""

# Each node's label and kind, by the ontology's classes: claims, statements (speech acts), other events
# (any subclass of dipl:Event), and the rest: actors (people, organizations, states, places...).
# The coded-act properties by the ontology (read once per graph: the ontology may add subproperties).
CODED_QUERY = PROLOGUE + """
SELECT DISTINCT ?property ?role WHERE {
  VALUES ?role { dipl:sourceActor dipl:targetActor }
  ?property rdfs:subPropertyOf* ?role .
}
"""
CODED_RELATIONS = {PREFIXES["dipl"] + "sourceActor": "acts in", PREFIXES["dipl"] + "targetActor": "is addressed in"}

NODES_QUERY = PROLOGUE + """
SELECT ?node (SAMPLE(?label) AS ?name) (SAMPLE(?nodeKind) AS ?kind) WHERE {
  VALUES ?node { %s }
  OPTIONAL { ?node rdfs:label ?label }
  BIND (IF(EXISTS { ?node a/rdfs:subClassOf* dipl:Claim }, "claim",
        IF(EXISTS { ?node a/rdfs:subClassOf* dipl:Statement }, "statement",
        IF(EXISTS { ?node a/rdfs:subClassOf* dipl:Event }, "event", "actor"))) AS ?nodeKind)
} GROUP BY ?node
"""


def visual_router(site: Site) -> APIRouter:
    """/timeline and /network over the release served by `site`."""
    router = APIRouter()

    async def timeline(request: Request) -> Response:
        article = request.query_params.get("article")
        skip = _count(request.query_params.get("skip"))
        graph = _article_graph(site, article) if article else None
        items = await run(request, lambda store: timeline_items(store, graph, skip))
        cut = len(items) >= MAX_TIMELINE_ITEMS
        data = {"article": article, "items": items, "limit": MAX_TIMELINE_ITEMS, "skip": skip,
                "older": skip + MAX_TIMELINE_ITEMS if cut else None}  # the `skip=` of the next page back
        title = f"Timeline of {article}" if article else "Timeline of events and statements"
        return _answer(request, site, "timeline.html", title, data)

    async def network(request: Request) -> Response:
        about = request.query_params.get("about", "")
        iri = site.iri_for_path(about) if about.startswith("/") else about
        if not is_iri(iri):
            raise HTTPException(400, "about= names the article or entity to draw: a path such as /entity/kim-jong-un "
                                     f"or an IRI, not {about!r}")
        graph = _article_graph(site, iri[len(site.base + "article/"):]) if iri.startswith(site.base + "article/") else None
        data = await run(request, lambda store: actor_graph(store, site, iri, graph))
        data["about"] = {"iri": iri, "href": site.path_for_iri(iri)}
        title = f"Who says what: {data.pop('title')}"
        return _answer(request, site, "actor_graph.html", title, data)

    router.add_api_route("/timeline", timeline, methods=["GET", "HEAD"], include_in_schema=False)
    router.add_api_route("/network", network, methods=["GET", "HEAD"], include_in_schema=False)
    return router


def timeline_items(store: Store, graph: str | None, skip: int = 0) -> list[dict]:
    """The dated events and statements (of one article's graph, or all), newest first: MAX_TIMELINE_ITEMS of them
    after the `skip` newest."""
    query = TIMELINE_QUERY % {**_scope(graph), "limit": MAX_TIMELINE_ITEMS, "offset": skip}
    items: dict[str, dict] = {}
    for row in store.query(query, **UNION):
        iri = row["item"].value
        item = items.get(iri)
        if item is None:
            statement = row["class"].value == PREFIXES["dipl"] + "Statement"
            label = _text(row["label"])
            if statement and row["speakerLabel"] is not None and row["quote"] is not None:
                label = f"{row['speakerLabel'].value}: “{_shorten(row['quote'].value)}”"
            item = items[iri] = {
                "iri": iri, "kind": "statement" if statement else "event", "label": label or iri,
                "start": _text(row["date"]) or _text(row["start"]), "end": _text(row["end"]), "classes": []}
        item["classes"].append(row["class"].value)
        if row["class"].value == PREFIXES["dipl"] + "Statement":
            item["kind"] = "statement"
    return list(items.values())


def actor_graph(store: Store, site: Site, focus: str, graph: str | None) -> dict:
    """Nodes and edges around `focus`: an article's whole graph, or an entity's events and claims together with
    everyone else's stance on those claims."""
    scope = _scope(graph)
    if graph is not None:
        edges = _edges(store, scope, "")
    else:
        node = NamedNode(focus)
        touching = _edges(store, scope, f"VALUES ?source {{ {node} }}") + _edges(store, scope, f"VALUES ?target {{ {node} }}")
        hubs = {edge["target"] for edge in touching if edge["source"] == focus}
        around = _edges(store, scope, "VALUES ?target { %s }" % " ".join(str(NamedNode(h)) for h in hubs)) if hubs else []
        edges = list({(e["source"], e["relation"], e["target"], e["statement"]): e for e in touching + around}.values())
    edges = _without_repeated_actors(edges)
    cut = len(edges) >= MAX_EDGES
    edges = edges[:MAX_EDGES]  # the focus's own edges come first
    iris = {focus} | {edge["source"] for edge in edges} | {edge["target"] for edge in edges}
    nodes = _nodes(store, site, iris)
    for edge in edges:
        if edge["statement"]:
            edge["statementHref"] = site.path_for_iri(edge["statement"])
    title = nodes.get(focus, {}).get("label") or focus
    if graph is not None:  # an article is the scope, not a node: its graph has no edge to it
        nodes.pop(focus, None)
    return {"title": title, "focus": focus, "nodes": list(nodes.values()), "edges": edges, "cut": cut,
            "limit": MAX_EDGES}


def _without_repeated_actors(edges: list[dict]) -> list[dict]:
    """The edges but the coded-act ones ("acts in", "is addressed in") that repeat a closer link of the same actor
    and claim or event: asserting or denying a claim, taking part in an event."""
    closer = {(e["source"], e["target"]) for e in edges if e["relation"] in ("asserts", "denies", "takes part in")}
    return [e for e in edges if e["relation"] not in CODED_RELATIONS.values() or (e["source"], e["target"]) not in closer]


def _edges(store: Store, scope: dict[str, str], focus: str) -> list[dict]:
    coded = " ".join(f'({NamedNode(row["property"].value)} "{CODED_RELATIONS[row["role"].value]}")'
                     for row in store.query(CODED_QUERY, **UNION)) or "(UNDEF UNDEF)"
    query = EDGES_QUERY % {**scope, "focus": focus, "limit": MAX_EDGES, "coded": coded}
    return [{"source": row["source"].value, "relation": row["relation"].value, "target": row["target"].value,
             "statement": row["statement"].value if row["statement"] is not None else None}
            for row in store.query(query, **UNION) if isinstance(row["source"], NamedNode)]


def _nodes(store: Store, site: Site, iris: set[str]) -> dict[str, dict]:
    """Label, kind (actor, event, claim, statement) and local page of each node."""
    values = " ".join(str(NamedNode(iri)) for iri in sorted(iris))
    nodes = {}
    for row in store.query(NODES_QUERY % values, **UNION):
        iri = row["node"].value
        nodes[iri] = {"id": iri, "label": _text(row["name"]) or iri.rsplit("/", 1)[-1], "kind": row["kind"].value,
                      "href": site.path_for_iri(iri)}
    return nodes


def _answer(request: Request, site: Site, template: str, title: str, data: dict) -> Response:
    """The page (its data embedded for the script that draws it) or its JSON twin."""
    if choose_for(request, (HTML, JSON)) is JSON:
        return Response(json.dumps(data), media_type=JSON.content_type, headers={"Vary": "Accept"})
    encoded = json.dumps(data).replace("<", "\\u003c")  # nothing can end the data block early
    return Response(site.render(template, title=title, data=encoded, **data), media_type=HTML.content_type,
                    headers={"Vary": "Accept"})


def _article_graph(site: Site, article: str) -> str:
    return f"{site.base}graph/article/{article}"


def _scope(graph: str | None) -> dict[str, str]:
    if graph is None:
        return {"scope_open": "", "scope_close": ""}
    return {"scope_open": f"GRAPH {NamedNode(graph)} {{", "scope_close": "}"}


def _count(value: str | None) -> int:
    """A `skip=` value: a whole number, 0 when absent; 400 in the project's error shape otherwise."""
    if value is None:
        return 0
    if not value.isdigit() or len(value) > 9:
        raise HTTPException(400, f"skip must be a whole number of items, not {value!r}")
    return int(value)


def _text(term: object) -> str | None:
    return term.value if isinstance(term, Literal) else None


def _shorten(text: str, most: int = 90) -> str:
    return text if len(text) <= most else text[:most - 1].rstrip() + "…"
