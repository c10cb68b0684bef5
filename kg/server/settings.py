"""Operator settings of the server, shared by the CLI, the supervisor and each worker process."""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class ServerSettings:
    """What an operator can set with `kg serve` options; JSON-serializable for worker processes."""

    host: str = "127.0.0.1"
    port: int = 8000
    timeout: float = 10.0  # seconds; the most any query may run (clients may ask for less)
    max_results: int = 10_000  # rows of a SELECT, triples of a CONSTRUCT/DESCRIBE
    allow_service_hosts: frozenset[str] = field(default_factory=frozenset)  # SERVICE targets allowed
    workers: int = field(default_factory=lambda: max(2, os.cpu_count() or 1))  # server processes: one per CPU, at least 2
    threads: int = 16  # query threads per worker process
    max_query_bytes: int = 1 << 20  # largest request body accepted
    max_query_memory: int = 1 << 30  # bytes one worker process may hold; past it the query gets 503 and the worker is replaced
    request_deadline: float = 10.0  # seconds a client has to send a request's headers and body
    public_url: str | None = None  # absolute URL the server is reached at (scheme://host[:port]); None: the listening address
    result_cache: int = 32 << 20  # bytes of answers each worker keeps to send again (0: none; see kg.server.sparql)
    release: str | None = None  # the published release folder served (dumps, pages); None with --data
    queries: str | None = None  # folder of the named queries (*.rq) served at /queries
    store: str | None = None  # SPARQL 1.1 Protocol query URL of a remote store served instead (kg serve --store)
    store_graphs: str | None = None  # IRI prefix of the remote store's graphs that are served (kg serve --store-graphs)
    data_files: tuple[str, ...] = ()  # names of the RDF files served (kg serve --data), shown on the home page

    def to_json(self) -> str:
        data = asdict(self)
        data["allow_service_hosts"] = sorted(self.allow_service_hosts)
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> ServerSettings:
        data = json.loads(text)
        data["allow_service_hosts"] = frozenset(data["allow_service_hosts"])
        data["data_files"] = tuple(data.get("data_files", ()))
        return cls(**data)
