"""Speed and peak memory of the Johnson et al. 2016 transformation network (zoo.nets.johnson).

    python -m benchmarks.bench_johnson                       # CPU (or --device cuda), writes results JSON
    python -m benchmarks.bench_johnson --device cuda --out benchmarks/results/johnson-h100.json
    python -m benchmarks.bench_johnson --reps 3 --cpu-compile --skip-variants channels_last   # the committed CPU run

For each image size (512, 1024) and batch size (1, 8) it measures images per second and peak memory of

* ``peer``: pytorch/examples' own code path (``benchmarks.peers.originals.FastNeuralStyleNet`` through
  ``examples_stylize``: stylize()'s x255, eval, ``torch.no_grad()``, fp32 NCHW, clamp; sources and
  deviations in :mod:`benchmarks.peers`), with the weights the zoo's network loads through
  ``convert_fast_neural_style_state_dict`` (the pytorch/examples configuration, random values), and
* the fast paths: on CPU ``fast`` -- ``TransformerNet.forward_fast``, the path ``zoo stylize --model
  johnson`` runs on CPU (channels_last activations, instance norm as a per-channel group norm, weights
  in channels_last cached, in-place ReLU/addition) -- and, for reference, the plain forward in
  channels_last (``channels_last``) and, with ``--cpu-compile``, ``torch.compile`` (inductor, C++ backend)
  of the plain network (its compile time is reported as ``first_call_s`` minus the steady time); on CUDA
  bf16 autocast + channels_last + inference_mode, eager and with ``torch.compile`` (the GPU-only paths
  are listed as skipped on CPU),

in the same process, interleaved round-robin, so all see the same machine load. Before timing, each
zoo path's picture is checked against the peer's (``max_abs_diff_vs_peer``, at most 1e-4). The JSON gives
each path's fraction of this machine's convolution ceiling (:func:`benchmarks.env.conv_ceiling`). It also stylises a
4096 x 4096 image tiled (``zoo.tiling.tiled_apply``, tile 512) and reports its peak memory.

Peak memory: on CUDA ``torch.cuda.max_memory_allocated``; on CPU the peak resident set size (sampled from
/proc/self/statm every 2 ms by a thread) above the resident size just before the call, i.e. what the call
added (output and temporaries; for the tiled run also the 4096 x 4096 input).

The weights are random (timing and memory do not depend on their values); this is stated in the JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import torch

from benchmarks import peers
from benchmarks.env import ceiling_fraction, conv_ceiling, count_flops, environment, write_json
from benchmarks.timing import RSSPeak, interleaved, load_record, set_threads
from zoo.nets.johnson import TransformerNet, convert_fast_neural_style_state_dict, fast_neural_style_config
from zoo.tiling import tiled_apply

GiB = 1024 ** 3


def measure(fns: dict, x: torch.Tensor, device: torch.device, warmup: int, reps: int) -> dict:
    """images/s (median over ``reps``) and peak memory of each ``fn(x)`` of ``fns``, timed round-robin by
    :func:`benchmarks.timing.interleaved`; each variant's first (warm-up) call time is ``first_call_s`` (for
    compiled variants it includes the compilation)."""
    times = interleaved({name: (lambda fn=fn: fn(x)) for name, fn in fns.items()}, device, warmup, reps)
    out = {}
    for name, t in times.items():
        out[name] = {"images_per_s": round(x.shape[0] / t["median_s"], 4), "seconds_per_batch": t["median_s"],
                     "times_s": t["samples_s"], "peak_memory_mib": t["peak_memory_mib"]}
        if "first_call_s" in t:
            out[name]["first_call_s"] = t["first_call_s"]
    return out


def peer_fn(peer):
    def run(x):
        return peers.originals.fast_neural_style_stylize(peer, x)
    return run


def optimized_fn(net, device: torch.device, channels_last: bool, bf16: bool, compile_: bool):
    """A fast path: inference_mode, optionally channels_last, bf16 autocast (CUDA), torch.compile (CUDA)."""
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
    model = torch.compile(net) if compile_ else net

    def run(x):
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.inference_mode():
            if bf16:
                with torch.autocast(device.type, dtype=torch.bfloat16):
                    return model(x).float()
            return model(x)
    return run


def fast_fn(net):
    """What ``zoo stylize --model johnson`` runs on CPU (JohnsonStylizer calls it under torch.no_grad())."""
    def run(x):
        with torch.no_grad():
            return net.forward_fast(x)
    return run


def cpu_compile_fn(net):
    """torch.compile (inductor, C++/OpenMP CPU backend, dynamic shapes: compiled once) of the plain network."""
    model = torch.compile(net, dynamic=True)

    def run(x):
        with torch.no_grad():
            return model(x)
    return run


def variants(peer, net_factory, device: torch.device, compile_: bool, cpu_compile: bool = False) -> tuple[dict, dict]:
    """{name: fn} and {name: description}; "peer" first. Each variant has its own copy of the network."""
    fns = {"peer": peer_fn(peer.to(device))}
    desc = {"peer": f"{peers.PYTORCH_EXAMPLES_JOHNSON['source']}: stylize()'s code path, fp32, NCHW, eager, "
                    "torch.no_grad()"}
    if device.type == "cuda":
        fns["bf16_channels_last"] = optimized_fn(net_factory(), device, True, True, False)
        desc["bf16_channels_last"] = "bf16 autocast + channels_last + inference_mode, eager"
        if compile_:
            fns["bf16_channels_last_compile"] = optimized_fn(net_factory(), device, True, True, True)
            desc["bf16_channels_last_compile"] = "bf16 autocast + channels_last + inference_mode + torch.compile"
    else:
        fns["channels_last"] = optimized_fn(net_factory(), device, True, False, False)
        desc["channels_last"] = "fp32, plain forward with channels_last weights and input, eager, torch.inference_mode()"
        if cpu_compile:
            fns["compile_inductor"] = cpu_compile_fn(net_factory())
            desc["compile_inductor"] = ("fp32, torch.compile(dynamic=True) of the plain forward, inductor C++ "
                                        "backend, torch.no_grad(); first_call_s includes compilation")
        fns["fast"] = fast_fn(net_factory())
        desc["fast"] = ("TransformerNet.forward_fast under torch.no_grad() -- what zoo stylize --model johnson "
                        "runs on CPU: fp32, channels_last activations, instance norm in place (zoo.nets.fast.fast_norm), "
                        "cached channels_last conv weights, nearest-upsample + 3x3 conv as one 2x2 conv per "
                        "output phase at low resolution, the 9x9 RGB head as a 9x1 conv to 27 channels, "
                        "in-place ReLU and residual addition, no input padding when H, W are multiples of 4")
    return fns, desc


def _random_peer() -> peers.originals.FastNeuralStyleNet:
    """pytorch/examples' network with random, non-trivial weights (instance-norm affine included) and an
    output head spread over 0-255 like a trained one's, so the final clamp is exercised but not dominant."""
    torch.manual_seed(0)
    peer = peers.originals.FastNeuralStyleNet().eval()
    with torch.no_grad():
        for name, p in peer.named_parameters():
            if p.ndim == 1:
                p.copy_(1.0 + 0.3 * torch.randn_like(p) if name.endswith("weight") else 0.1 * torch.randn_like(p))
        peer.deconv3.conv2d.weight.mul_(40.0)
        peer.deconv3.conv2d.bias.fill_(127.5)
    return peer


