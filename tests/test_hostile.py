"""A hostile user's inputs and a hostile environment, one row each: every user error and environment fault
ends with one line naming the file or option and what to do and a non-zero exit, never a traceback, a
black picture, a truncated or replaced file, or an exit 0 after doing nothing.

Add a row to CASES to add a case. Commands run in-process (fast) in a fresh folder with ``HF_HUB_OFFLINE=1``
and empty caches. Placeholders in ``argv``: ``{content}``, ``{style}``, ``{style2}`` (small images made for
the row), ``{gatys}``, ``{johnson}`` (the recipe and its tiny data, several arguments), ``{cyclegan}``
(the CycleGAN recipe, no data). ``given`` creates files first: ``*.png`` images, ``*.json`` text files,
``NAME.johnson/`` and ``NAME.cyclegan/`` tiny exported networks (``badtype.johnson/`` and ``badjson.johnson/``
with a bad config.json), ``evil.pth`` a state dict with a pickled payload, ``paprika.pt`` an AnimeGANv2 generator
in bryandlee/animegan2-pytorch's layout, ``broken*.png`` a text file named like a picture, ``broken.yaml`` and
``empty.yaml`` bad recipes. ``before`` is a command that must succeed first.
``fault`` injects an environment fault:

* ``read_only``: creating any file fails with EROFS (a read-only folder or file system);
* ``disk_full``: flushing any written file to disk fails with ENOSPC (a full disk);
* ``no_gpu``: the machine has no GPU;
* ``ctrl_c`` / ``sigterm``: Ctrl-C (KeyboardInterrupt) or SIGTERM (zoo.errors.Terminated) arrives while the first
  file is flushed to disk (tests/test_faults.py sends the real signals to real processes).

``clip.mkv`` is a 20-frame clip, ``cut.mkv`` its first half.
"""

from __future__ import annotations

import errno
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from conftest import REPO, make_image
from test_fit import recipe_args

FAST = ["--backbone-weights", "none", "--steps", "2", "--quiet"]
STYLIZE = ["zoo", "stylize", "{content}", "--style", "{style}"]


@dataclass
class Case:
    id: str
    argv: list[str]
    code: int                              # expected exit status
    err: str = ""                          # expected in the last line of stderr (when code != 0)
    out: str = ""                          # expected in stdout
    exists: tuple[str, ...] = ()           # files that must exist afterwards (relative to the folder)
    absent: tuple[str, ...] = ()           # files that must not exist afterwards
    given: tuple[str, ...] = ()            # files to create first (see the module docstring)
    before: tuple[str, ...] = ()           # a command that must succeed first
    fault: str | None = None               # read_only, disk_full, no_gpu, ctrl_c, sigterm
    not_err: str | None = None             # text that must not appear on stderr


