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
  `named-graph-uri` parameters.

Credentials come from the environment only (see kg.integrations.graph_store.credentials_from_environment).
"""
from __future__ import annotations

import asyncio
import io
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
from kg.sparql.policy import dataset_clause, query_form, tokenize, with_values

T = TypeVar("T")
RESULTS_ACCEPT = "application/sparql-results+json, application/sparql-results+xml;q=0.9"
GRAPH_ACCEPT = "application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.8"
_CHUNK = 1 << 16


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

    def __init__(self, endpoint: str, client: httpx.Client, timeout: float, deadline: float | None = None) -> None:
        self.endpoint, self.client, self.timeout, self.deadline = endpoint, client, timeout, deadline
        self._parser = Store()  # empty and in memory: parses queries, never evaluates one

    def until(self, deadline: float) -> RemoteStore:
        """A view of this store whose requests all end by `deadline`."""
        return RemoteStore(self.endpoint, self.client, self.timeout, deadline)

    def query(self, query: str, *, base_iri: str | None = None, use_default_graph_as_union: bool = False,
              default_graph: Any = None, named_graphs: Iterable[Any] | None = None,
              substitutions: dict[Variable, Any] | None = None, **_: Any) -> QuerySolutions | QueryBoolean | Iterator[Triple]:
        """Parse `query` here (SyntaxError as pyoxigraph reports it), then evaluate it on the store."""
        if substitutions:
            query = with_values(query, {variable.value: str(term) for variable, term in substitutions.items()})
        form = query_form(query)
        self._check_syntax(query, form, base_iri)
        params: list[tuple[str, str]] = [("query", query)]
        if default_graph is None and named_graphs is None:
            default_graph, named_graphs = dataset_clause(query)  # FROM / FROM NAMED, if any
        default_graph = default_graph if isinstance(default_graph, list) else [default_graph] if default_graph else []
        params += [("default-graph-uri", _graph_iri(graph)) for graph in default_graph]
        params += [("named-graph-uri", _graph_iri(graph)) for graph in named_graphs or ()]
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
        """The named graphs holding at least one triple."""
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
            return response
        try:
            message = response.read()[:500].decode("utf-8", "replace").strip()
        except httpx.HTTPError:
            message = ""
        finally:
            response.close()
        if response.status_code == 400:  # our parser accepted it: the store has other limits
            raise ValueError(f"the store refused the query: {message}")
        raise RemoteStoreUnavailable(f"the store answered {response.status_code}: {message}")


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

    def __init__(self, endpoint: str, threads: int, limit: float) -> None:
        self.store = RemoteStore(endpoint, store_client(threads), limit)
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="remote-query")

    async def run(self, evaluate: Callable[[RemoteStore], T], timeout: float) -> T:
        """Evaluate `evaluate(store)` in a thread; QueryTimeout after `timeout` seconds."""
        store = self.store.until(time.monotonic() + timeout)
        future = asyncio.get_running_loop().run_in_executor(self._pool, evaluate, store)
        try:
            return await asyncio.wait_for(future, timeout)
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
