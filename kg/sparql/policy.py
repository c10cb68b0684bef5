"""What a SPARQL request is allowed to do, decided from the query's tokens before it runs.

pyoxigraph exposes no parsed query, so this module tokenizes the query text the way pyoxigraph's
parser (spargebra 0.5, a PEG parser) does: strings, IRIs, comments and prefixed names are single
tokens, so a keyword inside them is never mistaken for one, and a keyword outside them is never
missed. From the tokens it learns the query form (SELECT, ASK, CONSTRUCT, DESCRIBE), refuses SPARQL
Update (the endpoint is read-only) and SERVICE calls to hosts the operator did not allow-list
(pyoxigraph would really fetch them), refuses queries nested deeper than its parser's stack
survives, and caps the rows of a SELECT by adding or lowering its top-level LIMIT. It also
recognises *bounded* queries, whose whole work is one index scan stopped by the result cap (see
`is_bounded`), which the server may run without a thread hop, and *repeatable* ones, whose answer
the server may keep and send again. Other syntax errors are left to pyoxigraph's parser.
`FROM`/`FROM NAMED` only select graphs inside the store: pyoxigraph never fetches them.

Where the tokens must match the engine's reading exactly (the SERVICE ban), they follow
spargebra's grammar rather than the SPARQL 1.1 text, because the two differ:

- `\\uXXXX` escapes are decoded only inside IRIs and strings, not anywhere in the query as SPARQL
  1.1 section 19.2 says (spargebra's optional `standard-unicode-escaping` feature is off in
  pyoxigraph); a backslash anywhere else is refused here (QueryMalformed), so an engine that did
  decode them could not read a keyword this module did not see.
- An IRI is `<`, then anything but `>`, then `>`, checked afterwards; a string's escapes must be
  valid or the parser reads it as a shorter string; a local name holds one run of dots at most
  (`ex:a.b.c` is `ex:a.b` `.` `c`); `<` after an operand inside an expression is the less-than
  operator, never the start of an IRI.
- Keywords are matched by their first letters, with no word boundary, and a prefixed name that
  does not expand to an IRI is read as its prefix alone followed by more query: `SERVICEex:x`,
  `service:x` (with an empty prefix declared), `trueSERVICE` and `ex:SERVICE` (with `ex:` declared
  as `<http://a:>`) all call a service. So every bare word must be a keyword, every prefixed name
  must be declared and expand to an IRI (pyoxigraph checks), and no prefix name may hold "service"
  or begin with a keyword that changes how the rest reads (QueryMalformed, or QueryRefused when it
  would call a service).

The IRI a SERVICE would call is worked out by pyoxigraph itself (the query's own BASE and PREFIX
declarations, escapes decoded, relative IRIs resolved), never by re-implementing its rules. A
relative target with no BASE would resolve against the endpoint's own URL and is refused.
"""
from __future__ import annotations

import gc
import re
import sys
from bisect import bisect_left
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import NamedTuple
from urllib.parse import urlsplit

from pyoxigraph import NamedNode, Store

from kg.sparql.bounded_cache import byte_bounded_cache

