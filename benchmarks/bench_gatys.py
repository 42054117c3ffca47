"""Gatys speed/memory benchmark: zoo's Gatys vs a straightforward tutorial-style implementation.

    python -m benchmarks.bench_gatys                # CPU (and CUDA when available), writes benchmarks/results/
    python -m benchmarks.bench_gatys --sizes 256 --steps 5 --multiscale-steps 0   # quick look

Measured in one run, each configuration in a fresh subprocess (so peak memory is its own):

* **per iteration** at each size: seconds per L-BFGS iteration (median over timed iterations after a
  warm-up) and peak memory (CPU: peak RSS of the process; CUDA: torch.cuda.max_memory_allocated), for
  - ``baseline``: the PyTorch-tutorial style: VGG19 ``features`` as an ``nn.Sequential`` run layer by
    layer up to the deepest loss layer, NCHW, content and style targets recomputed at every step;
  - ``zoo``: :class:`zoo.variants.gatys.Gatys` under a Lightning ``Trainer`` (what users run): truncated
    encoder, targets computed once per scale.
  Both optimise the same objective from the same start with the same weights, so their final losses
  must agree (reported).
* **coarse-to-fine** at the largest size: wall-clock for single-scale optimisation to reach its final
  loss after N iterations vs the multi-scale schedule [0.25, 0.5, 1.0] to reach that same loss.

VGG weights are random here unless ``--weights`` names real ones: a speed figure, not a quality result.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from benchmarks.env import environment

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from zoo.backbone import VGGEncoder, layer_names  # noqa: E402
from zoo.fileio import write_bytes  # noqa: E402

STYLE_LAYERS = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]
CONTENT_LAYER = "relu4_2"
STYLE_WEIGHT = 1e6
LOSSES = {"content": {"weight": 1.0, "layers": [CONTENT_LAYER]},
          "gram": {"weight": STYLE_WEIGHT, "layers": STYLE_LAYERS}}


def _images(size: int):
    """A smooth content picture and a striped, multi-frequency "painting", defined per image (not per
    pixel) so that their statistics are alike at every scale, as those of real photographs are."""
    g = torch.Generator().manual_seed(0)
    yy, xx = torch.meshgrid(torch.linspace(0, 1, size), torch.linspace(0, 1, size), indexing="ij")
    blobs = F.interpolate(torch.rand(1, 3, 8, 8, generator=g), size=(size, size), mode="bicubic",
                          align_corners=False).clamp(0, 1)
    content = 0.6 * torch.stack([xx, yy, 0.5 + 0.5 * torch.sin(6.28 * 2 * xx * yy)])[None] + 0.4 * blobs
    style = torch.zeros(1, 3, size, size)
    for k in range(6):
        angle, freq = float(torch.rand((), generator=g)) * 3.14, 4 + 6 * k
        colour = torch.rand(3, 1, 1, generator=g)
        wave = torch.sin(6.28 * freq * (xx * torch.cos(torch.tensor(angle)) + yy * torch.sin(torch.tensor(angle))))
        style += colour * (0.5 + 0.5 * wave) / 6
    return content.clamp(0, 1), style.clamp(0, 1)


def _peak_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# ---------------------------------------------------------------------------------------- baseline
def _tutorial_model(weights: str | None):
    """torchvision-layout VGG19 features as nn.Sequential, with the encoder's weights, frozen."""
    from torchvision.models import vgg19

    enc = VGGEncoder("vgg19", weights=weights, pool="avg")
    model = vgg19(weights=None).features.eval()
    for name, kind, index in _plan():
        if kind == "conv":
            model[index].weight.data.copy_(getattr(enc, f"{name}_weight"))
            model[index].bias.data.copy_(getattr(enc, f"{name}_bias"))
    for i, m in enumerate(model):
        if isinstance(m, torch.nn.MaxPool2d):
            model[i] = torch.nn.AvgPool2d(2, 2)
        if isinstance(m, torch.nn.ReLU):
            model[i] = torch.nn.ReLU(inplace=False)
    model.requires_grad_(False)
    return model


def _plan():
    from zoo.backbone import _layers

    return _layers("vgg19")


