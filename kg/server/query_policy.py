"""What a SPARQL request is allowed to do, decided from the query's tokens before it runs.

pyoxigraph exposes no parsed query, so this module tokenizes the query text the way the SPARQL
grammar does (strings, IRIs, comments and prefixed names are single tokens, so a keyword inside
them is never mistaken for one). From the tokens it learns the query form (SELECT, ASK, CONSTRUCT,
DESCRIBE), refuses SPARQL Update (the endpoint is read-only) and SERVICE calls to hosts the
operator did not allow-list (pyoxigraph would really fetch them), and caps the rows of a SELECT by
adding or lowering its top-level LIMIT. It also recognises *bounded* queries, whose whole work is
one index scan stopped by the result cap (see `is_bounded`), which the server may run without a
thread hop, and *repeatable* ones, whose answer the server may keep and send again. Everything else, including syntax errors, is left to pyoxigraph's parser. `FROM`/`FROM NAMED` only select graphs inside the store: pyoxigraph never
fetches them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlsplit

QUERY_FORMS = frozenset({"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"})
UPDATE_OPERATIONS = frozenset(
    {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"}
)
# What makes the same query answer differently on the same store: fresh values, and data from elsewhere.
UNREPEATABLE = frozenset({"NOW", "RAND", "UUID", "STRUUID", "BNODE", "SERVICE"})

_PN_CHARS = r"A-Za-z0-9_\-\u00B7\u00C0-\uFFFF"
_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<comment>\#[^\n\r]*)
  | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
              |'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<var>[?$][%(pn)s]+)
  | (?P<langtag>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
  | (?P<pname>(?:[A-Za-z_\u00C0-\uFFFF][%(pn)s.]*)?:(?:[%(pn)s.:%%]|\\.)*)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<number>[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?)
  | (?P<punct>.)
    """ % {"pn": _PN_CHARS},
    re.VERBOSE | re.DOTALL,
)


class QueryRefused(Exception):
    """The query is well-formed enough to judge but not allowed here (HTTP 403)."""


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    start: int
    end: int
    depth: int  # how many { } blocks enclose the token


@dataclass(frozen=True)
class InspectedQuery:
    """A query the endpoint agreed to run, with what the server needs to know to run it."""

    text: str  # the query to evaluate; differs from the request's when a LIMIT was imposed
    form: str | None  # SELECT/ASK/CONSTRUCT/DESCRIBE, or None when unrecognisable (pyoxigraph reports why)
    has_dataset_clause: bool  # FROM / FROM NAMED present: the query chooses its own dataset
    row_limit_imposed: bool  # the server added or lowered the top-level LIMIT
    bounded: bool  # one triple pattern with a constant, no modifiers: costs at most a capped index scan
    repeatable: bool  # the same store always gives the same answer (no NOW(), RAND(), UUID(), BNODE(), SERVICE)
    prefixes: dict[str, str] = field(default_factory=dict)  # for pretty graph serializations


def tokenize(text: str) -> list[Token]:
    """Split a query into SPARQL tokens (whitespace and comments dropped), tracking brace depth."""
    tokens, depth = [], 0
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind in ("space", "comment"):
            continue
        value = match.group()
        if value == "}":
            depth = max(depth - 1, 0)
        tokens.append(Token(kind, value, match.start(), match.end(), depth))
        if value == "{":
            depth += 1
    return tokens


@lru_cache(maxsize=2048)
def inspect_query(text: str, allowed_service_hosts: frozenset[str], max_rows: int) -> InspectedQuery:
    """Judge a query: QueryRefused for updates and disallowed SERVICE calls, else how to run it.

    Cached by query text: clients repeat the same queries, and this is on every request's path.
    """
    tokens = tokenize(text)
    prefixes, form_index = _read_prologue(tokens)
    first = tokens[form_index].text.upper() if form_index < len(tokens) else None
    if first in UPDATE_OPERATIONS:
        raise QueryRefused("this endpoint is read-only: SPARQL Update is not accepted")
    _check_service_calls(tokens, prefixes, allowed_service_hosts)
    form = first if first in QUERY_FORMS else None
    has_dataset_clause = any(t.kind == "word" and t.text.upper() == "FROM" for t in tokens)
    limited_text = _limit_rows(text, tokens, max_rows) if form == "SELECT" else None
    return InspectedQuery(
        text=limited_text or text,
        form=form,
        has_dataset_clause=has_dataset_clause,
        row_limit_imposed=limited_text is not None,
        bounded=form is not None and is_bounded(tokens[form_index:]),
        repeatable=not any(t.kind == "word" and t.text.upper() in UNREPEATABLE for t in tokens),
        prefixes=prefixes,
    )