QUERY_FORMS = frozenset({"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"})
UPDATE_OPERATIONS = frozenset(
    {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"}
)
# What makes the same query answer differently on the same store: fresh values, and data from elsewhere.
UNREPEATABLE = frozenset({"NOW", "RAND", "UUID", "STRUUID", "BNODE", "SERVICE"})
# Deepest nesting of { }, ( ), [ ] and << >> accepted, counted together. pyoxigraph's parser recurses
# once or more per level and overflows an 8 MB stack (a crash of the whole process, not an exception)
# at about 2,200 nested groups; 64 is far deeper than any real query and far from that.
MAX_NESTING = 64
# Most graph patterns, operators and brackets chained along one path of the query (see _lex_tokens):
# the engine recurses over those chains too, and 8,100 triple patterns or 6,900 terms of a sum
# overflow an 8 MB stack as surely as deep nesting does.
MAX_CHAIN = 500
INSPECTION_CACHE_BYTES = 8 << 20  # queries and their inspections kept, so repeated queries skip the tokenizer

_HEX = "[0-9A-Fa-f]"
_UCHAR = rf"\\u{_HEX}{{4}}|\\U{_HEX}{{8}}"
_ECHAR = r"""\\[tbnrf"'\\]"""
# spargebra's character classes (no characters beyond U+FFFF, unlike the SPARQL 1.1 grammar).
_PN_CHARS_BASE = ("A-Za-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D"
                  "\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD")
_PN_CHARS_U = "_" + _PN_CHARS_BASE
_PN_CHARS = r"\-0-9\u00B7\u0300-\u036F\u203F-\u2040" + _PN_CHARS_U
_PLX = rf"%{_HEX}{_HEX}|\\[_~.\-!$&'()*+,;=/?#@%]"
_PN_PREFIX = rf"[{_PN_CHARS_BASE}][{_PN_CHARS}]*+(?:\.++[{_PN_CHARS}]++)*+"
# One run of dots at most, as in spargebra: (first)(rest)*('.'+ (rest)+)?
_PN_LOCAL = rf"(?:[{_PN_CHARS_U}:0-9]|{_PLX})(?:[{_PN_CHARS}:]|{_PLX})*+(?:\.++(?:[{_PN_CHARS}:]|{_PLX})++)?+"


def _string(quote: str) -> str:
    """A string literal delimited by `quote`, as spargebra reads it (possessive, like a PEG)."""
    long_, escapes = quote * 3, rf"{_ECHAR}|{_UCHAR}"
    return (rf"{long_}(?:(?>{quote * 2}|{quote})?+(?:[^{quote}\\]|{escapes}))*+{long_}"
            rf"|{quote}(?:[^{quote}\\\n\r]|{escapes})*+{quote}")


# One match per token, with the whitespace before it; `end` matches trailing whitespace. Where two
# alternatives can start with the same character, the first one is the one the engine tries first.
_LEXEME = re.compile(
    rf"""
    [ \t\r\n]*+
    (?:(?P<number>(?:[0-9]++\.[0-9]*+|\.[0-9]++|[0-9]++)[eE][+-]?[0-9]++|[0-9]*+\.[0-9]++|[0-9]++)
  | (?P<var>[?$][0-9{_PN_CHARS_U}][0-9\u00B7\u0300-\u036F\u203F-\u2040{_PN_CHARS_U}]*+)
  | (?P<iri><(?:[^<>"{{}}|^`\\\x00-\x20]|{_UCHAR})*+>)
  | (?P<open><<\(|<<|[{{(\[])
  | (?P<close>\)>>|>>|[}})\]])
  | (?P<bnode>_:[0-9{_PN_CHARS_U}][{_PN_CHARS}]*+(?:\.++[{_PN_CHARS}]++)*+)
  | (?P<pname>(?:{_PN_PREFIX})?+:(?:{_PN_LOCAL})?+)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*+)
  | (?P<string>{_string("'")}|{_string('"')})
  | (?P<comment>\#[^\r\n]*+)
  | (?P<langtag>@[A-Za-z]++(?:-[A-Za-z0-9]++)*+(?:--[A-Za-z]++)?+)
  | (?P<punct>.)
  | (?P<end>\Z))
    """,
    re.VERBOSE | re.DOTALL,
)
_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|.)", re.DOTALL)
_SERVICE = re.compile("service", re.IGNORECASE)
_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")

