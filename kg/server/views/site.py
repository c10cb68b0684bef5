"""The published release as the web site sees it: where its files are, how request paths map to IRIs,
and the HTML templates. Everything comes from the release folder (store + files), never from seeds/.

IRIs under the release's base are served at the same path on this server (`{base}entity/x` at
`/entity/x`); the ontology, shapes and CAMEO namespaces are fixed IRIs and are served at `/ontology`,
`/shapes` (each shape `dshapes:X` at `/shapes#X`) and `/cameo/<code>` whatever the base (the CAMEO
scheme itself at `/cameo`).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape
from pyoxigraph import Literal, NamedNode, RdfFormat, Store, parse

from kg.rdf.jsonld import JsonLdContext, load_context
from kg.rdf.vocabulary import PREFIXES, SD, SHAPES_PREFIXES, VOID
from kg.release.layout import CONTEXT_FILE, DESCRIPTION_FILE, SHAPES_FILE
from kg.server.security_headers import web_link

ONTOLOGY_IRI = PREFIXES["dipl"].rstrip("#")
SHAPES_IRI = SHAPES_PREFIXES["dshapes"].rstrip("#")
SD_NAME = SD + "name"
CAMEO_NS = PREFIXES["cameo"]
CAMEO_SCHEME = CAMEO_NS + "scheme"
ARTICLE_GRAPH = "/graph/article/"  # in the IRI of each article's named graph  # the concept scheme, served at /cameo (and /cameo/)
# The one template environment of the server: release pages, named-query pages, error pages.
TEMPLATES = Environment(loader=PackageLoader("kg", "templates"), autoescape=select_autoescape(["html"]),
                        trim_blocks=True, lstrip_blocks=True)


def sentence_case(text: str) -> str:
    """The first letter in upper case, so that class names read alike in headings ("news report" -> "News report")."""
    return text[:1].upper() + text[1:]


def inline_code(text: str) -> Markup:
    """Plain text with `backticks` shown as code (descriptions written in Markdown's inline style)."""
    return Markup(re.sub(r"`([^`]+)`", lambda m: f"<code>{m.group(1)}</code>", str(escape(text))))


TEMPLATES.filters.update(sentence_case=sentence_case, inline_code=inline_code)


def render(template: str, site: Site | None = None, **context) -> str:
    """A page of kg/templates; `site` is the release being served (None with `kg serve --data`)."""
    return TEMPLATES.get_template(template).render(site=site, **context)


@dataclass(frozen=True)
class Site:
    """One release being served."""

    release: Path

    @cached_property
    def manifest(self) -> dict:
        return json.loads((self.release / "release.json").read_text(encoding="utf-8"))

    @property
    def base(self) -> str:
        return self.manifest["base"]

    @property
    def dumps(self) -> Path:
        return self.release / "dumps"

    @cached_property
    def context(self) -> JsonLdContext:
        return load_context(json.loads((self.dumps / CONTEXT_FILE).read_text(encoding="utf-8")))

    @cached_property
    def description(self) -> bytes:
        """The release's VoID/DCAT description (Turtle), as published beside the dumps."""
        return (self.dumps / DESCRIPTION_FILE).read_bytes()

    @cached_property
    def shapes(self) -> bytes | None:
        """The SHACL shapes the release was validated against (Turtle), None in releases without them."""
        path = self.dumps / SHAPES_FILE
        return path.read_bytes() if path.is_file() else None

    @cached_property
    def statistics(self) -> dict[str, int]:
        """The dataset-wide VoID numbers of the description, by property name."""
        dataset = NamedNode(f"{self.base}dataset")
        numbers = {}
        for triple in parse(self.description, format=RdfFormat.TURTLE):
            if triple.subject == dataset and triple.predicate.value.startswith(VOID) and isinstance(triple.object, Literal) \
                    and triple.object.datatype.value.endswith("#integer"):
                numbers[triple.predicate.value[len(VOID):]] = int(triple.object.value)
        return numbers

    @cached_property
    def description_store(self) -> Store:
        """The description in a store of its own, so that its page is read like any resource's."""
        store = Store()
        store.load(self.description, format=RdfFormat.TURTLE)
        return store

    @cached_property
    def class_counts(self) -> dict[str, int]:
        """Each class of the description's class partitions → how many resources have it (as typed)."""
        partitions: dict[str, dict[str, str]] = {}
        for triple in parse(self.description, format=RdfFormat.TURTLE):
            if triple.predicate.value in (VOID + "class", VOID + "entities"):
                partitions.setdefault(triple.subject.value, {})[triple.predicate.value] = triple.object.value
        return {fields[VOID + "class"]: int(fields[VOID + "entities"]) for fields in partitions.values()
                if VOID + "class" in fields and VOID + "entities" in fields}

    @cached_property
    def graphs(self) -> dict[str, tuple[str, int]]:
        """Each named graph of the release → (its VoID partition in the description, its triples)."""
        partitions: dict[str, dict[str, object]] = {}
        for triple in parse(self.description, format=RdfFormat.TURTLE):
            if triple.predicate.value in (SD_NAME, VOID + "triples") and triple.subject.value.startswith(
                    f"{self.base}dataset#graph-"):
                partitions.setdefault(triple.subject.value, {})[triple.predicate.value] = triple.object.value
        return {fields[SD_NAME]: (part, int(fields[VOID + "triples"])) for part, fields in sorted(partitions.items())
                if SD_NAME in fields and VOID + "triples" in fields}

    @cached_property
    def shared_graphs(self) -> list[tuple[str, int]]:
        """(IRI, triples) of the graphs that are not one article's: few, whatever the corpus."""
        return [(iri, triples) for iri, (_, triples) in self.graphs.items() if ARTICLE_GRAPH not in iri]

    @cached_property
    def article_graph_count(self) -> int:
        return sum(1 for iri in self.graphs if ARTICLE_GRAPH in iri)

    def render(self, template: str, **context) -> str:
        return render(template, site=self, **context)

    def iri_for_path(self, path: str) -> str:
        """The IRI a request path (without format suffix) names."""
        path = path.lstrip("/")
        if path == "ontology":
            return ONTOLOGY_IRI
        if path == "shapes":
            return SHAPES_IRI
        if path in ("cameo", "cameo/"):
            return CAMEO_SCHEME
        if path.startswith("cameo/"):
            return CAMEO_NS + path[len("cameo/"):]
        return self.base + path

    def path_for_iri(self, iri: str) -> str | None:
        """The local path of an IRI this server answers for (with its fragment), else None."""
        if iri.startswith(ONTOLOGY_IRI):
            return "/ontology" + iri[len(ONTOLOGY_IRI):]
        if iri.startswith(SHAPES_IRI):
            return "/shapes" + iri[len(SHAPES_IRI):]
        if iri == CAMEO_SCHEME:
            return "/cameo"
        if iri.startswith(CAMEO_NS):
            return "/cameo/" + iri[len(CAMEO_NS):]
        if iri.startswith(self.base):
            return "/" + iri[len(self.base):]
        return None

    def href(self, iri: str) -> str | None:
        """Where a link to `iri` should point: here when we serve it, else the IRI itself when it is
        an http(s) URL; None (no link, the value is shown as text) for `javascript:` and other schemes."""
        return self.path_for_iri(iri) or web_link(iri)


