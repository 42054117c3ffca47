"""Shared fixtures: tiny images made on the fly, a subprocess runner, an offline environment."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

REPO = Path(__file__).resolve().parent.parent

# The limit of a wait for an event (a subprocess ending, a file appearing): generous, so that the suite
# passes on a busy machine (CI, a laptop compiling beside it). A limit, never an expected duration.
WAIT = float(os.environ.get("ZOO_TEST_WAIT", "1800"))

# A suite started in the background by a non-interactive shell (`pytest &`, nohup) inherits SIGINT ignored, and
# an ignored signal stays ignored in every command a test starts, where Python then never raises
# KeyboardInterrupt. The Ctrl-C tests press Ctrl-C as in a terminal: a handler of ours is reset to the default
# at exec, so the commands get SIGINT back.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def wait_until(condition, proc: subprocess.Popen | None = None, what: str = "the condition", poll: float = 0.2,
               limit: float = WAIT) -> None:
    """Return once ``condition()`` is true; fail if ``proc`` ends first or after ``limit`` seconds."""
    import time

    deadline = time.monotonic() + limit
    while not condition():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the process ended (status {proc.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {limit:.0f} s")
        time.sleep(poll)


def make_image(path: Path, size=(48, 40), mode="RGB", seed=0) -> Path:
    """A smooth random RGB picture of ``size`` (W, H) written to ``path``; returns the path."""
    rng = np.random.default_rng(seed)
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([(xx / max(w - 1, 1)), (yy / max(h - 1, 1)), 0.5 + 0.5 * np.sin(xx / 3.0)], -1)
    array = np.clip(base * 0.8 + rng.random((h, w, 3)) * 0.2, 0, 1)
    img = Image.fromarray((array * 255).astype(np.uint8), "RGB")
    if mode != "RGB":
        img = img.convert(mode)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)
    return path


def pytest_configure(config):
    """Under pytest-xdist (``-n 2`` in pyproject's addopts) each worker, and every subprocess it starts, runs
    torch on one thread: two workers then share two cores instead of four threads spinning on them."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        os.environ["OMP_NUM_THREADS"] = "1"
        torch.set_num_threads(1)


@pytest.fixture
def images(tmp_path: Path) -> dict[str, Path]:
    """A content image, two style images and a folder of content images."""
    return {
        "content": make_image(tmp_path / "content.png", (48, 40), seed=1),
        "style": make_image(tmp_path / "style.png", (40, 40), seed=2),
        "style2": make_image(tmp_path / "style2.jpg", (36, 44), seed=3),
    }


@pytest.fixture
def offline_env(tmp_path: Path) -> dict[str, str]:
    """Environment for subprocesses: no network (downloads fail fast), empty caches, repo importable."""
    env = dict(os.environ)
    env.update({
        "HF_HUB_OFFLINE": "1",
        "TORCH_HOME": str(tmp_path / "torch-home"),
        "HF_HOME": str(tmp_path / "hf-home"),
        # Any download attempt goes to a closed local port and fails at once.
        "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9",
        "https_proxy": "http://127.0.0.1:9", "http_proxy": "http://127.0.0.1:9",
        "WANDB_MODE": "offline", "PYTHONWARNINGS": "ignore",
        "PYTHONPATH": os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
    })
    return env


@pytest.fixture
def run(offline_env, tmp_path):
    """Run ``python -m <module> args...`` in ``tmp_path``; returns the CompletedProcess."""

    def _run(*args: str, cwd: Path | None = None, timeout: float = WAIT) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, *args], cwd=cwd or tmp_path, env=offline_env, capture_output=True,
                              text=True, timeout=timeout)

    return _run


@contextlib.contextmanager
def offline_cache(root: Path):
    """Inside: TORCH_HOME / HF_HOME under ``root``, the Hub offline, no STYLEZOO_CACHE, torch.hub's directory
    re-read: where pretrained tags look for their files, for a test to place them. Yields the env dict."""
    env = {"TORCH_HOME": str(root / "torch"), "HF_HOME": str(root / "hf"), "HF_HUB_OFFLINE": "1"}
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        mp.delenv("STYLEZOO_CACHE", raising=False)
        mp.setattr(torch.hub, "_hub_dir", None)
        yield env


@pytest.fixture(scope="module")
def one_thread():
    """Tiny tensors: one intra-op thread is faster and does not spin on a shared machine (a module uses it
    with ``pytestmark = pytest.mark.usefixtures("one_thread")``)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