_OPERANDS = frozenset({"var", "iri", "pname", "string", "langtag", "number", "bnode"})
# A "(" right after one of these words opens a list of terms; after any other word, an expression.
_LIST_AFTER_WORDS = frozenset({"VALUES", "A", "TRUE", "FALSE", "UNDEF"})
# What the engine chains (and recurses over): graph patterns and operators in expressions, and
# triples, objects and path steps in patterns.
_CHAINED_KEYWORDS = frozenset({"OPTIONAL", "MINUS", "UNION", "FILTER", "BIND", "SERVICE", "GRAPH", "VALUES"})
_CHAINING_OPERATORS = frozenset("+-*/!=<>|&")
_CHAINING_SEPARATORS = frozenset(".;,/|^")
_LIST_ITEM_WEIGHT = 4  # an item of a collection takes about four times the stack of a triple pattern
# Every bare word pyoxigraph's parser knows (spargebra 0.5 with SPARQL 1.2 and its extensions), upper-cased.
KEYWORDS = frozenset("""
    A ABS ADD ADJUST ALL AS ASC ASK AVG BASE BIND BNODE BOUND BY CEIL CLEAR COALESCE CONCAT CONSTRUCT
    CONTAINS COPY COUNT CREATE DATA DATATYPE DAY DEFAULT DELETE DESC DESCRIBE DISTINCT DROP ENCODE_FOR_URI
    EXISTS FALSE FILTER FLOOR FROM GRAPH GROUP GROUP_CONCAT HASLANG HASLANGDIR HAVING HOURS IF IN INSERT
    INTO IRI ISBLANK ISIRI ISLITERAL ISNUMERIC ISTRIPLE ISURI LANG LANGDIR LANGMATCHES LATERAL LCASE LIMIT
    LOAD MAX MD5 MIN MINUS MINUTES MONTH MOVE NAMED NOT NOW OBJECT OFFSET OPTIONAL ORDER PREDICATE PREFIX
    RAND REDUCED REGEX REPLACE ROUND SAMETERM SAMPLE SECONDS SELECT SEPARATOR SERVICE SHA1 SHA256 SHA384
    SHA512 SILENT STR STRAFTER STRBEFORE STRDT STRENDS STRLANG STRLANGDIR STRLEN STRSTARTS STRUUID SUBJECT
    SUBSTR SUM TIMEZONE TO TRIPLE TRUE TZ UCASE UNDEF UNION URI USING UUID VALUES VERSION WHERE WITH YEAR
""".upper().split())
# Keywords that, glued to the front of a prefix name, would change how the lexer reads what follows.
_GLUED_KEYWORDS = ("FILTER", "HAVING", "GROUPBY", "ORDERBY", "SILENT", "PREFIX")
_CLAUSE_KEYWORDS = {"SELECT": "select", "WHERE": None, "FROM": None, "GROUP": "modifiers",
                    "ORDER": "modifiers", "HAVING": "modifiers", "LIMIT": None, "OFFSET": None, "VALUES": None}


class QueryRefused(Exception):
    """The query is well-formed enough to judge but not allowed here (HTTP 403)."""


class QueryMalformed(ValueError):
    """The query cannot be read safely, so it is refused before the engine sees it (HTTP 400)."""


class QueryTooComplex(QueryMalformed):
    """The query nests deeper than MAX_NESTING or chains more than MAX_CHAIN (HTTP 400): the engine
    would overflow its stack, which kills the process."""


class Token(NamedTuple):
    kind: str  # space and comments are dropped; see _LEXEME for the others
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


@dataclass
class _Lexed:
    tokens: list[Token]
    words: list[int]  # indices of the word tokens (keywords, function names)
    nesting: int  # deepest nesting of brackets of any kind
    chain: int  # most brackets and chained elements open at one point (see _lex_tokens)
    stray_backslash: int | None  # offset of a backslash outside IRIs, strings and prefixed names
    bad_escape: Token | None  # an IRI or string with a \u escape that is no character


def tokenize(text: str) -> list[Token]:
    """Split a query into tokens as pyoxigraph's parser reads it (whitespace and comments dropped)."""
    return _lex(text).tokens


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: a big query's tokens are hundreds of thousands of tuples
    without cycles, and collections triggered by allocating them would walk them again and again."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _lex(text: str, *, stop_past_limits: bool = False) -> _Lexed:
    """The tokens and measures of `text`; with `stop_past_limits`, only up to where the query passes
    MAX_NESTING or MAX_CHAIN (it will be refused: the rest need not be read)."""
    with _collector_paused():
        if stop_past_limits:
            return _lex_tokens(text, MAX_NESTING + 1, MAX_CHAIN + 1)
        return _lex_tokens(text, sys.maxsize, sys.maxsize)


