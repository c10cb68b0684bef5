"""Entity, statement and article pages written for people: labels instead of property names, the
internal nodes (participation, attribution, position) as sentences, a summary of what a person said
and claimed, an article's headline and contents, offsets folded away; in process."""
from __future__ import annotations

import re

from pyoxigraph import Literal, NamedNode, Quad, Store
from test_site_pages import page

ARTICLE = "cgtn-2019-03-01-hanoi-summit"
DIPL = "https://w3id.org/diplomacy-kg/ontology#"


def section(html: str, heading: str) -> str:
    """The HTML from a heading to the next h2."""
    start = html.index(heading)
    end = html.find("<h2", start + 1)
    return html[start:end if end > 0 else None]


def count(store: Store, query: str) -> int:
    return int(next(iter(store.query(query, use_default_graph_as_union=True)))["n"].value)


def test_a_persons_page_says_what_they_said_claimed_held_and_took_part_in(release_app, release_store, built_release):
    base = built_release.manifest["base"]
    html = page(release_app, "/entity/mike-pompeo")
    summary = section(html, "What Mike Pompeo said and claimed")
    said = count(release_store, f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s <{DIPL}speaker> <{base}entity/mike-pompeo> }}")
    claimed = count(release_store, "SELECT (COUNT(DISTINCT ?a) AS ?n) WHERE { ?a <http://www.w3.org/ns/prov#agent> "
                                   f"<{base}entity/mike-pompeo> }}")
    assert f"{said} statements; {claimed} claims attributed" in summary
    assert 'class="stance denies">denies</span>' in summary and 'class="stance asserts">asserts</span>' in summary
    assert 'href="/browse?type=Statement&amp;speaker=mike-pompeo"' in summary
    assert "Secretary of State" in section(html, "Positions held")
    assert re.search(r"took part as speaker in <a href=\"[^\"]+\">Mike Pompeo&#39;s news conference", html)


def test_property_labels_and_no_internal_nodes_in_the_tables(release_app):
    html = page(release_app, "/entity/mike-pompeo")
    facts = section(html, "<caption>Facts")
    assert ">also known as</a>" in facts and ">exact match</a>" in facts
    assert ">altLabel<" not in html and ">exactMatch<" not in html
    referenced = html[html.index("Referenced by"):] if "Referenced by" in html else ""
    assert "/attribution/" not in referenced and "/participation/" not in referenced


def test_a_statement_lists_the_claims_it_makes(release_app, release_store):
    statement = next(iter(release_store.query(
        "SELECT ?s WHERE { ?a <http://www.w3.org/ns/prov#hadActivity> ?s } ORDER BY ?s LIMIT 1",
        use_default_graph_as_union=True)))["s"].value
    html = page(release_app, "/" + statement.split("/diplomacy-kg/", 1)[1])
    claims = section(html, "Claims made in this statement")
    assert 'class="stance' in claims and "/claim/" in claims


def test_the_article_page_has_its_headline_contents_and_folded_offsets(release_app, release_store):
    html = page(release_app, f"/article/{ARTICLE}")
    assert '<h1 class="headline">DPRK FM Ri Yong Ho disputes Trump&#39;s reason for summit collapse</h1>' in html
    assert re.search(r"<title>DPRK FM Ri Yong Ho disputes", html)
    statements = count(release_store, f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ GRAPH "
                                      f"<https://w3id.org/diplomacy-kg/graph/article/{ARTICLE}> {{ ?s a <{DIPL}Statement> }} }}")
    assert f"<h3>Statements <small>({statements})</small></h3>" in section(html, "In this article")
    assert "<h3>Claims" in section(html, "In this article")


def test_offsets_are_folded_away(release_app):
    html = page(release_app, "/entity/kim-jong-un")
    mentions = section(html, "Mentions in the text")
    for offsets in re.findall(r"characters \d+–\d+", mentions):
        assert re.search(rf"<summary>where exactly</summary>{offsets}", mentions)
    article = page(release_app, f"/article/{ARTICLE}")
    assert "first character" not in section(article, "About the article")
    technical = article[article.index('<details class="technical"><summary>Technical details</summary>'):]
    assert "first character" in technical[:technical.index("</details>")]


def test_the_headline_field_wins_over_the_first_heading(built_release):
    from kg.server.views.pages import Reader, headline
    from kg.server.views.site import Site

    site = Site(built_release.path)
    article = NamedNode(f"{site.base}article/x")
    store = Store()
    store.add(Quad(article, NamedNode("http://schema.org/headline"), Literal("Given headline", language="en")))
    assert headline(Reader(store, site), article) == "Given headline"
