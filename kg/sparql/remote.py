"""Serving from a remote store that speaks the SPARQL 1.1 Protocol (`kg serve --store URL`).

`RemoteStore` offers the part of pyoxigraph's `Store` API the server uses (`query`, `named_graphs`,
`quads_for_pattern`) over HTTP, so the endpoint, the named queries and reconciliation run unchanged:
answers are parsed back into pyoxigraph `QuerySolutions`, `QueryBoolean` or triples, which the
server serializes in whatever format its client negotiated.

What stays the same as with the embedded store, and how:
- every query is first parsed here by pyoxigraph (on an empty in-memory store, without evaluating
  it): syntax errors read the same, and nothing but standard SPARQL 1.1 reaches the store (no vendor
  pragmas such as Virtuoso's `DEFINE`, which could make the store fetch remote data);
- the query policy (read-only, no SERVICE unless allow-listed) has already run in the endpoint;
- each request to the store gets what is left of the query's time limit as its timeout, and a
  response still arriving at the deadline is dropped: the query thread is free again at once, so
  no worker process has to be recycled (the store may go on computing: give it its own time limit,
  e.g. `oxigraph serve --timeout-s`, Fuseki's `arq:queryTimeout`);
- the union default graph (no dataset given) is the store's default graph: the store must be set up
  so that it is the union of its named graphs (`oxigraph serve --union-default-graph`, Fuseki/TDB2
  `tdb2:unionDefaultGraph true`; Virtuoso, GraphDB and Neptune do so by default), which
  `check_union_default_graph` verifies at startup. Protocol graphs become `default-graph-uri` /
  `named-graph-uri` parameters;
- only the release's graphs are served (`GraphScope`: the named graphs whose IRI starts with the
  release's graph namespace, `kg serve --store-graphs`), whatever else the store holds, such as
  Virtuoso's own system graphs: when the store holds other graphs, every query gets the release's
  graphs as its dataset (`default-graph-uri` and `named-graph-uri`, each graph once), and graphs a
  client names outside them are empty, as an absent graph is in the embedded store.

Credentials come from the environment only (see kg.integrations.graph_store.credentials_from_environment).
"""
from __future__ import annotations

import asyncio
import io
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx
from pyoxigraph import (
    BlankNode, DefaultGraph, NamedNode, Quad, QueryBoolean, QueryResultsFormat, QuerySolutions, RdfFormat, Store, Triple,
    Variable, parse, parse_query_results,
)

from kg.sparql.executor import QueryTimeout
from kg.integrations.graph_store import credentials_from_environment
from kg.sparql.policy import Token, dataset_clause, query_form, tokenize, with_values

T = TypeVar("T")
log = logging.getLogger(__name__)
EMPTY_GRAPH = "urn:x-diplomacy-kg:no-graph"  # named in a dataset that must hold nothing: no store has it
SCOPE_REFRESH_SECONDS = 300.0  # how soon a graph published while serving is served
SCOPE_TIMEOUT = 300.0  # seconds listing the store's graphs may take
# A store's refusal that is its own time limit (Virtuoso: SR171 "Transaction timed out", the S1T00/S1TAT
# states, or its cost estimate above MaxQueryCostEstimationTime): answered as our time limit is, 503.
STORE_TIME_LIMIT = re.compile(r"\bS1T(?:00|AT)\b|\bSR171\b|estimated execution time .* exceeds the limit")
SCOPE_PAGE = 5000  # graphs listed per request: below any store's own cap on result rows (Virtuoso: 10,000)
EXCLUDED_MAX = 100  # other graphs a Virtuoso may hold for queries to leave them out rather than list ours
RESULTS_ACCEPT = "application/sparql-results+json, application/sparql-results+xml;q=0.9"
GRAPH_ACCEPT = "application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.8"
_CHUNK = 1 << 16


class StoreTimeLimit(QueryTimeout):
    """The store's own time limit ended the query (or cut its answer short) before ours did."""


