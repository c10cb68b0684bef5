"""The reconciliation service (W3C Reconciliation API 0.2) of the app serving the built release, in process.

Every response is validated against the spec's own JSON Schemas in ../shared/reconciliation-schemas.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from conftest import InProcessClient

SERVICE = "/reconcile"
ORIGIN = "http://127.0.0.1:3333"  # where OpenRefine runs: its browser calls us cross-origin


@pytest.fixture(scope="module")
def schemas(reconciliation_schemas_dir: Path) -> dict[str, Draft7Validator]:
    """A validator per 0.2 schema, with every schema registered for $ref (as the spec's own test.sh does)."""
    documents = {path.stem: json.loads(path.read_text()) for path in sorted(reconciliation_schemas_dir.glob("*.json"))}
    resources = []
    for name, document in documents.items():
        resource = Resource.from_contents(document, default_specification=DRAFT7)
        # Registered under its $id and under its file name: some published $ids do not match the file.
        resources += [(document["$id"].rstrip("#"), resource),
                      (f"https://reconciliation-api.github.io/specs/0.2/schemas/{name}.json", resource)]
    registry = Registry().with_resources(resources)
    return {name: Draft7Validator(document, registry=registry) for name, document in documents.items()}


def valid(schemas: dict, name: str, document) -> None:
    errors = sorted(schemas[name].iter_errors(document), key=str)
    assert not errors, f"{name}: " + "; ".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])


@pytest.fixture(scope="module")
def service(release_app: InProcessClient) -> InProcessClient:
    """The app serving the release this session built, in process; the service is at SERVICE."""
    return release_app


def reconcile(service: InProcessClient, schemas, queries: dict, method: str = "POST") -> dict:
    valid(schemas, "reconciliation-query-batch", queries)
    payload = {"queries": json.dumps(queries)}
    response = (service.post(SERVICE, data=payload) if method == "POST" else service.get(SERVICE, params=payload))
    assert response.status_code == 200, response.text
    body = response.json()
    valid(schemas, "reconciliation-result-batch", body)
    assert set(body) == set(queries)
    for answer in body.values():
        scores = [c["score"] for c in answer["result"]]
        assert scores == sorted(scores, reverse=True)
        assert sum(c["match"] for c in answer["result"]) <= 1
    return body


def test_the_manifest_is_a_valid_0_2_manifest(service, schemas):
    response = service.get(SERVICE, headers={"Origin": ORIGIN})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    manifest = response.json()
    valid(schemas, "manifest", manifest)
    assert manifest["versions"] == ["0.2"]
    assert manifest["identifierSpace"] == "https://w3id.org/diplomacy-kg/entity/"
    assert manifest["schemaSpace"] == "https://w3id.org/diplomacy-kg/ontology#"
    assert {t["id"] for t in manifest["defaultTypes"]} >= {"Person", "State", "Organization", "Event"}
    # Every advertised sub-service answers, and the view and preview links stay on this instance
    # (here its public URL), not on the public base IRI, which a local instance does not serve.
    view = manifest["view"]["url"].replace("{{id}}", "kim-jong-un")
    assert view == f"{service.base_url}/entity/kim-jong-un"
    assert service.get(view, headers={"Accept": "text/html"}).status_code == 200
    preview = manifest["preview"]["url"].replace("{{id}}", "kim-jong-un")
    assert preview.startswith(service.base_url)
    card = service.get(preview)
    assert card.status_code == 200 and f'href="{service.base_url}/entity/kim-jong-un"' in card.text
    for kind, where in manifest["suggest"].items():
        assert service.get(where["service_url"] + where["service_path"], params={"prefix": "k"}).status_code == 200
    propose = manifest["extend"]["propose_properties"]
    assert service.get(propose["service_url"] + propose["service_path"], params={"type": "Person"}).status_code == 200