_TERMS = frozenset({"iri", "pname", "var"})
_GROUP_BREAKS = frozenset({".", ";", ","})


def is_bounded(tokens: list[Token]) -> bool:
    """Whether a query (from its form keyword on) is a single triple pattern with a constant term.

    Accepted shapes: `SELECT vars|* WHERE? {P}`, `ASK WHERE? {P}`, `CONSTRUCT {template} WHERE {P}`,
    `CONSTRUCT WHERE {P}`, each optionally followed by `LIMIT n`, where P is one triple pattern of IRIs,
    prefixed names, variables or plain strings and at least one term is not a variable. pyoxigraph then
    evaluates it lazily as one index scan, and the server reads at most the result cap of it, so its
    cost is bounded without a time limit. Everything else (paths, FILTER, OPTIONAL, ORDER BY, DISTINCT,
    OFFSET, expressions, GRAPH, FROM, subqueries, DESCRIBE) is not.
    """
    form, rest = tokens[0].text.upper(), tokens[1:]
    if form == "SELECT":
        i = 0
        while i < len(rest) and (rest[i].kind == "var" or rest[i].text == "*"):
            i += 1
        if i == 0:
            return False
        rest = rest[i:]
    elif form == "CONSTRUCT" and rest and rest[0].text == "{":
        end = next((i for i, t in enumerate(rest) if t.text == "}"), None)
        if end is None or not all(t.kind in _TERMS or t.text in _GROUP_BREAKS or t.text == "a"
                                  for t in rest[1:end]):
            return False
        rest = rest[end + 1:]
        if not rest or rest[0].text.upper() != "WHERE":
            return False
    elif form not in ("ASK", "CONSTRUCT"):
        return False
    if rest and rest[0].text.upper() == "WHERE":
        rest = rest[1:]
    if len(rest) >= 2 and rest[-2].text.upper() == "LIMIT" and rest[-1].kind == "number":
        rest = rest[:-2]
    if len(rest) == 6 and rest[4].text == ".":
        rest = rest[:4] + rest[5:]
    if len(rest) != 5 or rest[0].text != "{" or rest[4].text != "}":
        return False
    subject, predicate, obj = rest[1:4]
    terms_ok = (subject.kind in ("iri", "pname", "var")
                and (predicate.kind in ("iri", "pname", "var") or predicate.text == "a")
                and obj.kind in ("iri", "pname", "var", "string"))
    return terms_ok and not all(term.kind == "var" for term in (subject, predicate, obj))


def query_form(text: str) -> str | None:
    """SELECT, ASK, CONSTRUCT or DESCRIBE: the form of a query, None when unrecognisable."""
    tokens = tokenize(text)
    index = _read_prologue(tokens)[1]
    form = tokens[index].text.upper() if index < len(tokens) else None
    return form if form in QUERY_FORMS else None


def with_values(text: str, values: dict[str, str]) -> str:
    """The query with `VALUES ?name { term }` at the start of its WHERE group, one per entry.

    `values` maps variable names to terms already written in SPARQL syntax. Inside the group the
    variables are bound for every pattern and FILTER of the query (but not inside subqueries, which
    have their own scope). A query whose WHERE group cannot be found is returned unchanged and fails
    to parse the way it would anyway.
    """
    if not values:
        return text
    tokens = tokenize(text)
    top = [t for t in tokens[_read_prologue(tokens)[1]:] if t.depth == 0]
    where = next((i for i, t in enumerate(top) if t.kind == "word" and t.text.upper() == "WHERE"), None)
    if where is None and top and top[0].text.upper() in ("SELECT", "ASK", "DESCRIBE"):
        where = 0  # WHERE is optional in these forms: the group is the first top-level brace
    brace = next((t for t in top[(where or 0):] if t.text == "{"), None) if where is not None else None
    if brace is None:
        return text
    block = " ".join(f"VALUES ?{name} {{ {term} }}" for name, term in values.items())
    return f"{text[:brace.end]} {block} {text[brace.end:]}"