class RemoteStoreUnavailable(ConnectionError):
    """The store could not be reached or failed; the message says how (without credentials)."""


def store_client(threads: int) -> httpx.Client:
    """One connection pool for a process's query threads, with the store's credentials if any."""
    return httpx.Client(auth=credentials_from_environment(),
                        limits=httpx.Limits(max_connections=threads, max_keepalive_connections=threads))


class RemoteStore:
    """The subset of pyoxigraph's `Store` the server uses, answered by a SPARQL 1.1 Protocol endpoint.

    Each request may take `timeout` seconds, or only what is left until `deadline` (a
    `time.monotonic()` value) on a view made by `until`.
    """

    def __init__(self, endpoint: str, client: httpx.Client, timeout: float, deadline: float | None = None,
                 scope: GraphScope | None = None) -> None:
        self.endpoint, self.client, self.timeout, self.deadline = endpoint, client, timeout, deadline
        self.scope = scope
        self._parser = Store()  # empty and in memory: parses queries, never evaluates one

    def until(self, deadline: float) -> RemoteStore:
        """A view of this store whose requests all end by `deadline`."""
        return RemoteStore(self.endpoint, self.client, self.timeout, deadline, self.scope)

    def query(self, query: str, *, base_iri: str | None = None, use_default_graph_as_union: bool = False,
              default_graph: Any = None, named_graphs: Iterable[Any] | None = None,
              substitutions: dict[Variable, Any] | None = None, **_: Any) -> QuerySolutions | QueryBoolean | Iterator[Triple]:
        """Parse `query` here (SyntaxError as pyoxigraph reports it), then evaluate it on the store."""
        if substitutions:
            query = with_values(query, {variable.value: str(term) for variable, term in substitutions.items()})
        form = query_form(query)
        self._check_syntax(query, form, base_iri)
        given = default_graph is not None or named_graphs is not None
        preamble = ""  # store pragmas of our own (see GraphScope), before the query's prologue
        if not given:
            default_graph, named_graphs = dataset_clause(query)  # FROM / FROM NAMED, if any
            given = bool(default_graph or named_graphs)
        default_graph = default_graph if isinstance(default_graph, list) else [default_graph] if default_graph else []
        default_iris = [_graph_iri(graph) for graph in default_graph]
        named_iris = [_graph_iri(graph) for graph in named_graphs or ()]
        if self.scope is not None and self.scope.confines:
            preamble, query, default_iris, named_iris = self.scope.confine(query, default_iris, named_iris, given)
        query = with_explicit_separators(query)
        # Relative IRIs resolve against our endpoint, as in the embedded store, not against the store's.
        params = [("query", preamble + (f"BASE <{base_iri}>\n{query}" if base_iri else query))]
        params += [("default-graph-uri", iri) for iri in default_iris]
        params += [("named-graph-uri", iri) for iri in named_iris]
        # use_default_graph_as_union: the store's own default graph is the union (see the module docstring).
        graph_result = form in ("CONSTRUCT", "DESCRIBE")
        response = self._post(params, GRAPH_ACCEPT if graph_result else RESULTS_ACCEPT)
        media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        body = _ResponseReader(response, self._deadline())
        if graph_result:
            rdf_format = RdfFormat.from_media_type(media_type)
            if rdf_format is None:
                body.close()
                raise RemoteStoreUnavailable(f"the store answered a graph as {media_type!r}")
            return (quad.triple if isinstance(quad, Quad) else quad for quad in parse(body, format=rdf_format))
        results_format = QueryResultsFormat.from_media_type(media_type)
        if results_format is None:
            body.close()
            raise RemoteStoreUnavailable(f"the store answered results as {media_type!r}")
        return parse_query_results(body, format=results_format)

    def named_graphs(self) -> list[NamedNode]:
        """The named graphs holding at least one triple (of the scope, if any)."""
        if self.scope is not None:
            return [NamedNode(iri) for iri in self.scope.graphs]
        rows = self.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
        return [row["g"] for row in rows if isinstance(row["g"], NamedNode)]

    def quads_for_pattern(self, subject: Any, predicate: Any, obj: Any, graph_name: Any = None) -> Iterator[Quad]:
        """The quads of the named graphs matching a pattern (None matches anything)."""
        terms = [("s", subject), ("p", predicate), ("o", obj)]
        if any(isinstance(term, BlankNode) for term in (subject, predicate, obj, graph_name)):
            raise ValueError("a remote store cannot look blank nodes up: they are local to each answer")
        pattern = " ".join(f"?{name}" if term is None else str(term) for name, term in terms)
        graph = "?g" if graph_name is None else str(graph_name)
        rows = self.query(f"SELECT * WHERE {{ GRAPH {graph} {{ {pattern} }} }}")
        for row in rows:
            values = [row[name] if term is None else term for name, term in terms]
            yield Quad(*values, row["g"] if graph_name is None else graph_name)

    def _check_syntax(self, query: str, form: str | None, base_iri: str | None) -> None:
        if form != "ASK":
            self._parser.query(query, base_iri=base_iri)  # lazy: parsed, and the solutions never iterated
            return
        # pyoxigraph evaluates an ASK at once: parse it as the SELECT * it is equivalent to, and only
        # if that fails parse the ASK itself, for the error message with the client's own columns.
        keyword = next(t for t in tokenize(query) if t.kind == "word" and t.text.upper() == "ASK")
        try:
            self._parser.query(f"{query[:keyword.start]}SELECT *{query[keyword.end:]}", base_iri=base_iri)
        except SyntaxError:
            self._parser.query(query, base_iri=base_iri)
            raise

    def _deadline(self) -> float:
        return self.deadline if self.deadline is not None else time.monotonic() + self.timeout

    def _post(self, params: list[tuple[str, str]], accept: str) -> httpx.Response:
        deadline = self._deadline()
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise QueryTimeout("the query did not finish within its time limit")
        request = self.client.build_request(
            "POST", self.endpoint, content=urlencode(params).encode(), timeout=httpx.Timeout(remaining),
            headers={"Accept": accept, "Content-Type": "application/x-www-form-urlencoded"})
        try:
            response = self.client.send(request, stream=True)
        except httpx.TimeoutException:
            raise QueryTimeout(f"the store did not answer within {remaining:.3g} s") from None
        except httpx.HTTPError as error:
            raise RemoteStoreUnavailable(f"cannot reach the store at {self.endpoint}: {error}") from None
        if response.status_code == 200:
            if response.headers.get("x-sql-state", "").upper() == "S1TAT":
                response.close()  # Virtuoso's "anytime" answer: what it found before its own limit, not all of it
                raise StoreTimeLimit("the store's own time limit cut the answer short")
            return response
        try:
            message = response.read()[:500].decode("utf-8", "replace").strip()
        except httpx.HTTPError:
            message = ""
        finally:
            response.close()
        if STORE_TIME_LIMIT.search(message):
            raise StoreTimeLimit(f"the store's own time limit ended the query ({' '.join(message.split())[:160]})")
        if response.status_code == 400:  # our parser accepted it: the store has other limits
            raise ValueError(f"the store refused the query: {message}")
        raise RemoteStoreUnavailable(f"the store answered {response.status_code}: {message}")


