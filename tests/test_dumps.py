"""The release's dumps: every format round-trips to the store's content, bytes are reproducible,
checksums hold, and /dumps/ serves them with validators and byte ranges."""
from __future__ import annotations

import gzip
import hashlib
import json

import pytest
import rdflib
from pyoxigraph import BlankNode, Literal, NamedNode, Quad, RdfFormat, parse

from conftest import run_kg

DATASET_FORMATS = {"graph.nq": RdfFormat.N_QUADS, "graph.trig": RdfFormat.TRIG, "graph.jsonld": RdfFormat.JSON_LD}
TRIPLE_FORMATS = {"graph.ttl": RdfFormat.TURTLE, "graph.nt": RdfFormat.N_TRIPLES}
RDFLIB_FORMATS = {"graph.nq": "nquads", "graph.trig": "trig", "graph.jsonld": "json-ld", "graph.ttl": "turtle",
                  "graph.nt": "nt"}


# pyoxigraph's store keeps the value of an integer literal but reports the derived integer types
# (xsd:nonNegativeInteger, xsd:positiveInteger) as xsd:integer; the dumps keep the exact datatype.
XSD = "http://www.w3.org/2001/XMLSchema#"
INTEGER_TYPES = {XSD + t for t in ("nonNegativeInteger", "positiveInteger", "negativeInteger", "nonPositiveInteger",
                                   "long", "int", "short", "byte", "unsignedLong", "unsignedInt", "unsignedShort",
                                   "unsignedByte")}


def as_stored(quad: Quad) -> Quad:
    obj = quad.object
    if isinstance(obj, Literal) and obj.datatype.value in INTEGER_TYPES:
        obj = Literal(obj.value, datatype=NamedNode(XSD + "integer"))
    return Quad(quad.subject, quad.predicate, obj, quad.graph_name)


@pytest.fixture(scope="module")
def store_quads(release_store) -> set[Quad]:
    return set(release_store.quads_for_pattern(None, None, None, None))


@pytest.fixture(scope="module")
def nquads(built_release) -> set[Quad]:
    """The canonical N-Quads dump, which every other format must equal exactly."""
    return set(parse(path=str(built_release.dumps / "graph.nq"), format=RdfFormat.N_QUADS))


def test_the_nquads_dump_holds_the_store_content(nquads, store_quads):
    _no_blank_nodes(nquads)
    assert {as_stored(q) for q in nquads} == store_quads


def _no_blank_nodes(quads) -> None:
    assert not any(isinstance(t, BlankNode) for q in quads for t in (q.subject, q.object)), \
        "blank nodes would need an isomorphism check; the build mints IRIs for them"


@pytest.mark.parametrize("name", sorted(DATASET_FORMATS))
def test_dataset_dumps_parse_with_pyoxigraph_to_the_store_content(built_release, nquads, name):
    parsed = set(parse(path=str(built_release.dumps / name), format=DATASET_FORMATS[name]))
    assert parsed == nquads


@pytest.mark.parametrize("name", sorted(TRIPLE_FORMATS))
def test_triple_dumps_parse_with_pyoxigraph_to_the_union_graph(built_release, nquads, name):
    parsed = {q.triple for q in parse(path=str(built_release.dumps / name), format=TRIPLE_FORMATS[name])}
    assert parsed == {q.triple for q in nquads}


@pytest.mark.parametrize("name", sorted(RDFLIB_FORMATS))
def test_every_dump_parses_with_rdflib_to_the_store_content(built_release, nquads, name):
    dataset = rdflib.Dataset()
    dataset.parse(str(built_release.dumps / name), format=RDFLIB_FORMATS[name])
    from_rdflib = {(str(s), str(p), _plain(o).n3()) for s, p, o, _ in dataset.quads((None, None, None, None))}
    expected = {(q.subject.value, q.predicate.value, _n3(q.object)) for q in nquads}
    assert from_rdflib == expected
    if name in DATASET_FORMATS:
        graphs = {str(g) for _, _, _, g in dataset.quads((None, None, None, None))}
        assert graphs == {q.graph_name.value for q in nquads}


def _plain(term):
    """rdflib writes xsd:string literals with or without the datatype depending on the parser (RDF 1.1: the same)."""
    if isinstance(term, rdflib.Literal) and term.datatype == rdflib.XSD.string:
        return rdflib.Literal(str(term))
    return term


def _n3(term) -> str:
    """The rdflib N3 form of a pyoxigraph term, to compare terms across libraries."""
    if isinstance(term, NamedNode):
        return rdflib.URIRef(term.value).n3()
    datatype = None if term.language else rdflib.URIRef(term.datatype.value)
    return _plain(rdflib.Literal(term.value, lang=term.language, datatype=datatype)).n3()


