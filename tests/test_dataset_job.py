"""python -m zoo.stylize_dataset / zoo stylize-dataset: a dataset job on Lightning's Trainer.predict.

Every family on a folder tree (in process), tar shards, unreadable files, the style assignment, the errors of
a wrong job, and the 2-process DDP (gloo, CPU) run killed with SIGKILL and restarted, whose manifest equals
an uninterrupted single-process run's."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest
import torch

import zoo
from zoo.dataset_io import assign_style, item_seed, list_items
from zoo.families import FAMILIES
from zoo.stylize_dataset import main

from conftest import WAIT, make_image

FAMILY_NAMES = FAMILIES.names()


def content_tree(root: Path, n: int = 4, size=(24, 20)) -> list[str]:
    """``n`` images in two class folders, and an unreadable file; returns the readable ones' relative paths."""
    rels = []
    for i in range(n):
        rel = f"class{i % 2}/img{i}.{'jpg' if i % 3 else 'png'}"
        make_image(root / rel, size, seed=i)
        rels.append(rel)
    (root / "class0" / "broken.jpg").write_bytes(b"not a picture")
    return sorted(rels)


@pytest.fixture(scope="module")
def nets(tmp_path_factory) -> dict[str, Path]:
    """Random networks saved as --model.weights loads them (tiny ones for johnson and cyclegan), styles."""
    from zoo.nets.cyclegan import ResnetGenerator
    from zoo.nets.johnson import TransformerNet

    root = tmp_path_factory.mktemp("nets")
    torch.manual_seed(0)
    TransformerNet(channels=[8, 8, 8], num_residual=1).save_pretrained(root / "johnson")
    ResnetGenerator(n_blocks=1, ngf=8).save_pretrained(root / "cyclegan")
    out = {"johnson": root / "johnson", "cyclegan": root / "cyclegan", "styles": root / "styles"}
    for name in FAMILY_NAMES:
        family = FAMILIES[name]
        if name not in out and family.network is not None and not family.random_weights:
            zoo.create_model(name, pretrained=False).save_pretrained(root / name)
            out[name] = root / name
    for i in range(3):
        make_image(root / "styles" / f"painter{i}" / f"s{i}.jpg", (22, 26), seed=20 + i)
    return out


def family_args(family: str, nets: dict) -> list[str]:
    """The smoke settings of ``family`` from its declaration: random weights, random VGG, 2 Gatys steps."""
    f = FAMILIES[family]
    args = [f"--model.model={family}"]
    if f.needs_weights:
        args.append(f"--model.weights={nets.get(family, 'random')}")
    if "backbone_weights" in f.supports:
        args.append("--model.backbone_weights=none")
    if "steps" in f.supports:
        args.append("--model.steps=2")
    if f.needs_style:
        args.append(f"--data.style_dir={nets['styles']}")
    return args


def job(input_: Path, output: Path, *extra: str) -> list[str]:
    return ["folder", f"--data.input={input_}", f"--data.output={output}", "--data.num_workers=0",
            "--data.progress=false", "--trainer.accelerator=cpu", "--trainer.devices=1", *extra]


def manifest(output: Path) -> dict:
    return json.loads((output / "manifest.json").read_text())


def files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


# ------------------------------------------------------------------------------------------------ every family
@pytest.mark.parametrize("family", FAMILY_NAMES)
def test_every_family_stylises_a_folder_tree_with_a_manifest(family, nets, tmp_path, capsys):
    import hashlib

    from PIL import Image

    rels = content_tree(tmp_path / "in")
    out = tmp_path / "out"
    assert main(job(tmp_path / "in", out, *family_args(family, nets))) == 0
    assert f"{len(rels)} image(s) stylized in {out}, 1 skipped" in capsys.readouterr().out
    m = manifest(out)
    assert m["model"] == family and m["seed"] == 0 and m["counts"] == {"stylized": len(rels), "skipped": 1}
    assert [i["content"] for i in m["items"]] == rels
    assert m["skipped"] == [{"content": "class0/broken.jpg",
                             "error": "class0/broken.jpg: not an image, or a format Pillow cannot read"}]
    styles = sorted(p.relative_to(nets["styles"]).as_posix() for p in nets["styles"].rglob("*.jpg"))
    for item in m["items"]:
        assert item["output"] == item["content"]  # the tree is mirrored, the format kept
        data = (out / item["output"]).read_bytes()
        assert item["sha256"] == hashlib.sha256(data).hexdigest() and item["bytes"] == len(data)
        with Image.open(out / item["output"]) as img:
            assert img.size == (24, 20)
        if FAMILIES[family].needs_style:
            assert item["style"] == styles[assign_style(0, item["content"], len(styles))]
        else:
            assert item["style"] is None
    visible = [f for f in files(out) if not f.startswith(".stylezoo/")]
    assert visible == sorted([*rels, "manifest.json"])  # no temporaries, no extra files


