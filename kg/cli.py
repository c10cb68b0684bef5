"""The `kg` command: one subcommand per stage of the data flow."""
from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kg", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    from kg.server import cli as server_cli

    server_cli.add_arguments(commands.add_parser("serve", help="serve the published graph over SPARQL 1.1 and HTTP"))

    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
