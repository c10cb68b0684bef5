"""The queries the benchmarks send, written against the synthetic corpus of `benchmarks/corpus.py`.

`MIX` is modelled on the named queries (entity lookup, statements by speaker, timeline in a date range,
who met whom, contested claims, counts per actor, text search in quotes, entity card); `LOOKUPS` are
single-entity lookups over a hundred people. person-0 is the most popular person (rank 1 of the Zipf
draw), so the mix's entity queries touch the largest neighbourhoods. Each query is written the way the
named queries are: aggregates in subqueries, never a product of two OPTIONALs over a popular entity.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

JSON = "application/sparql-results+json"
NTRIPLES = "application/n-triples"
P = """PREFIX dipl: <https://w3id.org/diplomacy-kg/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX nif: <http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
PREFIX e: <https://w3id.org/diplomacy-kg/entity/>
"""
MIX = {
    "entity lookup": ("CONSTRUCT { e:person-0 ?p ?o } WHERE { e:person-0 ?p ?o }", NTRIPLES),
    "statements by speaker": ("""SELECT ?s ?date ?text WHERE { ?s dipl:speaker e:person-0 ; dipl:date ?date .
        OPTIONAL { ?s dipl:paraphrase/nif:anchorOf ?text } } ORDER BY DESC(?date) LIMIT 50""", JSON),
    "timeline in a date range": ("""SELECT ?event ?date ?label WHERE { ?event a dipl:Meeting ; dipl:date ?date ;
        rdfs:label ?label FILTER (?date >= "2019-03-01"^^xsd:date && ?date < "2019-04-01"^^xsd:date) }
        ORDER BY ?date""", JSON),
    "who met whom": ("""SELECT ?other (COUNT(DISTINCT ?event) AS ?meetings) WHERE {
        { SELECT DISTINCT ?event WHERE { ?event a dipl:Meeting ; dipl:participant e:person-0 } }
        ?event dipl:participant ?other . ?other a dipl:Person FILTER (?other != e:person-0) }
        GROUP BY ?other ORDER BY DESC(?meetings) LIMIT 20""", JSON),
    "contested claims": ("""SELECT ?claim ?label (COUNT(DISTINCT ?denier) AS ?deniers) WHERE {
        ?claim dipl:attribution [ dipl:stance dipl:Denies ; prov:agent ?denier ] ; rdfs:label ?label ;
        dipl:contradicts ?other } GROUP BY ?claim ?label ORDER BY DESC(?deniers) LIMIT 50""", JSON),
    "counts per actor": ("""SELECT ?speaker (COUNT(*) AS ?statements) WHERE { ?s dipl:speaker ?speaker }
        GROUP BY ?speaker ORDER BY DESC(?statements) LIMIT 10""", JSON),
    "text search in quotes": ("""SELECT ?s ?text WHERE { ?s dipl:quotation/nif:anchorOf ?text
        FILTER (CONTAINS(LCASE(?text), "welcomes every step")) } LIMIT 20""", JSON),
    "entity card": ("""SELECT ?label ?title ?of ?events WHERE { e:person-0 rdfs:label ?label .
        { SELECT (COUNT(DISTINCT ?event) AS ?events) WHERE { ?event dipl:participant e:person-0 } }
        OPTIONAL { SELECT DISTINCT ?title ?of WHERE { e:person-0 dipl:holdsPosition ?position .
            ?position dipl:positionTitle ?title ; dipl:positionOf/rdfs:label ?of } LIMIT 20 } } LIMIT 20""", JSON),
}
LOOKUPS = {f"lookup of person-{i}": (f"CONSTRUCT {{ e:person-{i} ?p ?o }} WHERE {{ e:person-{i} ?p ?o }}", NTRIPLES)
           for i in range(100)}


def built_corpus(work: Path, articles: int) -> Path:
    """The union N-Quads dump of a `kg build` of a generated corpus of `articles` articles (reused when built)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from corpus import generate_corpus

    project, build = work / f"corpus-{articles}", work / f"build-{articles}"
    if not (build / "current").exists():
        generate_corpus(project, articles)
        subprocess.run([str(Path(sys.executable).parent / "kg"), "build", "--build-dir", str(build)], check=True,
                       capture_output=True, env={**os.environ, "KG_PROJECT": str(project)})
    return (build / "current" / "dumps" / "graph.nq").resolve()
