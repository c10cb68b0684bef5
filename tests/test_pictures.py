"""The timeline and the actor–event–claim graph over HTTP, in process: what they hold (from SPARQL, by the
ontology's classes and predicates), their JSON twins, and that they are pages a browser can open."""
from __future__ import annotations

ARTICLE = "cgtn-2019-03-01-hanoi-summit"
JSON = {"accept": "application/json"}
HTML = {"accept": "text/html"}


def test_the_timeline_holds_dated_events_and_statements_newest_first(release_app) -> None:
    data = release_app.get("/timeline", headers=JSON).json()
    kinds = {item["kind"] for item in data["items"]}
    assert kinds == {"event", "statement"}
    starts = [item["start"] for item in data["items"]]
    assert starts == sorted(starts, reverse=True) and all(starts)
    labels = " ".join(item["label"] for item in data["items"])
    assert "2019 North Korea–United States Hanoi Summit" in labels
    assert any(item["label"].startswith("Mike Pompeo: “") for item in data["items"])  # a statement: speaker and words


def test_a_timeline_of_one_article(release_app) -> None:
    everything = release_app.get("/timeline", headers=JSON).json()["items"]
    article = release_app.get("/timeline", params={"article": ARTICLE}, headers=JSON).json()["items"]
    assert article and {item["iri"] for item in article} <= {item["iri"] for item in everything}
    assert any(item["iri"].startswith(f"https://w3id.org/diplomacy-kg/article/{ARTICLE}/statement/") for item in article)
    assert release_app.get("/timeline", params={"article": "no-such-article"}, headers=JSON).json()["items"] == []


def test_the_timeline_page_embeds_its_data_and_lists_it_without_script(release_app) -> None:
    page = release_app.get("/timeline", headers=HTML)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'id="picture-data"' in page.text and "/static/vendor/vis-timeline/" in page.text
    assert '<ol class="timeline-list">' in page.text and 'href="/article/' in page.text


def test_an_articles_graph_shows_who_asserts_and_who_denies_what(release_app) -> None:
    data = release_app.get("/network", params={"about": f"/article/{ARTICLE}"}, headers=JSON).json()
    relations = {edge["relation"] for edge in data["edges"]}
    assert relations >= {"asserts", "denies", "takes part in", "contradicts"}
    nodes = {node["id"]: node for node in data["nodes"]}
    ri_yong_ho = "https://w3id.org/diplomacy-kg/entity/ri-yong-ho"
    denied = [nodes[e["target"]]["label"] for e in data["edges"] if e["source"] == ri_yong_ho and e["relation"] == "denies"]
    assert denied, data["edges"]
    assert {node["kind"] for node in data["nodes"]} >= {"actor", "event", "claim"}
    assert all(node["href"].startswith("/") for node in data["nodes"])  # every node has a page here
    assert all(edge["statementHref"].startswith(f"/article/{ARTICLE}/statement/")
               for edge in data["edges"] if edge["relation"] in ("asserts", "denies"))


def test_an_entitys_graph_has_its_claims_and_the_others_stances_on_them(release_app) -> None:
    pompeo = "https://w3id.org/diplomacy-kg/entity/mike-pompeo"
    data = release_app.get("/network", params={"about": "/entity/mike-pompeo"}, headers=JSON).json()
    assert data["focus"] == pompeo
    own = {e["target"] for e in data["edges"] if e["source"] == pompeo and e["relation"] in ("asserts", "denies")}
    assert own
    others = {e["source"] for e in data["edges"] if e["target"] in own and e["source"] != pompeo}
    assert "https://w3id.org/diplomacy-kg/entity/ri-yong-ho" in others  # who disputes what Pompeo says
    by_iri = release_app.get("/network", params={"about": pompeo}, headers=JSON).json()
    assert by_iri["edges"] == data["edges"]


def test_the_graph_page_lists_the_edges_as_sentences(release_app) -> None:
    page = release_app.get("/network", params={"about": "/entity/ri-yong-ho"}, headers=HTML)
    assert page.status_code == 200
    assert "/static/vendor/cytoscape/" in page.text and 'id="picture-data"' in page.text
    assert "Ri Yong Ho</a> denies <a" in page.text


def test_coded_acts_show_whom_a_claim_is_addressed_to_without_repeating_closer_links(release_app) -> None:
    """dipl:sourceActor / dipl:targetActor and their subproperties (dipl:proposer, dipl:proposedTo), read from the
    ontology: a proposal's proposer acts in it and the party it is made to is addressed in it."""
    data = release_app.get("/network", params={"about": f"/article/{ARTICLE}"}, headers=JSON).json()
    labels = {node["id"]: node["label"] for node in data["nodes"]}
    edges = {(labels[e["source"]], e["relation"], labels[e["target"]]) for e in data["edges"]}
    addressed = {(source, target) for source, relation, target in edges if relation == "is addressed in"}
    assert addressed
    acting = {(source, target) for source, relation, target in edges if relation == "acts in"}
    closer = {(source, target) for source, relation, target in edges if relation in ("asserts", "denies", "takes part in")}
    assert acting and not acting & closer


def test_the_timeline_pages_back_through_older_items(release_app, monkeypatch) -> None:
    from kg.server.views import visual

    everything = release_app.get("/timeline", headers=JSON).json()["items"]
    monkeypatch.setattr(visual, "MAX_TIMELINE_ITEMS", 10)
    first = release_app.get("/timeline", headers=JSON).json()
    second = release_app.get("/timeline", params={"skip": first["older"]}, headers=JSON).json()
    assert first["older"] == 10 and [i["iri"] for i in first["items"] + second["items"]] == [i["iri"] for i in everything[:20]]
    page = release_app.get("/timeline", params={"skip": 10}, headers=HTML).text
    assert 'href="?skip=0">Newer</a>' in page and 'href="?skip=20">Older</a>' in page
    refused = release_app.get("/timeline", params={"skip": "-1"}, headers=JSON)
    assert refused.status_code == 400 and "skip must be a whole number" in refused.json()["message"]


def test_the_graph_needs_an_article_or_entity(release_app) -> None:
    for about in ({}, {"about": "not an iri"}, {"about": "/entity/a b"}):
        answer = release_app.get("/network", params=about, headers=JSON)
        assert answer.status_code == 400 and "about= names the article or entity" in answer.json()["message"], about
    page = release_app.get("/network", headers=HTML)
    assert page.status_code == 400 and page.headers["content-type"].startswith("text/html")


def test_article_and_entity_pages_link_to_their_pictures(release_app) -> None:
    article = release_app.get(f"/article/{ARTICLE}", headers=HTML).text
    assert f'href="/timeline?article={ARTICLE}"' in article and f'href="/network?about=/article/{ARTICLE}"' in article
    entity = release_app.get("/entity/kim-jong-un", headers=HTML).text
    assert 'href="/network?about=/entity/kim-jong-un"' in entity
