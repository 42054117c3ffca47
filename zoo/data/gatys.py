"""The data of one Gatys optimisation: a content image and one or more style images."""

from __future__ import annotations

from typing import Sequence

import lightning.pytorch as pl

from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from ..errors import ConfigError
from ..io import load_image, long_edge_size, resize_long_edge
from ..stylize import check_pixels, check_weights, check_whole
from .sources import data_file

__all__ = ["GatysData"]


class _Steps(Dataset):
    """``n`` empty items: one optimisation step each (the images live in the datamodule)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int) -> int:
        return index


class GatysData(pl.LightningDataModule):
    """Content and style images for :class:`zoo.variants.gatys.Gatys`.

    Args:
        content: path of the content image, or its URL with its sha256 (``https://...#sha256=HEX``: fetched and
            verified on first use, :mod:`zoo.data.hub`).
        style: path (or URL, as ``content``) of a style image, or a list of them.
        style_weights: blend weights of the style images (default: equal); normalised to sum 1.
        size: long edge of the output in pixels; ``None`` keeps the content image's size.
        max_pixels: refuse images with more pixels than this (default: zoo.io.DEFAULT_MAX_PIXELS).

    One epoch is ``trainer.max_steps`` optimisation steps, so the progress bar counts steps.
    """

    def __init__(self, content: str, style: str | list[str], style_weights: list[float] | None = None,
                 size: int | None = 512, max_pixels: int | None = None) -> None:
        super().__init__()
        styles = [style] if isinstance(style, str) else list(style)
        if not styles:
            raise ConfigError("GatysData needs at least one style image")
        if style_weights is not None and len(style_weights) != len(styles):
            raise ConfigError(f"{len(style_weights)} style weights for {len(styles)} style images")
        check_whole("--data.size", size)
        self.content_path, self.style_paths = content, styles
        self.style_weights = (check_weights("--data.style_weights", style_weights) if style_weights
                              else [1.0] * len(styles))
        self.size, self.max_pixels = size, max_pixels
        self.content: Tensor | None = None
        self.styles: list[Tensor] = []

    @classmethod
    def from_tensors(cls, content: Tensor, styles: Sequence[Tensor], style_weights: Sequence[float] | None = None,
                     size: int | None = None) -> "GatysData":
        """Build from images already in memory ((1, 3, H, W) in [0, 1])."""
        dm = cls(content="<tensor>", style=[f"<tensor {i}>" for i in range(len(styles))],
                 style_weights=list(style_weights) if style_weights else None, size=size)
        dm.content = resize_long_edge(content, size)
        dm.styles = [s for s in styles]
        return dm

    def setup(self, stage: str | None = None) -> None:
        if self.content is None:  # read once; errors name the file
            content = load_image(data_file(self.content_path), self.max_pixels)
            check_pixels("--data.size", self.size, *long_edge_size(*content.shape[-2:], self.size), self.max_pixels)
            self.content = resize_long_edge(content, self.size)
            self.styles = [load_image(data_file(p), self.max_pixels) for p in self.style_paths]

    def train_dataloader(self) -> DataLoader:
        steps = self.trainer.max_steps if self.trainer is not None else -1
        if steps is None or steps < 1:
            raise ConfigError("Gatys optimisation needs --trainer.max_steps (the number of optimisation steps)")
        return DataLoader(_Steps(steps), batch_size=None)

    def transfer_batch_to_device(self, batch, device, dataloader_idx: int):
        return batch  # an int step index; the images are moved by the model

    def __repr__(self) -> str:
        return f"GatysData(content={self.content_path!r}, style={self.style_paths!r}, size={self.size})"


