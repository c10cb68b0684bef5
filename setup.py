"""setuptools hook (the project is described in pyproject.toml): the wheel carries the pages' JavaScript.

Before the package's files are collected, vendor_js.py installs the npm packages of package-lock.json if
needed and copies the files the pages load into kg/static/vendor/, which package-data then includes.
"""
import importlib.util
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithBrowserLibraries(build_py):
    """build_py, after putting the npm libraries into kg/static/vendor/ (vendor_js.py)."""

    def run(self) -> None:
        spec = importlib.util.spec_from_file_location("vendor_js", Path(__file__).resolve().parent / "vendor_js.py")
        vendor_js = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(vendor_js)
        vendor_js.main()
        super().run()


setup(cmdclass={"build_py": BuildWithBrowserLibraries})