def _baseline_run(size: int, steps: int, device: torch.device, weights):
    model = _tutorial_model(weights).to(device)
    names = layer_names("vgg19")
    last = max(names.index(n) for n in STYLE_LAYERS + [CONTENT_LAYER])
    mean = torch.tensor([0.485, 0.456, 0.406], device=device).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225], device=device).view(1, 3, 1, 1)

    def features(x):
        out, h = {}, (x - mean) / std
        for i in range(last + 1):
            h = model[i](h)
            if names[i] in STYLE_LAYERS or names[i] == CONTENT_LAYER:
                out[names[i]] = h
        return out

    def gram(f):
        n, c, hh, ww = f.shape
        f = f.view(n, c, hh * ww)
        return torch.bmm(f, f.transpose(1, 2)) / (c * hh * ww)

    content, style = (t.to(device) for t in _images(size))
    image = content.clone().requires_grad_(True)
    opt = torch.optim.LBFGS([image], lr=1.0, max_iter=1, history_size=50)
    losses = []

    def objective():
        c_t = features(content)[CONTENT_LAYER].detach()  # recomputed every step, as naive code does
        s_f = features(style)
        f = features(image)
        loss = F.mse_loss(f[CONTENT_LAYER], c_t)
        for layer in STYLE_LAYERS:
            loss = loss + STYLE_WEIGHT * F.mse_loss(gram(f[layer]), gram(s_f[layer]).detach())
        return loss

    def closure():
        opt.zero_grad()
        loss = objective()
        loss.backward()
        return loss

    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        losses.append(float(opt.step(closure)))
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    with torch.no_grad():
        final = float(objective())
    return times, final, losses


# ---------------------------------------------------------------------------------------- zoo
def _zoo_run(size: int, steps: int, device: torch.device, weights, scales=None, scale_steps=None,
             stop_below: float | None = None):
    import lightning.pytorch as pl

    from zoo.data import GatysData
    from zoo.variants.gatys import Gatys

    times, losses, stamps = [], [], []

    class Clock(pl.Callback):
        def on_train_batch_start(self, trainer, module, batch, idx):
            self.t0 = time.perf_counter()

        def on_train_batch_end(self, trainer, module, outputs, batch, idx):
            if device.type == "cuda":
                torch.cuda.synchronize()
            times.append(time.perf_counter() - self.t0)
            losses.append(float(outputs["loss"] if isinstance(outputs, dict) else outputs))
            stamps.append((time.perf_counter(), module.scale_index(trainer.global_step - 1)))

    class Stop(pl.Callback):
        def on_train_batch_end(self, trainer, module, outputs, batch, idx):
            if stop_below is not None and stamps[-1][1] == len(module.scales) - 1 and losses[-1] <= stop_below:
                trainer.should_stop = True

    content, style = _images(size)
    model = Gatys(backbone={"arch": "vgg19", "weights": weights, "pool": "avg"}, losses=LOSSES,
                  scales=scales, scale_steps=scale_steps)
    trainer = pl.Trainer(max_steps=steps, max_epochs=-1, accelerator=device.type, devices=1, logger=False,
                         enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                         callbacks=[Clock(), Stop()])
    t_start = time.perf_counter()
    trainer.fit(model, GatysData.from_tensors(content, [style]))
    with torch.no_grad():
        final = float(model.compute_loss()[0])
    elapsed = [(t - t_start, s) for t, s in stamps]
    return times, final, losses, elapsed


# ---------------------------------------------------------------------------------------- driver
def worker(args) -> dict:
    device = torch.device(args.device)
    torch.manual_seed(0)
    if args.kind == "baseline":
        times, final, losses = _baseline_run(args.size, args.steps, device, args.weights)
        extra = {}
    elif args.kind == "zoo":
        times, final, losses, _ = _zoo_run(args.size, args.steps, device, args.weights)
        extra = {}
    else:  # time-to-loss: single scale vs coarse-to-fine
        scales = json.loads(args.scales)
        scale_steps = json.loads(args.scale_steps)
        times, final, losses, elapsed = _zoo_run(args.size, args.steps, device, args.weights, scales, scale_steps,
                                                 stop_below=args.stop_below)
        reached = next((t for (t, s), l in zip(elapsed, losses) if s == len(scales) - 1 and args.stop_below is not None
                        and l <= args.stop_below), None)
        extra = {"scales": scales, "scale_steps": scale_steps, "wall_s": elapsed[-1][0] if elapsed else None,
                 "reached_target_at_s": reached, "iterations": len(losses)}
    warm = times[1:] or times
    return {"kind": args.kind, "size": args.size, "device": args.device, "steps": len(times),
            "s_per_iter_median": statistics.median(warm), "final_loss": final, "loss_curve": losses,
            "peak_memory_mb": _peak_mb(device), **extra}