# (query as a person might have typed it, expected entity id or None, expected `match`)
MESSY_NAMES = [
    ("Kim Jong Un", "kim-jong-un", True),
    ("Kim Jong-un", "kim-jong-un", True),
    ("KIM JONG-UN", "kim-jong-un", True),
    ("  kim   jong un ", "kim-jong-un", True),
    ("Kim Jongun", "kim-jong-un", True),
    ("Moon Jae In", "moon-jae-in", True),
    ("Moon Jae-in", "moon-jae-in", True),
    ("moon jae-in.", "moon-jae-in", True),
    ("António Guterres", "antonio-guterres", True),
    ("Antonio Guterres", "antonio-guterres", True),
    ("ANTONIO GUTERRES", "antonio-guterres", True),
    ("Stéphane Dujarric", "stephane-dujarric", True),
    ("Trump, Donald", "donald-trump", True),
    ("Donald J. Trump", "donald-trump", True),
    ("Michael R. Pompeo", "mike-pompeo", True),
    ("D.P.R.K.", "north-korea", True),
    ("North Korea", "north-korea", True),
    ("Viet Nam", "vietnam", True),
    ("U.S.", "united-states", True),
    ("Q56226", "kim-jong-un", True),  # a QID is an exact match
    ("http://www.wikidata.org/entity/Q311440", "antonio-guterres", True),
    ("https://w3id.org/diplomacy-kg/entity/ri-yong-ho", "ri-yong-ho", True),  # our own IRI
    ("kim jong um", "kim-jong-un", False),  # a typo: a candidate, not a match
    ("Pompeio", "mike-pompeo", False),
    ("Antonio Gutteres", "antonio-guterres", False),
    ("President Moon", "moon-jae-in", False),
    ("Trump", "donald-trump", False),  # a surname alone is not near-certain
    ("Washington", "united-states", False),  # a metonym: could be the city
    ("Wang", "wang-yi", False),
    ("Angela Merkel", None, False),
]


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_a_batch_of_messy_names(service, schemas, method):
    queries = {f"q{i}": {"query": name} for i, (name, _, _) in enumerate(MESSY_NAMES)}
    body = reconcile(service, schemas, queries, method)
    for i, (name, expected, match) in enumerate(MESSY_NAMES):
        result = body[f"q{i}"]["result"]
        if expected is None:
            assert all(c["score"] < 60 and not c["match"] for c in result), (name, result)
            continue
        assert result and result[0]["id"] == expected, (name, result)
        assert result[0]["match"] is match, (name, result[0])
        assert {"id", "name", "type", "score", "match"} <= set(result[0])


def test_a_name_shared_by_two_entities_is_never_a_match(service, schemas):
    # Ri Yong Ho and Ri Kil Song share the family name; a fuzzy "Ri Yong" may point at either.
    body = reconcile(service, schemas, {"q": {"query": "Ri"}, "r": {"query": "Ri Kil-song"}})
    assert not any(c["match"] for c in body["q"]["result"])
    assert body["r"]["result"][0]["id"] == "ri-kil-song" and body["r"]["result"][0]["match"]


def test_candidates_carry_types_and_the_wikidata_qid(service, schemas):
    body = reconcile(service, schemas, {"q": {"query": "Kim Jong-un", "limit": 1}})
    [candidate] = body["q"]["result"]
    assert candidate["type"] == [{"id": "Person", "name": "Person"}]
    assert "Q56226" in candidate["description"]


def test_type_filtering_uses_the_class_hierarchy(service, schemas):
    body = reconcile(service, schemas, {
        "city": {"query": "Washington", "type": "City"},
        "state": {"query": "Washington", "type": "State"},
        "org": {"query": "United Nations", "type": "Organization"},  # via InternationalOrganization
        "iri": {"query": "Kim Jong Un", "type": "https://w3id.org/diplomacy-kg/ontology#Person"},
        "wrong": {"query": "Kim Jong Un", "type": ["State", "City"]},
    })
    assert body["city"]["result"] == []
    assert body["state"]["result"][0]["id"] == "united-states"
    assert body["org"]["result"][0]["id"] == "united-nations" and body["org"]["result"][0]["match"]
    assert body["iri"]["result"][0]["id"] == "kim-jong-un"
    assert all(c["id"] != "kim-jong-un" for c in body["wrong"]["result"])


def test_property_constraints(service, schemas):
    body = reconcile(service, schemas, {
        "took_part": {"query": "Trump", "properties": [{"pid": "participantIn", "v": {"id": "hanoi-summit"}}]},
        "by_name": {"query": "Pompeo", "type": "Person",
                    "properties": [{"pid": "participantIn", "v": "Pompeo news conference"}]},
        "office": {"query": "Ri", "properties": [{"pid": "positionsHeld", "v": "Foreign Minister"}]},
        "facts_only": {"properties": [{"pid": "qid", "v": "Q473239"}]},
        "summit_day": {"properties": [{"pid": "startDate", "v": "2019-02-27"}], "type": "Event"},
    })
    assert body["took_part"]["result"][0]["id"] == "donald-trump" and body["took_part"]["result"][0]["match"]
    assert body["by_name"]["result"][0]["id"] == "mike-pompeo" and body["by_name"]["result"][0]["match"]
    assert body["office"]["result"][0]["id"] == "ri-yong-ho"
    assert body["facts_only"]["result"][0]["id"] == "mike-pompeo" and body["facts_only"]["result"][0]["match"]
    assert [c["id"] for c in body["summit_day"]["result"]] == ["hanoi-summit"]


