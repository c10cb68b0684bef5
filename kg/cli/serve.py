"""`kg serve`: serve RDF files (`--data`), the published release or a remote store (`--store`) over SPARQL 1.1."""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from kg.server.settings import ServerSettings
from kg.sparql.stores import StoreLoadError, load_data_store

DEFAULTS = ServerSettings()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the `kg serve` options on its subparser."""
    parser.add_argument("--data", nargs="+", type=Path, metavar="FILE",
                        help="serve these RDF files (Turtle, N-Triples, N-Quads, TriG, JSON-LD, RDF/XML) "
                             "instead of the published release")
    parser.add_argument("--store", metavar="URL",
                        help="serve from this SPARQL 1.1 Protocol query endpoint (e.g. Fuseki's /ds/sparql) instead "
                             "of the release; its default graph must be the union of its named graphs. Credentials "
                             "from KG_STORE_TOKEN or KG_STORE_USER + KG_STORE_PASSWORD")
    parser.add_argument("--store-graphs", metavar="IRI",
                        help="with --store, serve only the store's graphs whose IRI starts with this, whatever else it "
                             "holds (default: the release's graph namespace, $KG_BASE_IRI or the default base + graph/)")
    parser.add_argument("--host", default=DEFAULTS.host, help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=DEFAULTS.port,
                        help="port to listen on; 0 picks a free one (default: %(default)s)")
    parser.add_argument("--timeout", type=_positive(float), default=DEFAULTS.timeout,
                        help="most seconds a query may run; clients may ask for less (default: %(default)s)")
    parser.add_argument("--max-results", type=_positive(int), default=DEFAULTS.max_results,
                        help="most rows (SELECT) or triples (CONSTRUCT/DESCRIBE) in a result (default: %(default)s)")
    parser.add_argument("--allow-service-host", action="append", default=[], metavar="HOST",
                        help="allow SERVICE calls to this host (repeatable; none by default)")
    parser.add_argument("--workers", type=_positive(int), default=DEFAULTS.workers,
                        help="server processes (default: one per CPU, at least 2; benchmarks/endpoint/run.py "
                             "--kg-options \"--workers N\" compares counts)")
    parser.add_argument("--result-cache", type=_positive(int, zero_allowed=True), default=DEFAULTS.result_cache >> 20, metavar="MB",
                        help="megabytes of answers each server process keeps to send again to repeated GET queries "
                             "(the store never changes while served); 0 turns it off (default: %(default)s)")
    parser.add_argument("--max-query-memory", type=_positive(int), default=DEFAULTS.max_query_memory >> 20, metavar="MB",
                        help="megabytes one server process may hold; a query that takes it past them is answered 503 and "
                             "the process replaced, so the server holds at most workers x MB (default: %(default)s)")
    parser.add_argument("--request-deadline", type=_positive(float), default=DEFAULTS.request_deadline, metavar="S",
                        help="seconds a client has to send a request's headers and body before its connection is "
                             "closed (default: %(default)s)")
    parser.add_argument("--public-url", metavar="URL",
                        help="the absolute URL clients reach this server at (e.g. https://kg.example.org behind a reverse "
                             "proxy), used for every absolute URL the server writes, never the request's Host header "
                             "(default: the listening address)")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="where stores loaded from --data are kept (default: ~/.cache/diplomacy-kg/stores)")
    parser.add_argument("--build-dir", type=Path, default=None,
                        help="build folder of the published release (default: the project's build/)")
    parser.add_argument("--queries", type=Path, default=None, metavar="DIR",
                        help="folder of named queries (*.rq) served at /queries (default: queries/ of the project)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Load or locate the store, bind the socket, and supervise the worker processes."""
    from kg.sparql.remote import RemoteStoreUnavailable
    from kg.integrations.graph_store import RemoteStoreError
    from kg.server.views.named_queries import NamedQueryError, load_named_queries
    from kg.server.supervisor import Supervisor, bind_listener

    if args.store and args.data:
        print("kg serve: give --data or --store, not both", file=sys.stderr)
        return 1
    try:
        public_url = _public_url(args.public_url) if args.public_url else None
    except ValueError as error:
        print(f"kg serve: --public-url: {error}", file=sys.stderr)
        return 1
    try:
        if args.store:
            store_path = None
            _check_store(args.store, args.timeout)
        else:
            store_path = load_data_store(args.data, args.cache_dir) if args.data else _release_store(args.build_dir)
            if not args.data:
                print(f"kg serve: serving release {store_path.parent.name}", file=sys.stderr, flush=True)
    except (StoreLoadError, ReleaseUnavailable, RemoteStoreUnavailable, RemoteStoreError) as error:
        print(f"kg serve: {error}", file=sys.stderr)
        return 1
    settings = ServerSettings(
        host=args.host,
        port=args.port,
        timeout=args.timeout,
        max_results=args.max_results,
        allow_service_hosts=frozenset(host.lower() for host in args.allow_service_host),
        workers=args.workers,
        result_cache=args.result_cache << 20,
        release=str(store_path.parent) if store_path and not args.data else None,
        queries=str(_queries_folder(args.queries)),
        store=args.store,
        store_graphs=(args.store_graphs or _release_graph_namespace()) if args.store else None,
        data_files=tuple(path.name for path in args.data or ()),
        max_query_memory=args.max_query_memory << 20,
        request_deadline=args.request_deadline,
        public_url=public_url,
    )
    try:
        load_named_queries(Path(settings.queries))  # a bad query header stops here, not in each worker
    except NamedQueryError as error:
        print(f"kg serve: {error}", file=sys.stderr)
        return 1
    try:
        listener = bind_listener(settings.host, settings.port)
    except OSError as error:
        print(f"kg serve: cannot listen on {settings.host}:{settings.port}: {error.strerror}", file=sys.stderr)
        return 1
    host, port = listener.getsockname()[:2]
    shown_host = f"[{host}]" if ":" in host else host
    settings = replace(settings, public_url=settings.public_url or f"http://{shown_host}:{port}")
    ready = f"kg serve: SPARQL endpoint at {settings.public_url}/sparql ({settings.workers} workers)"
    return Supervisor(store_path, settings, listener).run(ready)


