"""`kg publish --to URL`: load a validated release into any store that speaks the SPARQL 1.1 Graph Store
Protocol (Oxigraph, Fuseki, GraphDB, Virtuoso, Neptune), one named graph at a time.

Each graph is sent with one `PUT ?graph=<iri>`, which the protocol defines as replacing that graph
as a whole: readers of the store see a graph's old content or its new content, never a mix.
Credentials come from the environment only, never from the command line (where `ps` would show
them): `KG_STORE_TOKEN` (bearer) or `KG_STORE_USER` + `KG_STORE_PASSWORD` (basic).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path
from typing import Iterator
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


def credentials_from_environment() -> httpx.Auth | dict[str, str] | None:
    """Basic or bearer credentials for the store, read from the environment."""
    token = os.environ.get("KG_STORE_TOKEN")
    if token:
        return {"Authorization": f"Bearer {token}"}
    user, password = os.environ.get("KG_STORE_USER"), os.environ.get("KG_STORE_PASSWORD")
    if user and password:
        return httpx.BasicAuth(user, password)
    return None


def release_graphs(nquads: Path) -> Iterator[tuple[str, bytes, int]]:
    """(graph IRI, N-Triples body, triple count) for each named graph of a canonical N-Quads dump.

    The dump is sorted by graph, so one graph is in memory at a time.
    """
    quads = parse(path=str(nquads), format=RdfFormat.N_QUADS)
    for graph, group in groupby(quads, key=lambda quad: quad.graph_name.value):
        triples = [quad.triple for quad in group]
        yield graph, serialize(triples, format=RdfFormat.N_TRIPLES), len(triples)


def publish_to_store(nquads: Path, graph_store_url: str, timeout: float = 300) -> list[GraphUpload]:
    """Replace every named graph of the release in the store behind `graph_store_url`."""
    auth = credentials_from_environment()
    headers = {"Content-Type": N_TRIPLES}
    if isinstance(auth, dict):
        headers |= auth
        auth = None
    uploads = []
    with httpx.Client(timeout=timeout, auth=auth, headers=headers) as client:
        for graph, body, count in release_graphs(nquads):
            try:
                response = client.put(graph_store_url, params={"graph": graph}, content=body)
            except httpx.HTTPError as error:
                raise RemoteStoreError(f"cannot reach {graph_store_url}: {error}") from None
            if response.status_code not in (200, 201, 204):
                raise RemoteStoreError(f"the store answered {response.status_code} for graph <{graph}>: "
                                       f"{response.text[:300].strip()}")
            uploads.append(GraphUpload(graph, count))
    return uploads
