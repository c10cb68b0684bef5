"""Content negotiation, the one place the server picks a representation: media types, `Accept`
q-values and the `format` parameter. `/sparql` calls `choose` with its raw headers; the other routes
call `choose_for(request, offers)`, which reads the same two inputs from a Starlette request."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pyoxigraph import QueryResultsFormat, RdfFormat

from kg.sparql.bounded_cache import byte_bounded_cache

if TYPE_CHECKING:
    from starlette.requests import Request


@dataclass(frozen=True)
class Representation:
    """One way to write a result: the media types that select it and the serializer to use."""

    content_type: str  # what the response says it is
    media_types: tuple[str, ...]  # what an Accept header may name to get it (first: canonical)
    names: tuple[str, ...]  # values of the `format` parameter that select it
    serializer: QueryResultsFormat | RdfFormat | None  # None: a page for people (HTML)


def _rep(serializer, content_type: str, aliases: tuple[str, ...], names: tuple[str, ...]) -> Representation:
    return Representation(content_type, (content_type.split(";")[0], *aliases), names, serializer)


# Order = server preference when the client has none (the first is the default).
SOLUTION_FORMATS: tuple[Representation, ...] = (
    _rep(QueryResultsFormat.JSON, "application/sparql-results+json", ("application/json",), ("json", "srj")),
    _rep(QueryResultsFormat.XML, "application/sparql-results+xml", ("application/xml", "text/xml"), ("xml", "srx")),
    _rep(QueryResultsFormat.CSV, "text/csv; charset=utf-8", (), ("csv",)),
    _rep(QueryResultsFormat.TSV, "text/tab-separated-values; charset=utf-8", (), ("tsv",)),
)
GRAPH_FORMATS: tuple[Representation, ...] = (
    _rep(RdfFormat.TURTLE, "text/turtle; charset=utf-8", ("application/x-turtle", "application/turtle"), ("turtle", "ttl", "n3")),
    _rep(RdfFormat.N_TRIPLES, "application/n-triples", ("text/plain",), ("ntriples", "n-triples", "nt")),
    _rep(RdfFormat.RDF_XML, "application/rdf+xml", ("application/xml", "text/xml"), ("rdfxml", "rdf+xml", "rdf", "xml")),
    _rep(RdfFormat.JSON_LD, "application/ld+json", ("application/json",), ("jsonld", "json-ld", "json")),
    _rep(RdfFormat.N_QUADS, "application/n-quads", (), ("nquads", "n-quads", "nq")),
    _rep(RdfFormat.TRIG, "application/trig", (), ("trig",)),
)

# For browsers: offered after the data formats, so it is chosen only when a client prefers it.
HTML = Representation("text/html; charset=utf-8", ("text/html", "application/xhtml+xml"), ("html",), None)
# Listings and API answers that are not RDF (named queries, dumps).
JSON = Representation("application/json", ("application/json",), ("json",), None)


class NotAcceptable(Exception):
    """Nothing the client accepts can be produced (HTTP 406); the message lists what can."""


def choose(offers: tuple[Representation, ...], accept: str | None, format_names: tuple[str, ...]) -> Representation:
    """Pick the representation named by `format` (a name or media type), else by `Accept`.

    Several `format` values are tried in order: SPARQLWrapper, for one, sends a name and a media type.
    """
    if format_names:
        return _by_format_names(offers, format_names)
    return _by_accept(offers, accept or "*/*")


def choose_for(request: Request, offers: tuple[Representation, ...]) -> Representation:
    """`choose` by the request's `Accept` header and its non-empty `format` parameters; NotAcceptable (406)."""
    names = tuple(value for value in request.query_params.getlist("format") if value)
    return choose(offers, request.headers.get("accept"), names)


def prefers(request: Request, offers: tuple[Representation, ...]) -> Representation:
    """The offer the request's `Accept` header prefers, the first offer when it accepts none (for
    error answers, which are sent whatever the client accepts)."""
    try:
        return choose(offers, request.headers.get("accept"), ())
    except NotAcceptable:
        return offers[0]


@byte_bounded_cache(1 << 20, lambda chosen, offers, names: sum(len(name) for name in names))
def _by_format_names(offers: tuple[Representation, ...], names: tuple[str, ...]) -> Representation:
    for name in names:
        name = name.strip().lower()
        for offer in offers:
            if name in offer.names or name in offer.media_types:
                return offer
    raise NotAcceptable(
        f"unknown format {', '.join(names)!r} for this query; use one of: "
        + ", ".join(offer.names[0] for offer in offers)
    )


@byte_bounded_cache(1 << 20, lambda chosen, offers, accept: len(accept))
def _by_accept(offers: tuple[Representation, ...], accept: str) -> Representation:
    ranges = parse_accept(accept)
    best, best_q = None, 0.0
    for offer in offers:
        # Wildcards are judged against the canonical type only, aliases count when named exactly.
        canonical, *aliases = offer.media_types
        q = max([_quality(ranges, canonical), *(q for r, q in ranges if r in aliases)])
        if q > best_q:
            best, best_q = offer, q
    if best is None:
        raise NotAcceptable(
            f"cannot produce any of {accept!r} for this query; available: "
            + ", ".join(offer.media_types[0] for offer in offers)
        )
    return best


def parse_accept(accept: str) -> list[tuple[str, float]]:
    """Media ranges of an Accept header with their q-values (1.0 when absent, 0 when malformed)."""
    ranges = []
    for item in accept.split(","):
        media_range, *params = (part.strip() for part in item.split(";"))
        if not media_range:
            continue
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        ranges.append((media_range.lower(), q))
    return ranges


def _quality(ranges: list[tuple[str, float]], media_type: str) -> float:
    """The q-value the most specific matching range gives `media_type` (RFC 9110 precedence)."""
    major = media_type.split("/")[0]
    best_specificity, q = -1, 0.0
    for media_range, range_q in ranges:
        if media_range == media_type:
            specificity = 2
        elif media_range == f"{major}/*":
            specificity = 1
        elif media_range == "*/*":
            specificity = 0
        else:
            continue
        if specificity > best_specificity:
            best_specificity, q = specificity, range_q
    return q
