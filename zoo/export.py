"""Export feed-forward networks for deployment: ONNX (dynamic batch, height and width) and TorchScript.

``zoo export --model johnson --weights W --format onnx -o candy.onnx`` calls :func:`export_model`. The
exported graph keeps the network's contract and computes what the PyTorch network computes at every size
(the networks keep their size logic symbolic: :mod:`zoo.nets.sizing`):

* Johnson and CycleGAN: input ``image``, output ``stylized``; RGB float32 in [0, 1], (N, 3, H, W), any
  N, H, W.
* AdaIN (:class:`zoo.nets.adain.AdaINNet`): inputs ``content`` (N, 3, H, W) and ``style`` (N, 3, h, w),
  one style per content image, any sizes; output ``stylized`` (N, 3, H, W). This is
  :meth:`~zoo.nets.adain.AdaINNet.transfer` (pytorch-AdaIN's ``style_transfer``) with ``alpha`` fixed at
  export time; style interpolation, masks and colour preservation are Python-side options of ``forward``
  and are not part of the graph.
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


class _ContentStyle(nn.Module):
    """An AdaIN network as a two-input module: (content, style) -> stylised picture."""

    def __init__(self, net: nn.Module, alpha: float) -> None:
        super().__init__()
        self.net, self.alpha = net, float(alpha)

    def forward(self, content: Tensor, style: Tensor) -> Tensor:
        return self.net.transfer(content, style, self.alpha)


def export_model(net: nn.Module, format: str, path: str | os.PathLike, example: Tensor | None = None,
                 opset: int = DEFAULT_OPSET, alpha: float = 1.0) -> Path:
    """Write ``net`` to ``path`` as ``format`` (``"onnx"`` or ``"torchscript"``) and return the path.

    ``net`` is an image-to-image ``nn.Module`` or an :class:`~zoo.nets.adain.AdaINNet` (exported as a
    content + style -> picture graph with content-style trade-off ``alpha``). ``example`` is the input used
    for tracing (default: a random (2, 3, 64, 64) image; AdaIN uses it for content and style). ONNX graphs
    have dynamic batch, height and width and are checked with ``onnx.checker``; TorchScript files are
    traced (``torch.jit.trace``) and keep any input size too. The file is written under a temporary name
    and renamed when complete.
    """
    from .nets.adain import AdaINNet

    if format not in FORMATS:
        raise ValueError(f"unknown export format {format!r}; valid: {', '.join(FORMATS)}")
    path = Path(path)
    was_training = net.training
    net = net.eval()
    param = next(net.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    if example is None:
        example = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(0)).to(device)
    module, inputs = net, (example,)
    if isinstance(net, AdaINNet):
        module, inputs = _ContentStyle(net, alpha), (example, example.flip(-1))
    try:
        with atomic_path(path) as tmp:  # a failed export never leaves a partial file under the real name
            if format == "onnx":
                _export_onnx(module, inputs, tmp, opset)
            else:
                with torch.no_grad(), warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # TracerWarning, jit deprecation notices
                    traced = torch.jit.trace(module, inputs, check_trace=False)
                traced.save(str(tmp))
    finally:
        net.train(was_training)
    return path


def _export_onnx(module: nn.Module, inputs: tuple[Tensor, ...], path: Path, opset: int) -> None:
    import onnx

    batch = torch.export.Dim("batch")
    if len(inputs) == 1:
        names = ["image"]
        dynamic = {"x": {0: batch, 2: torch.export.Dim("height"), 3: torch.export.Dim("width")}}
    else:
        names = ["content", "style"]
        dynamic = {"content": {0: batch, 2: torch.export.Dim("height"), 3: torch.export.Dim("width")},
                   "style": {0: batch, 2: torch.export.Dim("style_height"), 3: torch.export.Dim("style_width")}}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(
            module, inputs, dynamo=True, input_names=names, output_names=["stylized"],
            dynamic_shapes=dynamic, opset_version=opset, external_data=False, verbose=False,
        )
    program.save(str(path))
    onnx.checker.check_model(str(path))
