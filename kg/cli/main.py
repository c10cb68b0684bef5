"""The `kg` command: one subcommand per stage of the data flow."""
from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date
from pathlib import Path

from kg.rdf.vocabulary import DEFAULT_BASE

EXIT_OK, EXIT_FAILED, EXIT_UNREADABLE = 0, 1, 2


def add_build_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--build-dir", type=Path, default=None,
                        help="where releases are written (default: the project's build/)")
    parser.add_argument("--base", default=os.environ.get("KG_BASE_IRI", DEFAULT_BASE),
                        help=f"base IRI of published resources (default: $KG_BASE_IRI or {DEFAULT_BASE})")


def run_build(args: argparse.Namespace) -> int:
    from kg.cli.progress import count_articles, progress
    from kg.cli.project import default_build_dir, find_project
    from kg.pipeline.build import BuildFilesError, ValidationFailed, build
    from kg.rdf.vocabulary import Iris
    from kg.seeds.reader import SeedError
    from kg.validate.shacl import ShapesError

    project = find_project()
    build_dir = (args.build_dir or default_build_dir()).resolve()
    try:
        timings: dict[str, float] = {}
        articles = count_articles(project.articles)
        with progress("kg build", f"building {articles} article(s) of {project.root} into {build_dir} "
                                  "(unchanged articles come from the cache)", timings):
            release = build(project, build_dir, Iris(args.base), timings)
    except SeedError as error:
        print(f"kg build: the seeds have {len(error.problems)} problem(s); nothing was published:", file=sys.stderr)
        print(error, file=sys.stderr)
        return EXIT_FAILED
    except ValidationFailed as error:
        print(f"kg build: the graph does not conform to the shapes ({len(error.violations)} violation(s)); "
              "nothing was published:", file=sys.stderr)
        print(error, file=sys.stderr)
        return EXIT_FAILED
    except ShapesError as error:
        print(f"kg build: the shapes cannot be used; nothing was published:\n{error}", file=sys.stderr)
        return EXIT_FAILED
    except BuildFilesError as error:
        print(f"kg build: {error}; nothing was published", file=sys.stderr)
        return EXIT_UNREADABLE
    manifest = release.manifest
    print(f"release {release.id}: {manifest['quads']} quads from {manifest['article_count']} article(s), "
          f"conforms to the shapes; published in {release.path}")
    if args.timings:
        print("timings: " + json.dumps({stage: round(seconds, 3) for stage, seconds in timings.items()}))
    return EXIT_OK


def run_validate(args: argparse.Namespace) -> int:
    from kg.cli.project import find_project
    from kg.validate.engines import ENGINES
    from kg.validate.shacl import (ShapesError, UnreadableGraph, UnsupportedShapes, read_graph_files,
                                   validate_dataset, write_report_turtle)

    project = find_project()
    shapes_dir = args.shapes or project.shapes
    if not any(shapes_dir.glob("*.ttl")):
        print(f"kg validate: no shapes (*.ttl) in {shapes_dir}; give --project, set KG_PROJECT or give --shapes",
              file=sys.stderr)
        return EXIT_UNREADABLE
    try:
        quads = list(read_graph_files(args.files))
    except UnreadableGraph as error:
        print(f"kg validate: {error}", file=sys.stderr)
        return EXIT_UNREADABLE
    if not quads:
        print(f"kg validate: {', '.join(str(p) for p in args.files)} hold(s) no triples: nothing to validate",
              file=sys.stderr)
        return EXIT_UNREADABLE
    read = len(quads)
    ontology_dir = None if args.no_ontology else (args.ontology or project.ontology)
    if ontology_dir is not None:
        try:
            quads += ontology_quads_unless_present(quads, ontology_dir)
        except UnreadableGraph as error:
            print(f"kg validate: the ontology: {error}", file=sys.stderr)
            return EXIT_UNREADABLE
    engine = ENGINES[args.engine]
    try:
        shapes = engine.load(shapes_dir)
    except UnsupportedShapes as error:
        print(f"kg validate: the {engine.name} engine cannot evaluate these shapes exactly: {error}\n"
              "Use --engine pyshacl, which evaluates all of SHACL.", file=sys.stderr)
        return EXIT_UNREADABLE
    except ShapesError as error:
        print(f"kg validate: the shapes cannot be used: {error}", file=sys.stderr)
        return EXIT_UNREADABLE
    validations = validate_dataset(quads, shapes, engine)
    if args.report:
        try:
            write_report_turtle(validations, args.report)
        except OSError as error:
            print(f"kg validate: cannot write the report to {args.report}: {error.strerror or error}", file=sys.stderr)
            return EXIT_UNREADABLE
    violations = sorted({v for _, result in validations if not result.conforms for v in result.violations},
                        key=lambda v: v.sort_key())
    files = ", ".join(str(p) for p in args.files)
    if not violations:
        parts = "as one graph" if len(validations) == 1 else \
            f"the shared graphs once, then {len(validations) - 1} article graph(s) with the shared triples they need"
        added = f", with the ontology's {len(quads) - read} quads" if len(quads) > read else ""
        print(f"conforms: {files} ({read} quads{added}; validated {parts})")
        return EXIT_OK
    print(f"does not conform: {files}: {len(violations)} violation(s)")
    for violation in violations:
        print(violation)
    return EXIT_FAILED