def test_a_finished_job_run_again_does_nothing_and_keeps_its_files(nets, tmp_path, capsys):
    content_tree(tmp_path / "in")
    out = tmp_path / "out"
    args = job(tmp_path / "in", out, *family_args("johnson", nets))
    assert main(args) == 0
    first, stamps = manifest(out), {f: (out / f).stat().st_mtime_ns for f in files(out) if f.startswith("class")}
    assert main(args) == 0
    assert manifest(out) == first
    assert {f: (out / f).stat().st_mtime_ns for f in stamps} == stamps
    deleted = first["items"][1]["output"]
    (out / deleted).unlink()  # a recorded output that is gone is made again, the others are kept
    assert main(args) == 0
    assert manifest(out) == first and (out / deleted).is_file()
    assert {f: (out / f).stat().st_mtime_ns for f in stamps if f != deleted} == \
        {f: t for f, t in stamps.items() if f != deleted}


def test_tar_shards_are_inputs_and_a_bad_member_is_listed(nets, tmp_path, capsys):
    src = tmp_path / "src"
    for i in range(3):
        make_image(src / f"{i:06d}.jpg", (20, 18), seed=i)
    (src / "000003.jpg").write_bytes(b"\xff\xd8 truncated")
    (tmp_path / "in").mkdir()
    with tarfile.open(tmp_path / "in" / "shard-000.tar", "w") as tar:
        for p in sorted(src.iterdir()):
            tar.add(p, arcname=p.name)
            tar.addfile(tarfile.TarInfo(p.stem + ".cls"), fileobj=None)  # WebDataset's other fields: ignored
    (tmp_path / "in" / "shard-001.tar").write_bytes(b"not a tar file at all" * 40)
    out = tmp_path / "out"
    assert main(job(tmp_path / "in", out, *family_args("johnson", nets), "--data.output_format=png")) == 0
    m = manifest(out)
    assert [i["output"] for i in m["items"]] == [f"shard-000/{i:06d}.png" for i in range(3)]
    assert [s["content"] for s in m["skipped"]] == ["shard-000/000003.jpg", "shard-001.tar"]
    assert m["skipped"][1]["error"].startswith("shard-001.tar: unreadable tar shard")


def test_style_assignment_depends_on_seed_and_path_only():
    rels = [f"n{c:03d}/img{i}.JPEG" for c in range(20) for i in range(50)]
    drawn = [assign_style(7, r, 13) for r in rels]
    assert drawn == [assign_style(7, r, 13) for r in reversed(rels)][::-1]
    assert set(drawn) == set(range(13))  # every style is used
    assert max(drawn.count(k) for k in range(13)) < 2 * len(rels) / 13  # roughly uniform
    assert drawn != [assign_style(8, r, 13) for r in rels]
    assert item_seed(7, rels[0]) == item_seed(7, rels[0]) != item_seed(7, rels[1])


def test_listing_is_sorted_and_skips_hidden_files_and_the_output(tmp_path):
    for rel in ["b/2.png", "a/1.jpg", ".hidden/x.png", "a/.y.png", "out/z.png", "notes.txt"]:
        make_image(tmp_path / rel) if rel.endswith("png") or rel.endswith("jpg") else (tmp_path / rel).write_text("x")
    items, broken = list_items(tmp_path, exclude=tmp_path / "out")
    assert [i.rel for i in items] == ["a/1.jpg", "b/2.png"] and broken == []


