"""Search by name and browse by kind with facets, as pages and as JSON; the home page stays small; in process."""
from __future__ import annotations

import re

import pytest
from test_site_pages import BROWSER, page

ARTICLE = "cgtn-2019-03-01-hanoi-summit"


@pytest.mark.parametrize("typed, found", [
    ("Kim Jong-un", "kim-jong-un"),
    ("KIM JONG UN", "kim-jong-un"),
    ("kim jongun", "kim-jong-un"),
    ("Antonio Guterres", "antonio-guterres"),  # the label has no accent; an alias has one
    ("António Guterres", "antonio-guterres"),
    ("DPRK", "north-korea"),  # an alias
    ("Pompeo", "mike-pompeo"),
    ("Pomp", "mike-pompeo"),  # the beginning of a name
    ("Trump, Donald", "donald-trump"),  # words in another order
])
def test_search_finds_names_as_people_write_them(release_app, typed, found):
    body = release_app.get("/search", params={"q": typed, "format": "json"}).json()
    assert body["results"] and body["results"][0]["id"] == found, body["results"][:3]
    assert body["results"][0]["url"] == f"/entity/{found}"


def test_search_has_an_html_twin_linking_to_the_pages(release_app):
    html = page(release_app, "/search?q=Kim+Jong-un")
    assert 'href="/entity/kim-jong-un"' in html
    assert 'value="Kim Jong-un"' in html  # the box keeps what was typed
    assert 'href="/search?q=Kim+Jong-un&amp;format=json"' in html
    json_by_accept = release_app.get("/search", params={"q": "Kim Jong-un"}, headers={"Accept": "application/json"})
    assert json_by_accept.json()["results"][0]["id"] == "kim-jong-un"


def test_search_by_type_and_its_errors(release_app):
    states = release_app.get("/search", params={"q": "Korea", "type": "State", "format": "json"}).json()["results"]
    assert states and all("State" in r["types"] for r in states)
    unknown = release_app.get("/search", params={"q": "Kim", "type": "Unicorn"}, headers=BROWSER)
    assert unknown.status_code == 400 and "Unicorn" in unknown.text
    assert release_app.get("/search", params={"q": "k" * 201, "format": "json"}).status_code == 413
    empty = page(release_app, "/search?q=")
    assert "search-results" not in empty


def test_every_page_has_the_search_box(release_app):
    for path in ("/", "/entity/kim-jong-un", f"/article/{ARTICLE}", "/ontology", "/browse", "/queries", "/dumps/"):
        html = page(release_app, path)
        assert re.search(r'<form class="search" role="search" aria-label="Site search" action="/search"', html), path
        assert '<label for="site-search"' in html, path


def rows(client, **params) -> list[dict]:
    response = client.get("/browse", params={**params, "format": "json"})
    assert response.status_code == 200, response.text
    return response.json()["rows"]


def test_browse_by_type_includes_subclasses_with_counts(release_app, release_store, built_release):
    people = release_app.get("/browse", params={"type": "Person", "format": "json"}).json()
    assert "https://w3id.org/diplomacy-kg/entity/kim-jong-un" in {r["iri"] for r in people["rows"]}
    assert people["total"] == len(people["rows"])
    events = {r["iri"] for r in rows(release_app, type="Event")}
    assert f"{built_release.manifest['base']}entity/hanoi-summit" in events  # a dipl:Summit is an Event
    html = page(release_app, "/browse")
    assert re.search(r'<a href="/browse\?type=Person"[^>]*>Person</a> <small>\d+</small>', html)


def test_browse_facets_narrow_the_listing(release_app, release_store, built_release):
    base = built_release.manifest["base"]
    pompeo = rows(release_app, type="Statement", speaker="mike-pompeo")
    assert pompeo and all(r["speaker"]["id"] == "mike-pompeo" for r in pompeo)
    expected = {row["s"].value for row in release_store.query(
        f"SELECT DISTINCT ?s WHERE {{ ?s a <https://w3id.org/diplomacy-kg/ontology#Statement> ; "
        f"<https://w3id.org/diplomacy-kg/ontology#speaker> <{base}entity/mike-pompeo> }}",
        use_default_graph_as_union=True)}
    assert {r["iri"] for r in pompeo} == expected
    denied = rows(release_app, type="Claim", stance="denies")
    every_claim = rows(release_app, type="Claim")
    assert denied and len(denied) < len(every_claim)
    assert all(r["date"].startswith("2019-02") for r in rows(release_app, type="Event", date="2019-02"))
    in_article = rows(release_app, type="Statement", article=ARTICLE)
    assert in_article and all(r["article"]["id"] == ARTICLE for r in in_article)
    dates = [r["date"] or "9999" for r in in_article]
    assert dates == sorted(dates)  # one article: by date


def test_browse_pages_through_a_listing(release_app):
    first = release_app.get("/browse", params={"format": "json"}).json()
    assert first["has_next"] and len(first["rows"]) == first["page_size"]
    second = release_app.get(first["next"] + "&format=json").json()
    assert second["page"] == 2 and second["previous"]
    assert not {r["iri"] for r in first["rows"]} & {r["iri"] for r in second["rows"]}


@pytest.mark.parametrize("params, words", [
    ({"type": "Unicorn"}, "unknown type"), ({"page": "0"}, "page"), ({"page": "x"}, "page"),
    ({"stance": "maybe"}, "stance"), ({"date": "yesterday"}, "date"),
])
def test_browse_refuses_what_selects_nothing_with_a_message(release_app, params, words):
    response = release_app.get("/browse", params=params, headers=BROWSER)
    assert response.status_code == 400 and words in response.text


def test_the_home_page_stays_small_and_links_to_the_listings(release_app):
    html = page(release_app, "/")
    assert 'href="/browse?type=Person"' in html and 'href="/browse?type=Statement"' in html
    # No flat index of every resource: the claims and statements are a listing away, not on the page.
    assert "/statement/" not in html and "/claim/" not in html
    assert "/graph/article/" not in html and "one graph per article (1)" in html  # counted, not listed
    assert len(html) < 20_000


def test_while_the_name_index_is_read_search_answers_503_with_retry_after(built_release, monkeypatch):
    """The index is read once per process, under a limit of its own: a request does not wait past its own."""
    import threading
    import time

    from conftest import InProcessClient

    from kg.integrations.entity_index import EntityIndex

    gate = threading.Event()
    read = EntityIndex.from_store.__func__

    def slow_read(cls, store):
        gate.wait(30)  # as a large corpus would take
        return read(cls, store)

    monkeypatch.setattr(EntityIndex, "from_store", classmethod(slow_read))
    client = InProcessClient(built_release.store_path, release=str(built_release.path), timeout=0.2)
    try:
        waiting = client.get("/search", params={"q": "Kim Jong Un", "format": "json"})
        assert waiting.status_code == 503 and waiting.headers["retry-after"] == "10"
        assert "try again" in waiting.json()["message"]
        gate.set()
        for _ in range(100):
            answer = client.get("/search", params={"q": "Kim Jong Un", "format": "json"})
            if answer.status_code == 200:
                break
            time.sleep(0.1)
        assert answer.json()["results"][0]["id"] == "kim-jong-un"
    finally:
        gate.set()
        client.close()
