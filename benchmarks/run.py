"""``python -m benchmarks.run``: stylise a protocol's images, measure quality, speed and memory, write JSON.

::

    python -m benchmarks.run --model adain --weights runs/adain/version_0/checkpoints/last.ckpt \\
        --protocol styleid --content data/cnt --style data/sty
    python -m benchmarks.run --model cyclegan_horse2zebra --protocol cyclegan --data datasets/horse2zebra

The result is written to ``--out`` (default ``./<model>-<protocol>-<device>.json`` in the current folder;
an existing file is never replaced without ``--overwrite``). Stylised images are written to a work
directory (``./bench-work/<result name>/`` by default) and metrics are computed from those files, so
``--resume`` continues an interrupted run from the images already stylised and gives the same numbers as
an uninterrupted one. ``zoo bench`` is the same command. To add a result to the README table, write it to
``benchmarks/results/`` (``--out benchmarks/results/NAME.json``) and run ``python -m benchmarks.table``.

``--model`` is any name ``zoo stylize --model`` takes (:func:`zoo.families.resolve`): a family of
:data:`zoo.families.FAMILIES` (``zoo list``; a family brings its default tag, e.g. ``adain`` brings
``adain_original``) or a pretrained tag (``adain_original``, ``johnson_candy``, ``cyclegan_horse2zebra``;
``zoo list --pretrained``): its family's builder then receives the tag as ``weights`` and resolves it
through the weights table. ``--import MODULE`` imports a module first, for families registered by your
own code (``FAMILIES.register``; their tags may be any names that start with the family, ``<family>_<tag>``).

Honesty rules: a model without ``--weights`` (other than Gatys, which optimises) would run with random
weights and is refused unless ``--allow-random-weights``; ``--feature-extractor random`` replaces every
metric network by a tiny random one (tests and smoke runs, offline); a smaller protocol than the
published one (``--n-content``/``--n-style``/``--limit``/another ``--size``) is not comparable. Any of
these marks the result ``"usable": false`` with its reasons, and ``python -m benchmarks.table`` never
shows it.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import importlib
import json
import os
import re
import sys
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Sequence

import torch
import torch.nn.functional as F

from zoo.backbone import VGGEncoder, WeightsUnavailableError
from zoo.data.hub import describe
from zoo.fileio import OutputExistsError, write_bytes
from zoo.io import ImageReadError, load_image, save_image
from zoo.families import FAMILIES, one_line_warnings, resolve
from zoo.registry import UnknownNameError
from zoo.results import PROTOCOL_METRICS
from zoo.stylize import StylizeOptions, build_stylizer, resolve_device

from . import metrics as M
from . import protocols
from .protocols import (DEFAULT_SIZE, PROTOCOLS, TEST_DATA, Protocol, ProtocolError, cyclegan_protocol, default_test_data,
                        load_square, styleid_protocol)

__all__ = ["main", "resolve_model", "build_parser", "SCHEMA_VERSION", "METRICS"]

SCHEMA_VERSION = 1
WORK_DIR = Path("bench-work")  # default parent of the work directories, in the current folder
METRICS = PROTOCOL_METRICS  # the metrics each protocol computes, named once in zoo/results.py


def _progress(iterable, total: int, desc: str, enabled: bool):
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, unit="img", dynamic_ncols=True)


# ----------------------------------------------------------------------------------------- model
def resolve_model(name: str, weights: str | None) -> tuple[str, str | None, str]:
    """(family, weights, weights status) for ``--model NAME [--weights W]``, by :func:`zoo.families.resolve`:
    a family (with its default tag, if it has one), a pretrained tag, or ``<family>_<tag>`` for families
    registered by ``--import``ed code. Status: ``"file"`` (an existing path), ``"pretrained-tag"``,
    ``"not-needed"`` (families that need no weights: Gatys) or ``"random"`` (no weights at all).
    """
    resolved = resolve(name, prefix_tags=True)
    family = resolved.family
    if weights is None:
        weights = resolved.weights
    if weights is None:
        status = "random" if family.needs_weights else "not-needed"
    else:
        status = "file" if Path(weights).exists() else "pretrained-tag"
    return family.name, weights, status


def _random_weights(family: str, work: Path) -> str:
    """``--allow-random-weights``: a random network of ``family`` (seed 0) exported into the work directory,
    so every family's loader takes it like trained weights; ``"random"`` for families whose stylizer takes
    that word itself (``Family.random_weights``: AdaIN) or that have no network of their own."""
    fam = FAMILIES.get(family)
    if fam.random_weights or fam.network is None:
        return "random"
    from zoo.factory import create_model
    from zoo.publish import export_for_hub

    torch.manual_seed(0)
    folder = work / "random-weights"
    export_for_hub(create_model(family, pretrained=False), folder, architecture=family, overwrite=True)
    return str(folder)


# ----------------------------------------------------------------------------------------- environment
def _device_tag(device: torch.device) -> str:
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        return "cuda-" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return f"{device.type}-{os.cpu_count()}core"


def _environment(device: torch.device, precision: str) -> dict:
    env = {"device": str(device), "device_type": device.type, "precision": precision,
           "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads()}
    if device.type == "cuda":
        env["device_name"] = torch.cuda.get_device_name(device)
        env["cuda"] = torch.version.cuda
    return env


def _peak_memory(device: torch.device) -> tuple[int | None, str]:
    if device.type == "cuda":
        return int(torch.cuda.max_memory_allocated(device)), "torch.cuda.max_memory_allocated"
    try:
        import resource

        return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024, "process peak RSS (ru_maxrss), whole run"
    except (ImportError, OSError):  # pragma: no cover - non-Unix
        return None, "unavailable"


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


# ----------------------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description="Benchmark a stylizer: FID / ArtFID / LPIPS / content, style losses / CFSD, speed and memory.",
    )
    p.add_argument("--model", required=True, help="family (" + ", ".join(FAMILIES.names()) + ") or pretrained tag (zoo list)")
    p.add_argument("--weights", help="checkpoint (.ckpt / .safetensors / folder) or pretrained tag")
    p.add_argument("--protocol", required=True, choices=PROTOCOLS)
    p.add_argument("--content", help="styleid: folder of content images (default: StyleID's data/cnt, downloaded)")
    p.add_argument("--style", help="styleid: folder of style images (default: StyleID's data/sty, downloaded)")
    p.add_argument("--data", help="cyclegan: dataset folder with testA/ and testB/, or a Hub dataset "
                                  "hf://datasets/ORG/NAME@REVISION (default for a model named after one: "
                                  + ", ".join(f"{k}: {v}" for k, v in TEST_DATA.items()) + ")")
    p.add_argument("--direction", default="AtoB", choices=("AtoB", "BtoA"), help="cyclegan: translation direction")
    p.add_argument("--size", type=int, help=f"image size (default {DEFAULT_SIZE})")
    p.add_argument("--n-content", type=int, default=20, help="styleid: content images (default 20)")
    p.add_argument("--n-style", type=int, default=40, help="styleid: style images (default 40)")
    p.add_argument("--limit", type=int, help="cyclegan: translate only the first N test images (smoke runs)")
    p.add_argument("--seed", type=int, default=0, help="selection seed when a folder has more images than needed")
    p.add_argument("--device", default="auto")
    p.add_argument("--precision", default="fp32", choices=("fp32", "bf16"),
                   help="stylizer precision; bf16 autocast needs CUDA (metrics always run in fp32)")
    p.add_argument("--backbone-weights", help="VGG weights of the stylizer (imagenet, timm, caffe, none, a path); "
                                             "default: the family's own")
    p.add_argument("--steps", type=int, help="gatys: optimisation steps")
    p.add_argument("--alpha", type=float, default=1.0, help="adain: content-style trade-off")
    p.add_argument("--out", help="result JSON (default ./<model>-<protocol>-<device>.json); "
                                 "benchmarks/results/ holds the ones the README table shows")
    p.add_argument("--overwrite", action="store_true", help="replace an existing result file")
    p.add_argument("--work-dir", help="where stylised images go (default ./bench-work/<result name>)")
    p.add_argument("--resume", action="store_true", help="keep the images already in the work dir, stylise the rest")
    p.add_argument("--metrics", nargs="+", help="compute only these metrics (default: all of the protocol)")
    p.add_argument("--feature-extractor", default="real", choices=("real", "random"),
                   help="'random': tiny random networks instead of Inception/AlexNet/VGG, for tests and smoke "
                        "runs offline; the result is marked unusable")
    p.add_argument("--inception-weights", help="local torch-fidelity Inception-v3 weights (.pth)")
    p.add_argument("--art-inception", help="local ArtFID art_inception.pth (default: Hugging Face Hub)")
    p.add_argument("--art-size", type=int, default=512,
                   help="shorter side for ArtFID features (512: StyleID's evaluation; 0: native size, as art-fid)")
    p.add_argument("--allow-random-weights", action="store_true",
                   help="run a model without --weights (random network); the result is marked unusable")
    p.add_argument("--import", dest="imports", action="append", default=[], metavar="MODULE",
                   help="import MODULE first (it may register more stylizers); repeatable")
    p.add_argument("--no-progress", action="store_true")
    return p


# ----------------------------------------------------------------------------------------- run
class _ImageCache:
    """Protocol images loaded once at the protocol size (content and style images repeat across pairs)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._cache: dict[Path, torch.Tensor] = {}

    def __call__(self, path: Path) -> torch.Tensor:
        if path not in self._cache:
            self._cache[path] = load_square(path, self.size)
        return self._cache[path]