def _lex_tokens(text: str, nesting_limit: int, chain_limit: int) -> _Lexed:
    """Tokenize, tracking what the grammar needs to tell `<` the operator from `<` opening an IRI,
    and how deep the engine will recurse.

    Each bracket opens a frame: a group ({ and [), a list (collection, path, triple term, << >>),
    an expression (arguments, FILTER, BIND, projections, solution modifiers), or the data block of
    a VALUES and its rows. Inside an expression, `<` after an operand is the comparison operator:
    there the lexer backs up and reads a single `<`, as the engine does.

    The engine's parser and evaluator recurse once per bracket and once per element chained in
    one (a join of patterns, a sum of terms, a UNION, a list of projections), so the cost of a
    point in the query is the sum, over the frames open there, of one plus the elements the frame
    chained so far; `chain` is the highest. VALUES rows and function arguments are kept in flat
    lists by the engine and are not counted.
    """
    tokens: list[Token] = []
    words: list[int] = []
    append, new = tokens.append, tuple.__new__
    frames = ["top"]  # kind of each open bracket
    clauses: list[str | None] = [None]  # "select"/"modifiers" clause of each frame, when in one
    elements = [0]  # elements chained so far in each frame
    cost = chain = 1
    depth = nesting = 0
    stray_backslash = bad_escape = None
    operand = False  # the previous token ends an operand (so a "<" after it in an expression is an operator)
    previous_word = before_previous_word = ""
    values_block_next = False  # a VALUES keyword was read: the next { opens its data block
    position = 0
    while True:
        for match in _LEXEME.finditer(text, position):
            kind = match.lastgroup
            if kind == "comment":
                continue
            if kind == "end":
                break
            start, end = match.span(kind)
            value = text[start:end]
            if operand and (kind == "iri" or kind == "open") and value[0] == "<" and frames[-1] == "expr":
                # After an operand in an expression `<` is less-than, not an IRI or a triple term: lex on after it.
                append(new(Token, ("punct", "<", start, start + 1, depth)))
                elements[-1] += 1
                cost += 1
                chain = max(chain, cost)
                operand, previous_word = False, ""
                position = start + 1
                if chain > chain_limit:
                    kind = "end"
                break
            if kind in _OPERANDS:
                frame = frames[-1]
                if (kind == "string" or kind == "iri") and bad_escape is None and "\\" in value \
                        and not _escapes_are_characters(value):
                    bad_escape = new(Token, (kind, value, start, end, depth))
                append(new(Token, (kind, value, start, end, depth)))
                if frame == "list":  # a collection's items become a chain of triples, each dearer than most
                    elements[-1] += _LIST_ITEM_WEIGHT
                    cost += _LIST_ITEM_WEIGHT
                    if cost > chain:
                        chain = cost
                        if chain > chain_limit:
                            kind = "end"
                            break
                operand, previous_word = True, ""
                continue
            if kind == "word":
                upper = value.upper()
                operand = upper == "TRUE" or upper == "FALSE"
                frame = frames[-1]
                if frame != "expr":
                    if upper in _CLAUSE_KEYWORDS:
                        clauses[-1] = _CLAUSE_KEYWORDS[upper]
                        values_block_next = upper == "VALUES"
                    if upper in _CHAINED_KEYWORDS:
                        elements[-1] += 1
                        cost += 1
                        if cost > chain:
                            chain = cost
                            if chain > chain_limit:
                                kind = "end"
                                break
                words.append(len(tokens))
                append(new(Token, (kind, value, start, end, depth)))
                before_previous_word, previous_word = previous_word, upper
                continue
            if kind == "open":
                frame = frames[-1]
                append(new(Token, (kind, value, start, end, depth)))
                if value == "{":
                    if clauses[-1] == "select":
                        clauses[-1] = None
                    depth += 1
                    opened = "data" if values_block_next else "group"
                    values_block_next = False
                elif value == "(":  # VALUES (?a ?b) { (1 2) }: variables and rows are flat lists
                    opened = "row" if values_block_next or frame == "data" else _paren_kind(
                        frame, clauses[-1], tokens, previous_word, before_previous_word)
                else:  # [ holds a property list; <<( and << hold terms
                    opened = "group" if value == "[" else "list"
                if frame != "data":
                    elements[-1] += 1
                    cost += 1
                frames.append(opened)
                clauses.append(None)
                elements.append(0)
                cost += 1
                if cost > chain:
                    chain = cost
                if len(frames) > nesting:
                    nesting = len(frames)
                operand = False
                if chain > chain_limit or nesting > nesting_limit:
                    kind = "end"
                    break
            elif kind == "close":
                if value == "}" and depth:
                    depth -= 1
                if len(frames) > 1 and (value != ">>" or frames[-1] == "list"):
                    frames.pop()
                    clauses.pop()
                    cost -= 1 + elements.pop()
                append(new(Token, (kind, value, start, end, depth)))
                operand = value[0] == ")"
            else:
                if value in (_CHAINING_OPERATORS if frames[-1] == "expr" else _CHAINING_SEPARATORS):
                    elements[-1] += 1
                    cost += 1
                    if cost > chain:
                        chain = cost
                        if chain > chain_limit:
                            kind = "end"
                            break
                elif value == "\\" and stray_backslash is None:
                    stray_backslash = start
                append(new(Token, (kind, value, start, end, depth)))
                operand = False
            before_previous_word, previous_word = previous_word, ""
        else:
            break  # the text ended inside a token (never: `end` matches at the end)
        if kind == "end":
            break
    return _Lexed(tokens, words, max(nesting - 1, 0), chain - 1, stray_backslash, bad_escape)


