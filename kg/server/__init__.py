"""The HTTP server: the SPARQL 1.1 Protocol endpoint and, later, the pages for people.

`app.create_app` wires one worker process's application; `supervisor` runs several worker
processes on one listening socket and replaces any that must stop; `cli` is `kg serve`.
"""