class GraphScope:
    """The graphs of a remote store that are served: those whose IRI starts with `prefix`.

    The list is read when made and again every SCOPE_REFRESH_SECONDS in a background thread, page by
    page (a store such as Virtuoso cuts long answers at its own row cap, silently), with GROUP BY ?g,
    which Virtuoso answers from its graph index (0.08 s at 0.5 M quads, where SELECT DISTINCT ?g took
    21 s). `confines` says whether the store holds any other graph: only then must each query carry the
    dataset.

    A dataset listing thousands of graphs makes Virtuoso a hundred times slower (5 s a query at 1,002
    graphs) and it echoes each one in a response header, past what an HTTP client reads; so on Virtuoso a
    query with no dataset of its own instead names the few other graphs to leave out (Virtuoso's
    `define input:default-graph-exclude` and `named-graph-exclude`, which only we write: clients' pragmas
    are refused). Under exclusions Virtuoso 7.2 finds nothing in `GRAPH <iri>` (and counts that as 1)
    unless <iri> is among the protocol's named graphs: a query naming its graphs gets those as named
    graphs and default-graph exclusions; one with `GRAPH ?g` gets exclusions of both kinds; one with both
    gets the list. Queries with a path modifier (`*`, `+`, `?`) get the
    list: under two or more exclusions Virtuoso 7.2 loses the solutions of `?a :p ?b ; :q ?c . ?c :r ?d .
    ?b skos:broader* ?e` (queries/appeals.rq).
    """

    def __init__(self, prefix: str, store: RemoteStore, refresh_seconds: float = SCOPE_REFRESH_SECONDS) -> None:
        self.prefix, self._store = prefix, store
        self.graphs: list[str] = []
        self.confines = True
        self.excluded: list[str] | None = None  # the other graphs, when the store can leave them out (Virtuoso)
        self.refresh()
        if refresh_seconds > 0:
            threading.Thread(target=self._refresh_every, args=(refresh_seconds,), daemon=True,
                             name="graph-scope").start()

    def holds(self, iri: str) -> bool:
        return iri.startswith(self.prefix)

    def refresh(self) -> None:
        """Read the store's graphs: those under the prefix are served, and the others are counted."""
        in_store = self._pages("SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g")
        graphs = [iri for iri in in_store if self.holds(iri)]
        others = [iri for iri in in_store if not self.holds(iri)]
        server = self._store.client.get(self._store.endpoint, params={"query": "ASK {}"}).headers.get("server", "")
        excludable = server.startswith("Virtuoso/") and len(others) <= EXCLUDED_MAX
        self.graphs = graphs
        self.confines, self.excluded = bool(others), others if excludable else None

    def _pages(self, query: str) -> list[str]:
        """The IRIs bound to ?g by `query` (ordered, without LIMIT), read SCOPE_PAGE rows at a time."""
        found: list[str] = []
        while True:
            page = [row["g"].value for row in self._store.query(f"{query} LIMIT {SCOPE_PAGE} OFFSET {len(found)}")
                    if isinstance(row["g"], NamedNode)]
            found += page
            if len(page) < SCOPE_PAGE:
                return found

    def confine(self, query: str, default: list[str], named: list[str],
                given: bool) -> tuple[str, str, list[str], list[str]]:
        """Pragmas, `query` and the dataset to send with it: on a Virtuoso holding few other graphs, those left
        out (see the class docstring); else the graphs asked for that are in scope, or without any the
        scope's graphs (as named graphs only when the query has GRAPH in it).

        FROM clauses are taken out of the text (Virtuoso lets them win over the protocol's dataset), and
        `GRAPH <iri>` naming a graph outside the named graphs names EMPTY_GRAPH instead, which is among
        them and holds nothing (Virtuoso counts one solution for COUNT(*) over a graph outside them).
        """
        tokens = tokenize(query)
        graph_names = [tokens[i + 1] for i, t in enumerate(tokens[:-1]) if t.kind == "word" and t.text.upper() == "GRAPH"]
        constant = [name.kind in ("iri", "pname") for name in graph_names]
        if not given and self.excluded is not None and not _has_path_modifier(tokens):
            if all(constant):  # no GRAPH, or only GRAPH <iri>
                named = [*(iri for _, iri in _graph_constants(tokens) if self.holds(iri)), EMPTY_GRAPH] if constant else []
                return self._exclusions("default"), _confined_text(query, set(named)), [], named
            if not any(constant):
                return self._exclusions("default", "named"), query, [], []
        uses_graph = bool(graph_names)
        if given:
            default = [iri for iri in default if self.holds(iri)] or [EMPTY_GRAPH]
            named = [iri for iri in named if self.holds(iri)]
        else:
            default, named = self.graphs or [EMPTY_GRAPH], self.graphs if uses_graph else []
        named = [*named, EMPTY_GRAPH]
        return "", _confined_text(query, set(named)), default, named

    def _exclusions(self, *kinds: str) -> str:
        """Virtuoso's pragmas leaving the other graphs out of the default graph and/or the named graphs."""
        return "".join(f"define input:{kind}-graph-exclude <{iri}>\n" for iri in self.excluded or () for kind in kinds)

    def _refresh_every(self, seconds: float) -> None:
        while True:
            time.sleep(seconds)
            try:
                self.refresh()
            except Exception as error:  # keep the last list; the next round tries again
                log.warning("could not re-read the served graphs from the store: %s", error)


