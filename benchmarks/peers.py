"""The peers' own code paths for the speed scripts: the restatements of ``tests/originals.py`` (one place for
the tests and the benchmarks; imported from the repository checkout, where the speed scripts run) and what
each benchmark deviates from the published script.

Every speed ratio in ``benchmarks/results/`` is *peer time / zoo time* against one of these, measured in
the same process with interleaved runs. Each restatement keeps the peer's structure and operations (the
``nn.Sequential`` with loss modules inserted, ``torch.mm`` Gram matrices, NCHW float32, ``torch.no_grad``
...), and every deviation from the published script is listed here and in the results JSON
(``peer.deviations``). The scripts check that both sides compute the same thing (equal outputs, or equal
loss curves from the same start) before timing them.

Sources (repository, file, commit):

* Gatys: the PyTorch "Neural Transfer" tutorial, pytorch/tutorials ``advanced_source/neural_style_tutorial.py``
  at 0a7e68666de5faceafa90276ad2b7874cd32c5e0.
* Johnson: pytorch/examples ``fast_neural_style/neural_style/transformer_net.py`` (network) and
  ``neural_style.py`` ``stylize()`` (0-255 input, ``torch.no_grad``, ``eval``) at
  77f55b912142e11fcfdf5b530231fb9c52f181e8.
* AdaIN: naoto0804/pytorch-AdaIN ``net.py`` (``vgg``, ``decoder``), ``function.py`` (``calc_mean_std``,
  ``adaptive_instance_normalization``) and ``test.py`` (``style_transfer``; the VGG cut after relu4_1,
  ``vgg.children()[:31]``) at 47950d0e6656a95a80a4b105c4c0f58d38ef785c.
* CycleGAN: junyanz/pytorch-CycleGAN-and-pix2pix ``models/networks.py`` (``ResnetGenerator``,
  ``ResnetBlock``, ``NLayerDiscriminator``, ``GANLoss``) and ``models/cycle_gan_model.py``
  (``optimize_parameters``) at 78913853ab4a4f5eba717af8433809300c99f0bb.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

__all__ = ["TUTORIAL_GATYS", "PYTORCH_EXAMPLES_JOHNSON", "PYTORCH_ADAIN", "OFFICIAL_CYCLEGAN", "originals"]


def _originals():
    """``tests/originals.py`` as the module ``originals`` (the same module object the tests import)."""
    if "originals" not in sys.modules:
        path = Path(__file__).resolve().parents[1] / "tests" / "originals.py"
        if not path.is_file():
            raise ImportError(f"{path} not found: the speed scripts run from a checkout of the repository")
        spec = importlib.util.spec_from_file_location("originals", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["originals"] = module
        spec.loader.exec_module(module)
    return sys.modules["originals"]


originals = _originals()

TUTORIAL_GATYS = {
    "peer": "PyTorch neural style tutorial",
    "source": "pytorch/tutorials advanced_source/neural_style_tutorial.py @ 0a7e68666de5faceafa90276ad2b7874cd32c5e0",
    "deviations": [
        "VGG frozen (requires_grad_(False)); the tutorial leaves its weights trainable, so autograd also "
        "computes every convolution's weight gradient, which no optimiser uses",
        "loss layers are the paper's (content relu4_2, style relu1_1..relu5_1, the zoo's default) instead of "
        "the tutorial's conv_4 / conv_1..conv_5, and pooling is average (the zoo's Gatys default, paper sec. 2) "
        "instead of max; the weights are the same tensors as the zoo's encoder",
        "the input is not clamped to [0, 1] inside the closure (the zoo does not clamp), so both optimise "
        "the same function and their loss curves can be compared",
        "L-BFGS history_size 50 and one iteration per optimizer.step (the zoo's); the tutorial's default "
        "(20 iterations per step, history 100) makes the same iterations for the first 50",
    ],
}

PYTORCH_EXAMPLES_JOHNSON = {
    "peer": "pytorch/examples fast_neural_style",
    "source": "pytorch/examples fast_neural_style/neural_style/{transformer_net.py,neural_style.py} @ "
              "77f55b912142e11fcfdf5b530231fb9c52f181e8",
    "deviations": ["input already a tensor in [0, 1] (stylize() loads a file; the x255 and the clamp of "
                   "save_image are kept)"],
}

PYTORCH_ADAIN = {
    "peer": "pytorch-AdaIN test.py",
    "source": "naoto0804/pytorch-AdaIN net.py, function.py, test.py @ 47950d0e6656a95a80a4b105c4c0f58d38ef785c",
    "deviations": ["images already tensors in [0, 1] (test.py loads files); output clamped to [0, 1] as "
                   "save_image does; alpha 1, no interpolation weights (test.py's defaults)"],
}

OFFICIAL_CYCLEGAN = {
    "peer": "official CycleGAN (junyanz/pytorch-CycleGAN-and-pix2pix)",
    "source": "junyanz/pytorch-CycleGAN-and-pix2pix models/networks.py, models/cycle_gan_model.py @ "
              "78913853ab4a4f5eba717af8433809300c99f0bb",
    "deviations": ["inference takes [0, 1] and maps to and from the network's [-1, 1] as the test script's "
                   "transforms and tensor2im do (tensor2im's uint8 rounding left out)",
                   "training step: the image pools are the zoo's ImagePool (the same algorithm: 50 images, "
                   "half the time swap a stored one); the data loading is left out on both sides"],
}