def _paren_kind(frame: str, clause: str | None, tokens: list[Token], previous_word: str,
                before_previous_word: str) -> str:
    """Whether the "(" just read (the last token) opens an expression or a list of terms."""
    if frame == "expr" or clause is not None:  # inside an expression, a projection or ORDER/GROUP BY, HAVING
        return "expr"
    if previous_word:  # FILTER(, BIND(, STR(, COUNT(...; not VALUES (, a (, true (
        return "list" if previous_word in _LIST_AFTER_WORDS else "expr"
    if len(tokens) >= 3 and tokens[-2].kind in ("iri", "pname") and before_previous_word == "FILTER":
        return "expr"  # FILTER ex:function(...)
    return "list"  # a collection, a path group, a negated property set


def _escapes_are_characters(value: str) -> bool:
    """Whether every \\u and \\U escape in an IRI or string token stands for a Unicode scalar value."""
    for match in _ESCAPE.finditer(value):
        digits = match.group(1) or match.group(2)
        if digits is not None:
            code = int(digits, 16)
            if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                return False
    return True


def _weigh_inspection(inspected: InspectedQuery, text: str, *_: object) -> int:
    """Bytes an inspection keeps: the query, the rewritten query when it differs, the prefixes."""
    held = sys.getsizeof(text) + 512
    if inspected.text is not text:
        held += sys.getsizeof(inspected.text)
    return held + sum(sys.getsizeof(k) + sys.getsizeof(v) for k, v in inspected.prefixes.items())


