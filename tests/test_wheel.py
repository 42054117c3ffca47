"""The wheel as users install it: `.ci/wheel` builds it, installs it in a fresh virtual environment and runs
zoo list, zoo stylize, zoo fit RECIPE-NAME, zoo bench and the model card from outside the repository.
About two minutes, so marked slow (`pytest -m slow tests/test_wheel.py`); CI runs the script itself."""

import shutil
import subprocess
import sys

import pytest

from conftest import REPO


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("git") is None or not (REPO / ".git").exists(), reason="needs the git checkout")
def test_wheel_install_works_outside_the_repository():
    r = subprocess.run(["bash", str(REPO / ".ci" / "wheel"), sys.executable], capture_output=True, text=True,
                       timeout=1200)
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    assert "wheel check passed" in r.stdout