CASES = [
    # ---------------------------------------------------------------- zoo stylize: numeric options
    Case("size-over-pixel-limit", [*STYLIZE, "-o", "out.png", "--size", "100000", *FAST], 1,
         "--size 100000: the output would be 100000x83333 = 8,333,300,000 pixels, over the limit", absent=("out.png",)),
    Case("size-over-memory", [*STYLIZE, "-o", "out.png", "--size", "40000", "--max-pixels", "9000000000", *FAST], 1,
         "px on the long edge fits); use a smaller --size", absent=("out.png",)),
    Case("nan-style-weight-adain", ["zoo", "stylize", "{content}", "--model", "adain_gan", "--weights", "random",
                                    "--style", "{style}", "{style2}", "--style-weights", "nan,1", "-o", "out.png",
                                    "--backbone-weights", "none"], 1,
         "error: --style-weights nan: must be a finite number >= 0", absent=("out.png",)),
    Case("nan-style-weight-gatys", [*STYLIZE, "{style2}", "--style-weights", "nan,1", "-o", "out.png", *FAST], 1,
         "error: --style-weights nan: must be a finite number >= 0", absent=("out.png",)),
    Case("negative-style-weight", [*STYLIZE, "{style2}", "--style-weights=-1,1", "-o", "out.png", *FAST], 1,
         "error: --style-weights -1: must be a finite number >= 0", absent=("out.png",)),
    Case("zero-style-weights", [*STYLIZE, "{style2}", "--style-weights", "0,0", "-o", "out.png", *FAST], 1,
         "error: --style-weights 0,0: at least one weight must be > 0", absent=("out.png",)),
    Case("infinite-alpha", ["zoo", "stylize", "{content}", "--model", "adain_gan", "--weights", "random", "--style",
                            "{style}", "--alpha", "inf", "-o", "out.png", "--backbone-weights", "none"], 1,
         "error: --alpha inf: must be a finite number in [0, 1]", absent=("out.png",)),
    Case("nan-scale", [*STYLIZE, "--scales", "nan,1", "-o", "out.png", *FAST], 1, "error: --scales nan: must be",
         absent=("out.png",)),
    Case("zero-steps", [*STYLIZE, "-o", "out.png", "--steps", "0"], 1, "error: --steps 0: must be a whole number >= 1",
         absent=("out.png",)),
    # ---------------------------------------------------------------- zoo stylize: files and environment
    Case("output-exists", [*STYLIZE, "-o", "out.png", *FAST], 1,
         "error: out.png: file exists; pass --overwrite to replace it", given=("out.png",)),
    Case("read-only-output-folder", [*STYLIZE, "-o", "ro/out.png", *FAST], 1,
         "error: ro: cannot write (Read-only file system); the file system is read-only: choose another folder",
         absent=("ro/out.png",), fault="read_only"),
    Case("disk-full-output", [*STYLIZE, "-o", "out.png", *FAST], 1,
         "error: out.png: cannot write (No space left on device); the disk is full", absent=("out.png",),
         fault="disk_full"),
    Case("output-folder-inside-input-folder", ["zoo", "stylize", "photos", "--style", "{style}", "-o",
                                               "photos/styled", *FAST], 0, out="1 image(s) written to photos/styled",
         given=("photos/a.png", "photos/b.png", "photos/styled/a.png"),
         exists=("photos/styled/b.png",), absent=("photos/styled/styled",)),
    Case("gatys-quiet-prints-no-library-lines", [*STYLIZE, "-o", "out.png", *FAST], 0, out="wrote out.png",
         exists=("out.png",), not_err="GPU available"),
    Case("export-disk-full", ["zoo", "export", "--model", "johnson", "--weights", "net.johnson", "--format",
                              "torchscript", "-o", "net.pt"], 1, "error: net.pt: cannot write (No space left on device)",
         given=("net.johnson/",), absent=("net.pt",), fault="disk_full"),
    Case("publish-into-earlier-export", ["zoo", "publish", "net.cyclegan", "--repo-id", "me/net", "--arch",
                                         "cyclegan_resnet", "--dry-run", "out"], 1,
         "out holds an earlier export (README.md, config.json, model.safetensors); pass --overwrite",
         given=("net.cyclegan/",), before=("zoo", "publish", "net.cyclegan", "--repo-id", "me/net", "--arch",
                                           "cyclegan_resnet", "--dry-run", "out")),
    Case("folder-disk-full-stops-and-counts", ["zoo", "stylize", "photos", "--style", "{style}", "-o", "out", *FAST], 1,
         "cannot write (No space left on device); the disk is full: free some space or write elsewhere; 0 of 2 "
         "image(s) written to out before it", given=("photos/a.png", "photos/b.png"), fault="disk_full"),
    Case("folder-with-an-unreadable-picture-exits-1", ["zoo", "stylize", "photos", "--style", "{style}", "-o", "out",
                                                       *FAST], 1,
         "error: 1 of 2 image(s) written to out, 1 failed (see the warnings above)",
         given=("photos/a.png", "photos/broken.png"), exists=("out/a.png",)),
    Case("output-is-the-input", [*STYLIZE, "-o", "{content}", "--overwrite", *FAST], 1,
         "content.png: this is the input image; write the results elsewhere"),
    Case("output-folder-is-the-input-folder", ["zoo", "stylize", "photos", "--style", "{style}", "-o", "photos",
                                               "--overwrite", *FAST], 1,
         "-o/--output photos: this is the input folder; write the results elsewhere", given=("photos/a.png",)),
    Case("clip-output-is-the-input", ["zoo", "stylize", "clip.mkv", "-m", "johnson", "--weights", "net.johnson", "-o",
                                      "clip.mkv", "--overwrite", "--quiet"], 1,
         "error: clip.mkv: this is the input; write the result elsewhere", given=("clip.mkv", "net.johnson/")),
    Case("demo-port-out-of-range", ["zoo", "demo", "--port", "99999"], 2,
         "argument --port: a port is a number from 1 to 65535, got 99999"),
    Case("publish-bad-repo-id", ["zoo", "publish", "net.cyclegan", "--repo-id", "not a repo!", "--arch",
                                 "cyclegan_resnet"], 1, "error: --repo-id not a repo!: not a Hub repository id",
         given=("net.cyclegan/",)),
    Case("publish-offline", ["zoo", "publish", "net.cyclegan", "--repo-id", "me/net", "--arch", "cyclegan_resnet"], 1,
         "error: HF_HUB_OFFLINE=1 is set: cannot upload; use --dry-run DIR to write the folder", given=("net.cyclegan/",)),
    Case("convert-animeganv2", ["zoo", "convert", "paprika.pt", "--model", "animeganv2", "-o", "paprika"], 0,
         out="wrote paprika", given=("paprika.pt",), exists=("paprika/model.safetensors", "paprika/config.json")),
    Case("config-json-wrong-type", ["zoo", "export", "-m", "johnson", "--weights", "badtype.johnson", "--format",
                                    "torchscript", "-o", "out.pt"], 1,
         "badtype.johnson/config.json: 'channels' must be a list, got 'abc'", given=("badtype.johnson/",),
         absent=("out.pt",)),
    Case("config-json-not-json", ["zoo", "export", "-m", "johnson", "--weights", "badjson.johnson", "--format",
                                  "torchscript", "-o", "out.pt"], 1, "badjson.johnson/config.json: not valid JSON",
         given=("badjson.johnson/",), absent=("out.pt",)),
    Case("fps-zero", ["zoo", "stylize", "photos", "--style", "{style}", "--temporal", "-o", "clip.mp4", "--fps", "0",
                      *FAST], 1, "error: --fps 0: must be a positive number of frames per second",
         given=("photos/a.png", "photos/b.png"), absent=("clip.mp4",)),
    Case("clip-to-a-picture-name", ["zoo", "stylize", "photos", "--style", "{style}", "--temporal", "-o", "clip.gif",
                                    *FAST], 1, "clip.gif: a clip is written to a video file",
         given=("photos/a.png", "photos/b.png"), absent=("clip.gif",)),
    Case("truncated-clip-is-written-and-exits-1", ["zoo", "stylize", "cut.mkv", "--model", "johnson", "--weights",
                                                   "net.johnson", "-o", "out.mp4", "--quiet"], 1,
         "frame(s) decoded, its header announces about 20; out.mp4 was written with the frames that could be read",
         given=("cut.mkv", "net.johnson/"), exists=("out.mp4",)),
    # ---------------------------------------------------------------- Ctrl-C and SIGTERM while the result is written
    *[Case(f"{what}-{family}", argv, code, line, given=given, absent=absent, fault=what)
      for what, code, line in (("ctrl_c", 130, "interrupted"), ("sigterm", 143, "terminated"))
      for family, argv, given, absent in (
          ("gatys", [*STYLIZE, "-o", "out.png", *FAST], (), ("out.png",)),
          ("johnson", ["zoo", "stylize", "{content}", "-m", "johnson", "--weights", "net.johnson", "-o", "out.png"],
           ("net.johnson/",), ("out.png",)),
          ("cyclegan", ["zoo", "stylize", "{content}", "-m", "cyclegan", "--weights", "net.cyclegan", "-o", "out.png"],
           ("net.cyclegan/",), ("out.png",)),
          ("adain", ["zoo", "stylize", "{content}", "-m", "adain_gan", "--weights", "random", "--style", "{style}",
                     "--backbone-weights", "none", "-o", "out.png"], (), ("out.png",)),
          ("animeganv2", ["zoo", "stylize", "{content}", "-m", "animeganv2", "--weights", "paprika.pt", "-o",
                          "out.png"], ("paprika.pt",), ("out.png",)),
          ("video", ["zoo", "stylize", "clip.mkv", "-m", "johnson", "--weights", "net.johnson", "-o", "out.mp4",
                     "--quiet"], ("clip.mkv", "net.johnson/"), ("out.mp4",)),
          ("fit", ["zoo.fit", "{gatys}", "--trainer.max_steps=1"], (), ("runs/gatys/version_0/checkpoints",)),
      )],
    # ---------------------------------------------------------------- zoo bench / benchmarks.run
    Case("zoo-bench-takes-every-option", ["zoo", "bench", "--model", "johnson", "--protocol", "styleid"], 2,
         "error: --model johnson without --weights would run a random network"),
    Case("zoo-bench-help", ["zoo", "bench", "--help"], 0, out="usage: python -m benchmarks.run"),
    Case("bench-adain-tag-is-a-model", ["benchmarks.run", "--model", "adain", "--protocol", "styleid", "--content",
                                        "photos", "--style", "photos", "--n-content", "1", "--n-style", "1",
                                        "--size", "32", "--feature-extractor", "random", "--metrics", "lpips_alex",
                                        "--no-progress"], 2,
         "error: pretrained weights 'adain_original' (the canonical checkpoint) are not available",
         given=("photos/a.png",)),
    Case("bench-random-johnson", ["zoo", "bench", "--model", "johnson", "--allow-random-weights", "--protocol",
                                  "styleid", "--content", "photos", "--style", "photos", "--n-content", "1",
                                  "--n-style", "1", "--size", "32", "--feature-extractor", "random",
                                  "--metrics", "lpips_alex", "--no-progress"], 0,
         out="wrote johnson-styleid-cpu-", given=("photos/a.png",)),
    Case("bench-random-cyclegan", ["benchmarks.run", "--model", "cyclegan", "--allow-random-weights", "--protocol",
                                   "cyclegan", "--data", "h2z", "--size", "32", "--feature-extractor", "random",
                                   "--metrics", "fid_inception", "--out", "r.json", "--no-progress"], 0,
         exists=("r.json",), given=("h2z/testA/0.png", "h2z/testA/1.png", "h2z/testB/0.png", "h2z/testB/1.png")),
    Case("bench-fid-of-one-image", ["benchmarks.run", "--model", "cyclegan", "--allow-random-weights", "--protocol",
                                    "cyclegan", "--data", "h2z", "--size", "32", "--feature-extractor", "random",
                                    "--out", "r.json", "--no-progress"], 2,
         "error: FID needs at least 2 stylised and 2 reference images; this run has 1 and 1",
         given=("h2z/testA/0.png", "h2z/testB/0.png"), absent=("r.json",)),
    Case("bench-result-exists", ["benchmarks.run", "--model", "cyclegan", "--allow-random-weights", "--protocol",
                                 "cyclegan", "--data", "h2z", "--size", "32", "--feature-extractor", "random",
                                 "--metrics", "lpips_alex", "--out", "r.json", "--no-progress"], 2,
         "error: r.json: result file exists; pass --overwrite to replace it",
         given=("h2z/testA/0.png", "h2z/testB/0.png", "r.json")),
    # ---------------------------------------------------------------- zoo fit / python -m zoo.fit
    Case("zoo-fit-help", ["zoo", "fit", "--help"], 0, out="usage: python -m zoo.fit"),
    Case("recipe-not-yaml", ["zoo.fit", "broken.yaml"], 2,
         "error: broken.yaml: not valid YAML at line 2, column 1: expected ',' or ']', but got '<stream end>'",
         given=("broken.yaml",), absent=("runs",)),
    Case("recipe-an-image", ["zoo.fit", "{content}"], 2, "content.png: not a text file (a recipe is YAML)",
         absent=("runs",)),
    Case("recipe-empty", ["zoo.fit", "empty.yaml"], 2, "error: empty.yaml: a recipe is a mapping of sections "
         "(model:, data:, trainer: ...), not an empty file", given=("empty.yaml",), absent=("runs",)),
    Case("resume-from-an-image", ["zoo.fit", "{gatys}", "--ckpt_path={content}"], 1,
         "content.png: not a readable weights file (neither safetensors nor a file of torch.save, or a damaged one)"),
    Case("resume-from-pickled-code", ["zoo.fit", "{gatys}", "--ckpt_path=evil.pth"], 1,
         "error: --ckpt_path=evil.pth: holds Python objects besides tensors (io.open), which are never unpickled",
         given=("evil.pth",), absent=("pwned",)),
    Case("resume-nothing", ["zoo.fit", "{gatys}", "--ckpt_path=last"], 1,
         "error: --ckpt_path=last: nothing to resume, runs/gatys has no earlier run", absent=("runs/gatys",)),
    Case("resume-missing-file", ["zoo", "fit", "{gatys}", "--ckpt_path=nope.ckpt"], 1,
         "error: --ckpt_path=nope.ckpt: no such checkpoint file"),
    Case("resume-other-configuration", ["zoo.fit", "{gatys}", "--data.size=32", "--ckpt_path=last"], 1,
         "the checkpoint was written with another configuration (size mismatch for images.0",
         before=("zoo.fit", "{gatys}", "--trainer.max_steps=1")),
    Case("resume-changed-network", ["zoo.fit", "{johnson}", "--model.network.channels=[4, 8, 16]",
                                    "--trainer.max_steps=2", "--ckpt_path=last"], 1,
         "was written with another model configuration: --model.network.channels: checkpoint [4, 8, 8], this "
         "command [4, 8, 16]; resume with the run's options", before=("zoo.fit", "{johnson}", "--trainer.max_steps=1"),
         absent=("runs/johnson/version_1",)),
    Case("resume-changed-loss-weight", ["zoo.fit", "{johnson}", "--model.losses.gram.weight=5", "--trainer.max_steps=2",
                                        "--ckpt_path=last"], 1,
         "--model.losses.gram.weight: checkpoint 100000.0, this command 5.0", absent=("runs/johnson/version_1",),
         before=("zoo.fit", "{johnson}", "--trainer.max_steps=1")),
    Case("resume-changed-loss-weight-allowed", ["zoo.fit", "{johnson}", "--model.losses.gram.weight=5",
                                                "--trainer.max_steps=2", "--ckpt_path=last", "--allow_config_change"], 0,
         exists=("runs/johnson/version_1/checkpoints/last.ckpt",), before=("zoo.fit", "{johnson}", "--trainer.max_steps=1")),
    Case("resume-changes-that-are-allowed", ["zoo.fit", "{johnson}", "--trainer.max_steps=2", "--data.batch_size=1",
                                             "--trainer.log_every_n_steps=1", "--seed_everything=7", "--ckpt_path=last"],
         0, exists=("runs/johnson/version_1/checkpoints/last.ckpt",), before=("zoo.fit", "{johnson}",
                                                                          "--trainer.max_steps=1")),
    Case("resume-finished-run", ["zoo.fit", "{gatys}", "--trainer.max_steps=1", "--ckpt_path=last"], 1,
         "error: nothing to train: runs/gatys/version_0/checkpoints/last.ckpt is already at step 1",
         before=("zoo.fit", "{gatys}", "--trainer.max_steps=1")),
    Case("bad-nested-value", ["zoo.fit", "{cyclegan}", "--model.network.ngf=abc", "--print_config"], 2,
         "error: --model.network.ngf: Expected a int. Got value: abc"),
    Case("eight-processes-without-gpu", ["zoo.fit", "{gatys}", "--trainer.devices=8",
                                         "--trainer.precision=bf16-mixed"], 1,
         "error: --trainer.devices=8: this machine has no GPU", absent=("runs",), fault="no_gpu"),
    Case("read-only-run-folder", ["zoo.fit", "{gatys}", "--trainer.max_steps=1"], 1,
         "error: runs/gatys: cannot write (Read-only file system); the file system is read-only: choose another "
         "folder (the run folder; choose another with --runs_dir=DIR)", fault="read_only"),
    Case("no-training-step", ["zoo.fit", "{gatys}", "--trainer.limit_train_batches=0"], 1,
         "error: no training step ran"),
    Case("huge-gatys-size", ["zoo.fit", "{gatys}", "--data.size=100000", "--trainer.max_steps=1"], 1,
         "error: --data.size 100000: the output would be 100000x83333 = 8,333,300,000 pixels, over the limit"),
    Case("zero-batch-size", ["zoo.fit", "{johnson}", "--data.batch_size=0"], 1,
         "error: --data.batch_size 0: must be a whole number >= 1"),
    Case("negative-learning-rate", ["zoo.fit", "{gatys}", "--model.lr=-1"], 1,
         "error: --model.lr -1: must be a finite number >= 0"),
    Case("negative-max-steps", ["zoo.fit", "{gatys}", "--trainer.max_steps=-5"], 1,
         "error: `max_steps` must be a non-negative integer or -1"),
    Case("training-disk-full", ["zoo.fit", "{gatys}", "--trainer.max_steps=1"], 1,
         "cannot write (No space left on device); the disk is full: free some space or write elsewhere",
         fault="disk_full"),
    Case("failed-start-leaves-no-empty-run-folder", ["zoo.fit", "{gatys}", "--data.content=missing.png",
                                                     "--trainer.max_steps=1"], 1, "missing.png", absent=("runs",)),
    Case("cuda-without-gpu", [*STYLIZE, "-o", "out.png", "--device", "cuda", *FAST], 1,
         "error: --device cuda: this machine has no CUDA device (it has none); use --device auto or cpu",
         fault="no_gpu"),
    # ---------------------------------------------------------------- weights files
    Case("weights-an-image", ["zoo", "export", "-m", "johnson", "--weights", "{content}", "--format", "torchscript",
                              "-o", "out.pt"], 1,
         "content.png: not a readable weights file (neither safetensors nor a file of torch.save, or a damaged one)",
         absent=("out.pt",)),
    Case("weights-with-pickled-code", ["zoo", "export", "-m", "johnson", "--weights", "evil.pth", "--format",
                                       "torchscript", "-o", "out.pt"], 1,
         "error: evil.pth: holds Python objects besides tensors (io.open), which are never unpickled (torch.load "
         "weights_only=True); save the state dict alone, or as safetensors", given=("evil.pth",),
         absent=("out.pt", "pwned")),
    Case("unknown-device", [*STYLIZE, "-o", "out.png", "--device", "tpu", *FAST], 1,
         "error: --device tpu: expected auto, cpu or an accelerator such as cuda, cuda:1, mps or xpu"),
    Case("device-torch-knows-but-cannot-run", [*STYLIZE, "-o", "out.png", "--device", "meta", *FAST], 1,
         "error: --device meta: expected auto, cpu or an accelerator such as cuda, cuda:1, mps or xpu"),
]


