"""--device auto picks this machine's accelerator through torch.accelerator (CUDA, MPS, XPU) or the CPU; the
memory check and DataLoader pinning follow the chosen device. On CPU, with the accelerator lookup faked."""

from types import SimpleNamespace

import pytest
import torch

from zoo import devices
from zoo.stylize import OptionError, StylizeOptions, check_output_size, resolve_device


@pytest.fixture
def fake_accelerator(monkeypatch):
    """fake(type, count=1, free=None): torch.accelerator reports a ``type`` accelerator with ``count`` devices
    and ``free`` bytes free; fake(None): none."""

    def fake(kind, count=1, free=None):
        monkeypatch.setattr(torch.accelerator, "is_available", lambda: kind is not None)
        monkeypatch.setattr(torch.accelerator, "current_accelerator",
                            lambda *a, **k: torch.device(kind) if kind else None)
        monkeypatch.setattr(torch.accelerator, "device_count", lambda: count if kind else 0)
        monkeypatch.setattr(torch.accelerator, "get_memory_info", lambda device=None: (free, 2 * (free or 0)),
                            raising=False)

    return fake


@pytest.mark.parametrize("kind", ["cuda", "mps", "xpu"])
def test_auto_is_the_accelerator_torch_reports(fake_accelerator, kind):
    fake_accelerator(kind)
    assert resolve_device("auto") == torch.device(kind)
    assert resolve_device(kind) == torch.device(kind)
    assert resolve_device("cpu") == torch.device("cpu")


def test_auto_is_the_cpu_without_an_accelerator(fake_accelerator):
    fake_accelerator(None)
    assert resolve_device("auto") == torch.device("cpu")
    assert devices.accelerator() is None


@pytest.mark.parametrize("kind,asked,message", [
    (None, "cuda", "--device cuda: this machine has no CUDA device (it has none); use --device auto or cpu"),
    ("mps", "cuda", "--device cuda: this machine has no CUDA device (its accelerator is mps)"),
    ("cuda", "xpu", "--device xpu: this machine has no XPU device (its accelerator is cuda)"),
    ("xpu", "xpu:2", "--device xpu:2: this machine has 2 XPU device(s)"),
    ("cuda", "gpu0", "--device gpu0: expected auto, cpu or an accelerator"),
])
def test_a_device_this_machine_lacks_is_one_line_naming_the_option(fake_accelerator, kind, asked, message):
    fake_accelerator(kind, count=2)
    with pytest.raises(OptionError) as e:
        resolve_device(asked)
    assert str(e.value).startswith(message)


def test_an_index_within_the_count_is_taken(fake_accelerator):
    fake_accelerator("xpu", count=2)
    assert resolve_device("xpu:1") == torch.device("xpu", 1)


def test_the_memory_check_reads_the_chosen_accelerators_free_memory(fake_accelerator):
    fake_accelerator("xpu", free=64 * 2**20)  # 64 MiB free on the XPU
    with pytest.raises(OptionError, match=r"--size 4000: .* needs about .* GiB on xpu, and 0\.1 GiB are available"):
        check_output_size(StylizeOptions(model="johnson", size=4000), 3000, 4000)
    fake_accelerator("xpu", free=64 * 2**30)
    check_output_size(StylizeOptions(model="johnson", size=4000), 3000, 4000)  # fits: no error


def test_the_cpu_memory_check_does_not_ask_the_accelerator(fake_accelerator):
    fake_accelerator("cuda", free=1)  # an accelerator with no memory left does not matter on --device cpu
    check_output_size(StylizeOptions(model="johnson", size=64, device="cpu"), 48, 64)


@pytest.mark.parametrize("kind,pinned", [("cuda", True), ("xpu", True), ("mps", False), (None, False)])
def test_dataloaders_pin_memory_for_the_device_they_feed(fake_accelerator, kind, pinned):
    fake_accelerator(kind)
    assert devices.pin_memory() is pinned
    cpu_trainer = SimpleNamespace(strategy=SimpleNamespace(root_device=torch.device("cpu")))
    assert devices.pin_memory(cpu_trainer) is False  # a CPU run never pins, whatever the machine has
    cuda_trainer = SimpleNamespace(strategy=SimpleNamespace(root_device=torch.device("cuda", 0)))
    assert devices.pin_memory(cuda_trainer) is True


def test_a_datamodule_pins_for_its_trainers_device(fake_accelerator, tmp_path):
    pytest.importorskip("lightning")
    from conftest import make_image
    from zoo.data import ContentStyleData

    fake_accelerator("cuda")
    for i in range(2):
        make_image(tmp_path / "photos" / f"{i}.png", (40, 40), seed=i)
        make_image(tmp_path / "styles" / f"{i}.png", (40, 40), seed=5 + i)
    dm = ContentStyleData(content_dir=tmp_path / "photos", style_dir=tmp_path / "styles", size=32, crop=32,
                          batch_size=2, num_workers=0)
    dm.trainer = SimpleNamespace(strategy=SimpleNamespace(root_device=torch.device("cpu")))
    assert dm.train_dataloader().pin_memory is False  # the machine has CUDA, the run is on the CPU
    dm.trainer = SimpleNamespace(strategy=SimpleNamespace(root_device=torch.device("cuda", 0)))
    assert dm.train_dataloader().pin_memory is True
