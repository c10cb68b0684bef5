"""Without ../shared a plain clone's run says once what was not run and how to get it; under CI it fails.

Each case runs pytest in a child process on test_reconcile.py (schema tests beside plain ones), with
KG_SHARED pointing at an empty folder, collecting only: the decision is made at collection.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import REPO, SHARED


# The child runs need none of the suite's plugins but xdist: leaving out hypothesis's and schemathesis's, which
# load at every pytest start, makes each run a third of the time (6.1 s -> 2.2 s with two workers).
CHILD_PYTEST = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:hypothesispytest",
                "-p", "no:schemathesis"]


def collect_reconcile_tests(shared: Path, ci: str | None, *options: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in ("CI", "KG_SHARED")}
    env["KG_SHARED"] = str(shared)
    if ci is not None:
        env["CI"] = ci
    return subprocess.run([*CHILD_PYTEST, "--collect-only", "-q", *options, "tests/test_reconcile.py"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


def test_without_shared_the_conformance_tests_are_left_out_with_one_clear_message(tmp_path: Path) -> None:
    result = collect_reconcile_tests(tmp_path, ci=None)
    assert result.returncode == 0, result.stdout + result.stderr
    collected = [line for line in result.stdout.splitlines() if "::" in line]
    assert any("test_preview_is_a_small_html_card" in line for line in collected)  # needs no schema: still runs
    assert not any("test_the_manifest_is_a_valid_0_2_manifest" in line for line in collected)
    assert "deselected" in result.stdout
    assert result.stdout.count("conformance tests NOT RUN") == 1
    assert f"not at {tmp_path}" in result.stdout and "set KG_SHARED=/path/to/shared" in result.stdout


def test_under_ci_missing_shared_material_fails_the_run(tmp_path: Path) -> None:
    result = collect_reconcile_tests(tmp_path, ci="true")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "CI is set, so they are required" in result.stdout + result.stderr


def test_under_ci_a_run_leaving_out_the_conformance_tests_needs_no_shared_material(tmp_path: Path) -> None:
    result = collect_reconcile_tests(tmp_path, "true", "-m", "not conformance")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "test_preview_is_a_small_html_card" in result.stdout and "NOT RUN" not in result.stdout


def test_with_shared_present_the_conformance_tests_are_collected(reconciliation_schemas_dir: Path) -> None:
    result = collect_reconcile_tests(SHARED, ci="true")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "test_the_manifest_is_a_valid_0_2_manifest" in result.stdout
    assert "NOT RUN" not in result.stdout and "deselected" not in result.stdout


def run_reconcile_tests_in_workers(shared: Path, ci: str | None) -> subprocess.CompletedProcess:
    """`make test` runs the suite in pytest-xdist workers, which collect on their own: run one conformance test so."""
    env = {key: value for key, value in os.environ.items() if key not in ("CI", "KG_SHARED")}
    env["KG_SHARED"] = str(shared)
    if ci is not None:
        env["CI"] = ci
    return subprocess.run([*CHILD_PYTEST, "-q", "-n", "2", "-k", "test_the_manifest_is_a_valid_0_2_manifest",
                           "tests/test_reconcile.py"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


def test_in_workers_without_shared_the_summary_still_says_once_what_was_not_run(tmp_path: Path) -> None:
    result = run_reconcile_tests_in_workers(tmp_path, ci=None)
    assert result.stdout.count("conformance tests NOT RUN") == 1, result.stdout + result.stderr
    assert "1 conformance tests" in result.stdout and f"not at {tmp_path}" in result.stdout


def test_in_workers_under_ci_missing_shared_material_fails_the_run_with_the_reason(tmp_path: Path) -> None:
    result = run_reconcile_tests_in_workers(tmp_path, ci="true")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "CI is set, so they are required" in result.stdout and "INTERNALERROR" not in result.stdout
