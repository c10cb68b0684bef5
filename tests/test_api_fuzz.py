"""Property-based fuzzing of the HTTP API from its own OpenAPI description (schemathesis).

A short run for CI (ten generated requests per operation, /sparql included): whatever the
parameters and bodies, the server never answers 5xx. The long run (thousands of requests) is the
`schemathesis run` command in docs/reliability.md.
"""
from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings

EXAMPLES_PER_OPERATION = 10


def test_no_generated_request_gets_a_server_error(release_server) -> None:
    schema = schemathesis.openapi.from_url(f"{release_server.base_url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert any(op.path == "/sparql" for op in operations)
    sent: list[str] = []
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck),
                  database=None)
        def never_a_server_error(case) -> None:
            response = case.call(timeout=30)
            sent.append(case.path)
            assert response.status_code < 500, \
                f"{case.method} {case.formatted_path} {case.query}: {response.status_code} {response.text[:300]}"

        never_a_server_error()
    assert len(sent) >= 5 * len(operations)
