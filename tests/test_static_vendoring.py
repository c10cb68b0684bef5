"""The pages' JavaScript comes from npm (package.json, package-lock.json) through vendor_js.py, never from a
CDN and never from files kept in git: what the templates load is exactly what vendor_js.py copies."""
from __future__ import annotations

import importlib.util
import json
import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TEMPLATES = REPO / "kg" / "templates"
STATIC = REPO / "kg" / "static"


def vendor_js():
    spec = importlib.util.spec_from_file_location("vendor_js", REPO / "vendor_js.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def loaded_vendor_files() -> set[str]:
    """Paths under /static/vendor/ that some template loads."""
    found = set()
    for template in TEMPLATES.glob("*.html"):
        found |= set(re.findall(r'/static/vendor/([^"\']+)', template.read_text(encoding="utf-8")))
    return found


def test_every_library_a_page_loads_is_copied_from_npm() -> None:
    copied = {target for files in vendor_js().VENDORED.values() for target in files.values()}
    assert loaded_vendor_files() and loaded_vendor_files() <= copied


def test_the_copies_are_in_the_package_after_set_up() -> None:
    """`make serve` / `make test` (and building the wheel) ran vendor_js.py: the files are there, with licences."""
    for target in loaded_vendor_files():
        assert (STATIC / "vendor" / target).is_file(), target
    licences = (STATIC / "vendor" / "LICENSES.txt").read_text(encoding="utf-8")
    assert all(package in licences for package in vendor_js().VENDORED)


def test_no_page_loads_anything_from_another_site() -> None:
    for path in [*TEMPLATES.glob("*.html"), *STATIC.glob("*.js"), *STATIC.glob("*.css")]:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r'<(script|link)[^>]+(src|href)="(https?:)?//', text), path
        assert not re.search(r"""(fetch|import)\(\s*["'`]https?://""", text), path


def test_the_lockfile_pins_what_package_json_asks_for() -> None:
    manifest = json.loads((REPO / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((REPO / "package-lock.json").read_text(encoding="utf-8"))
    wanted = {**manifest["dependencies"], **manifest.get("devDependencies", {})}
    for name, version in wanted.items():
        assert lock["packages"][f"node_modules/{name}"]["version"] == version, name


def test_no_vendored_or_installed_javascript_is_in_git() -> None:
    tracked = subprocess.run(["git", "ls-files", "kg/static", "node_modules"], cwd=REPO, capture_output=True,
                             text=True, check=True).stdout.split()
    assert tracked and not [path for path in tracked if path.startswith(("kg/static/vendor/", "node_modules/"))
                            or path.endswith(".min.js")]