@byte_bounded_cache(INSPECTION_CACHE_BYTES, weigh=_weigh_inspection)
def inspect_query(text: str, allowed_service_hosts: frozenset[str], max_rows: int) -> InspectedQuery:
    """Judge a query: QueryRefused for updates and disallowed SERVICE calls, QueryMalformed (and its
    QueryTooComplex) for what cannot be read safely, else how to run it.

    Cached by query text in a byte-bounded cache: clients repeat the same queries, and this is on
    every request's path.
    """
    lexed = _lex(text, stop_past_limits=True)
    if lexed.nesting > MAX_NESTING:
        raise QueryTooComplex(f"error at {_position(text, lexed.tokens[-1].start)}: the query nests brackets "
                              f"more than {MAX_NESTING} deep; at most {MAX_NESTING} levels of {{ }}, ( ), [ ] "
                              "together are accepted")
    if lexed.chain > MAX_CHAIN:
        raise QueryTooComplex(f"error at {_position(text, lexed.tokens[-1].start)}: the query chains more than "
                              f"{MAX_CHAIN} patterns, operators and brackets along one path; at most "
                              f"{MAX_CHAIN} are accepted (VALUES rows and function arguments are not counted)")
    if lexed.stray_backslash is not None:
        raise QueryMalformed(f"error at {_position(text, lexed.stray_backslash)}: a backslash outside IRIs, "
                             r"strings and prefixed names (\u escapes belong inside IRIs and strings only)")
    if lexed.bad_escape is not None:
        raise QueryMalformed(f"error at {_position(text, lexed.bad_escape.start)}: {lexed.bad_escape.text[:80]} "
                             "holds a \\u escape that is no Unicode character")
    tokens = lexed.tokens
    keywords = [tokens[i].text.upper() for i in lexed.words]
    prefixes, form_index = _read_prologue(tokens)
    first = tokens[form_index].text.upper() if form_index < len(tokens) else None
    if first in UPDATE_OPERATIONS:
        raise QueryRefused("this endpoint is read-only: SPARQL Update is not accepted")
    if any(keyword in ("PREFIX", "BASE", "VERSION") for keyword in keywords[_first_word_at(lexed.words, form_index):]):
        raise QueryMalformed("PREFIX, BASE and VERSION declarations belong before the query form")
    _check_words(text, tokens, lexed.words)
    prologue = text[:tokens[form_index].start] if form_index < len(tokens) else text
    _check_prefixed_names(text, tokens, form_index, prologue, prefixes)
    _check_service_calls(text, tokens, lexed.words, prologue, allowed_service_hosts)
    form = first if first in QUERY_FORMS else None
    has_dataset_clause = "FROM" in keywords
    limited_text = _limit_rows(text, tokens, lexed.words, max_rows) if form == "SELECT" else None
    return InspectedQuery(
        text=limited_text or text,
        form=form,
        has_dataset_clause=has_dataset_clause,
        row_limit_imposed=limited_text is not None,
        bounded=form is not None and is_bounded(tokens[form_index:]),
        repeatable=UNREPEATABLE.isdisjoint(keywords),
        prefixes=prefixes,
    )


def _first_word_at(words: list[int], index: int) -> int:
    """The position in `words` (token indices, ascending) of the first word at or after token `index`."""
    return bisect_left(words, index)


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
    """The PREFIX declarations and the index of the first token after the BASE/PREFIX/VERSION declarations.

    Keywords need no space after them: `PREFIXex: <...>` declares `ex:` as `PREFIX ex: <...>` does.
    """
    prefixes: dict[str, str] = {}
    i = 0
    while i < len(tokens):
        keyword = tokens[i].text.upper()
        if keyword in ("BASE", "VERSION"):
            i += 2
        elif keyword == "PREFIX":
            if i + 2 < len(tokens) and tokens[i + 2].kind == "iri":
                prefixes[tokens[i + 1].text.partition(":")[0]] = tokens[i + 2].text[1:-1]
            i += 3
        elif tokens[i].kind == "pname" and keyword.startswith("PREFIX") and keyword.endswith(":"):
            if i + 1 < len(tokens) and tokens[i + 1].kind == "iri":
                prefixes[tokens[i].text[len("PREFIX"):-1]] = tokens[i + 1].text[1:-1]
            i += 2
        else:
            break
    return prefixes, min(i, len(tokens))