def test_agreeing_properties_raise_a_score_and_disagreeing_ones_lower_it(service, schemas):
    """As OpenRefine uses them: properties refine the scores of the candidates a name finds, they do not filter."""
    plain = reconcile(service, schemas, {"q": {"query": "Kim", "type": "Person"}})["q"]["result"]
    kim = next(c for c in plain if c["id"] == "kim-jong-un")
    assert kim["score"] == 80 and not kim["match"]  # a one-word alias
    body = reconcile(service, schemas, {
        "agrees": {"query": "Kim", "type": "Person",
                   "properties": [{"pid": "participantIn", "v": {"id": "hanoi-summit"}}]},
        "disagrees": {"query": "Kim", "type": "Person",
                      "properties": [{"pid": "participantIn", "v": {"id": "pompeo-news-conference"}}]},
    })
    agrees = body["agrees"]["result"][0]
    assert agrees["id"] == "kim-jong-un" and agrees["score"] > kim["score"] and agrees["match"]
    disagrees = next(c for c in body["disagrees"]["result"] if c["id"] == "kim-jong-un")
    assert disagrees["score"] < kim["score"] and not disagrees["match"]


def test_the_documented_example_finds_pompeo(service, schemas):
    """docs/wikidata.md's example batch: Pompeo is found, though he is not among the summit's participants."""
    body = reconcile(service, schemas, {
        "q0": {"query": "Kim Jong-un"},
        "q1": {"query": "Pompeo", "type": "Person",
               "properties": [{"pid": "participantIn", "v": {"id": "hanoi-summit"}}]}})
    assert body["q0"]["result"][0]["id"] == "kim-jong-un" and body["q0"]["result"][0]["match"]
    assert body["q1"]["result"][0]["id"] == "mike-pompeo" and not body["q1"]["result"][0]["match"]


@pytest.mark.parametrize("query, words", [
    ({"quer": "Kim"}, "unknown field"),
    ({"query": ""}, "needs a non-empty"),
    ({"query": "   "}, "needs a non-empty"),
    ({"query": "Kim", "type": "Unicorn"}, "unknown type"),
    ({"query": "Kim", "properties": [{"pid": "shoeSize", "v": 42}]}, "unknown property"),
    ("Kim", "JSON object"),
])
def test_one_bad_query_gets_an_empty_result_and_the_others_their_answers(service, schemas, query, words):
    response = service.post(SERVICE, data={"queries": json.dumps({"bad": query, "good": {"query": "Kim Jong Un"}})},
                            headers={"Origin": ORIGIN})
    assert response.status_code == 200
    body = response.json()
    valid(schemas, "reconciliation-result-batch", body)
    assert body["bad"]["result"] == [] and words in body["bad"]["error"]
    assert body["good"]["result"][0]["id"] == "kim-jong-un"


@pytest.mark.parametrize("queries, status, words", [
    ("not json", 400, "not JSON"),
    ("[]", 400, "JSON object"),
    (json.dumps({f"q{i}": {"query": "Kim"} for i in range(101)}), 413, "at most 100"),
])
def test_bad_requests_get_a_clear_4xx(service, queries, status, words):
    response = service.post(SERVICE, data={"queries": queries}, headers={"Origin": ORIGIN})
    assert response.status_code == status
    body = response.json()  # the project's error shape, as every other route answers
    assert set(body) == {"status", "error", "message"} and body["status"] == status
    assert words in body["message"]
    assert response.headers["access-control-allow-origin"] == "*"