def dataset_clause(text: str) -> tuple[list[str], list[str]]:
    """The IRIs of a query's `FROM` and `FROM NAMED` clauses (prefixed names expanded), in order.

    A remote store gets them as the protocol's `default-graph-uri` / `named-graph-uri`, which mean
    the same but which every store honours (`oxigraph serve --union-default-graph` ignores FROM).
    """
    tokens = tokenize(text)
    prefixes = _read_prologue(tokens)[0]
    default, named = [], []
    for i, token in enumerate(tokens):
        if token.depth == 0 and token.kind == "word" and token.text.upper() == "FROM" and i + 1 < len(tokens):
            is_named = tokens[i + 1].text.upper() == "NAMED"
            iri = _resolve(tokens[i + 2] if is_named and i + 2 < len(tokens) else tokens[i + 1], prefixes)
            if iri is not None:
                (named if is_named else default).append(iri)
    return default, named


def _read_prologue(tokens: list[Token]) -> tuple[dict[str, str], int]:
    """The PREFIX declarations and the index of the first token after BASE/PREFIX declarations."""
    prefixes: dict[str, str] = {}
    i = 0
    while i < len(tokens) and tokens[i].text.upper() in ("BASE", "PREFIX"):
        if tokens[i].text.upper() == "BASE":
            i += 2
            continue
        if i + 2 < len(tokens) and tokens[i + 2].kind == "iri":
            prefixes[tokens[i + 1].text.rstrip(":")] = tokens[i + 2].text[1:-1]
        i += 3
    return prefixes, i


def _check_service_calls(tokens: list[Token], prefixes: dict[str, str], allowed_hosts: frozenset[str]) -> None:
    """Refuse every SERVICE whose target is not an absolute http(s) IRI on an allow-listed host."""
    for i, token in enumerate(tokens):
        if token.kind != "word" or token.text.upper() != "SERVICE":
            continue
        target = tokens[i + 1] if i + 1 < len(tokens) else None
        if target is not None and target.text.upper() == "SILENT":
            target = tokens[i + 2] if i + 2 < len(tokens) else None
        iri = _resolve(target, prefixes)
        if iri is None:
            raise QueryRefused("SERVICE needs a constant http(s) IRI on an allow-listed host")
        host = _host_of(iri)
        if host is None or host not in allowed_hosts:
            raise QueryRefused(
                f"SERVICE <{iri}> is not allowed: this endpoint makes no outbound request "
                "unless its operator allow-lists the host (--allow-service-host)"
            )


def _resolve(token: Token | None, prefixes: dict[str, str]) -> str | None:
    if token is None:
        return None
    if token.kind == "iri":
        return token.text[1:-1]
    if token.kind == "pname":
        prefix, _, local = token.text.partition(":")
        if prefix in prefixes:
            return prefixes[prefix] + local
    return None


def _host_of(iri: str) -> str | None:
    """The lower-cased host of an absolute http(s) IRI without escapes, else None (refused)."""
    if "\\" in iri:  # \u escapes could spell a different host than the one checked
        return None
    parts = urlsplit(iri)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return parts.hostname.lower()


def _limit_rows(text: str, tokens: list[Token], max_rows: int) -> str | None:
    """The query with a top-level LIMIT of at most `max_rows`, or None if it already has one."""
    top = [t for t in tokens if t.depth == 0]
    for i, token in enumerate(top):
        if token.kind == "word" and token.text.upper() == "LIMIT" and i + 1 < len(top):
            count = top[i + 1]
            if count.kind != "number" or not count.text.isdigit() or int(count.text) <= max_rows:
                return None  # a malformed LIMIT (e.g. negative) is left for the parser to report
            return f"{text[:count.start]}{max_rows}{text[count.end:]}"
    # A top-level VALUES can only be the trailing ValuesClause; the LIMIT must come before it.
    # Otherwise it goes right after the last token, so parse errors keep their line and column.
    values = next((t for t in top if t.kind == "word" and t.text.upper() == "VALUES"), None)
    at = values.start if values is not None else tokens[-1].end if tokens else len(text)
    return f"{text[:at]} LIMIT {max_rows} {text[at:]}"