ONTOLOGY_GRAPH_IRI = "urn:x-kg:validate:ontology"  # the graph the shipped ontology is added in, apart from the input


def ontology_quads_unless_present(quads: list, ontology_dir: Path) -> list:
    """The ontology's quads (ontology_dir/*.ttl, in a graph of their own) when the input does not hold its
    class hierarchy already: shapes that target a class (sh:targetClass dipl:Event) reach its subclasses'
    instances (a dipl:Summit) only through rdfs:subClassOf, which a data file alone seldom carries."""
    from pyoxigraph import NamedNode, Quad

    from kg.rdf.vocabulary import PREFIXES
    from kg.validate.shacl import read_graph_files

    subclass_of = PREFIXES["rdfs"] + "subClassOf"
    if any(q.predicate.value == subclass_of for q in quads):
        return []
    graph = NamedNode(ONTOLOGY_GRAPH_IRI)
    return [Quad(q.subject, q.predicate, q.object, graph)
            for q in read_graph_files(sorted(ontology_dir.glob("*.ttl")))]


def run_export_quickstatements(args: argparse.Namespace) -> int:
    from kg.cli.project import default_build_dir
    from kg.release.layout import current_release
    from kg.sparql.stores import open_read_only
    from kg.integrations.quickstatements import export_quickstatements, retrieved_date

    args.build_dir = args.build_dir or default_build_dir()
    release = current_release(args.build_dir.resolve())
    if release is None:
        print(f"kg export: no published release in {args.build_dir}; run `kg build` first", file=sys.stderr)
        return EXIT_FAILED
    store = open_read_only(release.store_path)
    exported = export_quickstatements(store, args.retrieved or retrieved_date(store))
    if args.output:
        args.output.write_text(exported.text(), encoding="utf-8")
    else:
        sys.stdout.write(exported.text())
    print(exported.summary(), end="", file=sys.stderr)
    return EXIT_OK


