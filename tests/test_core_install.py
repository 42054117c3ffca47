"""The core install as `pip install stylezoo` gives it: `.ci/core` installs the package without extras in a
fresh environment and uses it from outside the repository (every family's smoke run, one line per missing
extra, none of the extras' packages installed). Several minutes and pip, so marked slow
(`pytest -m slow tests/test_core_install.py`); CI runs the script itself."""

import shutil
import subprocess
import sys

import pytest

from conftest import REPO


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("git") is None or not (REPO / ".git").exists(), reason="needs the git checkout")
def test_the_core_install_alone_stylises_and_names_missing_extras():
    r = subprocess.run(["bash", str(REPO / ".ci" / "core"), sys.executable], capture_output=True, text=True,
                       timeout=2400)
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    assert "core check passed" in r.stdout
