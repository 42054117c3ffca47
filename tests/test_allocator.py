"""zoo.allocator: freed CPU memory stays in the process inside the block, and is given back after it."""

import resource

import lightning.pytorch as pl
import pytest
import torch

from zoo import allocator
from zoo.allocator import is_retaining, retain_freed_memory

BLOCK_MIB = 64  # over glibc's largest mmap threshold (32 MiB): unmapped on free unless retained
PAGES = BLOCK_MIB << 8

needs_glibc = pytest.mark.skipif(not allocator.supported(), reason="glibc's malloc only")


def _faults_per_block(blocks: int = 4) -> list[int]:
    """Page faults of making, filling and freeing a 64 MiB tensor, once per block, after one untimed block.
    (Exceptionally glibc serves one block from fresh pages again: the tests look at the fewest / most.)"""
    torch.ones(BLOCK_MIB << 18)
    faults = []
    for _ in range(blocks):
        start = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        torch.ones(BLOCK_MIB << 18)
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - start)
    return faults


@needs_glibc
def test_freed_memory_is_reused_inside_the_block_and_given_back_after():
    before = min(_faults_per_block())
    if before < PAGES / 4:
        pytest.skip("this kernel backs large blocks with huge pages: no page faults to save")
    with retain_freed_memory() as on:
        assert on and is_retaining()
        inside = _faults_per_block()
    after = _faults_per_block()
    assert min(inside) < PAGES / 50, f"{inside} page faults per 64 MiB block while retaining"
    assert not is_retaining() and max(after) > PAGES / 4, "glibc's limits were not restored on leaving"


@needs_glibc
def test_blocks_nest_and_the_outermost_restores():
    with retain_freed_memory():
        with retain_freed_memory():
            pass
        assert is_retaining()
        assert min(_faults_per_block()) < PAGES / 50
    assert not is_retaining()


def test_turned_off_by_the_environment(monkeypatch):
    monkeypatch.setenv("ZOO_RETAIN_MEMORY", "0")
    with retain_freed_memory() as on:
        assert not on and not is_retaining()


@needs_glibc
def test_gatys_retains_freed_memory_while_it_optimises_on_cpu():
    from zoo.data import GatysData
    from zoo.variants.gatys import Gatys

    seen = []

    class Probe(pl.Callback):
        def on_train_batch_end(self, *args):
            seen.append(is_retaining())

    model = Gatys(backbone={"arch": "vgg19", "weights": "none"},
                  losses={"content": {"weight": 1.0, "layers": ["relu1_1"]}}, optimizer="adam")
    trainer = pl.Trainer(max_steps=2, max_epochs=-1, logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, accelerator="cpu",
                         callbacks=[Probe()])
    trainer.fit(model, GatysData.from_tensors(torch.rand(1, 3, 24, 24), [torch.rand(1, 3, 24, 24)]))
    assert seen == [True, True] and not is_retaining()


@needs_glibc
def test_gatys_gives_the_memory_back_when_a_step_fails(monkeypatch):
    from zoo.data import GatysData
    from zoo.variants.gatys import Gatys

    model = Gatys(backbone={"arch": "vgg19", "weights": "none"},
                  losses={"content": {"weight": 1.0, "layers": ["relu1_1"]}}, optimizer="adam")
    monkeypatch.setattr(model, "compute_loss", lambda: (_ for _ in ()).throw(RuntimeError("boom")))
    trainer = pl.Trainer(max_steps=2, max_epochs=-1, logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, accelerator="cpu")
    with pytest.raises(RuntimeError, match="boom"):
        trainer.fit(model, GatysData.from_tensors(torch.rand(1, 3, 24, 24), [torch.rand(1, 3, 24, 24)]))
    assert not is_retaining()
