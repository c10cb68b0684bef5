"""`kg publish --to URL`: load a validated release into any store that speaks the SPARQL 1.1 Graph Store
Protocol (Oxigraph, Fuseki, GraphDB, Virtuoso, Neptune), one named graph at a time.

Each graph is sent with one `PUT ?graph=<iri>`, which the protocol defines as replacing that graph
as a whole: readers of the store see a graph's old content or its new content, never a mix, and a
PUT the store refuses or that is cut off leaves the previous graph in place. A failure names the graph,
why, and how many graphs were replaced before it.

Credentials come from the environment only, never from the command line (where `ps` would show
them): `KG_STORE_TOKEN` (bearer) and/or `KG_STORE_USER` + `KG_STORE_PASSWORD`. The scheme is the one
the store's `WWW-Authenticate` challenge asks for (Digest, as Virtuoso's /sparql-graph-crud-auth does;
Bearer; Basic), so nothing is sent before the store asks, and then only in the form it wants.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path
from typing import Generator, Iterator
from urllib.parse import urlsplit

import httpx
from pyoxigraph import RdfFormat, parse, serialize

N_TRIPLES = "application/n-triples"


class RemoteStoreError(Exception):
    """The remote store refused or could not be reached; the message says which graph and why."""


@dataclass(frozen=True)
class GraphUpload:
    graph: str
    triples: int


def check_store_url(url: str, option: str) -> None:
    """RemoteStoreError unless `url` is an http(s) URL with no credentials in it (`ps` would show them)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RemoteStoreError(f"{option} needs an http(s) URL, not {url!r}")
    if parts.username or parts.password:
        raise RemoteStoreError(f"{option}: put credentials in KG_STORE_USER and KG_STORE_PASSWORD "
                               "(or KG_STORE_TOKEN), not in the URL")


class StoreAuth(httpx.Auth):
    """The store's credentials, sent in the scheme its first 401 challenge asks for, then on every request.

    Digest (user and password, answered by httpx.DigestAuth), Bearer (token) and Basic (user and
    password), preferred in that order when a challenge offers several; a 401 without a challenge gets
    the bearer token, else Basic. A challenge none of the credentials can answer leaves the 401 standing.
    """

    requires_request_body = True  # a request may be sent twice: once bare, once answering the challenge

    def __init__(self, user: str | None, password: str | None, token: str | None) -> None:
        self.user, self.password, self.token = user, password, token
        self.chosen: httpx.Auth | None = None
        self.challenge = ""  # the schemes of the last challenge, for error messages

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        chosen = self.chosen
        if chosen is None:
            response = yield request
            if response.status_code != 401:
                return
            schemes = [value.split(None, 1)[0].lower() for value in response.headers.get_list("www-authenticate")
                       if value.strip()]
            self.challenge = ", ".join(s.capitalize() for s in schemes)
            chosen = self._answer(schemes)
            if chosen is None:
                return
            self.chosen = chosen
        yield from chosen.auth_flow(request)

    def _answer(self, schemes: list[str]) -> httpx.Auth | None:
        password_pair = self.user is not None and self.password is not None
        if "digest" in schemes and password_pair:
            return httpx.DigestAuth(self.user, self.password)
        if self.token and ("bearer" in schemes or not schemes):
            return BearerAuth(self.token)
        if password_pair and ("basic" in schemes or not schemes):
            return httpx.BasicAuth(self.user, self.password)
        return None

    def explain_refusal(self) -> str:
        """Why a 401 stood: what the store asked for and which credentials the environment holds."""
        asked = f"the store asks for {self.challenge} authentication" if self.challenge else "the store gave no challenge"
        if self.chosen is not None:
            return f"{asked}; the credentials from the environment were refused"
        needs = "KG_STORE_TOKEN" if self.challenge.lower() == "bearer" else "KG_STORE_USER and KG_STORE_PASSWORD"
        return f"{asked}; set {needs}"


class BearerAuth(httpx.Auth):
    """`Authorization: Bearer <token>` on every request."""

    def __init__(self, token: str) -> None:
        self.token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


def credentials_from_environment() -> StoreAuth:
    """The store's credentials from KG_STORE_TOKEN, KG_STORE_USER and KG_STORE_PASSWORD (any may be unset)."""
    return StoreAuth(os.environ.get("KG_STORE_USER") or None, os.environ.get("KG_STORE_PASSWORD") or None,
                     os.environ.get("KG_STORE_TOKEN") or None)



def release_graphs(nquads: Path) -> Iterator[tuple[str, bytes, int]]:
    """(graph IRI, N-Triples body, triple count) for each named graph of a canonical N-Quads dump.

    The dump is sorted by graph, so one graph is in memory at a time.
    """
    quads = parse(path=str(nquads), format=RdfFormat.N_QUADS)
    for graph, group in groupby(quads, key=lambda quad: quad.graph_name.value):
        triples = [quad.triple for quad in group]
        yield graph, serialize(triples, format=RdfFormat.N_TRIPLES), len(triples)


def publish_to_store(nquads: Path, graph_store_url: str, timeout: float = 300) -> list[GraphUpload]:
    """Replace every named graph of the release in the store behind `graph_store_url`, one PUT each.

    RemoteStoreError on the first graph the store does not take: the message names it, says why, and
    how many graphs were replaced before it (those after it still hold what they held).
    """
    auth = credentials_from_environment()
    uploads: list[GraphUpload] = []
    with httpx.Client(timeout=timeout, auth=auth, headers={"Content-Type": N_TRIPLES}) as client:
        for graph, body, count in release_graphs(nquads):
            try:
                response = client.put(graph_store_url, params={"graph": graph}, content=body)
            except httpx.HTTPError as error:
                raise RemoteStoreError(_failure(graph, uploads, f"cannot reach {graph_store_url}: "
                                                f"{error or type(error).__name__}")) from None
            if response.status_code not in (200, 201, 204):
                reason = auth.explain_refusal() if response.status_code == 401 else _store_message(response)
                raise RemoteStoreError(_failure(graph, uploads, f"the store answered {response.status_code}: {reason}"))
            uploads.append(GraphUpload(graph, count))
    return uploads


def _failure(graph: str, done: list[GraphUpload], reason: str) -> str:
    """Which graph failed and why; the store keeps that graph's previous content (a PUT is atomic)."""
    return (f"graph <{graph}> was not replaced, the store keeps its previous content: {reason}. "
            f"{len(done)} graph(s) before it were replaced; the ones after it were not sent")


def _store_message(response: httpx.Response) -> str:
    """The store's error text, without its HTML markup, shortened."""
    text = re.sub(r"<[^>]+>", " ", response.text)
    return " ".join(text.split())[:300] or "(no message)"