class _ResponseReader(io.RawIOBase):
    """A streamed response body as a binary file for pyoxigraph's parsers, cut off at `deadline`."""

    def __init__(self, response: httpx.Response, deadline: float) -> None:
        self._response, self._deadline = response, deadline
        self._chunks = response.iter_raw(_CHUNK) if response.headers.get("content-encoding") is None \
            else response.iter_bytes(_CHUNK)
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if not self._pending:
            if time.monotonic() > self._deadline:
                self.close()
                raise QueryTimeout("the store's answer did not arrive within the time limit")
            try:
                self._pending = next(self._chunks, b"")
            except httpx.TimeoutException:
                self.close()
                raise QueryTimeout("the store's answer did not arrive within the time limit") from None
            except httpx.HTTPError as error:
                self.close()
                raise RemoteStoreUnavailable(f"the store's answer was cut off: {error}") from None
            if not self._pending:
                self.close()
                return 0
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

    def close(self) -> None:
        if not self.closed:
            self._response.close()
        super().close()


def with_explicit_separators(query: str) -> str:
    """`query` with the default separator (one space) written into every GROUP_CONCAT that has none: the same
    query, which Virtuoso 7.2 also runs (it fails on GROUP_CONCAT(DISTINCT ?x) without a separator)."""
    tokens = tokenize(query)
    inserts: list[int] = []
    for i, token in enumerate(tokens):
        if token.kind != "word" or token.text.upper() != "GROUP_CONCAT" or i + 1 >= len(tokens) or tokens[i + 1].text != "(":
            continue
        level, has_separator = 0, False
        for inner in tokens[i + 1:]:
            if inner.text in ("(", ")"):
                level += 1 if inner.text == "(" else -1
                if level == 0:
                    if not has_separator:
                        inserts.append(inner.start)
                    break
            elif level == 1 and inner.kind == "word" and inner.text.upper() == "SEPARATOR":
                has_separator = True
    for position in reversed(inserts):
        query = f'{query[:position]}; separator=" "{query[position:]}'
    return query


