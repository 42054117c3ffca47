"""Export feed-forward networks for deployment: ONNX (dynamic batch, height and width) and TorchScript.

``zoo export --model johnson --weights W --format onnx -o candy.onnx`` calls :func:`export_model`. The
exported graph keeps the network's contract and computes what the PyTorch network computes at every size
(the networks keep their size logic symbolic: :mod:`zoo.nets.base`). Its inputs are the network's
``input_names`` and its output is ``stylized``:

* Johnson and CycleGAN: input ``image``; RGB float32 in [0, 1], (N, 3, H, W), any N, H, W.
* AdaIN (:class:`zoo.nets.adain.AdaINNet`): inputs ``content`` (N, 3, H, W) and ``style`` (N, 3, h, w),
  one style per content image, any sizes; output (N, 3, H, W). This is
  :meth:`~zoo.nets.adain.AdaINNet.transfer` (pytorch-AdaIN's ``style_transfer``) with ``alpha`` fixed at
  export time (:meth:`~zoo.nets.adain.AdaINNet.for_export`); style interpolation, masks and colour
  preservation are Python-side options of ``forward`` and are not part of the graph.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import torch
from torch import Tensor, nn

from .errors import ConfigError
from .fileio import atomic_path

__all__ = ["export_model", "FORMATS"]

FORMATS = ("onnx", "torchscript")
DEFAULT_OPSET = 18


def export_model(net: nn.Module, format: str, path: str | os.PathLike, example: Tensor | None = None,
                 opset: int = DEFAULT_OPSET, alpha: float | None = None) -> Path:
    """Write ``net`` to ``path`` as ``format`` (``"onnx"`` or ``"torchscript"``) and return the path.

    ``net`` is a network of :mod:`zoo.nets` (a :class:`~zoo.nets.base.ZooNet`: what is traced is its
    ``for_export()``, whose inputs are its ``input_names``) or any image-to-image ``nn.Module``. ``alpha``
    is AdaIN's content-style trade-off, fixed in the graph (default 1). ``example`` is the input used for
    tracing (default: a random (2, 3, 64, 64) image; a second input, AdaIN's style, is that image
    mirrored). ONNX graphs have dynamic batch, height and width and are checked with ``onnx.checker``;
    TorchScript files are traced (``torch.jit.trace``) and keep any input size too. The file is written
    under a temporary name and renamed when complete.
    """
    from .nets.base import ZooNet

    if format not in FORMATS:
        raise ConfigError(f"unknown export format {format!r}; valid: {', '.join(FORMATS)}")
    path = Path(path)
    was_training = net.training
    net = net.eval()
    param = next(net.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    if example is None:
        example = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(0)).to(device)
    module, names = net, ("image",)
    if isinstance(net, ZooNet):
        module, names = net.for_export(**({} if alpha is None else {"alpha": alpha})), net.input_names
    inputs = (example, example.flip(-1))[:len(names)]
    try:
        with atomic_path(path) as tmp:  # a failed export never leaves a partial file under the real name
            if format == "onnx":
                _export_onnx(module, inputs, names, tmp, opset)
            else:
                with torch.no_grad(), warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # TracerWarning, jit deprecation notices
                    traced = torch.jit.trace(module, inputs, check_trace=False)
                traced.save(str(tmp))
    finally:
        net.train(was_training)
    return path


def _export_onnx(module: nn.Module, inputs: tuple[Tensor, ...], names: tuple[str, ...], path: Path,
                 opset: int) -> None:
    import onnx

    # every input: its own height and width, one batch size for all (forward's arguments in order)
    batch = torch.export.Dim("batch")
    dynamic = tuple({0: batch, 2: torch.export.Dim(f"{name}_height"), 3: torch.export.Dim(f"{name}_width")}
                    for name in names)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(
            module, inputs, dynamo=True, input_names=list(names), output_names=["stylized"],
            dynamic_shapes=dynamic, opset_version=opset, external_data=False, verbose=False,
        )
    program.save(str(path))
    onnx.checker.check_model(str(path))