def test_preview_is_a_small_html_card(service):
    response = service.get(f"{SERVICE}/preview", params={"id": "antonio-guterres"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "Antonio Guterres" in response.text
    assert 'href="https://www.wikidata.org/wiki/Q311440"' in response.text
    assert "Secretary-General, United Nations" in response.text
    assert "<script" not in response.text
    # Names are escaped, never injected.
    assert "People&#x27;s" in service.get(f"{SERVICE}/preview", params={"id": "north-korea"}).text
    missing = service.get(f"{SERVICE}/preview", params={"id": "<b>nobody</b>"})
    assert missing.status_code == 404 and "<b>" not in missing.text


def test_suggest_entities(service, schemas):
    body = service.get(f"{SERVICE}/suggest/entity", params={"prefix": "kim jong"}).json()
    valid(schemas, "suggest-entities-response", body)
    assert body["result"][0]["id"] == "kim-jong-un"
    by_id = service.get(f"{SERVICE}/suggest/entity", params={"prefix": "ri-kil-song"}).json()
    assert by_id["result"][0]["id"] == "ri-kil-song"  # a prefix equal to an id returns that entity
    accents = service.get(f"{SERVICE}/suggest/entity", params={"prefix": "stépha"}).json()
    assert [r["id"] for r in accents["result"]] == ["stephane-dujarric"]
    typed = service.get(f"{SERVICE}/suggest/entity", params={"prefix": "ri", "type": "Person"}).json()
    assert {r["id"] for r in typed["result"]} == {"ri-yong-ho", "ri-kil-song"}
    first = service.get(f"{SERVICE}/suggest/entity", params={"prefix": ""}).json()["result"]
    second = service.get(f"{SERVICE}/suggest/entity", params={"prefix": "", "cursor": len(first)}).json()["result"]
    assert first and second and not {r["id"] for r in first} & {r["id"] for r in second}


def test_suggest_types_and_properties(service, schemas):
    types = service.get(f"{SERVICE}/suggest/type", params={"prefix": "org"}).json()
    valid(schemas, "suggest-types-response", types)
    assert {"Organization", "GovernmentOrganization", "InternationalOrganization"} <= {t["id"] for t in types["result"]}
    properties = service.get(f"{SERVICE}/suggest/property", params={"prefix": "wiki"}).json()
    valid(schemas, "suggest-properties-response", properties)
    assert [p["id"] for p in properties["result"]] == ["qid"]


def test_data_extension(service, schemas):
    query = {"ids": ["kim-jong-un", "hanoi-summit", "no-such-entity"],
             "properties": [{"id": p} for p in ("label", "type", "qid", "positionsHeld", "participantIn",
                                                "startDate", "endDate")]}
    valid(schemas, "data-extension-query", query)
    response = service.post(SERVICE, data={"extend": json.dumps(query)}, headers={"Origin": ORIGIN})
    assert response.status_code == 200 and response.headers["access-control-allow-origin"] == "*"
    body = response.json()
    valid(schemas, "data-extension-response", body)
    kim, summit = body["rows"]["kim-jong-un"], body["rows"]["hanoi-summit"]
    assert kim["label"] == [{"str": "Kim Jong Un"}] and kim["qid"] == [{"str": "Q56226"}]
    assert {"str": "Leader, Democratic People's Republic of Korea"} in kim["positionsHeld"]
    assert {"id": "hanoi-summit", "name": "2019 North Korea–United States Hanoi Summit"} in kim["participantIn"]
    assert summit["startDate"] == [{"date": "2019-02-27T00:00:00Z"}]
    assert summit["endDate"] == [{"date": "2019-02-28T00:00:00Z"}]
    assert summit["type"] == [{"id": "Summit", "name": "Summit"}] and summit["qid"] == []
    assert all(values == [] for values in body["rows"]["no-such-entity"].values())
    event = service.post(SERVICE, data={"extend": json.dumps({"ids": ["hanoi-summit"], "properties": [
        {"id": "place"}, {"id": "participants"}]})}).json()
    valid(schemas, "data-extension-response", event)
    assert event["rows"]["hanoi-summit"]["place"] == [{"id": "hanoi", "name": "Hanoi"}]
    assert {"id": "kim-jong-un", "name": "Kim Jong Un"} in event["rows"]["hanoi-summit"]["participants"]
    assert {m["id"] for m in event["meta"]} == {"place", "participants"}
    by_get = service.get(SERVICE, params={"extend": json.dumps(query)}).json()
    assert by_get == body


def test_property_proposals(service, schemas):
    body = service.get(f"{SERVICE}/extend/propose", params={"type": "Person"}).json()
    valid(schemas, "data-extension-property-proposal", body)
    ids = [p["id"] for p in body["properties"]]
    assert {"label", "qid", "positionsHeld", "participantIn"} <= set(ids) and "startDate" not in ids
    events = service.get(f"{SERVICE}/extend/propose", params={"type": "Summit", "limit": 20}).json()
    assert {"startDate", "endDate"} <= {p["id"] for p in events["properties"]}


@pytest.mark.parametrize("path", ["", "/preview?id=kim-jong-un", "/suggest/entity?prefix=k",
                                  "/suggest/type?prefix=p", "/suggest/property?prefix=d",
                                  "/extend/propose?type=Person"])
def test_cors_on_every_route(service, path):
    response = service.get(f"{SERVICE}{path}", headers={"Origin": ORIGIN})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    preflight = service.options(f"{SERVICE}{path}", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == "*"