def _has_path_modifier(tokens: list) -> bool:
    """Whether a `*`, `+` or `?` follows an IRI, a prefixed name or `)`: a property path's modifier (or, after
    `)`, arithmetic, which only costs the faster path)."""
    return any(token.kind == "punct" and token.text in "*+?" and (before.kind in ("iri", "pname") or before.text == ")")
               for before, token in zip(tokens, tokens[1:]))


def _confined_text(query: str, named: set[str]) -> str:
    """`query` without FROM / FROM NAMED clauses, and with `GRAPH <iri>` outside `named` made `GRAPH <EMPTY_GRAPH>`."""
    tokens = tokenize(query)
    edits: list[tuple[int, int, str]] = []
    for i, token in enumerate(tokens[:-1]):
        if token.kind == "word" and token.text.upper() == "FROM" and token.depth == 0:
            last = i + 2 if tokens[i + 1].text.upper() == "NAMED" and i + 2 < len(tokens) else i + 1
            edits.append((token.start, tokens[last].end, " "))
    edits += [(name.start, name.end, f"<{EMPTY_GRAPH}>") for name, iri in _graph_constants(tokens) if iri not in named]
    for start, end, replacement in sorted(edits, reverse=True):
        query = f"{query[:start]}{replacement}{query[end:]}"
    return query