def _manifest(args, family, weights, protocol: Protocol) -> dict:
    return {"model": args.model, "family": family, "weights": weights, "protocol": protocol.name,
            "size": protocol.size, "direction": args.direction if protocol.name == "cyclegan" else None,
            "items": [it.name for it in protocol.items], "precision": args.precision,
            "backbone_weights": args.backbone_weights, "steps": args.steps, "alpha": args.alpha}


def _prepare_work_dir(work: Path, manifest: dict, resume: bool) -> None:
    work.mkdir(parents=True, exist_ok=True)
    file = work / "manifest.json"
    if resume and file.exists():
        old = json.loads(file.read_text())
        diff = [k for k in manifest if old.get(k) != manifest[k]]
        if diff:
            raise ProtocolError(
                f"{work} holds images of a different run ({', '.join(diff)} differ); use another --work-dir "
                "or run without --resume to stylise everything again"
            )
    write_bytes(file, json.dumps(manifest, indent=1).encode())


def _stylize_all(protocol: Protocol, opts: StylizeOptions, work: Path, images: _ImageCache, device: torch.device,
                 precision: str, resume: bool, progress: bool) -> dict:
    stylizer = None
    done = resumed = resized = 0
    seconds: list[float] = []
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    autocast = (torch.autocast("cuda", dtype=torch.bfloat16) if precision == "bf16" else nullcontext())
    for item in _progress(protocol.items, protocol.n, "stylise", progress):
        out_path = work / item.name
        if resume and out_path.exists():
            resumed += 1
            continue
        if stylizer is None:
            stylizer = build_stylizer(opts)
        content = images(item.content).to(device)
        # a stylizer with needs_style False (single-style or unpaired models) is called without styles
        wants_style = getattr(stylizer, "needs_style", True) and item.style is not None
        styles = [images(item.style).to(device)] if wants_style else []
        _sync(device)
        t0 = time.perf_counter()
        with torch.no_grad(), autocast:
            out = stylizer(content, styles)
        _sync(device)
        seconds.append(time.perf_counter() - t0)
        out = out.detach().float()
        if out.shape[-2:] != content.shape[-2:]:
            out = F.interpolate(out, size=content.shape[-2:], mode="bicubic", align_corners=False, antialias=True)
            resized += 1
        save_image(out.clamp(0, 1).cpu(), out_path, overwrite=True)
        done += 1
    peak, peak_kind = _peak_memory(device)
    timed = seconds[1:] if len(seconds) > 1 else seconds  # the first call pays for warm-up
    speed = {
        "size": protocol.size, "stylized_this_run": done, "resumed": resumed, "outputs_resized": resized,
        "stylize_seconds": round(sum(seconds), 4),
        "images_per_s": round(len(timed) / sum(timed), 4) if timed and sum(timed) > 0 else None,
        "timing": ("first image excluded (warm-up)" if len(seconds) > 1 else
                   "single image, includes warm-up" if seconds else "all images resumed: no timing this run"),
        "peak_memory_bytes": peak, "peak_memory_kind": peak_kind,
    }
    return speed


