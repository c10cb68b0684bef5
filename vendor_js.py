"""Put the browser libraries of the site (from npm, package.json + package-lock.json) into kg/static/vendor/.

The libraries come from the npm registry through `npm ci` (exact versions of the lockfile, no install
scripts) and only the files the pages load are copied into the package, so the server ships them and
serves them from /static/vendor/ (no CDN, nothing fetched at run time). Neither node_modules/ nor
kg/static/vendor/ is in git. `make serve` and `make test` run this when package.json, the lockfile or
this file changed; `pip install .` runs it while building the wheel (setup.py). Offline once
node_modules/ is installed: `npm ci` runs only when node_modules/ is missing or older than the lockfile.

    python vendor_js.py          # npm ci if needed, then copy
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
NODE_MODULES = ROOT / "node_modules"
VENDOR = ROOT / "kg" / "static" / "vendor"
INSTALLED_MARK = NODE_MODULES / ".package-lock.json"  # written by npm ci
COMPLETE_MARK = VENDOR / ".complete"

# npm package -> {file in the package: file under kg/static/vendor/}
VENDORED: dict[str, dict[str, str]] = {
    "@zazuko/yasgui": {"build/yasgui.min.js": "yasgui/yasgui.min.js",
                       "build/yasgui.min.css": "yasgui/yasgui.min.css"},
    "chart.js": {"dist/chart.umd.min.js": "chart.js/chart.umd.min.js"},
    "vis-timeline": {"standalone/umd/vis-timeline-graph2d.min.js": "vis-timeline/vis-timeline-graph2d.min.js",
                     "styles/vis-timeline-graph2d.min.css": "vis-timeline/vis-timeline-graph2d.min.css"},
    "cytoscape": {"dist/cytoscape.min.js": "cytoscape/cytoscape.min.js"},
}


def install_node_modules() -> None:
    """`npm ci` when node_modules/ is missing or older than package.json or the lockfile."""
    inputs = [ROOT / "package.json", ROOT / "package-lock.json"]
    if INSTALLED_MARK.is_file() and all(INSTALLED_MARK.stat().st_mtime >= p.stat().st_mtime for p in inputs):
        return
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("vendor_js.py: npm is missing (Debian: apt-get install npm); it installs the pages' JavaScript")
    subprocess.run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=ROOT, check=True)


def copy_vendored() -> None:
    """Copy the listed files and write LICENSES.txt (name, version, licence of each package)."""
    if VENDOR.exists():
        shutil.rmtree(VENDOR)
    notices = []
    for package, files in VENDORED.items():
        source = NODE_MODULES / package
        manifest = json.loads((source / "package.json").read_text(encoding="utf-8"))
        notices.append(f"{package} {manifest['version']} ({manifest.get('license', 'see the package')}): "
                       + ", ".join(files.values()))
        for inside, target in files.items():
            destination = VENDOR / target
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / inside, destination)
    (VENDOR / "LICENSES.txt").write_text(
        "Browser libraries from the npm registry (package-lock.json), copied by vendor_js.py:\n"
        + "\n".join(notices) + "\n", encoding="utf-8")
    COMPLETE_MARK.touch()


def main() -> None:
    install_node_modules()
    copy_vendored()


if __name__ == "__main__":
    main()