def _spawn(**kw) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.bench_gatys", "--worker"] + [f"--{k.replace('_', '-')}={v}" for k, v in kw.items()
                                                     if v is not None]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="256,512")
    p.add_argument("--steps", type=int, default=6, help="timed L-BFGS iterations per configuration (+1 warm-up)")
    p.add_argument("--multiscale-steps", type=int, default=40,
                   help="single-scale iterations whose final loss the coarse-to-fine run must reach (0: skip)")
    p.add_argument("--coarse-steps", default=None,
                   help="iterations at scales 0.25 and 0.5 of the coarse-to-fine run (default: N/2,N/3)")
    p.add_argument("--only-coarse-to-fine", action="store_true",
                   help="re-measure the coarse-to-fine part only, keeping the per-iteration rows of --out")
    p.add_argument("--devices", default=None, help="comma list; default cpu (+cuda when available)")
    p.add_argument("--weights", default="none", help="VGG weights: none (random), imagenet, caffe or a path")
    p.add_argument("--out", default=None, help="result JSON (default benchmarks/results/gatys-<device>.json)")
    # worker-only options
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--kind", default="zoo", help=argparse.SUPPRESS)
    p.add_argument("--size", type=int, default=256, help=argparse.SUPPRESS)
    p.add_argument("--device", default="cpu", help=argparse.SUPPRESS)
    p.add_argument("--scales", default="[1.0]", help=argparse.SUPPRESS)
    p.add_argument("--scale-steps", default="[]", help=argparse.SUPPRESS)
    p.add_argument("--stop-below", type=float, default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args)))
        return 0

    devices = args.devices.split(",") if args.devices else ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    sizes = [int(s) for s in args.sizes.split(",")]
    for device in devices:
        result = {"benchmark": "gatys", "environment": environment(device), "device": device,
                  "vgg_weights": args.weights, "random_weights": args.weights == "none",
                  "note": "speed and memory only; random VGG weights say nothing about image quality"
                  if args.weights == "none" else "", "per_iteration": [], "coarse_to_fine": None}
        out = Path(args.out or ROOT / "benchmarks" / "results" / f"gatys-{device}.json")
        if args.only_coarse_to_fine:
            result["per_iteration"] = json.loads(out.read_text())["per_iteration"]
        for size in ([] if args.only_coarse_to_fine else sizes):
            row = {"size": size}
            for kind in ("baseline", "zoo"):
                r = _spawn(kind=kind, size=size, steps=args.steps + 1, device=device, weights=args.weights)
                row[kind] = {k: r[k] for k in ("s_per_iter_median", "final_loss", "peak_memory_mb")}
                print(f"[{device} {size}px] {kind:8s} {r['s_per_iter_median']:.3f} s/iter, "
                      f"peak {r['peak_memory_mb']:.0f} MB, final loss {r['final_loss']:.4g}", flush=True)
            row["speedup"] = row["baseline"]["s_per_iter_median"] / row["zoo"]["s_per_iter_median"]
            row["final_loss_rel_diff"] = abs(row["baseline"]["final_loss"] - row["zoo"]["final_loss"]) / max(
                abs(row["baseline"]["final_loss"]), 1e-12)
            row["memory_ratio"] = row["zoo"]["peak_memory_mb"] / row["baseline"]["peak_memory_mb"]
            result["per_iteration"].append(row)
        if args.multiscale_steps:
            size = max(sizes)
            single = _spawn(kind="schedule", size=size, steps=args.multiscale_steps, device=device,
                            weights=args.weights)
            n = args.multiscale_steps
            coarse = [int(x) for x in args.coarse_steps.split(",")] if args.coarse_steps else [n // 2, n // 3]
            multi = _spawn(kind="schedule", size=size, steps=sum(coarse) + 2 * n, device=device, weights=args.weights,
                           scales="[0.25,0.5,1.0]", scale_steps=json.dumps(coarse),
                           stop_below=single["final_loss"])
            result["coarse_to_fine"] = {
                "single_scale_loss_curve": single["loss_curve"], "multi_scale_loss_curve": multi["loss_curve"],
                "size": size, "single_scale_iterations": n, "target_loss": single["final_loss"],
                "single_scale_wall_s": single["wall_s"], "multi_scale": multi["scales"],
                "multi_scale_steps": multi["scale_steps"], "multi_scale_reached_s": multi["reached_target_at_s"],
                "multi_scale_iterations": multi["iterations"],
                "speedup": (single["wall_s"] / multi["reached_target_at_s"]) if multi["reached_target_at_s"] else None,
            }
            print(f"[{device} {size}px] coarse-to-fine: {result['coarse_to_fine']}", flush=True)
        result["targets"] = {"per_iteration_speedup_cpu": 1.5, "coarse_to_fine_speedup": 3.0}
        write_bytes(out, (json.dumps(result, indent=2) + "\n").encode())  # atomic (zoo.fileio)
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