def _public_url(url: str) -> str:
    """`url` as scheme://host[:port][/path] without a trailing slash; ValueError unless absolute http(s)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(f"give an absolute http(s) URL such as https://kg.example.org, not {url!r}")
    if parts.path not in ("", "/"):
        raise ValueError(f"serving under a path ({parts.path}) is not supported; give the URL of the host, not {url!r}")
    return f"{parts.scheme}://{parts.netloc}"


def _queries_folder(given: Path | None) -> Path:
    """The named queries' folder: the option, else queries/ of the project (see kg.cli.project)."""
    from kg.cli.project import find_project

    return (given or find_project().root / "queries").resolve()


def _release_graph_namespace() -> str:
    """Where the release's named graphs are: graph/ under the base IRI ($KG_BASE_IRI or the default)."""
    from kg.rdf.vocabulary import DEFAULT_BASE

    return os.environ.get("KG_BASE_IRI", DEFAULT_BASE) + "graph/"


def _check_store(url: str, timeout: float) -> None:
    """RemoteStoreError or RemoteStoreUnavailable unless `url` is a usable store: no credentials in it,
    reachable, and with the union of its named graphs as default graph."""
    from kg.sparql.remote import check_union_default_graph
    from kg.integrations.graph_store import check_store_url

    check_store_url(url, "--store")
    check_union_default_graph(url, timeout)


class ReleaseUnavailable(Exception):
    """There is no published release to serve yet."""


def _release_store(build_dir: Path | None) -> Path:
    """Build the release if it is missing or stale (the same gate as `kg build`) and return its store.

    When the build fails, the last complete release is served (with the reasons on stderr), so a bad
    edit never takes the endpoint down; with no release at all there is nothing to serve. What it does
    is said on stderr as it goes (a first build of a large corpus takes minutes).
    """
    from kg.cli.progress import count_articles, progress
    from kg.cli.project import default_build_dir, find_project
    from kg.pipeline.build import BuildFilesError, ValidationFailed, ensure_release
    from kg.release.layout import current_release
    from kg.seeds.reader import SeedError
    from kg.validate.shacl import ShapesError

    project = find_project()
    build_dir = (build_dir or default_build_dir()).resolve()
    try:
        with progress("kg serve", f"checking the release in {build_dir} against the {count_articles(project.articles)} "
                                  f"article(s) of {project.root}; building it if missing or stale"):
            return ensure_release(build_dir, project, os.environ.get("KG_BASE_IRI")).store_path
    except (SeedError, ValidationFailed, ShapesError, BuildFilesError) as error:
        previous = current_release(build_dir)
        if previous is None:
            raise ReleaseUnavailable(f"the build failed and no release was published before:\n{error}") from None
        print(f"kg serve: the build failed; serving the last complete release {previous.id}:\n{error}",
              file=sys.stderr)
        return previous.store_path


def _positive(kind: Callable[[str], float], zero_allowed: bool = False) -> Callable[[str], float]:
    """An argparse type that converts with `kind` and refuses negative values, and zero unless `zero_allowed`."""
    def parse(text: str) -> float:
        value = kind(text)
        if value < 0 or (value == 0 and not zero_allowed):
            raise argparse.ArgumentTypeError(f"must be {'zero or more' if zero_allowed else 'positive'}, not {text}")
        return value
    parse.__name__ = kind.__name__
    return parse
