"""The site as a browser sees it, in process: every page it can reach is HTML with the site's chrome
(search box, navigation), titles and labels read as text for people, and `/` always says what is served."""
from __future__ import annotations

import re

import pytest

# What Chromium sends for a page it navigates to.
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"}


def page(client, path: str, status: int = 200) -> str:
    response = client.get(path, headers=BROWSER)
    assert response.status_code == status, (path, response.text[:300])
    assert response.headers["content-type"].startswith("text/html"), path
    return response.text


def title(html: str) -> str:
    return re.search(r"<title>(.*?)</title>", html).group(1)


@pytest.mark.parametrize("path, status", [
    ("/no/such/page", 404), ("/entity/no-such-entity", 404), ("/queries/no-such-query", 404),
    ("/queries/statements?speaker=not%20an%20iri", 400), ("/dumps/no-such-file", 404),
])
def test_errors_reach_browsers_as_pages_with_the_sites_chrome(release_app, path, status):
    html = page(release_app, path, status)
    assert 'role="search"' in html and 'href="/ontology"' in html  # the release's navigation, not a bare page
    assert f"<h1>{status} " in html


def test_programs_still_get_the_one_json_error_body(release_app):
    response = release_app.get("/no/such/page", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert set(response.json()) == {"status", "error", "message"}


@pytest.mark.parametrize("path", ["/cameo", "/cameo/"])
def test_the_cameo_scheme_has_a_page_at_cameo(release_app, path):
    html = page(release_app, path)
    assert "CAMEO event codes" in title(html)
    assert 'href="/cameo/01"' in html  # its concepts link to their pages


def test_the_cameo_scheme_as_rdf(release_app):
    response = release_app.get("/cameo", headers={"Accept": "text/turtle"})
    assert response.status_code == 200 and "ConceptScheme" in response.text


def test_well_known_void_in_a_browser_shows_the_description_not_the_home_page(release_app, built_release):
    html = page(release_app, "/.well-known/void")
    assert "Dataset description" in title(html)
    assert "https://creativecommons.org/licenses/by/4.0/" in html
    assert "void:triples" in html  # the Turtle itself, folded away
    assert "Resources by class" in html
    assert "In this dataset" not in html and "Example queries" not in html


def test_the_home_page_title_names_the_site_once(release_app):
    assert title(page(release_app, "/")) == "Diplomacy KG"
    assert title(page(release_app, "/ontology")).count("Diplomacy KG") == 1


def test_the_ontology_page_shows_the_licence_and_version_iri_whole(release_app):
    html = page(release_app, "/ontology")
    licence = re.search(r">licence</a></th><td>(.*?)</td>", html).group(1)
    assert ">https://creativecommons.org/licenses/by/4.0/<" in licence
    version = re.search(r">version IRI</a></th><td>(.*?)</td>", html).group(1)
    assert re.search(r">https://w3id\.org/diplomacy-kg/ontology/[0-9.]+<", version)


def test_class_headings_of_the_ontology_are_in_one_case(release_app):
    html = page(release_app, "/ontology")
    headings = re.findall(r"<h3>(.*?) <code>dipl:", html)
    assert headings and all(h[:1].isupper() for h in headings), [h for h in headings if not h[:1].isupper()]


def test_the_shapes_page_intro_is_said_once_without_raw_backticks(release_app):
    html = page(release_app, "/shapes")
    main = html[html.index("<main>"):]
    assert "`" not in main
    assert main.count("publishes nothing that violates") == 1


def test_under_data_the_home_page_says_what_is_served(protocol_app):
    html = page(protocol_app, "/")
    assert "What this server serves" in html and "kg serve --data" in html
    assert "nothing at /" not in html
    assert 'href="/ontology"' not in html  # no release: no links to pages that are not there
    assert protocol_app.get("/", headers={"Accept": "application/json"}).json()["kind"] == "files"