def _build_metrics(names: Sequence[str], args, device: torch.device) -> dict:
    """The metric objects; built on the CPU before stylising (a missing weights file stops the run before
    any work is done, and the metric networks stay out of the stylizer's peak memory), moved later."""
    random_fx = args.feature_extractor == "random"
    progress = not args.no_progress
    out: dict = {}
    if "fid_inception" in names:
        out["fid_inception"] = M.FID(extractor=M.RandomFeatures(seed=1) if random_fx else None,
                                     weights=args.inception_weights, device=device, progress=progress)
    if {"fid_art", "artfid"} & set(names):
        out["fid_art"] = M.art_fid_distance(extractor=M.RandomFeatures(seed=2) if random_fx else None,
                                            weights=args.art_inception, art_size=args.art_size or None, device=device)
    if {"lpips_alex", "artfid"} & set(names):
        out["lpips_alex"] = M.LPIPS("alex", net=M.random_lpips_network("alex") if random_fx else None,
                                    device=device, progress=progress)
    if "lpips_vgg" in names:
        out["lpips_vgg"] = M.LPIPS("vgg", net=M.random_lpips_network("vgg") if random_fx else None,
                                   device=device, progress=progress)
    if {"content_loss", "style_loss", "cfsd"} & set(names):
        layers = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu4_2", "relu5_1"]
        encoder = VGGEncoder("vgg19", weights="none", layers=layers) if random_fx else None
        out["vgg"] = M.FeatureLosses(encoder, device=device, progress=progress)
    return out


