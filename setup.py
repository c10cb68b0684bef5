"""setuptools hook (the project is described in pyproject.toml): the wheel carries the pages' JavaScript and
the project's ontology, shapes and queries.

Before the package's files are collected, vendor_js.py installs the npm packages of package-lock.json if
needed and copies the files the pages load into kg/static/vendor/, and the project's ontology/, shapes/ and
queries/ are copied into kg/project_files/ (so that an installed `kg validate` or `kg export` works in any
folder); package-data then includes both.
"""
import importlib.util
import shutil
import warnings
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


PROJECT_FOLDERS = ("ontology", "shapes", "queries")


class BuildWithBrowserLibraries(build_py):
    """build_py, after putting the npm libraries into kg/static/vendor/ (vendor_js.py)."""

    def run(self) -> None:
        spec = importlib.util.spec_from_file_location("vendor_js", Path(__file__).resolve().parent / "vendor_js.py")
        vendor_js = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(vendor_js)
        vendor_js.main()
        root = Path(__file__).resolve().parent
        for folder in PROJECT_FOLDERS:
            shutil.rmtree(root / "kg" / "project_files" / folder, ignore_errors=True)
            shutil.copytree(root / folder, root / "kg" / "project_files" / folder)
        super().run()


# The folders this hook creates (kg/project_files/*, kg/static/vendor/*) hold data, carried by `kg`'s
# package-data; setuptools, which looked for packages before they existed, would warn that each "would be ignored".
warnings.filterwarnings("ignore", message=r"Package 'kg\.(project_files|static\.vendor)\b")

setup(cmdclass={"build_py": BuildWithBrowserLibraries})