def run_publish(args: argparse.Namespace) -> int:
    from kg.cli.project import default_build_dir, find_project
    from kg.pipeline.build import ValidationFailed, ensure_release
    from urllib.parse import urlsplit

    from kg.integrations.graph_store import RemoteStoreError, check_store_url, publish_to_store
    from kg.seeds.reader import SeedError

    try:
        check_store_url(args.to, "--to")  # before building: a URL with credentials is refused outright
        release = ensure_release((args.build_dir or default_build_dir()).resolve(), find_project(), args.base)
        if args.bulk:
            from kg.integrations.virtuoso_bulk import bulk_load

            uploads = bulk_load(release.dumps / "graph.nq", args.bulk, f"{urlsplit(args.to).hostname}:{args.isql_port}")
        else:
            uploads = publish_to_store(release.dumps / "graph.nq", args.to)
    except (SeedError, ValidationFailed) as error:
        print(f"kg publish: the build failed; nothing was sent:\n{error}", file=sys.stderr)
        return EXIT_FAILED
    except RemoteStoreError as error:
        print(f"kg publish: {error}", file=sys.stderr)
        return EXIT_FAILED
    print(f"release {release.id}: replaced {len(uploads)} graph(s), {sum(u.triples for u in uploads)} triples, "
          f"in {args.to}")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    from kg import __version__
    from kg.cli.project import PROJECT_VARIABLE

    parser = argparse.ArgumentParser(prog="kg", description=__doc__)
    parser.add_argument("--version", action="version", version=f"kg (diplomacy-kg) {__version__}")
    parser.add_argument("--project", type=Path, metavar="DIR",
                        help="the project folder (ontology/, shapes/, queries/, seeds/) to work on; default: "
                             f"${PROJECT_VARIABLE}, else the current folder if it is one, else the source tree "
                             "kg is installed from")
    commands = parser.add_subparsers(dest="command", required=True)

    build_parser = commands.add_parser("build", help="map the seeds to RDF, validate and publish a release")
    add_build_options(build_parser)
    build_parser.add_argument("--timings", action="store_true",
                              help="also print the seconds spent in each stage (JSON), as the benchmarks read them")
    build_parser.set_defaults(run=run_build)

    validate_parser = commands.add_parser("validate", help="validate graph files against the SHACL shapes")
    validate_parser.add_argument("files", nargs="+", type=Path,
                                 help="Turtle, N-Triples, N-Quads, TriG, JSON-LD or RDF/XML files (.gz allowed)")
    validate_parser.add_argument("--shapes", type=Path, help="folder of SHACL shapes (default: the project's shapes/)")
    validate_parser.add_argument("--ontology", type=Path, metavar="DIR",
                                 help="folder of the ontology (*.ttl) added to the data for its class hierarchy, "
                                      "unless the data has one (default: the project's ontology/)")
    validate_parser.add_argument("--no-ontology", action="store_true",
                                 help="validate the files alone, without the ontology's class hierarchy")
    validate_parser.add_argument("--report", type=Path, help="also write the SHACL validation report (Turtle) here")
    validate_parser.add_argument("--engine", choices=("compiled", "pyshacl"), default="compiled",
                                 help="compiled: SHACL compiled to SPARQL, fast, refuses shapes it cannot evaluate "
                                      "exactly; pyshacl: all of SHACL, slower (default: %(default)s)")
    validate_parser.set_defaults(run=run_validate)

    export_parser = commands.add_parser("export", help="export the published graph for other tools")
    exports = export_parser.add_subparsers(dest="format", required=True)
    quickstatements_parser = exports.add_parser(
        "quickstatements", help="QuickStatements V1 commands proposing referenced statements to Wikidata, "
                                "for human review (unexpressible facts are summarized on stderr)")
    quickstatements_parser.add_argument("--build-dir", type=Path, default=None,
                                        help="build folder of the published release (default: the project's build/)")
    quickstatements_parser.add_argument("--retrieved", type=date.fromisoformat, metavar="YYYY-MM-DD",
                                        help="the S813 retrieved date (default: the release's issue date)")
    quickstatements_parser.add_argument("-o", "--output", type=Path, help="write the commands here, not to stdout")
    quickstatements_parser.set_defaults(run=run_export_quickstatements)

    publish_parser = commands.add_parser(
        "publish", help="load the release into a store that speaks the SPARQL 1.1 Graph Store Protocol")
    publish_parser.add_argument("--to", required=True, metavar="URL",
                                help="the store's Graph Store Protocol endpoint, e.g. http://host:7878/store "
                                     "(credentials: $KG_STORE_TOKEN, or $KG_STORE_USER and $KG_STORE_PASSWORD)")
    publish_parser.add_argument("--bulk", type=Path, metavar="FOLDER",
                                help="Virtuoso on this machine: load with its bulk loader (ld_dir, rdf_loader_run) through "
                                     "isql-vt, the dump copied into FOLDER (in the server's DirsAllowed); faster, not "
                                     "atomic (docs/stores.md)")
    publish_parser.add_argument("--isql-port", type=int, default=1111, metavar="PORT",
                                help="with --bulk, Virtuoso's ISQL port on the --to host (default: %(default)s)")
    add_build_options(publish_parser)
    publish_parser.set_defaults(run=run_publish)

    from kg.cli import serve as server_cli

    server_cli.add_arguments(commands.add_parser("serve", help="serve the published graph over SPARQL 1.1 and HTTP"))

    from kg.cli import draft as draft_cli

    draft_cli.add_commands(commands)

    args = parser.parse_args(argv)
    if args.project is not None:  # for every part of the command, the build's own lookups included
        os.environ[PROJECT_VARIABLE] = str(args.project.resolve())
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
