"""Gatys speed on CPU: the zoo's Gatys against the PyTorch neural style tutorial (VGG frozen), same run.

    python -m benchmarks.bench_gatys                  # 256 and 512 px -> benchmarks/results/gatys-cpu.json
    python -m benchmarks.bench_gatys --rounds 0 --pairs 5   # only the time to a loss -> gatys-to-loss-cpu.json
    python -m benchmarks.bench_gatys --sizes 256 --iters 3 --rounds 1 --to-loss-iters 0   # a quick look

The time to a loss dominates: the second command took 20 minutes on a 2-core AVX2 CPU (15 of them at
512 px); CPUs with AVX-512 run these convolutions about 3x faster.

The peer is :mod:`benchmarks.peers`' restatement of the tutorial's code path (pytorch/tutorials
``advanced_source/neural_style_tutorial.py``; its deviations, such as the frozen VGG, are listed there and
in the JSON). Both sides use the same VGG19 weights (random unless ``--weights``), the same images, the
same objective (content relu4_2, Gram style relu1_1..relu5_1, style weight 1e6, average pooling) and
L-BFGS from the content image, so their loss curves must agree: the script checks that before it reports
a ratio. Everything runs in this one process, the sides interleaved round by round, so all see the same
machine load (recorded in the JSON).

* **per iteration**, at each size: seconds per L-BFGS iteration (median over the iterations of every
  round, each run's first iteration, which builds the targets, left out) of
  - ``peer``: the tutorial's nn.Sequential with loss modules, float32, NCHW;
  - ``zoo``: :class:`zoo.variants.gatys.Gatys` under a Lightning Trainer, float32 (the default: channels_last
    on CPU, Gram matrices whose backward is one matmul, targets computed once);
  - ``zoo_bf16`` (only where the CPU has native bf16; opt-in, ``--precision bf16-mixed``): the same under bf16
    autocast, Gram matrices and losses in float32. Its picture after the same iterations is compared with
    the float32 one (``bf16_picture_difference``: mean and max absolute difference in [0, 1], PSNR).
* **to a given loss**, at each size and for each of ``--pairs`` content/style pairs: wall-clock (targets
  included) for the tutorial to run N iterations, and for the zoo to reach the tutorial's final loss,
  single-scale and coarse-to-fine (scales 0.25, 0.5, 1); the median over the pairs, a pair not reached within
  the budget (2N iterations at full size) counting as 0x. Several pairs, because L-BFGS without a line search
  (the tutorial's and the zoo's) overshoots now and then (a loss from 2 to 10^8 times the one before, then
  back: counted as ``spikes``), and where that happens decides how soon one run gets to a given loss.
  ``--rounds 0`` measures only this, into ``gatys-to-loss-<device>.json``.
* **fraction of the convolution ceiling**: FLOPs of one iteration (torch.utils.flop_counter) per second,
  over what one 3x3 convolution reaches on this machine (:func:`benchmarks.env.conv_ceiling`).

Random VGG weights say nothing about image quality: these are speed figures only.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from benchmarks import peers
from benchmarks.env import ceiling_fraction, conv_ceiling, count_flops, environment, load_average, write_json
from benchmarks.timing import interleaved, load_record, set_threads

ROOT = Path(__file__).resolve().parent.parent
STYLE_LAYERS = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]
CONTENT_LAYER = "relu4_2"
STYLE_WEIGHT = 1e6
LOSSES = {"content": {"weight": 1.0, "layers": [CONTENT_LAYER]},
          "gram": {"weight": STYLE_WEIGHT, "layers": STYLE_LAYERS}}
TARGETS = {"per_iteration_vs_peer": 1.3, "to_loss_vs_peer": 1.3}
CURVE_RTOL = 1e-3  # float32 sums in another order: the loss curves agree to this relative difference


def _images(size: int, seed: int = 0):
    """A smooth content picture and a striped, multi-frequency "painting", defined per image (not per
    pixel) so that their statistics are alike at every scale, as those of real photographs are; ``seed``
    picks another pair."""
    g = torch.Generator().manual_seed(seed)
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


# ---------------------------------------------------------------------------------------- the two sides
def peer_run(encoder, content, style, iters: int, stop_below: float | None = None) -> dict:
    """The tutorial: build the model (targets), then ``iters`` L-BFGS iterations (or until ``stop_below``)."""
    t_start = time.perf_counter()
    tutorial = peers.originals
    model, style_losses, content_losses = tutorial.tutorial_style_model(encoder, content, style, [CONTENT_LAYER],
                                                                        STYLE_LAYERS)
    input_img = content.clone()
    optimizer = tutorial.tutorial_optimizer(input_img)
    closure = tutorial.tutorial_closure(model, style_losses, content_losses, optimizer, input_img, STYLE_WEIGHT)
    times, losses, stamps = [], [], []
    for _ in range(iters):
        t0 = time.perf_counter()
        losses.append(optimizer.step(closure).item())
        times.append(time.perf_counter() - t0)
        stamps.append(time.perf_counter() - t_start)
        if stop_below is not None and losses[-1] <= stop_below:
            break
    return {"times": times, "losses": losses, "stamps": stamps, "image": input_img.detach().clamp(0, 1),
            "flops_fn": lambda: closure()}


def zoo_run(weights, content, style, iters: int, precision: str = "32-true", scales=None, scale_steps=None,
            stop_below: float | None = None) -> dict:
    """The zoo's Gatys under a Lightning Trainer, as users run it; ``iters`` steps in all (or until the loss at
    the last scale is at most ``stop_below``)."""
    import lightning.pytorch as pl

    from zoo.data import GatysData
    from zoo.variants.gatys import Gatys

    times, losses, stamps, scale_of = [], [], [], []

    class Clock(pl.Callback):
        def on_train_batch_start(self, trainer, module, batch, idx):
            self.t0 = time.perf_counter()

        def on_train_batch_end(self, trainer, module, outputs, batch, idx):
            times.append(time.perf_counter() - self.t0)
            stamps.append(time.perf_counter() - t_start)
            losses.append(float(outputs["loss"] if isinstance(outputs, dict) else outputs))
            scale_of.append(module.scale_index(trainer.global_step - 1))
            if stop_below is not None and scale_of[-1] == len(module.scales) - 1 and losses[-1] <= stop_below:
                trainer.should_stop = True

    t_start = time.perf_counter()
    model = Gatys(backbone={"arch": "vgg19", "weights": weights, "pool": "avg"}, losses=LOSSES,
                  scales=scales, scale_steps=scale_steps)
    trainer = pl.Trainer(max_steps=iters, max_epochs=-1, accelerator=content.device.type, devices=1, logger=False,
                         precision=precision, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, callbacks=[Clock()])
    trainer.fit(model, GatysData.from_tensors(content.cpu(), [style.cpu()]))
    return {"times": times, "losses": losses, "stamps": stamps, "scale_index": scale_of, "image": model.result(),
            "model": model}


def _curves_agree(a, b) -> float:
    n = min(len(a), len(b))
    return max(abs(x - y) / max(abs(x), 1e-12) for x, y in zip(a[:n], b[:n]))


def _psnr(a, b) -> float:
    mse = float((a - b).pow(2).mean())
    return float("inf") if mse == 0 else round(10 * torch.log10(torch.tensor(1.0 / mse)).item(), 2)


# ---------------------------------------------------------------------------------------- measurements
def per_iteration(size, iters, rounds, weights, encoder, bf16: bool, ceiling: dict | None) -> dict:
    content, style = (t.to(encoder.mean.device) for t in _images(size))
    sides = ["peer", "zoo"] + (["zoo_bf16"] if bf16 else [])
    runs = {"peer": lambda: peer_run(encoder, content, style, iters),
            "zoo": lambda: zoo_run(weights, content, style, iters, "32-true"),
            "zoo_bf16": lambda: zoo_run(weights, content, style, iters, "bf16-mixed")}
    # interleaved: every side's whole run once per round; the per-iteration times come from inside the runs
    timed = interleaved({side: runs[side] for side in sides}, encoder.mean.device, warmup=0, repeats=rounds,
                        keep_results=True)
    samples = {s: [t for r in timed[s]["results"] for t in r["times"][1:]] for s in sides}
    curves = {s: [r["losses"] for r in timed[s]["results"]] for s in sides}
    last = {s: timed[s]["results"][-1] for s in sides}
    print(f"[{size}px] " + ", ".join(f"{s} {statistics.median(samples[s]):.3f}" for s in sides)
          + f" s/iter; load {load_average()}", flush=True)
    diff = max(_curves_agree(p, z) for p, z in zip(curves["peer"], curves["zoo"]))
    if diff > CURVE_RTOL:
        raise SystemExit(f"error: at {size} px the zoo's loss curve differs from the tutorial's by {diff:.2e} "
                         f"(relative; allowed {CURVE_RTOL}): they do not compute the same thing")
    flops = count_flops(last["peer"]["flops_fn"])
    row = {"size": size, "flops_per_iteration": flops, "loss_curves_max_rel_diff": diff,
           "loss_curve_peer": curves["peer"][0], "loss_curve_zoo": curves["zoo"][0]}
    for side in sides:
        s = statistics.median(samples[side])
        row[side] = {"s_per_iter_median": round(s, 4), "samples": [round(t, 4) for t in samples[side]],
                     "peak_memory_mib_per_run": timed[side]["peak_memory_mib"],
                     "fraction_of_conv_ceiling": ceiling_fraction(flops, s, ceiling, bf16=side == "zoo_bf16")
                     if ceiling else None}
    for side in sides[1:]:
        row[f"{side}_vs_peer"] = round(row["peer"]["s_per_iter_median"] / row[side]["s_per_iter_median"], 3)
    if bf16:
        a, b = last["zoo"]["image"], last["zoo_bf16"]["image"]
        row["bf16_picture_difference"] = {
            "after_iterations": iters, "mean_abs": round(float((a - b).abs().mean()), 5),
            "max_abs": round(float((a - b).abs().max()), 5), "psnr_db": _psnr(a, b),
            "loss_rel_diff": round(abs(curves["zoo"][-1][-1] - curves["zoo_bf16"][-1][-1])
                                   / abs(curves["zoo"][-1][-1]), 5)}
    return row


def _spikes(losses) -> int:
    """Iterations whose loss is more than twice the one before: L-BFGS without a line search (the tutorial's
    and the zoo's) overshoots now and then and recovers, and where that happens decides how soon a run gets
    to a given loss."""
    return sum(b > 2 * a for a, b in zip(losses, losses[1:]))


def to_loss_once(size, iters, weights, encoder, seed: int) -> dict:
    """One image pair: wall-clock for the tutorial's N iterations, and for the zoo to reach its final loss."""
    content, style = (t.to(encoder.mean.device) for t in _images(size, seed))
    peer = peer_run(encoder, content, style, iters)
    target = peer["losses"][-1]
    single = zoo_run(weights, content, style, 2 * iters, stop_below=target)
    diff = _curves_agree(peer["losses"][:3], single["losses"][:3])  # as in per_iteration: the same function
    if diff > CURVE_RTOL:
        raise SystemExit(f"error: at {size} px (image pair {seed}) the zoo's loss curve differs from the "
                         f"tutorial's by {diff:.2e} (relative; allowed {CURVE_RTOL}): they do not compute the same thing")
    out = {"seed": seed, "target_loss": target, "peer_wall_s": round(peer["stamps"][-1], 3),
           "loss_curves_max_rel_diff_first_3": diff, "peer_spikes": _spikes(peer["losses"])}
    runs = [("zoo_single_scale", single, {})]
    coarse = [max(1, iters // 2), max(1, iters // 3)]
    if size // 4 >= 16:  # the encoder needs 16 px at the coarsest scale
        multi = zoo_run(weights, content, style, sum(coarse) + 2 * iters, scales=[0.25, 0.5, 1.0],
                        scale_steps=coarse, stop_below=target)
        runs.append(("zoo_coarse_to_fine", multi, {"scales": [0.25, 0.5, 1.0], "scale_steps": coarse}))
    for name, r, extra in runs:
        hit = next((i for i, (l, s) in enumerate(zip(r["losses"], r["scale_index"]))
                    if s == max(r["scale_index"]) and l <= target), None)
        wall = r["stamps"][hit] if hit is not None else None
        out[name] = {"reached": hit is not None, "wall_s": None if wall is None else round(wall, 3),
                     "iterations": len(r["losses"]), "final_loss": r["losses"][-1], "spikes": _spikes(r["losses"]),
                     **extra}
        out[f"{name}_vs_peer"] = None if wall is None else round(out["peer_wall_s"] / wall, 3)
    return out


def to_loss(size, iters, weights, encoder, n_pairs: int) -> dict:
    """Over ``n_pairs`` image pairs: the median ratio per zoo configuration, a pair whose run did not reach the
    tutorial's loss within its iteration budget counting as 0x (so a median above 0 means most pairs got there)."""
    to_loss_once(size, 2, weights, encoder, 0)  # untimed: the first runs at a size set up its kernels
    pairs = [to_loss_once(size, iters, weights, encoder, seed) for seed in range(n_pairs)]
    out = {"size": size, "peer_iterations": iters, "image_pairs": n_pairs,
           "ratio_summary": "median over the image pairs; a pair not reached within the budget counts as 0x"}
    for name in ("zoo_single_scale", "zoo_coarse_to_fine"):
        if name not in pairs[0]:
            out[name], out[f"{name}_vs_peer"] = {"skipped": "under 64 px"}, None
            continue
        out[name] = {"reached": sum(p[name]["reached"] for p in pairs)}
        out[f"{name}_vs_peer"] = round(statistics.median(p[f"{name}_vs_peer"] or 0.0 for p in pairs), 3)
    out["pairs"] = pairs
    print(f"[{size}px] to the tutorial's loss after {iters} iterations, median of {n_pairs} image pairs: " + json.dumps(
        {k: v for k, v in out.items() if k.endswith("_vs_peer")}), flush=True)
    return out


def _verdict(result) -> dict:
    """The targets of the parts measured (a part skipped with --rounds 0 or --to-loss-iters 0 has none)."""
    out = {}
    rows = result["per_iteration"]
    if rows:
        t = TARGETS["per_iteration_vs_peer"]
        per = {r["size"]: r["zoo_vs_peer"] for r in rows}
        per_bf16 = {r["size"]: r["zoo_bf16_vs_peer"] for r in rows if "zoo_bf16_vs_peer" in r}
        out["per_iteration_vs_peer"] = v = {
            "target": t, "zoo_float32": per, "zoo_bf16_opt_in": per_bf16,
            "met_float32": all(x >= t for x in per.values()),
            "met_with_bf16": bool(per_bf16) and all(x >= t for x in per_bf16.values())}
        if not v["met_float32"]:
            v["missed_float32_by"] = {s: round(t - x, 3) for s, x in per.items() if x < t}
            v["why_missed_float32"] = (
                "an iteration is one forward and one input-gradient pass through VGG19 to relu5_1 on both sides, "
                "and about 80% of it is those 13 convolutions and their backward, which run at this CPU's "
                "convolution peak in the peer too (no convolution can be skipped: every layer up to conv5_1 "
                "feeds a loss); channels_last, the one-matmul Gram backward and in-place ReLUs remove what the "
                "zoo can remove; bf16 (opt-in, native only) is what goes further")
    if result["to_loss"]:
        t = TARGETS["to_loss_vs_peer"]
        best = {r["size"]: max(r[k] or 0.0 for k in r if k.endswith("_vs_peer")) for r in result["to_loss"]}
        out["to_loss_vs_peer"] = v = {"target": t, "best_zoo_float32_median": best,
                                      "met": all(x >= t for x in best.values())}
        if not v["met"]:
            v["missed_by"] = {s: round(t - x, 3) for s, x in best.items() if x < t}
            v["why_missed"] = (
                "single-scale runs the tutorial's iterations (the same loss curve), so its ratio is the per-iteration "
                "ratio less the Trainer's start-up and the targets; coarse-to-fine starts the full size from the "
                "upsampled coarse result, which saves full-size iterations for some image pairs and costs them for "
                "others (L-BFGS without a line search overshoots now and then: see each pair's iterations, "
                "reached and spikes)")
    return out


def main(argv=None) -> int:
    from zoo.backbone import VGGEncoder
    from zoo.fit import cpu_has_native_bf16

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    p.add_argument("--sizes", default="256,512")
    p.add_argument("--iters", type=int, default=3, help="L-BFGS iterations per run (the first is left out)")
    p.add_argument("--rounds", type=int, default=2,
                   help="interleaved rounds of runs per size for the per-iteration times (0: skip them)")
    p.add_argument("--to-loss-iters", type=int, default=12,
                   help="the tutorial's iterations whose final loss the zoo must reach (0: skip)")
    p.add_argument("--pairs", type=int, default=3,
                   help="content/style image pairs for the time to the tutorial's loss (the median is reported)")
    p.add_argument("--no-bf16", action="store_true", help="skip the bf16 path even where the CPU has native bf16")
    p.add_argument("--weights", default="none", help="VGG weights: none (random), imagenet or a path")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's, the core count)")
    p.add_argument("--out", default=None, help="result JSON (default benchmarks/results/gatys-<device>.json)")
    args = p.parse_args(argv)
    if args.iters < 2 or args.rounds < 0 or args.to_loss_iters < 0 or args.pairs < 1:
        p.error("--iters must be at least 2 (each run's first iteration is left out), --pairs at least 1, "
                "--rounds and --to-loss-iters at least 0")
    if not args.rounds and not args.to_loss_iters:
        p.error("--rounds 0 and --to-loss-iters 0 leave nothing to measure")
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    sizes = [int(s) for s in args.sizes.split(",")]
    device = torch.device(args.device)
    set_threads(args.threads)
    bf16 = (device.type == "cuda" or cpu_has_native_bf16()) and not args.no_bf16
    encoder = VGGEncoder("vgg19", weights=args.weights, layers=STYLE_LAYERS + [CONTENT_LAYER], pool="avg").to(device)
    ceiling = conv_ceiling() if device.type == "cpu" else None
    print(f"conv ceiling: {ceiling}", flush=True)
    result = {"benchmark": "gatys", "environment": environment(device), "conv_ceiling": ceiling,
              "peer": peers.TUTORIAL_GATYS, "vgg_weights": args.weights, "random_weights": args.weights == "none",
              "note": "speed only; random VGG weights say nothing about image quality" if args.weights == "none" else "",
              "native_bf16": cpu_has_native_bf16(), "bf16_measured": bf16,
              "ratio": "peer seconds / zoo seconds (higher: the zoo is faster)", "per_iteration": [], "to_loss": []}
    for size in sizes if args.rounds else []:
        result["per_iteration"].append(per_iteration(size, args.iters, args.rounds, args.weights, encoder, bf16,
                                                     ceiling))
    for size in sizes if args.to_loss_iters else []:
        result["to_loss"].append(to_loss(size, args.to_loss_iters, args.weights, encoder, args.pairs))
    result["targets"] = _verdict(result)
    result["environment"].update(load_record(result["environment"]["load_average_at_start"]))
    name = f"gatys-{device.type}.json" if args.rounds else f"gatys-to-loss-{device.type}.json"
    out = Path(args.out or ROOT / "benchmarks" / "results" / name)
    write_json(out, result)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
