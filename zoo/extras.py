"""Optional dependencies: one line naming the extra that installs a missing one.

``pip install stylezoo`` installs the core: stylising pictures with every pretrained tag (torch, torchvision,
safetensors, huggingface-hub, pillow, numpy, tqdm). The rest comes with extras (pyproject.toml)::

    pip install "stylezoo[train]"   # zoo fit, the recipes (Lightning, jsonargparse, PyYAML)
    pip install "stylezoo[video]"   # videos and --temporal (PyAV, OpenCV)
    pip install "stylezoo[bench]"   # zoo bench (torchmetrics, scipy)
    pip install "stylezoo[demo]"    # zoo demo, the web page (gradio)
    pip install "stylezoo[onnx]"    # zoo export --onnx (onnx, onnxscript)
    pip install "stylezoo[wandb]"   # the Weights & Biases logger in recipes
    pip install "stylezoo[all]"     # all of the above

Code that needs an optional package imports it through :func:`require`::

    lightning = require("lightning", "train")   # the module, or MissingExtraError naming the extra
"""

from __future__ import annotations

import importlib
from types import ModuleType

from .errors import ZooError

__all__ = ["MissingExtraError", "require", "EXTRAS"]

# What each extra is for, in the words of the error line (the packages are listed in pyproject.toml).
EXTRAS: dict[str, str] = {
    "train": "training (zoo fit, the recipes)",
    "video": "videos (zoo stylize on a video, --temporal)",
    "bench": "benchmarks (zoo bench)",
    "demo": "the web page (zoo demo)",
    "onnx": "ONNX export (zoo export --onnx)",
    "wandb": "the Weights & Biases logger",
}

# The distribution to name where it differs from the module (pip install <distribution>).
_DISTRIBUTIONS = {"cv2": "opencv-python-headless", "av": "av (PyAV)", "yaml": "PyYAML", "PIL": "pillow"}


class MissingExtraError(ZooError, ImportError):
    """An optional package is not installed; the message is one line naming the extra that installs it.
    An :class:`ImportError`, so ``except ImportError`` still catches it; the ``zoo`` command prints it as
    one ``error:`` line."""

    def __init__(self, module: str, extra: str) -> None:
        self.module, self.extra = module, extra
        top = module.split(".")[0]
        what = EXTRAS.get(extra, extra)
        super().__init__(f"{what} needs {_DISTRIBUTIONS.get(top, top)}, which is not installed: "
                         f'pip install "stylezoo[{extra}]"', name=top)


def require(module: str, extra: str) -> ModuleType:
    """Import and return ``module`` (e.g. ``"lightning.pytorch"``); if its top-level package is not
    installed, raise :class:`MissingExtraError` saying ``pip install "stylezoo[<extra>]"``. An import that
    fails inside an installed package keeps its own error (a broken install is not a missing extra)."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as e:
        top = module.split(".")[0]
        if e.name is not None and e.name.split(".")[0] != top:
            raise  # the package is there, one of *its* dependencies is not: its own message says which
        raise MissingExtraError(module, extra) from None
