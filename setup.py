"""Build step of the wheel (everything else is in pyproject.toml).

``recipes/`` and ``benchmarks/`` (with the committed ``benchmarks/results/*.json``) stay at the top of the
repository, and the wheel carries them inside the package as ``zoo/recipes`` and ``zoo/benchmarks``, so an
installed ``zoo`` finds them in its own folder (zoo/resources.py) and nothing is committed twice.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["zoo", "zoo.*"]), "zoo.recipes", "zoo.benchmarks"],
    package_dir={"zoo.recipes": "recipes", "zoo.benchmarks": "benchmarks"},
    package_data={"zoo": ["py.typed"], "zoo.recipes": ["*.yaml", "datasets/*.yaml"], "zoo.benchmarks": ["results/*.json"],
                  "zoo.demo_examples": ["*.jpg", "LICENSE.md"]},
)
