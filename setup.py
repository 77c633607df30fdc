"""Only what pyproject.toml cannot say: the package list plus ``stv_assets``, the demo model and clip.

The top-level ``assets/`` folder is installed as the package ``stv_assets`` (found by
``engine.assets`` through importlib.resources); ``[tool.setuptools.packages.find]`` cannot add a
package whose folder has another name, so the list is built here. Everything else is in pyproject.toml.
"""
from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["engine*", "stviewer*"]) + ["stv_assets"],
    package_dir={"stv_assets": "assets"},
)
