"""The picture in docs/masks-and-tiles.md: Gatys spatial control with two regions and two styles.

    python -m benchmarks.figure_masks [--out docs/masks.png] [--steps 40]

RANDOM VGG weights (``--backbone-weights none``: nothing is downloaded), so the picture shows where each style
goes, not what a trained VGG makes of it; the label in the picture says so. Content, styles and masks are made
here (a smooth random picture, red stripes, blue checks, a left/right split)."""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
import torch.nn.functional as F


def _panel(images: list[torch.Tensor], labels: list[str], footer: str) -> "Image.Image":
    from PIL import Image, ImageDraw

    h, w = images[0].shape[-2:]
    pad, text = 6, 14
    canvas = Image.new("RGB", (len(images) * (w + pad) + pad, h + 2 * text + 3 * pad), "white")
    draw = ImageDraw.Draw(canvas)
    for i, (img, label) in enumerate(zip(images, labels)):
        arr = (img[0].clamp(0, 1).permute(1, 2, 0).numpy() * 255).round().astype("uint8")
        x = pad + i * (w + pad)
        canvas.paste(Image.fromarray(arr), (x, pad + text))
        draw.rectangle((x - 1, pad + text - 1, x + img.shape[-1], pad + text + h), outline="gray")
        draw.text((x, pad), label, fill="black")
    draw.text((pad, h + text + 2 * pad), footer, fill="black")
    return canvas


def main(argv: list[str] | None = None) -> int:
    import zoo

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs" / "masks.png")
    p.add_argument("--steps", type=int, default=40)
    args = p.parse_args(argv)
    g = torch.Generator().manual_seed(0)
    h, w = 96, 128
    content = F.interpolate(torch.rand(1, 3, 4, 5, generator=g), size=(h, w), mode="bicubic", align_corners=False)
    content = content.clamp(0, 1)
    yy, xx = torch.meshgrid(torch.arange(64.0), torch.arange(64.0), indexing="ij")
    stripes = torch.stack([0.9 + 0 * yy, 0.5 + 0.4 * torch.sin(xx / 2), 0.1 + 0 * yy])[None].clamp(0, 1)
    checks = ((xx // 8 + yy // 8) % 2)
    checks = torch.stack([0.1 + 0.2 * checks, 0.3 + 0.3 * checks, 0.6 + 0.4 * checks])[None]
    left = torch.zeros(1, 1, h, w)
    left[..., : w // 2] = 1
    out = zoo.stylize(content, [stripes, checks], model="gatys", masks=[left, 1 - left], steps=args.steps,
                      backbone_weights="none", weights="random", seed=0, progress=False, device="cpu")
    mask_rgb = torch.cat([left] * 3, 1)
    picture = _panel([content, F.interpolate(stripes, size=(h, h)), F.interpolate(checks, size=(h, h)), mask_rgb, out],
                     ["content", "style A", "style B", "mask (A white)", "gatys --masks"],
                     f"RANDOM VGG weights (--backbone-weights none), {args.steps} L-BFGS steps: where each style goes")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    picture.save(args.out)
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