# ------------------------------------------------------------------------------------------------ user errors
@pytest.mark.parametrize("case,message", [
    ("foreign", "not empty and not a dataset job's folder"),
    ("changed", "holds a job with other settings (seed 0 -> 5)"),
    ("no-input", "--data.input {tmp}/nope: no such folder"),
    ("style-missing", "model 'adain' needs style images: --data.style_dir"),
    ("style-extra", "model 'johnson' takes no style images: leave out --data.style_dir"),
    ("option", "model 'johnson' does not support --model.alpha"),
    ("format", "--data.output_format 'gif': expected one of same, png, jpg, webp"),
])
def test_a_wrong_job_is_one_line_and_exit_1(case, message, nets, tmp_path, run):
    content_tree(tmp_path / "in")
    out = tmp_path / "out"
    args = job(tmp_path / "in", out, *family_args("johnson", nets))
    if case == "foreign":
        make_image(out / "mine.png")
    elif case == "changed":
        assert main(args) == 0
        args.append("--data.seed=5")
    elif case == "no-input":
        args = job(tmp_path / "nope", out, *family_args("johnson", nets))
    elif case == "style-missing":
        args = job(tmp_path / "in", out, "--model.model=adain", "--model.weights=random")
    elif case == "style-extra":
        args.append(f"--data.style_dir={nets['styles']}")
    elif case == "option":
        args.append("--model.alpha=0.5")
    elif case == "format":
        args.append("--data.output_format=gif")
    r = run("-m", "zoo", "stylize-dataset", *args)
    assert r.returncode == 1, r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and message.format(tmp=tmp_path) in last, r.stderr
    assert "Traceback" not in r.stderr