def test_jsonld_is_compacted_with_the_published_context(built_release):
    document = json.loads((built_release.dumps / "graph.jsonld").read_text(encoding="utf-8"))
    published = json.loads((built_release.dumps / "context.jsonld").read_text(encoding="utf-8"))
    assert document["@context"] == published["@context"]
    nodes = [node for graph in document["@graph"] for node in graph["@graph"]]
    kim = next(node for node in nodes if node["@id"] == "entity:kim-jong-un" and "label" in node)
    assert kim["@type"] == "dipl:Person"
    assert kim["label"] == "Kim Jong Un"  # short key, language from the context
    assert kim["sameAs"] == "wd:Q56226"
    assert published["@context"]["participant"] == {"@id": "dipl:participant", "@type": "@id"}


def test_gzip_copies_hold_the_same_bytes(built_release):
    for name in (*DATASET_FORMATS, *TRIPLE_FORMATS):
        assert gzip.decompress((built_release.dumps / f"{name}.gz").read_bytes()) == \
            (built_release.dumps / name).read_bytes()


def test_checksums_and_sizes_match_every_file(built_release):
    listed = {}
    for line in (built_release.dumps / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split("  ")
        listed[name] = digest
    files = {p.name for p in built_release.dumps.iterdir()} - {"SHA256SUMS"}
    assert set(listed) == files
    for name, digest in listed.items():
        data = (built_release.dumps / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == digest
        assert built_release.manifest["dumps"][name] == {"bytes": len(data), "sha256": digest}


def test_the_same_input_gives_byte_identical_dumps(built_release, tmp_path):
    result = run_kg("build", "--build-dir", tmp_path)
    assert result.returncode == 0, result.stderr
    again = tmp_path / "current" / "dumps"
    names = sorted(p.name for p in built_release.dumps.iterdir())
    assert names == sorted(p.name for p in again.iterdir())
    for name in names:
        assert (again / name).read_bytes() == (built_release.dumps / name).read_bytes(), name


# -- served (in process) --------------------------------------------------------------------------

def test_dump_files_are_served_with_media_type_etag_and_checksum(release_app, built_release):
    for name, meta in built_release.manifest["dumps"].items():
        response = release_app.get(f"/dumps/{name}")
        assert response.status_code == 200, name
        assert hashlib.sha256(response.content).hexdigest() == meta["sha256"]
        assert response.headers["etag"] == f'"{meta["sha256"]}"'
        assert "last-modified" in response.headers
    types = {name: release_app.head(f"/dumps/{name}").headers["content-type"]
             for name in ("graph.ttl", "graph.nt", "graph.nq", "graph.trig", "graph.jsonld", "graph.ttl.gz")}
    assert types == {"graph.ttl": "text/turtle; charset=utf-8", "graph.nt": "application/n-triples",
                     "graph.nq": "application/n-quads", "graph.trig": "application/trig",
                     "graph.jsonld": "application/ld+json", "graph.ttl.gz": "application/gzip"}


def test_conditional_requests_answer_304(release_app):
    url = "/dumps/graph.nt"
    first = release_app.get(url)
    assert release_app.get(url, headers={"If-None-Match": first.headers["etag"]}).status_code == 304
    assert release_app.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
    assert release_app.get(url, headers={"If-Modified-Since": first.headers["last-modified"]}).status_code == 304


def test_range_requests_answer_206_with_the_right_bytes(release_app, built_release):
    url = "/dumps/graph.nq"
    data = (built_release.dumps / "graph.nq").read_bytes()
    part = release_app.get(url, headers={"Range": "bytes=10-99"})
    assert part.status_code == 206
    assert part.content == data[10:100]
    assert part.headers["content-range"] == f"bytes 10-99/{len(data)}"
    assert release_app.get(url, headers={"Range": "bytes=-20"}).content == data[-20:]
    assert release_app.get(url, headers={"Range": f"bytes={len(data)}-"}).status_code == 416
    stale = release_app.get(url, headers={"Range": "bytes=0-9", "If-Range": '"not-the-etag"'})
    assert stale.status_code == 200 and stale.content == data


def test_listing_in_html_and_json(release_app, built_release):
    listing = release_app.get("/dumps/", headers={"Accept": "application/json"})
    assert listing.status_code == 200
    files = {f["name"]: f for f in listing.json()["files"]}
    assert set(built_release.manifest["dumps"]) <= set(files)
    assert files["graph.ttl"]["sha256"] == built_release.manifest["dumps"]["graph.ttl"]["sha256"]
    html = release_app.get("/dumps/", headers={"Accept": "text/html"})
    assert html.headers["content-type"].startswith("text/html")
    assert 'href="/dumps/graph.jsonld.gz"' in html.text
    assert release_app.get("/dumps/nothing.ttl").status_code == 404
    head = release_app.head("/dumps/", headers={"Accept": "application/json"})
    assert head.status_code == 200 and head.headers["content-type"] == "application/json" and not head.content


# -- hostile Range headers -------------------------------------------------------------------

HUGE = "9" * 4300  # past Python's int-from-string digit limit


@pytest.mark.parametrize("wanted, status, part", [
    (f"bytes={HUGE}-", 416, None),  # starts past the end
    (f"bytes={HUGE}0-{HUGE}1", 416, None),
    ("bytes=" + "0" * 5000 + "5-9", 206, (5, 10)),  # leading zeros are still the number 5
    (f"bytes=0-{HUGE}", 206, (0, None)),  # a last byte past the end means "to the end"
    (f"bytes=-{HUGE}", 206, (0, None)),  # a suffix longer than the file is the whole file
    (f"bytes=10-{HUGE},{HUGE}-", 206, (10, None)),  # the unsatisfiable range is dropped
])
def test_range_numbers_of_any_size_answer_206_or_416_and_log_nothing(release_app, built_release, caplog, wanted,
                                                                        status, part):
    data = (built_release.dumps / "graph.nq").read_bytes()
    response = release_app.get("/dumps/graph.nq", headers={"Range": wanted})
    assert response.status_code == status, response.text[:300]
    if part:
        start, end = part
        assert response.content == data[start:end]
        assert response.headers["content-range"] == f"bytes {start}-{(end or len(data)) - 1}/{len(data)}"
    else:
        assert response.headers["content-range"] == f"bytes */{len(data)}"
        assert response.json()["status"] == 416 and "bytes" in response.json()["message"]
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]


@pytest.mark.parametrize("wanted", ["bytes=abc", "bytes=9-5", "bytes=", "bytes=-", "bytes=--5", "bytes=1-2-3",
                                    "bytes=0x10-", "bytes=+1-2", "bytes=1.5-2", "bytes=,,", "bytes= - "])
def test_an_invalid_byte_range_answers_416_with_a_message(release_app, built_release, wanted):
    size = len((built_release.dumps / "graph.nq").read_bytes())
    response = release_app.get("/dumps/graph.nq", headers={"Range": wanted})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{size}"
    body = response.json()
    assert body["status"] == 416 and "Satisfiable" in body["error"] and "bytes=" in body["message"]
    assert response.headers["etag"]


@pytest.mark.parametrize("wanted", ["items=0-5", "0-5", "bytes", "bytes=" + ",".join(["0-0"] * 101)])
def test_a_range_of_another_unit_or_too_many_ranges_is_ignored(release_app, built_release, wanted):
    # RFC 9110 14.2: an unknown range unit MUST be ignored; a server MAY ignore many small ranges.
    data = (built_release.dumps / "graph.nq").read_bytes()
    response = release_app.get("/dumps/graph.nq", headers={"Range": wanted})
    assert response.status_code == 200 and response.content == data


def test_several_ranges_answer_multipart_byteranges(release_app, built_release):
    data = (built_release.dumps / "graph.nq").read_bytes()
    response = release_app.get("/dumps/graph.nq", headers={"Range": "bytes=20-29, 0-9"})
    assert response.status_code == 206
    assert response.headers["content-type"].startswith("multipart/byteranges; boundary=")
    boundary = response.headers["content-type"].split("boundary=")[1].encode()
    parts = [p for p in response.content.split(b"--" + boundary) if p.strip(b"-\r\n")]
    assert len(parts) == 2
    for part, (start, end) in zip(parts, [(0, 9), (20, 29)]):
        head, _, body = part.partition(b"\r\n\r\n")
        assert f"Content-Range: bytes {start}-{end}/{len(data)}".encode() in head
        assert body.removesuffix(b"\r\n") == data[start:end + 1]
    assert len(response.content) == int(response.headers["content-length"])
    # Overlapping and adjacent ranges are one range.
    merged = release_app.get("/dumps/graph.nq", headers={"Range": "bytes=0-9,5-19,20-24"})
    assert merged.status_code == 206 and merged.content == data[:25]
    assert merged.headers["content-range"] == f"bytes 0-24/{len(data)}"


def test_head_and_if_range_with_a_range(release_app, built_release):
    data = (built_release.dumps / "graph.nq").read_bytes()
    head = release_app.head("/dumps/graph.nq", headers={"Range": "bytes=5-14"})
    assert head.status_code == 206 and head.headers["content-length"] == "10" and head.content == b""
    etag = head.headers["etag"]
    fresh = release_app.get("/dumps/graph.nq", headers={"Range": "bytes=5-14", "If-Range": etag})
    assert fresh.status_code == 206 and fresh.content == data[5:15]
    stale = release_app.get("/dumps/graph.nq", headers={"Range": f"bytes={HUGE}-", "If-Range": '"old"'})
    assert stale.status_code == 200 and stale.content == data
    gzip_part = release_app.get("/dumps/graph.nq.gz", headers={"Range": "bytes=0-1"})
    assert gzip_part.status_code == 206 and gzip_part.content == b"\x1f\x8b"
    assert gzip_part.headers["content-type"] == "application/gzip" and "content-encoding" not in gzip_part.headers
