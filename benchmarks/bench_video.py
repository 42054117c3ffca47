"""Video stylisation (zoo.video): temporal stability, throughput and memory.

    python -m benchmarks.bench_video                 # CPU, about 4 minutes of CPU time on 2 cores; writes
                                                     # benchmarks/results/video-cpu-<n>core.json
    python -m benchmarks.bench_video --device cuda --out benchmarks/results/video-h100.json

1. Temporal stability. Three synthetic clips, made here with exactly known motion, so the warping error is
   measured with the ground-truth flow and occlusion mask (no estimator in the metric):

   * ``pan``: a textured plane moving 2 px left and 1 px up per frame (the camera pans);
   * ``shapes``: three textured shapes (two rectangles, a disc) moving 1-3 px per frame in different
     directions over a static textured background, covering and uncovering it and each other;
   * ``noise``: a static texture with fresh Gaussian noise (sigma 0.03) in every frame (sensor noise:
     a frame-by-frame stylisation flickers).

   Each clip is stylised frame by frame and with ``temporal=True`` (DIS flow, the default weight; after a
   warm-up on two frames, alternating, best of ``--temporal-reps`` for frames/s), and the temporal warping error of Lai et al. 2018 (:func:`zoo.flow.warping_error`) and the frames/s of both are
   recorded; the input clip's own warping error is the floor (0 for integer motion, 2 sigma^2 for noise).
   Models: Johnson (default architecture) and, unless ``--no-gatys``, Gatys (random VGG, few steps, on
   the ``shapes`` clip at a smaller size).

2. Throughput at 512 px (Johnson): the image path (the stylizer called on each frame, batch 1, frames
   already in memory -- no decoding or encoding), the video path (``zoo.video.stylize_video``: decode an
   H.264 .mp4, stylise, encode) with its default batch size (1 on the CPU), with ``temporal=True``, and
   with ``--batch-size`` frames per forward pass, alternating, best of ``--speed-reps``; and ``zoo stylize frame.png`` run once per frame as a subprocess (what a shell loop
   over extracted frames costs).

3. Memory: a fresh child process per clip streams clips of 30, 300 and 1500 frames (64 x 48, with audio,
   written beforehand by this process) through ``stylize_video`` with ``temporal=True`` and reports its
   resident set size before streaming and its peak while streaming (sampled every 2 ms from
   /proc/self/statm), and the peak of Python allocations while streaming (``tracemalloc``; tensor memory
   is not in it, the RSS is). Memory that grew with the clip would show as a difference between them.

The networks have RANDOM weights (no pretrained weights can be downloaded here): these numbers measure the
stability and the speed of the video path, not the quality of a style. The load average of the machine
(shared with other jobs) is recorded before and after each part; ratios measured in the same run stay
meaningful under load.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from benchmarks.env import environment, load_average

REPO = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------------------------------------ synthetic clips
def texture(h: int, w: int, seed: int) -> torch.Tensor:
    """A colourful multi-scale texture (1, 3, h, w) in [0, 1]: random fields at cell sizes 3, 8, 24 px."""
    g = torch.Generator().manual_seed(seed)
    out = torch.zeros(1, 3, h, w)
    for cell, amp in ((3, 0.5), (8, 1.0), (24, 1.0)):
        base = torch.rand(1, 3, h // cell + 2, w // cell + 2, generator=g)
        out += amp * F.interpolate(base, size=(h + 2 * cell, w + 2 * cell), mode="bicubic",
                                   align_corners=False)[..., cell:cell + h, cell:cell + w]
    lo, hi = out.amin(dim=(2, 3), keepdim=True), out.amax(dim=(2, 3), keepdim=True)
    return ((out - lo) / (hi - lo)).clamp(0, 1)


def _frame_grid(h: int, w: int) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")


def make_clip(kind: str, n: int, h: int, w: int, seed: int = 0):
    """(frames, flows, masks): ``n`` frames (1, 3, h, w); for t >= 1, the exact flow from frame t-1 to t
    (1, 2, h, w) and where it is valid (1, 1, h, w) (not occluded, inside the frame)."""
    ys, xs = _frame_grid(h, w)
    if kind == "pan":
        dx, dy = 2, 1
        plane = texture(h + n * dy + 1, w + n * dx + 1, seed)
        frames = [plane[..., t * dy:t * dy + h, t * dx:t * dx + w].clone() for t in range(n)]
        flow = torch.stack([torch.full((h, w), -float(dx)), torch.full((h, w), -float(dy))])[None]
        mask = ((xs - dx >= 0) & (ys - dy >= 0))[None, None]
        return frames, [flow] * (n - 1), [mask] * (n - 1)
    if kind == "noise":
        base = texture(h, w, seed)
        g = torch.Generator().manual_seed(seed + 1)
        frames = [(base + 0.03 * torch.randn(base.shape, generator=g)).clamp(0, 1) for _ in range(n)]
        return frames, [torch.zeros(1, 2, h, w)] * (n - 1), [torch.ones(1, 1, h, w, dtype=torch.bool)] * (n - 1)
    if kind != "shapes":
        raise ValueError(f"unknown clip {kind!r}")
    background = texture(h, w, seed)
    sh, sw = max(4, h // 3), max(4, w // 4)
    # (kind, velocity (vx, vy) px/frame, start of the top-left corner): they cross the middle mid-clip
    specs = [("rect", (2, 1)), ("disc", (-3, 1)), ("rect", (1, -2))]
    shapes = []
    for k, (form, (vx, vy)) in enumerate(specs):
        x0 = (w - sw) // 2 - vx * n // 2 + (k - 1) * w // 6
        y0 = (h - sh) // 2 - vy * n // 2 + (k - 1) * h // 8
        tex = texture(sh, sw, seed + 10 + k)
        sy, sx = _frame_grid(sh, sw)
        inside = torch.ones(sh, sw, dtype=torch.bool) if form == "rect" else (
            ((sy - (sh - 1) / 2) / (sh / 2)) ** 2 + ((sx - (sw - 1) / 2) / (sw / 2)) ** 2 <= 1)
        shapes.append((tex, inside, (vx, vy), (x0, y0)))

    def render(t: int) -> tuple[torch.Tensor, torch.Tensor]:
        img, layer = background.clone(), torch.full((h, w), -1)
        for k, (tex, inside, (vx, vy), (x0, y0)) in enumerate(shapes):
            px, py = x0 + vx * t, y0 + vy * t
            lx, ly = xs - px, ys - py  # position in the shape
            hit = (lx >= 0) & (lx < sw) & (ly >= 0) & (ly < sh)
            hit[hit.clone()] = inside[ly[hit], lx[hit]]
            img[0][:, hit] = tex[0][:, ly[hit], lx[hit]]
            layer[hit] = k
        return img, layer

    rendered = [render(t) for t in range(n)]
    velocity = torch.tensor([[0, 0]] + [list(s[2]) for s in shapes], dtype=torch.float32)  # index layer + 1
    flows, masks = [], []
    for (_, prev), (_, cur) in zip(rendered[:-1], rendered[1:]):
        v = velocity[prev + 1]  # (h, w, 2)
        qx, qy = xs + v[..., 0].long(), ys + v[..., 1].long()
        inside = (qx >= 0) & (qx < w) & (qy >= 0) & (qy < h)
        same = torch.zeros(h, w, dtype=torch.bool)
        same[inside] = cur[qy[inside], qx[inside]] == prev[inside]
        flows.append(v.permute(2, 0, 1)[None])
        masks.append(same[None, None])
    return [img for img, _ in rendered], flows, masks


def write_clip(frames, path: Path, fps: int = 25, audio: bool = True) -> Path:
    """The frames as H.264 (crf 18) in ``path``, with a 440 Hz AAC tone as long as the clip."""
    import av

    h, w = frames[0].shape[-2:]
    rate = 16000
    with av.open(str(path), "w") as c:
        v = c.add_stream("libx264", rate=fps)
        v.width, v.height, v.pix_fmt, v.options = w, h, "yuv420p", {"crf": "18"}
        a = c.add_stream("aac", rate=rate, layout="mono") if audio else None
        for f in frames:
            array = (f[0].permute(1, 2, 0).clamp(0, 1) * 255).round().to(torch.uint8).numpy()
            c.mux(v.encode(av.VideoFrame.from_ndarray(array, format="rgb24")))
        c.mux(v.encode())
        if a is not None:
            n = len(frames) * rate // fps
            tone = (0.2 * np.sin(2 * np.pi * 440 * np.arange(n) / rate)).astype(np.float32)[None]
            for start in range(0, n, 1024):
                frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(tone[:, start:start + 1024]),
                                                   format="fltp", layout="mono")
                frame.sample_rate, frame.pts = rate, start
                c.mux(a.encode(frame))
            c.mux(a.encode())
    return path


# ------------------------------------------------------------------------------------------ parts
def _johnson_weights(folder: Path) -> Path:
    from zoo.nets.johnson import TransformerNet

    torch.manual_seed(0)
    TransformerNet().save_pretrained(folder / "johnson-random")  # the default architecture, random weights
    return folder / "johnson-random"


def temporal_part(args, weights: Path, device: str) -> list[dict]:
    from zoo.flow import warping_error
    from zoo.io import save_image
    from zoo.stylize import StylizeOptions, build_stylizer
    from zoo.video import stylize_frames

    runs = []
    jobs = [("johnson", kind, args.size) for kind in args.clips]
    if not args.no_gatys:
        jobs.append(("gatys", "shapes", args.gatys_size))
    style_file = Path(args.tmp) / "style.png"
    save_image(texture(64, 64, 99), style_file, overwrite=True)
    for model, kind, size in jobs:
        h, w = size, size * 4 // 3
        frames, flows, masks = make_clip(kind, args.frames if model == "johnson" else args.gatys_frames, h, w)
        if model == "johnson":
            options = {"weights": str(weights), "device": device}
            styles: list = []
        else:
            options = {"backbone_weights": "none", "steps": args.gatys_steps, "device": device, "seed": 0}
            styles = [str(style_file)]
        entry = {"model": model, "clip": kind, "frames": len(frames), "height": h, "width": w,
                 "input_warping_error": round(warping_error(frames, flows=flows, masks=masks), 6),
                 "load_average_before": load_average()}
        modes = {"frame_by_frame": False, "temporal": True}
        stylizers = {mode: build_stylizer(StylizeOptions(model=model, progress=False, **options)) for mode in modes}
        seconds: dict[str, list[float]] = {mode: [] for mode in modes}
        for mode, temporal in modes.items():  # warm-up: first calls allocate and convert weights
            list(stylize_frames(frames[:2], model, styles, stylizer=stylizers[mode], temporal=temporal))
        for _ in range(args.temporal_reps if model == "johnson" else 1):  # alternating: both see the same load
            for mode, temporal in modes.items():
                torch.manual_seed(0)
                t = time.perf_counter()
                outs = list(stylize_frames(iter(frames), model, styles, stylizer=stylizers[mode], temporal=temporal))
                seconds[mode].append(time.perf_counter() - t)
                entry[mode] = {"warping_error": round(warping_error(outs, flows=flows, masks=masks), 6),
                               "frames_per_s": round(len(frames) / min(seconds[mode]), 3),
                               "seconds": [round(x, 2) for x in seconds[mode]]}
        entry["warping_error_ratio"] = round(entry["temporal"]["warping_error"]
                                             / max(entry["frame_by_frame"]["warping_error"], 1e-12), 3)
        entry["load_average_after"] = load_average()
        print(json.dumps(entry), flush=True)
        runs.append(entry)
    return runs


def speed_part(args, weights: Path, device: str, env: dict) -> dict:
    from zoo.stylize import StylizeOptions, build_stylizer
    from zoo.video import read_frames, stylize_video

    folder = Path(args.tmp)
    size = args.speed_size
    frames, _, _ = make_clip("pan", args.speed_frames, size, size)
    clip = write_clip(frames, folder / "speed.mp4")
    decoded = list(read_frames(clip))
    stylizer = build_stylizer(StylizeOptions(model="johnson", weights=str(weights), device=device, progress=False))
    stylizer(decoded[0])  # warm-up
    # the video path with its default batch size (1 on the CPU, 4 on CUDA), with --temporal, and with
    # --batch-size args.batch_size for comparison
    video_runs = {"video_path": {}, "video_path_temporal": {"temporal": True},
                  f"video_path_batch{args.batch_size}": {"batch_size": args.batch_size}}
    seconds: dict[str, list[float]] = {"image_path": [], **{name: [] for name in video_runs}}
    for rep in range(args.speed_reps):  # alternating, so that a changing load hits all of them alike
        t = time.perf_counter()
        for f in decoded:
            stylizer(f)
        seconds["image_path"].append(time.perf_counter() - t)
        for name, kwargs in video_runs.items():
            t = time.perf_counter()
            stylize_video(clip, folder / "speed-out.mp4", "johnson", stylizer=stylizer, overwrite=True,
                          progress=False, device=device, **kwargs)
            seconds[name].append(time.perf_counter() - t)
    n = len(decoded)
    result = {"size": size, "frames": n, "reps": args.speed_reps}
    result.update({f"{name}_frames_per_s": round(n / min(times), 3) for name, times in seconds.items()})
    result.update({f"{name}_seconds": [round(x, 2) for x in times] for name, times in seconds.items()})
    result["video_vs_image_path"] = round(result["video_path_frames_per_s"] / result["image_path_frames_per_s"], 3)
    # zoo stylize once per frame, as a shell loop over extracted frames would
    from zoo.io import save_image

    cli_frames = decoded[:args.cli_frames]
    for i, f in enumerate(cli_frames):
        save_image(f, folder / f"cli{i}.png", overwrite=True)
    env_vars = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    t = time.perf_counter()
    for i in range(len(cli_frames)):
        r = subprocess.run([sys.executable, "-m", "zoo", "stylize", str(folder / f"cli{i}.png"), "--model", "johnson",
                            "--weights", str(weights), "--device", device, "-o", str(folder / f"cli{i}-out.png"),
                            "--overwrite", "--quiet"], env=env_vars, capture_output=True, text=True)
        if r.returncode:
            raise RuntimeError(f"zoo stylize failed: {r.stderr.strip()[-500:]}")
    cli_s = time.perf_counter() - t
    result["cli_per_frame_frames_per_s"] = round(len(cli_frames) / cli_s, 3)
    result["cli_frames"] = len(cli_frames)
    result["video_vs_cli_per_frame"] = round(result["video_path_frames_per_s"] / result["cli_per_frame_frames_per_s"], 1)
    result["load_average_after"] = load_average()
    print(json.dumps(result), flush=True)
    return result


def memory_child(clip: str, weights: str) -> None:
    """Runs in a fresh process: stream ``clip`` through ``stylize_video`` (--temporal) and print, as JSON,
    the resident size before streaming, its peak while streaming (sampled every 2 ms) and the peak of
    Python allocations while streaming. (Not ``ru_maxrss``: on Linux a child starts with the resident peak
    of the process it was forked from, here the 512 px part.)"""
    import tracemalloc

    from benchmarks.timing import RSSPeak
    from zoo.stylize import StylizeOptions, build_stylizer
    from zoo.video import stylize_video

    stylizer = build_stylizer(StylizeOptions(model="johnson", weights=weights, progress=False))
    tracemalloc.start()
    with RSSPeak() as rss:
        stylize_video(clip, Path(clip).with_suffix(".out.mp4"), "johnson", stylizer=stylizer, temporal=True,
                      overwrite=True, progress=False)
    _, py_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(json.dumps({"rss_before_streaming_mib": round(rss.base / 2 ** 20, 1),
                      "peak_rss_while_streaming_mib": round((rss.base + rss.peak) / 2 ** 20, 1),
                      "rss_growth_while_streaming_mib": round(rss.peak / 2 ** 20, 1),
                      "python_allocations_peak_mib": round(py_peak / 2 ** 20, 2)}))


def memory_part(args, weights: Path) -> dict:
    rows = []
    env_vars = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    for n in args.memory_frames:
        frames, _, _ = make_clip("pan", n, 48, 64, seed=n)
        clip = write_clip(frames, Path(args.tmp) / f"memory{n}.mp4")
        del frames
        r = subprocess.run([sys.executable, "-m", "benchmarks.bench_video", "--memory-child", str(clip),
                            "--memory-weights", str(weights)], env=env_vars, cwd=REPO, capture_output=True, text=True)
        if r.returncode:
            raise RuntimeError(f"memory child failed: {r.stderr.strip()[-1000:]}")
        rows.append({"frames": n, **json.loads(r.stdout.strip().splitlines()[-1])})
    first, last = rows[0], rows[-1]
    result = {"clip": "pan, 64 x 48, 25 fps, with audio; johnson (random weights), --temporal", "runs": rows,
              "growth_mib_from_first_to_last": {
                  key: round(last[key] - first[key], 2)
                  for key in ("peak_rss_while_streaming_mib", "python_allocations_peak_mib")}}
    print(json.dumps(result), flush=True)
    return result


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--clips", nargs="+", default=["pan", "shapes", "noise"])
    p.add_argument("--frames", type=int, default=24, help="frames per synthetic clip (temporal part)")
    p.add_argument("--size", type=int, default=96, help="height of the temporal clips (width 4/3 of it)")
    p.add_argument("--temporal-reps", type=int, default=2, help="timed runs of each mode (Johnson; Gatys runs once)")
    p.add_argument("--no-gatys", action="store_true", help="skip Gatys in the temporal part")
    p.add_argument("--gatys-size", type=int, default=48)
    p.add_argument("--gatys-frames", type=int, default=6)
    p.add_argument("--gatys-steps", type=int, default=20, help="Gatys steps on the first frame (a fifth after)")
    p.add_argument("--speed-size", type=int, default=512)
    p.add_argument("--speed-frames", type=int, default=8)
    p.add_argument("--speed-reps", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=4, help="the batch size compared with the default (speed part)")
    p.add_argument("--cli-frames", type=int, default=2, help="frames stylised by one `zoo stylize` call each")
    p.add_argument("--memory-frames", type=int, nargs="+", default=[30, 300, 1500])
    p.add_argument("--memory-child", default=None, help=argparse.SUPPRESS)
    p.add_argument("--memory-weights", default=None, help=argparse.SUPPRESS)
    p.add_argument("--out", default=None, help="results JSON (default: benchmarks/results/video-<env>.json)")
    args = p.parse_args(argv)
    if args.memory_child is not None:
        memory_child(args.memory_child, args.memory_weights)
        return {}
    device = torch.device(args.device)
    with tempfile.TemporaryDirectory() as tmp:
        args.tmp = tmp
        weights = _johnson_weights(Path(tmp))
        env = environment(device)
        env["weights"] = ("RANDOM (Johnson default architecture; Gatys with a random VGG19): stability and speed "
                          "of the video path only, not the quality of a style")
        env["load_average_per_part"] = {}
        t0 = time.perf_counter()
        result = {"benchmark": "video stylisation (zoo.video)", "environment": env}
        result["temporal"] = temporal_part(args, weights, str(device))
        env["load_average_per_part"]["after_temporal"] = load_average()
        result["speed"] = speed_part(args, weights, str(device), env)
        env["load_average_per_part"]["after_speed"] = load_average()
        result["memory"] = memory_part(args, weights)
        env["load_average_at_end"] = load_average()
        result["total_seconds"] = round(time.perf_counter() - t0, 1)
    result["summary"] = {
        "warping_error_frame_by_frame_vs_temporal": {
            f"{r['model']}/{r['clip']}": [r["frame_by_frame"]["warping_error"], r["temporal"]["warping_error"]]
            for r in result["temporal"]},
        "frames_per_s_frame_by_frame_vs_temporal": {
            f"{r['model']}/{r['clip']}": [r["frame_by_frame"]["frames_per_s"], r["temporal"]["frames_per_s"]]
            for r in result["temporal"]},
        "video_vs_image_path_at_speed_size": result["speed"]["video_vs_image_path"],
        "frames_per_s_at_speed_size_video_path_vs_temporal": [result["speed"]["video_path_frames_per_s"],
                                                               result["speed"]["video_path_temporal_frames_per_s"]],
        "meets_0.9x": result["speed"]["video_vs_image_path"] >= 0.9,
        "video_vs_cli_per_frame": result["speed"]["video_vs_cli_per_frame"],
        f"memory_growth_mib_{args.memory_frames[0]}_to_{args.memory_frames[-1]}_frames":
            result["memory"]["growth_mib_from_first_to_last"],
    }
    cuda = device.type == "cuda"
    out_path = Path(args.out) if args.out else (
        Path(__file__).parent / "results" /
        (f"video-{torch.cuda.get_device_name(device).split()[-1].lower()}.json" if cuda
         else f"video-cpu-{os.cpu_count()}core.json"))
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out_path}")
    return result


if __name__ == "__main__":
    main()