def _check_words(text: str, tokens: list[Token], words: list[int]) -> None:
    """Refuse bare words that are no keyword: the engine could only read them as keywords glued to
    what follows (`trueSERVICE`, `GROUPBY`, `FILTERregex`), which these tokens would not show."""
    for i in words:
        word = tokens[i].text
        if word.upper() not in KEYWORDS:
            where = _position(text, tokens[i].start)
            if _SERVICE.search(word):
                raise QueryRefused(f"{word!r} at {where} would call a SERVICE: write the keyword SERVICE as a "
                                   "word of its own (and only for allow-listed hosts)")
            raise QueryMalformed(f"error at {where}: {word!r} is no SPARQL keyword or function; separate "
                                 "keywords from what follows them with a space")


def _check_prefixed_names(text: str, tokens: list[Token], form_index: int, prologue: str,
                          prefixes: dict[str, str]) -> None:
    """Refuse prefixed names the engine could read otherwise than as one IRI.

    spargebra reads `ex:local` whole only if `ex:` is declared and the expansion is an IRI; else it
    reads `ex:` alone, then the local part as keywords. And a keyword is matched by its first letters,
    so `FILTERx:f(` may be FILTER then `x:f(`. So every prefixed name must be declared and expand to
    an IRI (checked with pyoxigraph itself, with the prefixes as the query's prologue makes them),
    and no prefix may begin with a keyword that changes how the rest of the query reads.
    """
    names = [token for token in tokens[form_index:] if token.kind == "pname"]
    if not names:
        return
    used: set[str] = set()
    for token in names:
        prefix = token.text.partition(":")[0]
        if prefix not in used:
            upper = prefix.upper()
            if "SERVICE" in upper:
                raise QueryRefused(f"{token.text!r} at {_position(text, token.start)} could call a SERVICE: "
                                   "prefix names holding 'service' are not accepted")
            if upper.startswith(_GLUED_KEYWORDS):
                raise QueryMalformed(f"error at {_position(text, token.start)}: the prefix name {prefix!r} begins "
                                     "with a keyword, which the parser may read as that keyword; rename the prefix")
            if prefix not in prefixes:
                raise QueryMalformed(f"error at {_position(text, token.start)}: the prefix {prefix}: is not declared")
            used.add(prefix)
    namespaces = _namespaces(prologue, prefixes, sorted(used))
    checked: set[str] = set()
    for token in names:
        if token.text not in checked:
            prefix, _, local = token.text.partition(":")
            try:
                NamedNode(namespaces[prefix] + local.replace("\\", ""))
            except ValueError:
                raise QueryMalformed(f"error at {_position(text, token.start)}: {token.text} does not expand to "
                                     "an IRI") from None
            checked.add(token.text)


def _namespaces(prologue: str, prefixes: dict[str, str], names: list[str]) -> dict[str, str]:
    """The IRIs pyoxigraph gives the prefixes `names` after the query's prologue.

    An absolute IRI without escapes is kept as written when no BASE is declared (pyoxigraph resolves
    absolute IRIs to themselves, dot segments included); any other is resolved by pyoxigraph itself.
    """
    raw = [prefixes[name] for name in names]
    if not re.search(r"(?i)\bBASE\b", prologue) and not any("\\" in iri for iri in raw):
        try:
            return {name: NamedNode(iri).value for name, iri in zip(names, raw)}
        except ValueError:
            pass  # relative or invalid: pyoxigraph says which below
    resolved = _engine_iris(prologue, [f"{name}:" for name in names])
    if resolved is None:
        raise QueryMalformed("the query's PREFIX declarations do not all give absolute IRIs (a relative one "
                             "needs a BASE declared before it)")
    return dict(zip(names, resolved))


def _check_service_calls(text: str, tokens: list[Token], words: list[int], prologue: str,
                         allowed_hosts: frozenset[str]) -> None:
    """Refuse every SERVICE whose target is not an absolute http(s) IRI on an allow-listed host.

    The target's IRI is what pyoxigraph makes of it after the query's prologue (escapes decoded,
    BASE applied), without the endpoint's base IRI: a relative target with no BASE would call the
    endpoint itself, and is refused.
    """
    targets = [_service_target(tokens, i) for i in words if tokens[i].text.upper() == "SERVICE"]
    if not targets:
        return
    iris = _engine_iris(prologue, [t.text for t in targets])
    if iris is None:
        raise QueryRefused("SERVICE needs an absolute http(s) IRI on an allow-listed host, written as an "
                           "IRI or a declared prefixed name (a relative IRI needs a BASE)")
    for iri in iris:
        host = _host_of(iri)
        if host is None or host not in allowed_hosts:
            raise QueryRefused(
                f"SERVICE <{iri}> is not allowed: this endpoint makes no outbound request "
                "unless its operator allow-lists the host (--allow-service-host)"
            )


