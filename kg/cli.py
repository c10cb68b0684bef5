"""The `kg` command: one subcommand per stage of the data flow."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from kg.rdf import DEFAULT_BASE

EXIT_OK, EXIT_FAILED, EXIT_UNREADABLE = 0, 1, 2


def add_build_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--build-dir", type=Path, default=Path("build"),
                        help="where releases are written (default: build)")
    parser.add_argument("--base", default=os.environ.get("KG_BASE_IRI", DEFAULT_BASE),
                        help=f"base IRI of published resources (default: $KG_BASE_IRI or {DEFAULT_BASE})")


def run_build(args: argparse.Namespace) -> int:
    from kg.build import ValidationFailed, build, default_project
    from kg.rdf import Iris
    from kg.seeds import SeedError

    try:
        release = build(default_project(), args.build_dir.resolve(), Iris(args.base))
    except SeedError as error:
        print(f"kg build: the seeds have {len(error.problems)} problem(s); nothing was published:", file=sys.stderr)
        print(error, file=sys.stderr)
        return EXIT_FAILED
    except ValidationFailed as error:
        print(f"kg build: the graph does not conform to the shapes ({len(error.violations)} violation(s)); "
              "nothing was published:", file=sys.stderr)
        print(error, file=sys.stderr)
        return EXIT_FAILED
    manifest = release.manifest
    print(f"release {release.id}: {manifest['quads']} quads from {len(manifest['articles'])} article(s), "
          f"conforms to the shapes; published in {release.path}")
    return EXIT_OK


def run_validate(args: argparse.Namespace) -> int:
    from kg.build import default_project
    from kg.validate import UnreadableGraph, load_shapes, read_graph_file, validate_graph

    data = None
    try:
        for path in args.files:
            data = read_graph_file(path, into=data)
    except UnreadableGraph as error:
        print(f"kg validate: {error}", file=sys.stderr)
        return EXIT_UNREADABLE
    result = validate_graph(data, load_shapes(default_project().shapes))
    if result.conforms:
        print(f"conforms: {', '.join(str(p) for p in args.files)} ({len(data)} triples)")
        return EXIT_OK
    print(f"does not conform: {len(result.violations)} violation(s)")
    for violation in result.violations:
        print(violation)
    return EXIT_FAILED


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kg", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    build_parser = commands.add_parser("build", help="map the seeds to RDF, validate and publish a release")
    add_build_options(build_parser)
    build_parser.set_defaults(run=run_build)

    validate_parser = commands.add_parser("validate", help="validate graph files against the SHACL shapes")
    validate_parser.add_argument("files", nargs="+", type=Path,
                                 help="Turtle, N-Triples, N-Quads, TriG, JSON-LD or RDF/XML files")
    validate_parser.set_defaults(run=run_validate)

    from kg.server import cli as server_cli

    server_cli.add_arguments(commands.add_parser("serve", help="serve the published graph over SPARQL 1.1 and HTTP"))

    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