def _graph_constants(tokens: list[Token]) -> list[tuple[Token, str]]:
    """Each IRI or prefixed name after GRAPH, with the IRI it stands for (by the query's PREFIX declarations)."""
    prefixes: dict[str, str] = {}
    found: list[tuple[Token, str]] = []
    for i, token in enumerate(tokens[:-1]):
        word = token.text.upper() if token.kind == "word" else ""
        following = tokens[i + 1]
        if word == "PREFIX" and following.kind == "pname" and i + 2 < len(tokens) and tokens[i + 2].kind == "iri":
            prefixes[following.text[:-1]] = tokens[i + 2].text[1:-1]
        elif word == "GRAPH" and following.kind in ("iri", "pname"):
            prefix, _, local = following.text.partition(":")
            found.append((following, following.text[1:-1] if following.kind == "iri" else prefixes.get(prefix, "\0") + local))
    return found


def _graph_iri(graph: Any) -> str:
    if isinstance(graph, NamedNode):
        return graph.value
    if isinstance(graph, DefaultGraph):
        raise ValueError("the default graph cannot be named in a remote dataset")
    return str(graph)


class RemoteQueryExecutor:
    """Runs `evaluate(store)` callables in threads against a remote store, each under its time limit.

    Unlike kg.sparql.executor.QueryExecutor there are no runaways: a thread waits on a socket whose
    timeout is the query's deadline, so it is free again when its caller stops waiting.
    """

    local = False  # evaluations wait on the network: never run one on the event loop

    def __init__(self, endpoint: str, threads: int, limit: float, graph_prefix: str | None = None,
                 graph_listing: str | None = None) -> None:
        self.store = RemoteStore(endpoint, store_client(threads), limit)
        if graph_prefix is not None:
            self.store.scope = GraphScope(graph_prefix, RemoteStore(endpoint, self.store.client, max(limit, SCOPE_TIMEOUT)),
                                          )
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="remote-query")

    async def run(self, evaluate: Callable[[RemoteStore], T], timeout: float) -> T:
        """Evaluate `evaluate(store)` in a thread; QueryTimeout after `timeout` seconds."""
        store = self.store.until(time.monotonic() + timeout)
        future = asyncio.get_running_loop().run_in_executor(self._pool, evaluate, store)
        try:
            return await asyncio.wait_for(future, timeout)
        except StoreTimeLimit:
            raise
        except (TimeoutError, QueryTimeout):  # the caller's deadline, or the store request's (a hair earlier)
            raise QueryTimeout(f"the query did not finish within its time limit of {timeout:g} s") from None


def check_union_default_graph(endpoint: str, timeout: float = 30) -> None:
    """RemoteStoreUnavailable unless the store answers and its default graph holds its named graphs' triples."""
    with store_client(1) as client:
        store = RemoteStore(endpoint, client, timeout)
        sample = list(store.query("SELECT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } FILTER(isIRI(?s)) } LIMIT 1"))
        if not sample:
            return  # an empty store: nothing to check yet
        row = sample[0]
        if not bool(store.query(f"ASK {{ {row['s']} {row['p']} {row['o']} }}")):
            raise RemoteStoreUnavailable(
                f"the default graph of {endpoint} is not the union of its named graphs; set the store up so "
                "that it is (oxigraph serve --union-default-graph, Fuseki tdb2:unionDefaultGraph true)")
