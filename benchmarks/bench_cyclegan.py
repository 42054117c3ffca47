"""CycleGAN speed: training steps/s and inference images/s, each against a plain fp32 eager baseline
measured in the same run.

    python -m benchmarks.bench_cyclegan                          # defaults: 256 px training, 256/512/1024 inference
    python -m benchmarks.bench_cyclegan --train-sizes 256 --batches 1 4 --infer-sizes 256 512 1024 \\
        --warmup 1 --reps 2 --out benchmarks/results/cyclegan-cpu-2core.json

Configurations (``--configs``):

* ``fp32``            eager, float32, NCHW: the baseline, always measured.
* ``fp32_cl``         eager, float32, channels_last memory format.
* ``bf16_cl``         bf16 autocast + channels_last (GPU only: skipped on CPU, where bf16 without native
                      support is emulated and far slower).
* ``bf16_cl_compile`` the same under ``torch.compile`` (GPU only).

One *training step* is what :class:`zoo.variants.cyclegan.CycleGAN` does per batch: the generator step
(6 generator and 2 discriminator forwards, one backward, Adam) and the discriminator step (4
discriminator forwards on pooled fakes, one backward, Adam), with the paper's networks (9 blocks, ngf
64, 70x70 PatchGAN) and losses. Weights are random (speed does not depend on them); numbers are labelled
so. Inference is one generator forward, [0, 1] in and out, padding included.
"""

from __future__ import annotations

import argparse
import json
import time
from contextlib import nullcontext
from datetime import datetime, timezone
from pathlib import Path

import torch

from benchmarks.env import environment
from zoo.fileio import write_bytes
from zoo.losses import build_losses
from zoo.nets.cyclegan import NLayerDiscriminator, ResnetGenerator
from zoo.variants.cyclegan import DEFAULT_LOSSES, ImagePool

GPU_ONLY = {"bf16_cl", "bf16_cl_compile"}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _setup(config: str, device: torch.device, network: dict, train: bool):
    nets = {"G_AB": ResnetGenerator(**network), "G_BA": ResnetGenerator(**network),
            "D_A": NLayerDiscriminator(), "D_B": NLayerDiscriminator()}
    if not train:
        nets = {"G_AB": nets["G_AB"].eval()}
    for k, m in nets.items():
        m.to(device)
        if config != "fp32":
            m.to(memory_format=torch.channels_last)
        if config.endswith("compile"):
            nets[k] = torch.compile(m)
    amp = (torch.autocast(device.type, dtype=torch.bfloat16) if config.startswith("bf16") else nullcontext())
    return nets, amp


def _images(batch: int, size: int, device: torch.device, config: str) -> torch.Tensor:
    x = torch.rand(batch, 3, size, size, device=device)
    return x.contiguous(memory_format=torch.channels_last) if config != "fp32" else x


def _timeit(fn, device, warmup: int, reps: int) -> float:
    for _ in range(warmup):
        fn()
    _sync(device)
    t = time.perf_counter()
    for _ in range(reps):
        fn()
    _sync(device)
    return (time.perf_counter() - t) / reps


def bench_train(config: str, device: torch.device, batch: int, size: int, warmup: int, reps: int,
                network: dict) -> float:
    """Seconds per training step (generator + discriminator update)."""
    nets, amp = _setup(config, device, network, train=True)
    losses = build_losses(DEFAULT_LOSSES).to(device)
    adv, cyc, idt = losses["adversarial"], losses["cycle"], losses["identity"]
    g_params = [*nets["G_AB"].parameters(), *nets["G_BA"].parameters()]
    d_params = [*nets["D_A"].parameters(), *nets["D_B"].parameters()]
    opt_g = torch.optim.Adam(g_params, lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d_params, lr=2e-4, betas=(0.5, 0.999))
    pool_a, pool_b = ImagePool(50), ImagePool(50)
    a, b = _images(batch, size, device, config), _images(batch, size, device, config)

    def step():
        for p in d_params:
            p.requires_grad_(False)
        with amp:
            fake_b, fake_a = nets["G_AB"](a), nets["G_BA"](b)
            rec_a, rec_b = nets["G_BA"](fake_b), nets["G_AB"](fake_a)
            loss_g = (adv.generator(nets["D_B"](fake_b)) + adv.generator(nets["D_A"](fake_a))
                      + cyc(a * 2 - 1, rec_a * 2 - 1) + cyc(b * 2 - 1, rec_b * 2 - 1)
                      + idt(b * 2 - 1, nets["G_AB"](b) * 2 - 1) + idt(a * 2 - 1, nets["G_BA"](a) * 2 - 1))
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        for p in d_params:
            p.requires_grad_(True)
        with amp:
            pa, pb = pool_a.query(fake_a.detach()), pool_b.query(fake_b.detach())
            loss_d = (adv.discriminator(nets["D_A"](a), nets["D_A"](pa))
                      + adv.discriminator(nets["D_B"](b), nets["D_B"](pb)))
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        if not (torch.isfinite(loss_g) and torch.isfinite(loss_d)):
            raise FloatingPointError(f"non-finite loss in {config}")

    return _timeit(step, device, warmup, reps)