class _OpensAFile:
    """Unpickling this creates ``marker``: proof that a file's Python objects were (not) unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _make(path: Path) -> None:
    """A file of ``given``: see the module docstring."""
    name = path.name
    if name.startswith("broken") and name.endswith(".png"):  # a file that claims to be a picture and is not
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("not an image")
    elif name.endswith((".png", ".jpg")):
        make_image(path, (48, 40), seed=len(str(path)))
    elif name == "evil.pth":  # a state dict whose unpickling would create the file "pwned"
        torch.save({"weight": torch.zeros(2), "payload": _OpensAFile(path.with_name("pwned"))}, path)
    elif name == "broken.yaml":
        path.write_text("model: [1\n")
    elif name == "empty.yaml":
        path.write_text("")
    elif name.endswith(".json"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}\n")
    elif name.endswith(".johnson"):
        from zoo.nets.johnson import TransformerNet

        TransformerNet(channels=[4, 8, 8], num_residual=1).save_pretrained(path)
        if name.startswith("badtype"):  # a config.json value of the wrong type
            (path / "config.json").write_text('{"channels": "abc", "num_residual": 1}')
        elif name.startswith("badjson"):
            (path / "config.json").write_text('{"channels": [4, 8, 8],')
    elif name.endswith(".mkv"):  # a clip of 20 frames; cut.mkv: its first half only (a truncated download)
        from test_video import make_video

        full = make_video(path.with_name("full-" + name), n=20, w=64, h=48, rotation=None, audio=False)
        data = full.read_bytes()
        path.write_bytes(data[: len(data) // 2] if name.startswith("cut") else data)
        full.unlink()
    elif name == "paprika.pt":  # bryandlee/animegan2-pytorch's layout is the network's own
        from zoo.nets.animeganv2 import AnimeGANv2Generator

        torch.save(AnimeGANv2Generator().state_dict(), path)

    elif name.endswith(".cyclegan"):
        from zoo.nets.cyclegan import ResnetGenerator

        ResnetGenerator(n_blocks=1, ngf=4).save_pretrained(path)
    else:
        raise ValueError(f"no rule to make {path}")


def _expand(argv, tmp: Path) -> list[str]:
    out = []
    for a in argv:
        if a == "{gatys}":
            out += [str(REPO / "recipes" / "gatys.yaml"), *recipe_args("gatys", tmp), "--trainer.enable_progress_bar=false"]
        elif a == "{johnson}":
            out += [str(REPO / "recipes" / "johnson.yaml"), *recipe_args("johnson", tmp)]
        elif a == "{cyclegan}":
            out.append(str(REPO / "recipes" / "cyclegan_photo2anime.yaml"))
        else:
            out.append(a.format(content=tmp / "content.png", style=tmp / "style.png", style2=tmp / "style2.jpg"))
    return out


def _invoke(argv: list[str]) -> int:
    import benchmarks.run
    import zoo.cli
    import zoo.fit

    program, *args = argv
    main = {"zoo": zoo.cli.main, "zoo.fit": zoo.fit.main, "benchmarks.run": benchmarks.run.main}[program]
    try:
        return int(main(args) or 0)
    except SystemExit as e:  # argparse and LightningCLI (--help, usage errors)
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)


def _log_to_this_stderr(monkeypatch) -> None:
    """Library log handlers made in an earlier test still hold that test's (closed) captured stderr."""
    import logging

    for name in ("lightning", "lightning.pytorch", "lightning.fabric"):
        for handler in logging.getLogger(name).handlers:
            if isinstance(handler, logging.StreamHandler):
                monkeypatch.setattr(handler, "stream", sys.stderr)