def _smooth(batch: int, size: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(1)
    return torch.nn.functional.interpolate(torch.rand(batch, 3, 16, 16, generator=g), size=(size, size),
                                           mode="bicubic", align_corners=False).clamp(0, 1)


def _check_equal(fns: dict, x: torch.Tensor, tol: float = 1e-4) -> dict:
    """Every zoo path's picture against the peer's; exits if one differs by more than ``tol``."""
    ref = fns["peer"](x).float()
    diffs = {}
    for name, fn in fns.items():
        if name != "peer":
            diffs[name] = round(float((fn(x).float() - ref).abs().max()), 6)
            if diffs[name] > tol:
                raise SystemExit(f"error: {name} differs from pytorch/examples' picture by {diffs[name]:.2e} "
                                 f"(allowed {tol}): they do not compute the same thing")
    return diffs


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--sizes", type=int, nargs="+", default=[512, 1024])
    p.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    p.add_argument("--reps", type=int, default=None, help="timed repetitions (default: CPU 3/1, CUDA 10)")
    p.add_argument("--cpu-budget-s", type=float, default=60.0,
                   help="on CPU, skip the largest configuration (1024 px, batch 8) if one forward pass is "
                        "estimated to take longer than this")
    p.add_argument("--tile-image", type=int, default=4096)
    p.add_argument("--tile", type=int, default=512)
    p.add_argument("--tile-limit", type=int, default=None,
                   help="run the network on only this many tiles (the others reuse an output of the same shape; "
                        "peak memory is unchanged as tiles run one at a time; time is not reported). "
                        "0: all tiles. Default: 4 on CPU, 0 on CUDA")
    p.add_argument("--no-compile", action="store_true")
    p.add_argument("--cpu-compile", action="store_true",
                   help="on CPU, also time torch.compile (inductor) of the plain network, incl. compile time")
    p.add_argument("--warm-compile-cache", action="store_true",
                   help="reuse inductor's default compile cache (default: an empty one, so that first_call_s "
                        "shows the full compile time)")
    p.add_argument("--skip-variants", nargs="*", default=[],
                   help="variants (other than peer and fast) not to run, e.g. channels_last, to save time")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's, the core count)")
    p.add_argument("--out", default=None, help="results JSON (default: benchmarks/results/johnson-<env>.json)")
    args = p.parse_args(argv)

    device = torch.device(args.device)
    set_threads(args.threads)
    cuda = device.type == "cuda"
    compiles = not args.no_compile and (cuda or args.cpu_compile)
    compile_cache = None
    if compiles and not args.warm_compile_cache:
        # An empty compile cache, so that first_call_s is the compilation a user's first run pays (a cache
        # left by an earlier run made it 20x shorter here). Importing torchvision has already set this
        # variable to the default cache; inductor reads it at each use.
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = tempfile.mkdtemp(prefix="bench-johnson-inductor-")
        compile_cache = "empty (a fresh TORCHINDUCTOR_CACHE_DIR): first_call_s includes the whole compilation"
    elif compiles:
        compile_cache = "the default (--warm-compile-cache): first_call_s may reuse earlier compilations"
    peer = _random_peer()
    state = convert_fast_neural_style_state_dict(peer.state_dict())

    def net_factory() -> TransformerNet:
        net = TransformerNet(**fast_neural_style_config()).eval()
        net.load_state_dict(state)
        return net.to(device)

    ceiling = conv_ceiling() if not cuda else None
    fns, desc = variants(peer, net_factory, device, compile_=cuda and not args.no_compile,
                         cpu_compile=not cuda and args.cpu_compile and not args.no_compile)
    for name in args.skip_variants:
        if name in ("peer", "fast") or name not in fns:
            raise SystemExit(f"--skip-variants: cannot skip {name!r} (variants: {', '.join(fns)})")
        del fns[name], desc[name]
    best_path = list(fns)[-1] if cuda else "fast"  # the fast path used for the tiled run
    result: dict = {
        "benchmark": "johnson transformer forward (zoo.nets.johnson.TransformerNet, pytorch/examples config)",
        "peer": peers.PYTORCH_EXAMPLES_JOHNSON,
        "ratio": "peer seconds / zoo seconds (speedup; higher: the zoo is faster)",
        **({"conv_ceiling": ceiling} if ceiling else {}),
        "weights": "random (speed and memory do not depend on weight values)",
        "environment": environment(device),
        "variants": desc,
        **({"compile_cache": compile_cache} if compile_cache else {}),
        "product_path": None if cuda else "fast",
        "skipped_paths": [] if cuda else (
            ["bf16 autocast (measured on GPU only by this script)"]
            + ([] if args.cpu_compile and not args.no_compile else ["torch.compile on CPU (pass --cpu-compile)"])),
        "memory_measure": "torch.cuda.max_memory_allocated above the level before the call" if cuda else
                          "peak RSS above the level before the call (sampled every 2 ms from /proc/self/statm), "
                          "includes the output and temporaries",
        "timing": "median seconds per batch over the timed repetitions; variants interleaved round-robin",
        "note": ("CPU timings come from a machine shared with other jobs (see the load averages in "
                 "environment): single runs vary by tens of percent, so read small speedups as noise") if not cuda else "",
        "runs": [],
    }
    target = 3.0 if cuda else 1.5  # issue 17: the CPU product path keeps >= 1.5x pytorch/examples
    est_per_pixel: float | None = None
    for size in args.sizes:
        for batch in args.batches:
            entry: dict = {"size": size, "batch": batch}
            pixels = batch * size * size
            largest = size == max(args.sizes) and batch == max(args.batches)
            if not cuda and largest and est_per_pixel is not None and est_per_pixel * pixels > args.cpu_budget_s:
                entry["skipped"] = (f"estimated {est_per_pixel * pixels:.0f} s per forward pass of one variant "
                                    f"on this CPU (> --cpu-budget-s {args.cpu_budget_s:g})")
                result["runs"].append(entry)
                print(json.dumps(entry), flush=True)
                continue
            small = pixels <= 512 * 512
            reps = args.reps or (10 if cuda else (3 if small else 1))
            warmup = 3 if cuda else 1  # a cold first call (allocator, oneDNN primitives) would favour later variants
            x = _smooth(batch, size).to(device)
            entry.update(reps=reps, warmup=warmup)
            entry["max_abs_diff_vs_peer"] = _check_equal(fns, x)
            entry.update(measure(fns, x, device, warmup=warmup, reps=reps))
            base_ips = entry["peer"]["images_per_s"]
            entry["speedup"] = {name: round(entry[name]["images_per_s"] / base_ips, 3) for name in fns if name != "peer"}
            if ceiling:
                flops = count_flops(lambda: fns["peer"](x))
                entry["fraction_of_conv_ceiling"] = {
                    name: ceiling_fraction(flops, entry[name]["seconds_per_batch"], ceiling) for name in fns}
            entry["meets_target"] = (entry["speedup"]["fast"] if not cuda else max(entry["speedup"].values())) >= target
            est_per_pixel = entry["peer"]["seconds_per_batch"] / pixels
            result["runs"].append(entry)
            del x
            print(json.dumps(entry), flush=True)

    # tiled stylisation of a large image
    limit = (args.tile_limit if args.tile_limit is not None else (0 if cuda else 4)) or None
    calls = {"n": 0}
    cache: dict = {}

    def per_tile(t: torch.Tensor) -> torch.Tensor:
        calls["n"] += 1
        if limit is not None and calls["n"] > limit and t.shape in cache:
            return cache[t.shape].clone()
        with torch.inference_mode():
            out = fns[best_path](t.to(device)).float().cpu()
        cache[t.shape] = out
        return out

    with RSSPeak() as rss:
        big = torch.rand(1, 3, args.tile_image, args.tile_image)  # on the host, as a decoded image would be
        if cuda:
            torch.cuda.reset_peak_memory_stats(device)
        t0 = time.perf_counter()
        out = tiled_apply(per_tile, big, args.tile)
        seconds = time.perf_counter() - t0
    assert out.shape == big.shape
    tiled = {"image": f"{args.tile_image}x{args.tile_image}", "tile": args.tile, "overlap": args.tile // 4,
             "variant": best_path,
             "tiles": calls["n"], "tiles_run_through_network": min(calls["n"], limit or calls["n"]),
             "peak_host_memory_mib_above_start": round(rss.peak / 2 ** 20, 1),
             "of_which_image_output_weight_buffers_mib": round((2 * big.numel() + big[:, :1].numel()) * 4 / 2 ** 20, 1),
             "under_4_gib": rss.peak < 4 * GiB}
    if cuda:
        tiled["peak_gpu_memory_mib"] = round(torch.cuda.max_memory_allocated(device) / 2 ** 20, 1)
    if limit is None:
        tiled["seconds"] = round(seconds, 2)
    else:
        tiled["note"] = (f"to keep the CPU run short only {limit} tiles ran through the network; the others "
                         "reused an output of the same shape. Tiles run one at a time, so the peak is the same "
                         "as a full run; the time is not reported. Use --tile-limit 0 for a full, timed run.")
    result["tiled"] = tiled
    result["target"] = {"speedup": target, "tiled_4096_peak_gib": 4}
    measured = [r for r in result["runs"] if "speedup" in r]
    if not cuda and measured:
        ratios = {f"{r['size']}px_batch{r['batch']}": r["speedup"]["fast"] for r in measured}
        result["summary"] = {
            "product_path": "fast (TransformerNet.forward_fast, used by zoo stylize --model johnson on CPU)",
            "speedup_vs_peer": ratios,
            "meets_target": {k: v >= target for k, v in ratios.items()},
            "verdict": ("target met in every measured configuration" if min(ratios.values()) >= target else
                        f"target NOT met in every configuration: lowest ratio {min(ratios.values()):.2f}x < {target}x"),
        }
        if "compile_inductor" in fns:
            result["summary"]["compile_inductor"] = {
                f"{r['size']}px_batch{r['batch']}": {
                    "speedup_vs_peer": r["speedup"]["compile_inductor"],
                    "compile_s_approx": round(r["compile_inductor"]["first_call_s"]
                                              - r["compile_inductor"]["seconds_per_batch"], 1)}
                for r in measured}
    result["environment"].update(load_record(result["environment"]["load_average_at_start"]))
    print(json.dumps(tiled), flush=True)

    out_path = Path(args.out) if args.out else (
        Path(__file__).parent / "results" /
        (f"johnson-{torch.cuda.get_device_name(device).split()[-1].lower()}.json" if cuda
         else f"johnson-cpu-{os.cpu_count()}core.json"))
    write_json(out_path, result)
    print(f"wrote {out_path}")
    return result


if __name__ == "__main__":
    main()
