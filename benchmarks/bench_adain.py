"""AdaIN speed on CPU for a new content/style pair: the zoo's AdaINNet against pytorch-AdaIN's test.py.

    python -m benchmarks.bench_adain                          # 512 and 1024 px, a few minutes -> benchmarks/results/
    python -m benchmarks.bench_adain --sizes 256 --repeats 2  # a quick look

The peer is :mod:`benchmarks.peers`' restatement of pytorch-AdaIN's code path (net.py ``vgg`` cut after
relu4_1 as test.py does, ``decoder``, function.py's unbiased statistics, ``torch.no_grad``). Both sides get
the same random weights (a ``vgg_normalised.pth``-layout VGG and a ``decoder.pth``-layout decoder, loaded
into the zoo with :meth:`AdaINNet.from_pytorch_adain`, as a user loads the published files) and the same
content and style images (size x size, batch 1). Before timing, the script checks that every zoo path
gives the peer's picture (float32 paths to 1e-4; the bf16 path's difference is reported, not required).

Each call stylises a *new* pair: the content and the style are both encoded (the zoo's style cache is
cleared before every call). Sides, timed interleaved call by call in this one process:

* ``peer``: test.py's style_transfer, float32, NCHW, ``torch.no_grad``.
* ``zoo``: ``AdaINNet.forward`` in ``torch.inference_mode`` (what ``zoo stylize --model adain`` runs),
  float32; on CPU the network runs in channels_last (its default there).
* ``zoo_jit_frozen`` (``--freeze``): ``AdaINNet.transfer`` traced, ``torch.jit.freeze`` d and
  ``torch.jit.optimize_for_inference`` d (oneDNN conv + ReLU fusion) for this one image size; its first
  call, which includes the tracing and freezing, is reported as ``first_call_s``.
* ``zoo_bf16`` (only where the CPU has native bf16; opt-in): bf16 autocast, statistics and AdaIN in float32.

The ratio is peer seconds / zoo seconds (median of the calls). The JSON also gives each side's fraction of
this machine's convolution ceiling (:func:`benchmarks.env.conv_ceiling`), its peak memory per call and the
load of the machine (:mod:`benchmarks.timing`). Random weights: speed only.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import torch
from torch import nn

from benchmarks import peers
from benchmarks.env import ceiling_fraction, conv_ceiling, count_flops, environment, load_average, write_json
from benchmarks.timing import interleaved, load_record, set_threads

ROOT = Path(__file__).resolve().parents[1]
TARGET = 1.3  # peer time / zoo time for a new pair, at 512 and 1024 px


def _random_peer():
    """pytorch-AdaIN's vgg (cut after relu4_1, as test.py cuts it) and decoder with random weights."""
    return peers.originals.randomize(peers.originals.adain_vgg(), 0), peers.originals.randomize(
        peers.originals.adain_decoder(), 1)


