"""Export feed-forward networks for deployment: ONNX (dynamic batch, height and width) and TorchScript.

``zoo export --model johnson --weights W --format onnx -o candy.onnx`` calls :func:`export_model`. The
exported graph keeps the network's contract: RGB float32 in [0, 1], (N, 3, H, W) with any N, H, W.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import torch
from torch import Tensor, nn

from .fileio import atomic_path

__all__ = ["export_model", "FORMATS"]

FORMATS = ("onnx", "torchscript")
DEFAULT_OPSET = 18


def export_model(net: nn.Module, format: str, path: str | os.PathLike, example: Tensor | None = None,
                 opset: int = DEFAULT_OPSET) -> Path:
    """Write ``net`` (an image-to-image ``nn.Module``) to ``path`` as ``format`` (``"onnx"`` or
    ``"torchscript"``) and return the path.

    ``example`` is the input used for tracing (default: a random (1, 3, 64, 64) image). ONNX inputs and
    outputs are named ``image`` / ``stylized`` and have dynamic batch, height and width; the graph is
    checked with ``onnx.checker``. TorchScript files are traced (``torch.jit.trace``) and keep any
    input size too, as the network computes its padding from the input's shape.
    """
    if format not in FORMATS:
        raise ValueError(f"unknown export format {format!r}; valid: {', '.join(FORMATS)}")
    path = Path(path)
    was_training = net.training
    net = net.eval()
    param = next(net.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    if example is None:
        example = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0)).to(device)
    try:
        with atomic_path(path) as tmp:  # a failed export never leaves a partial file under the real name
            if format == "onnx":
                _export_onnx(net, example, tmp, opset)
            else:
                with torch.no_grad(), warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # TracerWarning, jit deprecation notices
                    traced = torch.jit.trace(net, example, check_trace=False)
                traced.save(str(tmp))
    finally:
        net.train(was_training)
    return path


def _export_onnx(net: nn.Module, example: Tensor, path: Path, opset: int) -> None:
    import onnx

    batch, height, width = (torch.export.Dim(n) for n in ("batch", "height", "width"))
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(
            net, (example,), dynamo=True, input_names=["image"], output_names=["stylized"],
            dynamic_shapes={"x": {0: batch, 2: height, 3: width}}, opset_version=opset,
            external_data=False, verbose=False,
        )
    program.save(str(path))
    onnx.checker.check_model(str(path))
