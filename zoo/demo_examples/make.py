"""Make the demo page's example pictures (``python -m zoo.demo_examples.make``): drawn here from fixed seeds, so
they are the project's own work, dedicated to the public domain (CC0 1.0, see LICENSE.md in this folder).

Two "photos" (a landscape with a lake, a street of houses) and two "styles" (swirling brush strokes, a
mosaic), 384 px long, as JPEG files of a few tens of kB.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

HERE = Path(__file__).parent
W, H = 384, 288


def _sky(top, bottom) -> Image.Image:
    t = np.linspace(0, 1, H)[:, None, None]
    sky = (1 - t) * np.array(top) + t * np.array(bottom)
    return Image.fromarray(np.broadcast_to(sky, (H, W, 3)).astype(np.uint8))


def landscape(rng: np.random.Generator) -> Image.Image:
    img = _sky((70, 130, 210), (250, 200, 150))
    d = ImageDraw.Draw(img)
    d.ellipse((270, 40, 330, 100), fill=(255, 235, 160))
    for k, (colour, base) in enumerate([((90, 110, 140), 150), ((60, 120, 70), 185)]):
        phase = rng.uniform(0, 6)
        points = [(x, base - 35 * math.sin(x / (60 + 30 * k) + phase) - 15 * math.sin(x / 23 + phase))
                  for x in range(0, W + 8, 8)]
        d.polygon([(0, H), *points, (W, H)], fill=colour)
    d.rectangle((0, 205, W, H), fill=(50, 100, 150))  # the lake
    for _ in range(40):
        x, y = rng.uniform(0, W), rng.uniform(210, H)
        d.line((x, y, x + rng.uniform(10, 40), y), fill=(150, 190, 220), width=1)
    for _ in range(14):  # trees on the shore
        x = rng.uniform(0, W)
        d.polygon([(x, 150), (x - 9, 205), (x + 9, 205)], fill=(30, 80 + int(rng.uniform(0, 40)), 40))
    return img.filter(ImageFilter.GaussianBlur(0.6))


def street(rng: np.random.Generator) -> Image.Image:
    img = _sky((120, 170, 230), (220, 230, 240))
    d = ImageDraw.Draw(img)
    x = -10
    while x < W:
        w, h = rng.uniform(50, 90), rng.uniform(90, 170)
        colour = tuple(int(c) for c in rng.uniform(90, 230, 3))
        d.rectangle((x, 230 - h, x + w, 230), fill=colour, outline=(60, 50, 50))
        d.polygon([(x - 4, 230 - h), (x + w / 2, 200 - h), (x + w + 4, 230 - h)], fill=(150, 60, 50))
        for wx in np.arange(x + 8, x + w - 14, 20):
            for wy in np.arange(240 - h, 215, 28):
                d.rectangle((wx, wy, wx + 10, wy + 14), fill=(250, 240, 180))
        x += w + rng.uniform(2, 10)
    d.rectangle((0, 230, W, H), fill=(90, 90, 95))
    for x in range(0, W, 40):
        d.rectangle((x, 258, x + 20, 262), fill=(240, 240, 240))
    return img.filter(ImageFilter.GaussianBlur(0.5))


def swirls(rng: np.random.Generator) -> Image.Image:
    img = Image.new("RGB", (W, W), (20, 40, 90))
    d = ImageDraw.Draw(img)
    palette = [(30, 60, 140), (60, 110, 190), (240, 200, 60), (250, 230, 140), (20, 30, 60), (90, 160, 200)]
    for _ in range(1400):
        x, y = rng.uniform(0, W), rng.uniform(0, W)
        angle = math.atan2(y - W / 2, x - W / 2) + math.pi / 2 + 0.6 * math.sin(x / 40)
        length = rng.uniform(8, 22)
        colour = palette[int(rng.integers(len(palette)))]
        d.line((x, y, x + length * math.cos(angle), y + length * math.sin(angle)), fill=colour, width=4)
    return img.filter(ImageFilter.SMOOTH)


def mosaic(rng: np.random.Generator) -> Image.Image:
    img = Image.new("RGB", (W, W), (30, 30, 30))
    d = ImageDraw.Draw(img)
    palette = [(200, 60, 50), (230, 170, 40), (40, 120, 170), (60, 160, 90), (235, 225, 200), (120, 60, 140)]
    step = 24
    for gy in range(0, W, step):
        for gx in range(0, W, step):
            jx, jy = rng.uniform(-4, 4, 2)
            colour = palette[int(rng.integers(len(palette)))]
            d.polygon([(gx + jx, gy + jy), (gx + step + jx, gy + rng.uniform(-4, 4)),
                       (gx + step + rng.uniform(-4, 4), gy + step + jy), (gx + rng.uniform(-4, 4), gy + step)],
                      fill=colour, outline=(20, 20, 20))
    return img


PICTURES = {"photo-lake": landscape, "photo-street": street, "style-swirls": swirls, "style-mosaic": mosaic}


def main(folder: Path = HERE) -> list[Path]:
    out = []
    for seed, (name, draw) in enumerate(PICTURES.items()):
        path = folder / f"{name}.jpg"
        draw(np.random.default_rng(seed)).save(path, quality=88, optimize=True)
        out.append(path)
    return out


if __name__ == "__main__":
    for p in main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE):
        print(p, p.stat().st_size)