def _evaluate(protocol: Protocol, work: Path, images: _ImageCache, names: Sequence[str], ms: dict, args,
              device: torch.device) -> dict:
    for m in ms.values():
        m.to(device)
    progress = not args.no_progress
    for item in _progress(protocol.items, protocol.n, "metrics", progress):
        out_path = work / item.name
        stylized = load_image(out_path)
        content = images(item.content)
        style = images(item.style) if item.style is not None else None
        if stylized.shape != content.shape:
            raise ImageReadError(f"{out_path}: {tuple(stylized.shape)} but the content image is {tuple(content.shape)}; "
                                 "the work dir holds images of another run (run without --resume)")
        for key in ("fid_inception", "fid_art"):
            if key in ms:
                ms[key].update(stylized, real=False)
        for key in ("lpips_alex", "lpips_vgg"):
            if key in ms:
                ms[key].update(stylized, content)
        if "vgg" in ms:
            ms["vgg"].update(stylized, content, style)
    for path in _progress(protocol.real, len(protocol.real), "reference", progress):
        ref = images(path)
        for key in ("fid_inception", "fid_art"):
            if key in ms:
                ms[key].update(ref, real=True)
    values: dict[str, float] = {}
    for key in ("fid_inception", "fid_art", "lpips_alex", "lpips_vgg"):
        if key in ms:
            values[key] = ms[key].compute()
    if "vgg" in ms:
        values.update(ms["vgg"].compute())
    if "artfid" in names:
        values["artfid"] = M.artfid(values["fid_art"], values["lpips_alex"])
    return {k: values[k] for k in METRICS[protocol.name] if k in names and k in values}