# ------------------------------------------------------------------------------------------------ DDP, SIGKILL
def _start(args: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "zoo.stylize_dataset", *args], env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_two_processes_killed_and_restarted_finish_with_the_uninterrupted_manifest(tmp_path, offline_env):
    """2-process DDP (gloo, CPU) SIGKILLed once outputs exist, then restarted: the outputs written before the
    kill are kept (not rewritten), none is duplicated, and the manifest equals a 1-process uninterrupted run's."""
    from zoo.nets.johnson import TransformerNet

    torch.manual_seed(0)
    TransformerNet(channels=[16, 32, 64], num_residual=2).save_pretrained(tmp_path / "net")
    rels = [f"c{i % 3}/img{i:02d}.png" for i in range(40)]
    for i, rel in enumerate(rels):
        make_image(tmp_path / "in" / rel, (256, 192), seed=i)
    (tmp_path / "in" / "c0" / "bad.jpg").write_bytes(b"")
    env = {**offline_env, "OMP_NUM_THREADS": "1"}
    common = [f"--model.model=johnson", f"--model.weights={tmp_path / 'net'}", "--data.flush_every=3",
              "--data.progress=false", "--trainer.accelerator=cpu", "--data.num_workers=0"]
    ddp = ["folder", f"--data.input={tmp_path / 'in'}", f"--data.output={tmp_path / 'out'}", *common,
           "--trainer.devices=2", "--trainer.strategy=ddp"]
    out = tmp_path / "out"

    proc = _start(ddp, env)
    deadline = time.monotonic() + WAIT
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if len([p for p in out.rglob("*.png") if not p.name.startswith(".")]) >= 4:
                break
            time.sleep(0.05)
        assert proc.poll() is None, f"the job ended before it could be killed:\n{proc.stdout.read()}"
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(60)
    assert not (out / "manifest.json").exists()
    before = {p.relative_to(out).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns)
              for p in out.rglob("*.png") if not p.name.startswith(".")}
    assert 4 <= len(before) < len(rels)

    restart = _start(ddp, env)
    log = restart.communicate(timeout=600)[0]
    assert restart.returncode == 0, log
    assert f"{len(rels)} image(s) stylized in {out}, 1 skipped" in log
    for rel, stamp in before.items():  # finished outputs were not redone
        p = out / rel
        assert (p.stat().st_ino, p.stat().st_mtime_ns) == stamp, rel
    assert [f for f in files(out) if not f.startswith(".stylezoo/")] == sorted([*rels, "manifest.json"])

    reference = tmp_path / "reference"
    r = subprocess.run([sys.executable, "-m", "zoo.stylize_dataset", "folder", f"--data.input={tmp_path / 'in'}",
                        f"--data.output={reference}", *common, "--trainer.devices=1"], env=env, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert manifest(out) == manifest(reference)
    assert len({i["sha256"] for i in manifest(out)["items"]}) == len(rels)  # real, distinct pictures


def test_more_processes_than_images(nets, tmp_path, run):
    """A process without a share of the images (1 image, 2 processes) takes part and writes nothing."""
    make_image(tmp_path / "in" / "only.png", (20, 16))
    args = job(tmp_path / "in", tmp_path / "out", *family_args("johnson", nets), "--trainer.strategy=ddp")
    r = run("-m", "zoo.stylize_dataset", *[a.replace("devices=1", "devices=2") for a in args])
    assert r.returncode == 0, r.stderr
    assert manifest(tmp_path / "out")["counts"] == {"stylized": 1, "skipped": 0}
    assert files(tmp_path / "out" / ".stylezoo" / "parts") and len(
        "".join(p.read_text() for p in (tmp_path / "out" / ".stylezoo" / "parts").iterdir()).splitlines()) == 1


def test_ctrl_c_stops_with_130_and_the_same_command_finishes(tmp_path, offline_env):
    from zoo.nets.johnson import TransformerNet

    torch.manual_seed(0)
    TransformerNet(channels=[16, 32, 64], num_residual=2).save_pretrained(tmp_path / "net")
    for i in range(24):
        make_image(tmp_path / "in" / f"img{i:02d}.png", (256, 192), seed=i)
    args = job(tmp_path / "in", tmp_path / "out", "--model.model=johnson", f"--model.weights={tmp_path / 'net'}",
               "--data.flush_every=100")
    proc = _start(args, {**offline_env, "OMP_NUM_THREADS": "1"})
    deadline = time.monotonic() + WAIT
    try:
        while time.monotonic() < deadline and proc.poll() is None and \
                not [p for p in (tmp_path / "out").rglob("img*.png")]:
            time.sleep(0.05)
        assert proc.poll() is None, proc.stdout.read()
        proc.send_signal(signal.SIGINT)
        log = proc.communicate(timeout=WAIT)[0]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, log
    assert log.strip().splitlines()[-1] == "interrupted: run the same command again to resume"
    assert "Traceback" not in log
    # what was written before Ctrl-C is kept: recorded at the interrupt (flush_every is larger than the job), or
    # adopted by the next run if Ctrl-C came between an output's rename and its record
    written = {p: p.stat().st_mtime_ns for p in (tmp_path / "out").rglob("img*.png")}
    assert written and not (tmp_path / "out" / "manifest.json").exists()
    done = subprocess.run([sys.executable, "-m", "zoo.stylize_dataset", *args], env=offline_env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert manifest(tmp_path / "out")["counts"] == {"stylized": 24, "skipped": 0}
    assert {p: p.stat().st_mtime_ns for p in written} == written


def test_benchmark_script_writes_its_results(tmp_path, offline_env):
    out = tmp_path / "r.json"
    r = subprocess.run([sys.executable, "-m", "benchmarks.bench_dataset", "--images", "3", "--size", "32", "--rounds",
                        "1", "--max-processes", "1", "--out", str(out)], env=offline_env, capture_output=True, text=True,
                       timeout=600, cwd=Path(__file__).resolve().parent.parent)
    assert r.returncode == 0, r.stderr[-3000:]
    result = json.loads(out.read_text())
    env = result["environment"]
    assert env["weights"].startswith("RANDOM") and env["torch_threads_per_process"] == 1
    assert isinstance(env["load_high"], bool) and len(env["load_average_at_end"]) == 3
    row = result["rounds"][0]["dataset job, 1 process"]
    assert row["per_process"][0]["items"] == 3 and row["images_per_s"] > 0
    summary, base = result["summary"]["dataset job, 1 process"], result["rounds"][0]["zoo stylize"]["images_per_s"]
    if base is None:  # 3 images: start-up noise may swamp zoo stylize's work; then no ratio is claimed
        assert summary["per_process_vs_zoo_stylize"] is None and summary["met"] is None
    else:
        assert summary["per_process_vs_zoo_stylize"] == pytest.approx(row["images_per_s"] / base, rel=1e-2, abs=1e-3)


def test_a_wrong_option_found_when_loading_does_not_claim_the_output_folder(nets, tmp_path, run):
    content_tree(tmp_path / "in")
    out = tmp_path / "out"
    r = run("-m", "zoo.stylize_dataset", *job(tmp_path / "in", out, "--model.model=johnson",
                                              f"--model.weights={tmp_path / 'missing'}"))
    assert r.returncode == 1 and r.stderr.strip().splitlines()[-1].startswith(f"error: {tmp_path / 'missing'}: no such")
    assert not (out / ".stylezoo" / "job.json").exists()
    assert main(job(tmp_path / "in", out, *family_args("johnson", nets))) == 0  # the corrected command runs
