"""The SHACL engines `kg validate --engine` offers, by name: the compiled one (the default) and pyshacl."""
from __future__ import annotations

from kg.validate.reference import PYSHACL
from kg.validate.shacl import COMPILED, ShaclEngine

ENGINES: dict[str, ShaclEngine] = {engine.name: engine for engine in (COMPILED, PYSHACL)}
DEFAULT_ENGINE = COMPILED.name