def _implementation(names: Sequence[str], args) -> dict:
    random_fx = args.feature_extractor == "random"
    rnd = "RANDOM test extractor (benchmarks.metrics.RandomFeatures) - numbers are meaningless"
    impl = {}
    if "fid_inception" in names:
        impl["fid_inception"] = rnd if random_fx else (
            "torchmetrics FrechetInceptionDistance (float64 statistics), torch-fidelity inception-v3-compat pool3 "
            "2048-d, weights-inception-2015-12-05-6726825d.pth; " + M.FID_PIPELINES["pytorch-fid"])
    if "fid_art" in names or "artfid" in names:
        impl["fid_art"] = rnd if random_fx else (
            f"torchmetrics FrechetInceptionDistance on ArtFID's art_inception.pth ({M.ART_INCEPTION_REPO}) 2048-d "
            f"features, RGB [0,1], shorter side {args.art_size or 'native'} (PIL bilinear)")
    if "lpips_alex" in names or "artfid" in names:
        impl["lpips_alex"] = ("torchmetrics LPIPS network, RANDOM AlexNet backbone" if random_fx else
                              "torchmetrics LPIPS v0.1 linear layers, torchvision AlexNet IMAGENET1K_V1")
    if "lpips_vgg" in names:
        impl["lpips_vgg"] = ("torchmetrics LPIPS network, RANDOM VGG16 backbone" if random_fx else
                             "torchmetrics LPIPS v0.1 linear layers, torchvision VGG16 IMAGENET1K_V1")
    if {"content_loss", "style_loss", "cfsd"} & set(names):
        impl["vgg"] = ("zoo.backbone.VGGEncoder vgg19 " + ("RANDOM weights" if random_fx else "imagenet") +
                       "; content_loss: zoo.losses.ContentLoss relu4_2; style_loss: zoo.losses.GramLoss "
                       "relu1_1..relu5_1; cfsd: relu3_1 patch-similarity KL (StyleID)")
    if "artfid" in names:
        impl["artfid"] = "(1 + lpips_alex) * (1 + fid_art), Wright & Ommer 2022 (ArtFID, not ArtFID_inf)"
    return impl


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
    one_line_warnings()  # a deprecated --model name: one line
    try:
        return _run(args)
    except (WeightsUnavailableError, ImageReadError, ProtocolError, UnknownNameError, OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def _run(args) -> int:
    t_start = time.perf_counter()
    for module in args.imports:
        importlib.import_module(module)
    family, weights, weights_status = resolve_model(args.model, args.weights)
    reasons: list[str] = []
    if weights_status == "random":
        if not args.allow_random_weights:
            raise ValueError(f"--model {args.model} without --weights would run a random network; pass --weights "
                             "(checkpoint or pretrained tag), or --allow-random-weights for a smoke run "
                             "(its result is marked unusable)")
        reasons.append("stylizer weights: random (no --weights)")
    if args.backbone_weights == "none":
        reasons.append("stylizer backbone weights: none (random VGG)")
    if args.feature_extractor == "random":
        reasons.append("metric networks: random (--feature-extractor random)")

    device = resolve_device(args.device)
    if args.precision == "bf16" and device.type != "cuda":
        raise ValueError("--precision bf16 needs a CUDA device; on CPU run with --precision fp32")

    if args.protocol == "styleid":
        if not args.content and not args.style:
            print(f"test data: StyleID's 20 content + 40 style images ({protocols.STYLEID_URL}), fetched and verified on "
                  "first use", file=sys.stderr)
        protocol = styleid_protocol(args.content, args.style, args.n_content, args.n_style, args.size, args.seed)
    else:
        data, dataset = args.data, None
        if not data:
            found = default_test_data(args.model)
            if found is None:
                raise ProtocolError(
                    "--protocol cyclegan needs --data DIR (with testA/ and testB/) or --data hf://datasets/ORG/NAME@REV; "
                    f"models named after a dataset find its test split themselves ({', '.join(TEST_DATA)})")
            dataset, data = found
            print(f"test data: the test split of {describe(data)}, fetched and verified on first use", file=sys.stderr)
        protocol = cyclegan_protocol(data, args.direction, args.size, args.limit, dataset)
    if not protocol.standard:
        reasons.append(f"non-standard protocol ({protocol.n} items at {protocol.size} px; not comparable with "
                       "published numbers)")

    names = list(args.metrics or METRICS[protocol.name])
    unknown = [n for n in names if n not in METRICS[protocol.name]]
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown} for protocol {protocol.name}; valid: "
                         f"{', '.join(METRICS[protocol.name])}")
    if {"fid_inception", "fid_art", "artfid"} & set(names) and min(protocol.n, len(protocol.real)) < 2:
        raise ProtocolError(f"FID needs at least 2 stylised and 2 reference images; this run has {protocol.n} and "
                            f"{len(protocol.real)}: use more images, or --metrics without the FID ones")

    out = Path(args.out) if args.out else Path(f"{args.model}-{protocol.name}-{_device_tag(device)}.json")
    if out.exists() and not args.overwrite:  # before any work, not after it
        raise OutputExistsError(f"{out}: result file exists; pass --overwrite to replace it, or --out FILE")
    work = Path(args.work_dir) if args.work_dir else WORK_DIR / out.stem
    _prepare_work_dir(work, _manifest(args, family, weights, protocol), args.resume)
    if weights_status == "random":
        weights = _random_weights(family, work)

    opts = StylizeOptions(model=family, weights=weights, size=None,
                          device=str(device),
                          backbone_weights=args.backbone_weights, steps=args.steps, alpha=args.alpha,
                          direction=args.direction if protocol.name == "cyclegan" else "AtoB",
                          progress=False)
    metric_objects = _build_metrics(names, args, torch.device("cpu"))
    images = _ImageCache(protocol.size)
    speed = _stylize_all(protocol, opts, work, images, device, args.precision, args.resume, not args.no_progress)
    t_metrics = time.perf_counter()
    values = _evaluate(protocol, work, images, names, metric_objects, args, device)
    metrics_seconds = time.perf_counter() - t_metrics

    result = {
        "schema": SCHEMA_VERSION,
        "model": args.model,
        "family": family,
        "weights": weights,
        "weights_status": weights_status,
        "usable": not reasons,
        "unusable_reasons": reasons,
        "protocol": {"name": protocol.name, "n": protocol.n, "n_reference": len(protocol.real),
                     "size": protocol.size, "standard": protocol.standard, **protocol.info},
        "metrics": values,
        "metric_implementation": _implementation(names, args),
        "versions": M.metric_versions(),
        "environment": _environment(device, args.precision),
        "speed": speed,
        "time": {"total_seconds": round(time.perf_counter() - t_start, 3), "metrics_seconds": round(metrics_seconds, 3)},
        "work_dir": str(work),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "command": "python -m benchmarks.run " + " ".join(args.argv),
        "published": published_references(protocol),
    }
    write_bytes(out, (json.dumps(result, indent=2) + "\n").encode(), overwrite=args.overwrite)
    summary = ", ".join(f"{k} {v:.4g}" for k, v in values.items())
    flag = "" if result["usable"] else "  [UNUSABLE: " + "; ".join(reasons) + "]"
    ips = speed["images_per_s"]
    print(f"{args.model} {protocol.name} N={protocol.n}: {summary}; "
          f"{'%.3g img/s' % ips if ips else 'no timing'}{flag}")
    for ref in result["published"]:  # theirs beside ours
        theirs = ", ".join(f"{k} {v:.4g}" for k, v in ref["metrics"].items() if k in values)
        if theirs:
            print(f"  published: {theirs} -- {ref['model']}, {ref['weights']}, N={ref['n']} ({ref['source']})")
    print(f"wrote {out}")
    return 0


def published_references(protocol: Protocol) -> list[dict]:
    """The published rows (benchmarks.table.REFERENCES) a result of ``protocol`` compares with: the same
    protocol, and for CycleGAN the same dataset and direction."""
    from .table import REFERENCES

    arrow = "A→B" if protocol.info.get("direction", "AtoB") == "AtoB" else "B→A"
    task = f"{protocol.info.get('dataset')} {arrow}" if protocol.name == "cyclegan" else None
    return [dict(r) for r in REFERENCES if r["protocol"] == protocol.name and r.get("task") == task]


if __name__ == "__main__":
    sys.exit(main())