def _inject(fault: str | None, monkeypatch) -> None:
    import zoo.fileio

    def fail(code: int, text: str):
        def raise_(*args, **kwargs):
            raise OSError(code, text)
        return raise_

    if fault == "read_only":
        monkeypatch.setattr(zoo.fileio, "new_temp", fail(errno.EROFS, "Read-only file system"))
    elif fault == "disk_full":
        monkeypatch.setattr(zoo.fileio, "_flush_to_disk", fail(errno.ENOSPC, "No space left on device"))
    elif fault in ("ctrl_c", "sigterm"):  # the signal arrives while the result is being written
        from zoo.errors import Terminated

        def interrupt(*args, **kwargs):
            raise KeyboardInterrupt() if fault == "ctrl_c" else Terminated()
        monkeypatch.setattr(zoo.fileio, "_flush_to_disk", interrupt)
    elif fault == "no_gpu":
        monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
        monkeypatch.setattr(torch.accelerator, "is_available", lambda: False)  # zoo.devices asks it
        monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    elif fault is not None:
        raise ValueError(f"unknown fault {fault!r}")


@pytest.fixture
def hostile_env(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(REPO))
    for k, v in {"HF_HUB_OFFLINE": "1", "TORCH_HOME": str(tmp_path / "torch-home"), "HF_HOME": str(tmp_path / "hf"),
                 "STYLEZOO_CACHE": str(tmp_path / "zoo-cache")}.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setattr(torch.hub, "_hub_dir", None)
    make_image(tmp_path / "content.png", (48, 40), seed=1)
    make_image(tmp_path / "style.png", (40, 40), seed=2)
    make_image(tmp_path / "style2.jpg", (36, 44), seed=3)
    return tmp_path


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile(case: Case, hostile_env: Path, monkeypatch, capsys):
    tmp = hostile_env
    _log_to_this_stderr(monkeypatch)
    for name in case.given:
        _make(tmp / name)
    if case.before:
        assert _invoke(_expand(case.before, tmp)) == 0, capsys.readouterr().err[-3000:]
    before = {p: p.read_bytes() for p in tmp.rglob("*") if p.is_file() and p.suffix in (".png", ".json", ".ckpt")}
    capsys.readouterr()
    _inject(case.fault, monkeypatch)

    code = _invoke(_expand(case.argv, tmp))
    out, err = capsys.readouterr()
    monkeypatch.undo()

    assert "Traceback" not in err, err[-3000:]
    assert code == case.code, err[-3000:]
    if case.code != 0:
        last = err.strip().splitlines()[-1] if err.strip() else ""
        assert case.err in last, err[-3000:]
    assert case.out in out, out[-2000:]
    if case.not_err:
        assert case.not_err not in err
    for name in case.exists:
        assert (tmp / name).exists(), name
    for name in case.absent:
        assert not (tmp / name).exists(), name
    # nothing written was left half done, and no earlier file was replaced unless asked (no --overwrite here)
    assert not [p for p in tmp.rglob(".*") if ".tmp" in p.name], "temporary files left behind"
    for path, data in before.items():
        assert path.read_bytes() == data, f"{path} was changed"