def _smooth(size: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.nn.functional.interpolate(torch.rand(1, 3, 16, 16, generator=g), size=(size, size),
                                           mode="bicubic", align_corners=False).clamp(0, 1)


class _Transfer(nn.Module):
    """``AdaINNet.transfer`` as a module, for tracing."""

    def __init__(self, net) -> None:
        super().__init__()
        self.net = net

    def forward(self, content, style):
        return self.net.transfer(content, style)


def build_sides(bf16: bool, freeze: bool, device: torch.device):
    """{name: (make(content, style) -> fn() -> picture, uses bf16)} for the peer and each zoo path, same
    weights. ``make`` does what must happen once per image size (the freeze side traces there)."""
    from zoo.nets.adain import AdaINNet

    vgg, decoder = _random_peer()
    with tempfile.TemporaryDirectory() as d:
        torch.save(vgg.state_dict(), Path(d) / "vgg_normalised.pth")
        net = AdaINNet.from_pytorch_adain(decoder.state_dict(), vgg=str(Path(d) / "vgg_normalised.pth")).eval()
    vgg, decoder, net = vgg.to(device), decoder.to(device), net.to(device)

    def zoo(use_bf16: bool):
        def make(content, style):
            def run():
                net.clear_style_cache()  # a new pair: the style is encoded in this call
                with torch.inference_mode(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16):
                    return net(content, style).float()
            return run
        return make

    def frozen(content, style):
        state = {}

        def run():  # the first call traces and freezes (timed as first_call_s)
            with torch.no_grad():
                if "f" not in state:
                    traced = torch.jit.trace(_Transfer(net).eval(), (content, style), check_trace=False)
                    state["f"] = torch.jit.optimize_for_inference(torch.jit.freeze(traced))
                return state["f"](content, style)
        return run

    sides = {"peer": (lambda c, s: lambda: peers.originals.adain_style_transfer(vgg, decoder, c, s), False),
             "zoo": (zoo(False), False)}
    if freeze:
        sides["zoo_jit_frozen"] = (frozen, False)
    if bf16:
        sides["zoo_bf16"] = (zoo(True), True)
    return sides


def measure(size: int, sides: dict, warmup: int, repeats: int, ceiling: dict | None, device: torch.device) -> dict:
    content, style = _smooth(size, 1).to(device), _smooth(size, 2).to(device)
    fns = {name: make(content, style) for name, (make, _) in sides.items()}
    ref = fns["peer"]()
    row = {"size": size, "equal_outputs": {}}
    for name, (_, is_bf16) in sides.items():
        if name == "peer":
            continue
        diff = float((fns[name]() - ref).abs().max())  # for the frozen side: this call traces and freezes
        row["equal_outputs"][name] = {"max_abs_diff_vs_peer": round(diff, 6)}
        if not is_bf16 and diff > 1e-4:
            raise SystemExit(f"error: at {size} px {name} differs from pytorch-AdaIN's picture by {diff:.2e} "
                             "(allowed 1e-4): they do not compute the same thing")
    if "zoo_jit_frozen" in fns:  # the tracing, freezing and first run, on a fresh side
        fns["zoo_jit_frozen"] = sides["zoo_jit_frozen"][0](content, style)
    flops = count_flops(fns["peer"])
    times = interleaved(fns, device, warmup, repeats)
    row["flops_per_pair"] = flops
    for name, (_, is_bf16) in sides.items():
        t = times[name]
        row[name] = {"s_per_pair_median": t["median_s"], "samples": t["samples_s"],
                     "first_call_s": t.get("first_call_s"), "peak_memory_mib": t["peak_memory_mib"],
                     "fraction_of_conv_ceiling": ceiling_fraction(flops, t["median_s"], ceiling, bf16=is_bf16)
                     if ceiling else None}
        if name != "peer":
            row[f"{name}_vs_peer"] = round(times["peer"]["median_s"] / t["median_s"], 3)
    print(f"[{size}px] " + ", ".join(f"{n} {row[n]['s_per_pair_median']:.3f}s" for n in sides)
          + f"; load {load_average()}", flush=True)
    return row


def _result(rows: list[dict], env: dict, ceiling, bf16: bool, sizes) -> dict:
    from zoo.fit import cpu_has_native_bf16

    best = {r["size"]: max((v, k) for k, v in r.items() if k.endswith("_vs_peer") and "bf16" not in k)
            for r in rows}
    targets = {"target": TARGET, "zoo_default_vs_peer": {r["size"]: r["zoo_vs_peer"] for r in rows},
               "best_float32_vs_peer": {s: {"ratio": v, "path": k.removesuffix("_vs_peer")} for s, (v, k) in best.items()},
               "zoo_bf16_opt_in_vs_peer": {r["size"]: r["zoo_bf16_vs_peer"] for r in rows if "zoo_bf16_vs_peer" in r},
               "met_by_default": all(r["zoo_vs_peer"] >= TARGET for r in rows),
               "met_float32": all(v >= TARGET for v, _ in best.values())}
    if not targets["met_by_default"]:
        short = {r["size"]: round(TARGET - r["zoo_vs_peer"], 3) for r in rows if r["zoo_vs_peer"] < TARGET}
        targets["missed_by"] = short
        targets["why_missed_by_default"] = (
            "for a new pair both sides run VGG to relu4_1 on content and style with the same oneDNN "
            "convolutions, at this CPU's convolution peak; the zoo saves multiply-adds only in the decoder "
            "(upsampling folded into 2x2 phase convolutions, a narrow RGB head) and time in the layout "
            "(channels_last) and in-place ReLUs; bf16 (opt-in, native only) goes further; a reused style is "
            "cached by the zoo")
    result = {"benchmark": "adain", "environment": {**env, **load_record(env["load_average_at_start"])},
              "conv_ceiling": ceiling,
              "peer": peers.PYTORCH_ADAIN, "weights": "random (speed only, no quality)",
              "native_bf16": cpu_has_native_bf16(), "bf16_measured": bf16, "sizes_requested": sizes,
              "ratio": "peer seconds / zoo seconds for a new content/style pair (higher: the zoo is faster)",
              "results": rows, "targets": targets}
    return result


def main(argv: list[str] | None = None) -> int:
    from zoo.fit import cpu_has_native_bf16

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    p.add_argument("--sizes", type=int, nargs="+", default=[512, 1024])
    p.add_argument("--repeats", type=int, default=4, help="timed calls per side and size (interleaved)")
    p.add_argument("--warmup", type=int, default=1, help="untimed calls per side first")
    p.add_argument("--no-bf16", action="store_true", help="skip the bf16 path even where the CPU has native bf16")
    p.add_argument("--freeze", action="store_true", help="also time the traced, frozen network (zoo_jit_frozen)")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's, the core count)")
    p.add_argument("--out", default=None, help="results JSON (default benchmarks/results/adain-cpu-<cores>core.json)")
    args = p.parse_args(argv)
    device = torch.device(args.device)
    set_threads(args.threads)
    env = environment(device)
    bf16 = (device.type == "cuda" or cpu_has_native_bf16()) and not args.no_bf16
    ceiling = conv_ceiling() if device.type == "cpu" else None
    print(f"conv ceiling: {ceiling}", flush=True)
    sides = build_sides(bf16, args.freeze, device)
    out = Path(args.out) if args.out else ROOT / "benchmarks" / "results" / (
        f"adain-cpu-{os.cpu_count()}core.json" if device.type == "cpu" else "adain-cuda.json")
    rows: list[dict] = []
    for size in args.sizes:  # the JSON is rewritten after each size: a long run that is cut keeps what it measured
        rows.append(measure(size, sides, args.warmup, args.repeats, ceiling, device))
        write_json(out, _result(rows, env, ceiling, bf16, args.sizes))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
