"""A dataset job on Lightning: stylise every image of a folder tree (or of WebDataset-style tar shards) with any
family, on any number of devices and nodes, resumable. ``python -m zoo.stylize_dataset`` is its command.

The engine is ``Trainer.predict``: :class:`StylizeData` lists the items (:mod:`zoo.dataset_io`), drops the
finished ones (:mod:`zoo.dataset_manifest`) and serves the rest, Lightning's distributed sampler splitting them
between processes without repeats; :class:`StylizeJob` runs the family's stylizer (:func:`zoo.stylize.build_stylizer`)
on each; :class:`DatasetWriter` (a ``BasePredictionWriter``) writes each output atomically and records it;
:class:`JobProgress` shows the whole job's images/s and time left on the first process. Processes are started by
Lightning's own launchers (``--trainer.devices=N --trainer.num_nodes=K``; torchrun and SLURM are detected by
Lightning), none by this module.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.pytorch.callbacks import BasePredictionWriter
from torch.utils.data import DataLoader, Dataset, DistributedSampler

from . import dataset_io as dio
from . import dataset_manifest as man
from .fileio import remove_temporaries
from .io import ImageReadError, save_image
from .options import takes
from .stylize import OptionError, StylizeOptions, build_stylizer, check_styles, resolve_family

__all__ = ["StylizeJob", "StylizeData", "DatasetWriter", "JobProgress"]

log = logging.getLogger(__name__)


def _first(batch: list) -> Any:
    return batch[0]


class _Items(Dataset):
    """Item ``i`` as a dict: its content and style images (after their transforms), or the reason it is
    skipped (``error``), or, for an output already on disk from an earlier run, ``adopt``: that file's
    checksum (it is recorded, not redone)."""

    def __init__(self, data: "StylizeData", items: list[dio.Item]) -> None:
        self.items, self.output = items, Path(data.output)
        self.styles, self.style_dir, self.seed = data.styles, data.style_dir, data.seed
        self.content_tf, self.style_tf = data.content_transform, data.style_transform
        self.output_format, self.max_pixels = data.output_format, data.max_pixels

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict[str, Any]:
        if i < 0:  # a process without a share (_Share)
            return {"noop": True}
        item = self.items[i]
        out = dio.output_rel(item.rel, self.output_format)
        style = self.styles[dio.assign_style(self.seed, item.rel, len(self.styles))] if self.styles else None
        sample: dict[str, Any] = {"content": item.rel, "output": out, "style": style,
                                  "seed": dio.item_seed(self.seed, item.rel)}
        if (self.output / out).is_file():  # written by a run that was stopped before recording it
            path = self.output / out
            return {**sample, "adopt": (man.sha256_file(path), path.stat().st_size)}
        try:
            sample["image"] = self.content_tf(dio.read_content(item, self.max_pixels))
            if style is not None:
                sample["style_image"] = self.style_tf(dio.read_style(self.style_dir, style, self.max_pixels))
        except ImageReadError as e:
            sample["error"] = str(e)
        return sample


class _Share(DistributedSampler):
    """Items ``rank, rank + world, ...``: this process's share, no item repeated. Lightning's own sampler for
    predict refuses a process without items, and its loop a process without batches: a process with no share
    gets the index -1, an empty sample that writes nothing. Being a ``DistributedSampler``, it is kept as is."""

    def __init__(self, dataset: Dataset, world: int, rank: int) -> None:
        super().__init__(dataset, num_replicas=world, rank=rank, shuffle=False)
        self.indices = list(range(rank, len(dataset), world)) or [-1]

    def __iter__(self):
        return iter(self.indices)

    def __len__(self) -> int:
        return len(self.indices)


class StylizeData(pl.LightningDataModule):
    """The images of a dataset job and where their results go.

    Args:
        input: folder of content images, at any depth; ``.tar`` files in it are WebDataset-style shards whose
            image members are items too (``a/shard.tar`` member ``k.jpg`` -> output ``a/shard/k.png``).
        output: the output folder: mirrors ``input``; holds ``manifest.json`` at the end. New, empty, or this
            same job's folder (it then resumes).
        style_dir: folder of style images (families that take one); each item gets one, drawn from ``seed`` and
            the item's relative path.
        seed: the job's seed (style assignment and each item's torch seed).
        resize / crop / square / long_edge: the content's transform (:class:`zoo.dataset_io.Transform`);
        style_resize / style_crop / style_square / style_long_edge: the style's.
        output_format: ``same`` (the input's extension where it can be written, else png), ``png``, ``jpg``, ``webp``.
        quality: JPEG / WebP quality.
        num_workers: data-loading processes per device.
        max_pixels: refuse (skip) inputs with more pixels than this (default zoo.io's).
        flush_every: records per manifest part (a kill loses at most these records, whose outputs are adopted).
        progress: show the job's progress bar (first process).
    """

    def __init__(self, input: str, output: str, style_dir: str | None = None, seed: int = 0,
                 resize: int | None = None, crop: int | None = None, square: bool = False,
                 long_edge: int | None = None, style_resize: int | None = None, style_crop: int | None = None,
                 style_square: bool = False, style_long_edge: int | None = None, output_format: str = "same",
                 quality: int = 95, num_workers: int = 2, max_pixels: int | None = None, flush_every: int = 64,
                 progress: bool = True) -> None:
        super().__init__()
        from .stylize import check_whole

        for name in ("resize", "crop", "long_edge", "style_resize", "style_crop", "style_long_edge", "max_pixels"):
            check_whole(f"--data.{name}", locals()[name])
        check_whole("--data.flush_every", flush_every)
        check_whole("--data.num_workers", num_workers, 0)
        check_whole("--data.quality", quality)
        self.input, self.output, self.style_dir, self.seed = input, output, style_dir, int(seed)
        self.content_transform = dio.Transform(square, resize, crop, long_edge)
        self.style_transform = dio.Transform(style_square, style_resize, style_crop, style_long_edge)
        self.output_format = dio.check_output_format(output_format)
        self.quality, self.num_workers, self.max_pixels = quality, num_workers, max_pixels
        self.flush_every, self.progress = flush_every, progress
        self.styles: list[str] = []
        self.todo: list[dio.Item] = []
        self.broken: list[tuple[str, str]] = []

    def header(self, job: "StylizeJob") -> dict[str, Any]:
        """What makes two runs the same job: the manifest's header and ``job.json``."""
        styles = {"count": len(self.styles),
                  "names_sha256": hashlib.sha256("\n".join(self.styles).encode()).hexdigest()} if self.styles else None
        return {"format": man.FORMAT, "model": job.model_name, "weights": job.weights, "options": job.options(),
                "seed": self.seed, "styles": styles,
                "transform": {"content": asdict(self.content_transform), "style": asdict(self.style_transform)},
                "output_format": self.output_format, "quality": self.quality}

    def setup(self, stage: str) -> None:
        trainer, job = self.trainer, self.trainer.lightning_module
        out = Path(self.output)
        items, self.broken = dio.list_items(self.input, exclude=out)
        if not items and not self.broken:
            raise dio.DatasetJobError(f"--data.input {self.input}: no images found")
        dio.distinct_outputs(items, self.output_format)
        self.styles = dio.list_styles(self.style_dir) if self.style_dir else []
        job.check_styles(len(self.styles))
        job.build(trainer.strategy.root_device, self.seed)
        resumed = man.check_job(out, self.header(job), write=trainer.is_global_zero)
        done = man.read_parts(out) if resumed else {}
        if resumed and trainer.is_global_zero:  # writes a killed run never finished; nobody writes yet
            for folder in sorted({(out / dio.output_rel(i.rel, self.output_format)).parent for i in items}):
                remove_temporaries(folder)
            for stale in (out / man.JOB_DIR / "progress").glob("*.json"):
                stale.unlink(missing_ok=True)
        # finished: recorded, and its output still there (a deleted output is made again)
        finished = {rel for rel, r in done.items() if "error" in r or (out / r["output"]).is_file()}
        self.todo = [i for i in items if i.rel not in finished]
        trainer.strategy.barrier("stylize_dataset.setup")  # every process has its list before any writes
        if trainer.is_global_zero and finished:
            log.warning("resuming: %d of %d item(s) done earlier, %d to do", len(finished), len(items), len(self.todo))

    def predict_dataloader(self) -> DataLoader:
        items = _Items(self, self.todo)
        share = _Share(items, self.trainer.world_size, self.trainer.global_rank)
        return DataLoader(items, batch_size=1, sampler=share, collate_fn=_first, num_workers=self.num_workers)


class StylizeJob(pl.LightningModule):
    """The stylizer of a dataset job: ``model`` (a family or pretrained tag) and the ``zoo stylize`` options it
    takes (the ones a family does not declare are refused, as ``zoo stylize`` refuses them). ``weights``:
    a checkpoint, export or pretrained tag (``random``: an untrained AdaIN decoder, smoke runs only)."""

    def __init__(self, model: str = "adain", weights: str | None = None, alpha: float = 1.0,
                 steps: int | None = None, preserve_color: str | None = None, backbone_weights: str | None = None,
                 direction: str = "AtoB", tile: int | None = None) -> None:
        super().__init__()
        self.opts = StylizeOptions(model=model, weights=weights, alpha=alpha, steps=steps,
                                   preserve_color=preserve_color, backbone_weights=backbone_weights,
                                   direction=direction, tile=tile, progress=False)
        resolved, opts = resolve_family(self.opts)
        family = resolved.family
        unsupported = [n for n in ("alpha", "steps", "preserve_color", "backbone_weights", "direction", "tile")
                       if not takes(family, n) and getattr(self.opts, n) != StylizeOptions.default(n)]
        if unsupported:
            raise OptionError(f"model {model!r} does not support --model.{unsupported[0]}")
        self.family, self.model_name, self.weights = family, opts.model, opts.weights
        self.stylizer = None

    def options(self) -> dict[str, Any]:
        return {n: getattr(self.opts, n) for n in ("alpha", "steps", "preserve_color", "backbone_weights",
                                                   "direction", "tile") if takes(self.family, n)}

    def check_styles(self, n_styles: int) -> None:
        if self.family.needs_style and not n_styles:
            raise OptionError(f"model {self.model_name!r} needs style images: --data.style_dir")
        if not self.family.needs_style and n_styles:
            raise OptionError(f"model {self.model_name!r} takes no style images: leave out --data.style_dir")

    def configure_callbacks(self) -> list[pl.Callback]:
        return [DatasetWriter(), JobProgress()]

    def build(self, device: torch.device, seed: int) -> None:
        """The stylizer on ``device``: weights loaded, options checked (before the job records itself, so a
        wrong option costs nothing). ``seed``: random weights (smoke runs) are the same on every process."""
        from dataclasses import replace

        torch.manual_seed(seed)
        self.stylizer = build_stylizer(replace(self.opts, device=str(device)))
        check_styles(self.model_name, self.stylizer, 1 if self.family.needs_style else 0, None)

    def predict_step(self, batch: dict[str, Any], batch_idx: int) -> dict[str, Any]:
        if "image" not in batch:  # skipped (unreadable), adopted, or nothing to do
            return batch
        torch.manual_seed(batch["seed"])
        # Lightning predicts in inference mode; Gatys optimises its picture and needs autograd (the
        # feed-forward stylizers turn it off themselves): plain tensors, gradients allowed
        with torch.inference_mode(False), torch.enable_grad():
            content = batch["image"].clone()
            styles = [batch["style_image"].clone()] if "style_image" in batch else []
            try:
                result = self.stylizer(content, styles)
            except OptionError as e:  # this picture cannot work with these options (e.g. too small)
                return {**batch, "image": None, "error": f"{batch['content']}: {e}"}
        return {**batch, "image": result}


class DatasetWriter(BasePredictionWriter):
    """Writes each output (atomically, :func:`zoo.io.save_image`), records it in a manifest part every
    ``flush_every`` items and at the end, and, once every process is done, merges ``manifest.json``."""

    def __init__(self) -> None:
        super().__init__(write_interval="batch")
        self.pending: list[dict[str, Any]] = []
        self.done = 0

    def write_on_batch_end(self, trainer, pl_module, prediction, batch_indices, batch, batch_idx, dataloader_idx=0):
        data: StylizeData = trainer.datamodule
        out = Path(data.output)
        p = prediction
        if p.get("noop"):
            return
        base = {"content": p["content"]}
        if p.get("error"):
            record = {**base, "error": p["error"]}
            log.warning("skipping %s", p["error"])
        elif "adopt" in p:
            record = {**base, "output": p["output"], "style": p["style"], "sha256": p["adopt"][0], "bytes": p["adopt"][1]}
        else:
            path = save_image(p["image"], out / p["output"], overwrite=True, quality=data.quality)
            record = {**base, "output": p["output"], "style": p["style"], "sha256": man.sha256_file(path),
                      "bytes": path.stat().st_size}
        self.pending.append(record)
        self.done += 1
        if len(self.pending) >= data.flush_every:
            self.flush(trainer)

    def flush(self, trainer) -> None:
        man.write_part(Path(trainer.datamodule.output), trainer.global_rank, self.pending)
        self.pending = []

    def on_exception(self, trainer, pl_module, exception: BaseException) -> None:
        if self.pending and trainer.datamodule is not None:  # Ctrl-C: keep the records of what is written
            self.flush(trainer)

    def on_predict_end(self, trainer, pl_module) -> None:
        self.flush(trainer)
        trainer.strategy.barrier("stylize_dataset.end")
        if trainer.is_global_zero:
            data: StylizeData = trainer.datamodule
            manifest = man.merge(Path(data.output), data.header(pl_module), data.broken)
            for callback in trainer.callbacks:
                if isinstance(callback, JobProgress):
                    callback.close()
            counts = manifest["counts"]
            print(f"{counts['stylized']} image(s) stylized in {data.output}"
                  + (f", {counts['skipped']} skipped (listed in manifest.json)" if counts["skipped"] else "")
                  + f"; manifest: {Path(data.output) / man.MANIFEST}", flush=True)


class JobProgress(pl.Callback):
    """The whole job's progress: each process writes its count to ``OUT/.stylezoo/progress/<rank>.json``
    every few seconds; the first process adds them up in one bar (images, images/s, time left). At its end each
    process records its items and seconds (from its first item to its last, model loading excluded) in
    ``OUT/.stylezoo/timings/<rank>-<token>.json``: timings stay out of the manifest."""

    def __init__(self, every_s: float = 2.0) -> None:
        self.every_s, self.last, self.count, self.bar = every_s, 0.0, 0, None
        self.first: float | None = None
        self.end = 0.0

    def on_predict_batch_start(self, trainer, pl_module, batch, batch_idx, dataloader_idx=0) -> None:
        if self.first is None:
            self.first = time.perf_counter()

    def on_predict_start(self, trainer, pl_module) -> None:
        data: StylizeData = trainer.datamodule
        if trainer.is_global_zero and data.progress:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=len(data.todo), desc="stylize-dataset", unit="img", dynamic_ncols=True)

    def on_predict_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0) -> None:
        self.count += 0 if batch.get("noop") else 1
        self.end = time.perf_counter()
        now = time.monotonic()
        if now - self.last < self.every_s:
            return
        self.last = now
        out = Path(trainer.datamodule.output)
        man.write_json(man.progress_path(out, trainer.global_rank), {"done": self.count})
        if self.bar is not None:
            total = self.count
            for path in (out / man.JOB_DIR / "progress").glob("*.json"):
                if path != man.progress_path(out, 0):
                    try:
                        total += int(json.loads(path.read_text())["done"])
                    except (OSError, ValueError, KeyError):
                        pass
            self.bar.update(max(0, min(total, self.bar.total) - self.bar.n))

    def close(self) -> None:
        if self.bar is not None:
            self.bar.update(self.bar.total - self.bar.n)
            self.bar.close()
            self.bar = None

    def on_predict_end(self, trainer, pl_module) -> None:
        import secrets

        self.close()
        out, rank = Path(trainer.datamodule.output), trainer.global_rank
        man.progress_path(out, rank).unlink(missing_ok=True)
        if self.count:
            man.write_json(out / man.JOB_DIR / "timings" / f"{rank:05d}-{secrets.token_hex(4)}.json",
                           {"rank": rank, "world_size": trainer.world_size, "items": self.count,
                            "seconds": round(self.end - (self.first or self.end), 4)})