@torch.no_grad()
def bench_infer(config: str, device: torch.device, size: int, warmup: int, reps: int, network: dict) -> float:
    """Seconds per image (batch 1)."""
    nets, amp = _setup(config, device, network, train=False)
    x = _images(1, size, device, config)

    def run():
        with amp:
            y = nets["G_AB"](x)
        return y

    return _timeit(run, device, warmup, reps)


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="auto")
    p.add_argument("--configs", nargs="+", default=["fp32", "fp32_cl", "bf16_cl", "bf16_cl_compile"])
    p.add_argument("--train-sizes", nargs="+", type=int, default=[256])
    p.add_argument("--batches", nargs="+", type=int, default=[1, 4])
    p.add_argument("--infer-sizes", nargs="+", type=int, default=[256, 512, 1024])
    p.add_argument("--warmup", type=int, default=None, help="default: 1 on CPU, 3 on GPU")
    p.add_argument("--reps", type=int, default=None, help="default: 2 on CPU, 20 on GPU")
    p.add_argument("--n-blocks", type=int, default=9)
    p.add_argument("--ngf", type=int, default=64)
    p.add_argument("--note", default="", help="free text stored in the JSON (e.g. why the network is reduced)")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)

    device = torch.device(("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device)
    gpu = device.type == "cuda"
    warmup = args.warmup if args.warmup is not None else (3 if gpu else 1)
    reps = args.reps if args.reps is not None else (20 if gpu else 2)
    network = {"n_blocks": args.n_blocks, "ngf": args.ngf}
    configs = ["fp32"] + [c for c in args.configs if c != "fp32"]
    result = {
        "benchmark": "cyclegan", "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "environment": environment(device), "network": network, "discriminator": {"n_layers": 3, "ndf": 64},
        "weights": "random (speed does not depend on weight values)", "warmup": warmup, "reps": reps,
        "note": args.note, "train": [], "inference": [], "skipped": {},
    }
    for config in configs:
        if config in GPU_ONLY and not gpu:
            result["skipped"][config] = "GPU only (bf16 autocast / torch.compile paths); this run is on CPU"
    active = [c for c in configs if c not in result["skipped"]]

    for size in args.train_sizes:
        for batch in args.batches:
            base = None
            for config in active:
                sec = bench_train(config, device, batch, size, warmup, reps, network)
                base = sec if config == "fp32" else base
                row = {"config": config, "size": size, "batch": batch, "sec_per_step": round(sec, 5),
                       "steps_per_s": round(1 / sec, 4), "images_per_s": round(batch / sec, 4),
                       "speedup_vs_fp32": round(base / sec, 3)}
                result["train"].append(row)
                print("train", json.dumps(row), flush=True)
    for size in args.infer_sizes:
        base = None
        for config in active:
            sec = bench_infer(config, device, size, warmup, reps, network)
            base = sec if config == "fp32" else base
            row = {"config": config, "size": size, "sec_per_image": round(sec, 5), "images_per_s": round(1 / sec, 4),
                   "speedup_vs_fp32": round(base / sec, 3)}
            result["inference"].append(row)
            print("infer", json.dumps(row), flush=True)
    if gpu:
        train_bf16 = [r for r in result["train"] if r["config"] == "bf16_cl"]
        result["gpu_training_target_2x_met"] = bool(train_bf16) and all(r["speedup_vs_fp32"] >= 2 for r in train_bf16)
    if args.out:
        write_bytes(args.out, (json.dumps(result, indent=2) + "\n").encode())  # atomic (zoo.fileio)
        print(f"wrote {args.out}")
    return result


if __name__ == "__main__":
    main()
