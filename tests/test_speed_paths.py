"""The speed paths compute what the originals compute: the CycleGAN training step in both memory formats."""

from __future__ import annotations

import copy

import pytest
import torch

from benchmarks import bench_cyclegan
from zoo.variants.cyclegan import to_channels_last

NETWORK = {"ngf": 4, "n_blocks": 1}


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny convolutions: one thread is faster, and far faster on a loaded 2-core machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("config", ["fp32", "fp32_cl"])
def test_cyclegan_training_step_after_one_adam_update_equals_the_official(config):
    """Two steps of the zoo's training step and of the official optimize_parameters from the same weights and
    images: the second step's losses see one Adam update of all four networks. Tolerance 1e-3 relative: Adam's
    first update moves every weight by about lr = 2e-4 whatever its gradient's size, so a weight whose
    gradient is ~0 (e.g. a bias before an instance norm, which cancels it) moves +-lr depending on float
    rounding; measured differences are ~1e-5 here and 4e-5 at 256 px. The channels_last step was 0.87 off
    before the guard of zoo.variants.cyclegan.to_channels_last."""
    device = torch.device("cpu")
    official = bench_cyclegan._official_nets(NETWORK, device)
    zoo = bench_cyclegan.zoo_train_step(bench_cyclegan._zoo_nets(official, NETWORK, config, device), config, device)
    peer = bench_cyclegan.peer_train_step(official)
    g = torch.Generator().manual_seed(1)
    a, b = (torch.rand(1, 3, 24, 24, generator=g) for _ in range(2))
    for step in range(2):
        for p_loss, z_loss in zip(peer(a, b), zoo(a, b)):
            assert abs(p_loss - z_loss) <= (1e-5 if step == 0 else 1e-3) * abs(p_loss), (step, p_loss, z_loss)


def test_to_channels_last_guards_torchs_batch_one_instance_norm_backward():
    """The bug the guard works around (torch 2.14 CPU): instance norm's input gradient for one image is wrong
    when the incoming gradient is channels_last, as a channels_last convolution after it makes it. If torch
    fixes it, the first assertion fails and the guard can go."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.InstanceNorm2d(32), torch.nn.Conv2d(32, 32, 3, padding=1))
    x = torch.randn(1, 32, 8, 8)

    def input_grad(module):
        xx = x.clone().requires_grad_()
        out = module(xx)
        (out * torch.linspace(-1, 1, out.numel()).view_as(out)).sum().backward()
        return xx.grad

    ref = input_grad(net)
    bare = input_grad(copy.deepcopy(net).to(memory_format=torch.channels_last))
    assert (bare - ref).abs().max() > 0.1 * ref.abs().max()  # the bug, still there
    guarded = input_grad(to_channels_last(copy.deepcopy(net)))
    torch.testing.assert_close(guarded, ref, rtol=1e-4, atol=1e-5)
