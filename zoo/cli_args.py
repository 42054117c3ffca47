"""The flags of the ``zoo`` command (:func:`build_parser`); what each subcommand does is :mod:`zoo.cli`'s.

``zoo stylize``'s flags are generated from the option declarations (:func:`zoo.options.add_arguments`).
"""

from __future__ import annotations

import argparse

from .errors import ZooError
from .families import FAMILIES, load
from .options import BACKBONES, add_arguments, option, positive_int

__all__ = ["build_parser", "add_publish_arguments", "families", "UsageError"]


class UsageError(ZooError, ValueError):
    """Bad command-line input, reported as one line."""


def _add_stylize(sub) -> None:
    p = sub.add_parser(
        "stylize", help="stylise images or folders of images",
        description="Stylise INPUT images (files or folders) and write the results to OUT: a file for one "
                    "input image, a folder otherwise.",
    )
    add_arguments(p)


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is a number from 1 to 65535, got {value}")
    return value


def _add_list(sub) -> None:
    p = sub.add_parser("list", help="list models, losses and recipes")
    p.add_argument("--pretrained", action="store_true",
                   help="list the pretrained tags: source, licence, metrics, published or not, cached or not")


def families() -> list:
    """The registered :class:`zoo.families.Family` records, by name."""
    return [FAMILIES.get(n) for n in FAMILIES.names()]


def _add_export(sub) -> None:
    p = sub.add_parser("export", help="export a feed-forward network to ONNX or TorchScript",
                       description="Export a trained network of a family that has one (dynamic H and W; adain "
                                   "takes a content and a style image).")
    p.add_argument("--model", "-m", required=True,
                   help="family (" + ", ".join(f.name for f in families() if f.loads_networks) + ") or pretrained tag")
    p.add_argument("--weights", default=None, help="checkpoint (.ckpt, .safetensors, folder, .pth) or tag")
    p.add_argument("--direction", default=option("direction").default, choices=option("direction").cli["choices"],
                   help="cyclegan generator to export")
    p.add_argument("--format", default="onnx", choices=["onnx", "torchscript"])
    p.add_argument("-o", "--output", required=True, help="output file (.onnx / .pt)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output file")


def _add_convert(sub) -> None:
    convertible = [f for f in families() if f.importers and f.loads_networks]
    kinds = "; ".join(f"{f.name}: " + ", ".join(load(i).what for i in f.importers) for f in convertible)
    p = sub.add_parser(
        "convert", help="convert a canonical published checkpoint to a safetensors export folder",
        description=f"Convert a reference implementation's published checkpoint ({kinds}) into "
                    "model.safetensors + config.json + README.md, loadable with zoo.create_model(FAMILY, "
                    "pretrained=DIR) and --weights DIR. Files are read with torch.load(weights_only=True).")
    p.add_argument("checkpoint", help="the published .pth file")
    p.add_argument("--model", "-m", required=True, metavar="{" + ",".join(f.name for f in convertible) + "}",
                   help="the family of the checkpoint")
    p.add_argument("--backbone-weights", default=None, help="adain: encoder weight source (default caffe)")
    p.add_argument("-o", "--output", required=True, help="output folder")


def _add_publish(sub) -> None:
    p = sub.add_parser("publish", help="export a trained network and upload it to the Hugging Face Hub",
                       description="Export the inference network of CHECKPOINT (model.safetensors, config.json, "
                                   "model card) and upload it; --dry-run DIR only writes the folder.")
    add_publish_arguments(p)


def add_publish_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The flags of ``zoo publish``."""
    parser.add_argument("checkpoint", help="Lightning .ckpt, or an export folder / .safetensors to re-publish")
    parser.add_argument("--repo-id", required=True, help="Hub repository, owner/name")
    parser.add_argument("--dry-run", metavar="DIR", default=None,
                        help="write the folder that would be uploaded to DIR and upload nothing")
    parser.add_argument("--tag", default=None, help="weights-table tag for the model card (licence, data, metrics)")
    parser.add_argument("--variant", default=None, help="variant class path, for checkpoints that do not record it")
    parser.add_argument("--arch", default=None, help="architecture name in zoo.registry.MODELS (with --prefix)")
    parser.add_argument("--prefix", default=None, help="state-dict prefix of the network, e.g. net.")
    parser.add_argument("--licence", "--license", dest="licence", default=None, help="licence id for the card")
    parser.add_argument("--private", action="store_true", default=None, help="create the repository private")
    parser.add_argument("--token", default=None, help="Hub token (default: HF_TOKEN or `hf auth login`)")
    parser.add_argument("--message", default=None, help="commit message")
    parser.add_argument("--overwrite", action="store_true", help="replace an earlier export in the --dry-run folder")
    return parser


def _add_bench(sub) -> None:
    sub.add_parser("bench", help="FID / LPIPS / ArtFID benchmark: every option of python -m benchmarks.run "
                                 "(zoo bench --help)", add_help=False)


def _add_demo(sub) -> None:
    p = sub.add_parser(
        "demo", help="a web page to stylise pictures in the browser (needs the demo extra)",
        description="Serve a web page on HOST:PORT: upload a photo, pick a model, set its options, download the "
                    "result. Requests run one at a time and queue. Smoke run without downloads: "
                    "zoo demo --weights random. See docs/demo.md.")
    p.add_argument("--host", default="127.0.0.1", help="address to serve on (default 127.0.0.1: this machine "
                                                       "only; 0.0.0.0 opens the page to the network)")
    p.add_argument("--port", type=_port, default=7860, help="port, 1 to 65535 (default 7860)")
    p.add_argument("--weights", action="append", default=None, metavar="[MODEL=]W",
                   help="weights of the families that take them, as zoo stylize --weights (random: untrained, "
                        "smoke runs only); MODEL=W for one model; repeatable")
    p.add_argument("--backbone-weights", default=None, metavar=BACKBONES,
                   help="VGG weights of gatys and adain (default: the model's own); 'none' = random, smoke runs")
    p.add_argument("--max-size", type=positive_int, default=1024,
                   help="largest long edge of a result, in pixels (default 1024)")
    p.add_argument("--max-pixels", type=positive_int, default=None, help="refuse uploads with more pixels than this")
    p.add_argument("--queue", type=int, default=8, help="requests that may wait while one runs (default 8)")
    p.add_argument("--device", default=option("device").default, help=option("device").help)


def _add_fit(sub) -> None:
    sub.add_parser("fit", help="train from a recipe: every option of python -m zoo.fit (zoo fit --help)",
                   add_help=False)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="zoo", description="Stylezoo: neural style transfer models.")
    parser.add_argument("--verbose", "-v", action="store_true",
                        help="show library logs and full tracebacks (ZOO_DEBUG=1 shows tracebacks too)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_stylize(sub)
    _add_fit(sub)
    sub.add_parser("stylize-dataset", add_help=False, help="stylise a whole dataset on Lightning, on N devices and K "
                   "nodes, resumable: every option of python -m zoo.stylize_dataset")
    _add_list(sub)
    _add_export(sub)
    _add_convert(sub)
    _add_publish(sub)
    _add_bench(sub)
    _add_demo(sub)
    return parser