def _position(text: str, offset: int) -> str:
    """line:column of `offset` in `text`, counted from 1 as pyoxigraph's messages do."""
    line_start = text.rfind("\n", 0, offset) + 1
    return f"{text.count(chr(10), 0, offset) + 1}:{offset - line_start + 1}"


def _service_target(tokens: list[Token], index: int) -> Token:
    """The IRI or prefixed name after SERVICE [SILENT] at `index`; QueryRefused for anything else."""
    target = tokens[index + 1] if index + 1 < len(tokens) else None
    if target is not None and target.kind in ("word", "pname") and target.text.upper().startswith("SILENT"):
        if target.text.upper() != "SILENT":  # SILENT is a prefix match too: SILENTex:a is SILENT ex:a
            raise QueryRefused(f"SERVICE {target.text}: write SILENT as a word of its own")
        target = tokens[index + 2] if index + 2 < len(tokens) else None
    if target is None or target.kind not in ("iri", "pname"):
        raise QueryRefused("SERVICE needs a constant http(s) IRI on an allow-listed host, not a variable")
    return target


_probe_store: Store | None = None


def _engine_iris(prologue: str, terms: list[str]) -> list[str] | None:
    """The IRIs pyoxigraph makes of `terms` (IRIs or prefixed names) after the query's prologue.

    pyoxigraph parses them itself, in a query on an empty store made of the prologue and one VALUES
    row, without the endpoint's base IRI: escapes decoded, BASE and PREFIX applied exactly as in the
    query. None when any is not an absolute IRI there.
    """
    global _probe_store
    if _probe_store is None:
        _probe_store = Store()
    names = [f"?t{i}" for i in range(len(terms))]
    probe = f"{prologue}\nSELECT * {{ VALUES ({' '.join(names)}) {{ ({' '.join(terms)}) }} }}"
    try:
        solutions = list(_probe_store.query(probe))
    except (SyntaxError, ValueError, OSError, RuntimeError):
        return None
    if len(solutions) != 1:
        return None
    values = [solutions[0][name[1:]] for name in names]
    if not all(isinstance(value, NamedNode) for value in values):
        return None
    return [value.value for value in values]


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
    """The lower-cased host of an absolute http(s) IRI without user information, else None (refused)."""
    if not _ABSOLUTE.match(iri):
        return None
    parts = urlsplit(iri)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        return None
    return parts.hostname.lower()


def _limit_rows(text: str, tokens: list[Token], words: list[int], max_rows: int) -> str | None:
    """The query with a top-level LIMIT of at most `max_rows`, or None if it already has one.

    `words` are the indices of the word tokens, where LIMIT and VALUES are.
    """
    top = [i for i in words if tokens[i].depth == 0]
    for i in top:
        if tokens[i].text.upper() == "LIMIT" and i + 1 < len(tokens):
            count = tokens[i + 1]
            if count.kind != "number" or not count.text.isdigit() or int(count.text) <= max_rows:
                return None  # a malformed LIMIT (e.g. negative) is left for the parser to report
            return f"{text[:count.start]}{max_rows}{text[count.end:]}"
    # A top-level VALUES can only be the trailing ValuesClause; the LIMIT must come before it.
    # Otherwise it goes right after the last token, so parse errors keep their line and column.
    values = next((tokens[i] for i in top if tokens[i].text.upper() == "VALUES"), None)
    at = values.start if values is not None else tokens[-1].end if tokens else len(text)
    return f"{text[:at]} LIMIT {max_rows} {text[at:]}"
