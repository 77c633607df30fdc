"""The demo model and clip, shipped inside the wheel as the package ``stv_assets``.

pyproject.toml maps this folder to that package (``package-dir``) so that ``pip install .`` and wheels
carry the files; code finds them through ``engine.assets`` (importlib.resources), never by a path
relative to the source tree. See README.md beside this file for what each file is.
"""
