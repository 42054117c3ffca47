"""Data by name (zoo.data.hub): Hub dataset ids at pinned revisions served by a local Hub the test builds
(tests/hubserver.py, the Hub's own routes and metadata, ``HF_ENDPOINT``), through huggingface_hub's real
download code: first use downloads and verifies, the subset option fetches only what it needs, offline runs use
what is there and name what is missing in one line, a corrupted file is refused and never trusted later, and a
recipe runs bare (no data arguments) with ``--data.limit``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from conftest import REPO
from hubserver import HubServer, Repo, parquet_bytes, png_bytes

from zoo.data import hub as H
from zoo.data import sources as S
from zoo.data.folder import EmptyFolderError

SHA = "ab" * 20


def images_repo(n: int = 3) -> Repo:
    """A repository of image files in the CycleGAN folder layout (small files: git blob ids, no LFS)."""
    files = {f"train{d}/{i}.png": png_bytes(10 * k + i) for k, d in enumerate("AB") for i in range(n)}
    files["README.md"] = b"---\nlicense: cc-by-4.0\n---\n"
    return Repo(files, sha=SHA)


def parquet_repo() -> Repo:
    """The Hub's CycleGAN copies (huggan/horse2zebra): split files with imageA / imageB columns, A cycled."""
    a = [png_bytes(i) for i in range(2)]
    b = [png_bytes(20 + i) for i in range(3)]
    train = parquet_bytes({"imageA": [a[0], a[1], a[0]], "imageB": b})  # A repeats to B's length
    test = parquet_bytes({"imageA": [a[1], None], "imageB": b[:2]})
    return Repo({"data/train-00000-of-00001.parquet": train, "data/test-00000-of-00001.parquet": test,
                 "dataset_infos.json": b"{}"}, sha=SHA)


@pytest.fixture
def hub_env(tmp_path, monkeypatch):
    """Online against the local Hub: the cache under tmp_path, no proxy for 127.0.0.1."""
    import huggingface_hub.constants as C

    def point(url: str) -> None:
        monkeypatch.setenv("HF_ENDPOINT", url)

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(C, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    return point


def test_parse_and_join():
    ds = H.parse_hub("hf://datasets/huggan/horse2zebra@" + SHA + "/testA#imageA")
    assert (ds.repo_id, ds.revision, ds.part, ds.column) == ("huggan/horse2zebra", SHA, "testA", "imageA")
    assert str(ds) == "hf://datasets/huggan/horse2zebra@" + SHA + "/testA#imageA"
    assert H.join("hf://datasets/a/b@main", "trainA") == "hf://datasets/a/b@main/trainA"
    assert H.join("some/folder", "trainA") == Path("some/folder/trainA")
    for bad in ("hf://datasets/justaname", "hf://datasets/bad id/x", "hf://datasets/a/b@../x", "hf://datasets/a/b/../x"):
        with pytest.raises(ValueError, match="hf://datasets"):
            H.parse_hub(bad)


def test_image_files_downloaded_verified_cached_and_limited(hub_env, tmp_path, monkeypatch):
    with HubServer({"test-org/tiny": images_repo(3)}) as hub:
        hub_env(hub.url)
        two = S.data_folder(f"hf://datasets/test-org/tiny@{SHA}/trainA", limit=2)
        assert sorted(p.name for p in two.iterdir()) == ["0.png", "1.png"]  # only what the subset needs
        assert sorted(hub.downloads) == ["trainA/0.png", "trainA/1.png"]
        full = S.data_folder(f"hf://datasets/test-org/tiny@{SHA}/trainA")
        assert full == two and sorted(p.name for p in full.iterdir()) == ["0.png", "1.png", "2.png"]
        assert hub.downloads.count("trainA/0.png") == 1  # cached: not fetched again
        assert (full / "2.png").read_bytes() == images_repo(3).files["trainA/2.png"]
        # under the Hugging Face cache, in its layout, plus the verified folder
        cache = tmp_path / "hf-cache"
        assert (cache / "datasets--test-org--tiny" / "snapshots" / SHA / "trainA" / "2.png").is_file()
        assert full.is_relative_to(cache / "stylezoo-data" / "test-org--tiny" / SHA)
    # offline now: what is there is used without the network, what is missing is one line
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert S.data_folder(f"hf://datasets/test-org/tiny@{SHA}/trainA") == full
    with pytest.raises(H.DatasetUnavailableError) as e:
        S.data_folder(f"hf://datasets/test-org/tiny@{SHA}/trainB")
    msg = str(e.value)
    assert "\n" not in msg and "test-org/tiny" in msg and SHA in msg and "HF_HUB_OFFLINE=1" in msg
    assert f"python -m zoo.data.sources hf://datasets/test-org/tiny@{SHA}/trainB" in msg and "--data." in msg
    assert isinstance(e.value, EmptyFolderError)  # a user error zoo.fit prints as one line


def test_branch_revision_is_resolved_once_and_recorded(hub_env, monkeypatch):
    with HubServer({"test-org/tiny": images_repo(1)}) as hub:
        hub_env(hub.url)
        folder = S.data_folder("hf://datasets/test-org/tiny/trainB")  # no revision: main, resolved
        assert folder.parent.name == SHA
        assert (H.store_dir() / "test-org--tiny" / "refs" / "main").read_text().strip() == SHA
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert S.data_folder("hf://datasets/test-org/tiny@main/trainB") == folder  # the recorded commit, offline


def test_corrupted_download_is_refused_and_never_trusted(hub_env, tmp_path):
    repo = images_repo(2)
    repo.corrupt.add("trainA/1.png")
    with HubServer({"test-org/tiny": repo}) as hub:
        hub_env(hub.url)
        with pytest.raises(H.DatasetChecksumError) as e:
            S.data_folder(f"hf://datasets/test-org/tiny@{SHA}/trainA")
        assert "trainA/1.png" in str(e.value) and "test-org/tiny" in str(e.value) and "\n" not in str(e.value)
        assert hub.downloads.count("trainA/1.png") == 2  # refused, fetched once more, refused again
        verified = H.store_dir() / "test-org--tiny" / SHA / "trainA"
        assert sorted(p.name for p in verified.iterdir()) == ["0.png"]  # the bad file never reached the folder
        snap = tmp_path / "hf-cache" / "datasets--test-org--tiny" / "snapshots" / SHA / "trainA" / "1.png"
        assert not snap.exists()  # and is gone from the cache: a later run downloads it again
        repo.corrupt.clear()
        folder = S.data_folder(f"hf://datasets/test-org/tiny@{SHA}/trainA")
        assert (folder / "1.png").read_bytes() == repo.files["trainA/1.png"]


def test_unreachable_hub_is_one_line(hub_env):
    hub_env("http://127.0.0.1:9")  # nothing listens there
    with pytest.raises(H.DatasetUnavailableError) as e:
        S.data_folder("hf://datasets/test-org/tiny@main/trainA")
    assert "\n" not in str(e.value) and "test-org/tiny" in str(e.value) and "revision main" in str(e.value)
    assert not list(H.store_dir().rglob("*.png"))  # nothing half-made


def test_parquet_dataset_cyclegan_columns(hub_env):
    pytest.importorskip("pyarrow")
    with HubServer({"huggan/tiny2zebra": parquet_repo()}) as hub:
        hub_env(hub.url)
        a = S.data_folder(f"hf://datasets/huggan/tiny2zebra@{SHA}/trainA")
        b = S.data_folder(f"hf://datasets/huggan/tiny2zebra@{SHA}/trainB")
        test_a = S.data_folder(f"hf://datasets/huggan/tiny2zebra@{SHA}/testA")
    images = lambda d: sorted(p.read_bytes() for p in d.rglob("*.png"))  # noqa: E731
    assert images(a) == sorted(png_bytes(i) for i in range(2))  # the cycled repeat is written once
    assert images(b) == sorted(png_bytes(20 + i) for i in range(3))
    assert images(test_a) == [png_bytes(1)]  # a missing (null) image is skipped
    assert a.name == "trainA#imageA" and not [p for p in a.rglob(".*")]  # no temporary left in a data folder


def test_url_needs_a_well_formed_sha256():
    with pytest.raises(ValueError, match="64 lower-case hex"):
        S.data_file("https://example.org/a.png#sha256=abc")


# ------------------------------------------------------------------------------------------ a recipe, bare
def _recipe_default(recipe: str) -> str:
    data = yaml.safe_load((REPO / "recipes" / recipe).read_text())
    return data["data"]["init_args"]["root"]


def test_recipe_runs_bare_against_the_hub(tmp_path):
    """`python -m zoo.fit recipes/cyclegan_horse2zebra.yaml --data.limit=2` with no data argument: the recipe's
    pinned dataset id and revision are fetched from the (local) Hub, verified, and the run completes; a second
    run offline uses the cache. The Hub copy is parquet (as huggan/horse2zebra is) where pyarrow is installed,
    else the same repository as image files."""
    try:
        import pyarrow  # noqa: F401
        layout = "parquet"
    except ImportError:
        layout = "images"
    ds = H.parse_hub(_recipe_default("cyclegan_horse2zebra.yaml"))
    assert ds.revision and len(ds.revision) == 40  # pinned to a commit
    repo = parquet_repo() if layout == "parquet" else images_repo(2)
    repo.sha = ds.revision
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env.update({"HF_HOME": str(tmp_path / "hf-home"), "TORCH_HOME": str(tmp_path / "torch-home"),
                "HF_HUB_OFFLINE": "0", "NO_PROXY": "127.0.0.1,localhost", "PYTHONWARNINGS": "ignore",
                "PYTHONPATH": os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)})
    env.pop("HF_HUB_CACHE", None)
    args = [sys.executable, "-m", "zoo.fit", str(REPO / "recipes/cyclegan_horse2zebra.yaml"), "--data.limit=2",
            "--data.load_size=36", "--data.crop_size=32", "--data.num_workers=0",
            "--model.network={n_blocks: 1, ngf: 4}", "--model.discriminator={n_layers: 2, ndf: 4}",
            "--trainer.fast_dev_run=true"]
    with HubServer({ds.repo_id: repo}) as hub:
        env["HF_ENDPOINT"] = hub.url
        r = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr[-3000:]
        assert hub.downloads  # it did fetch
    store = tmp_path / "hf-home" / "hub" / "stylezoo-data" / ds.repo_id.replace("/", "--") / ds.revision
    assert len(list(store.glob("trainA*/**/*.png"))) == 2 and len(list(store.glob("trainB*/**/*.png"))) >= 2
    env["HF_HUB_OFFLINE"] = "1"  # the Hub is gone; the cache serves the second run
    r = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    # and a dataset never fetched is one line naming it, exit 1, no traceback
    r = subprocess.run(args + ["--data.root=hf://datasets/test-org/never-fetched@main"], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    line = [ln for ln in r.stderr.splitlines() if ln.startswith("error:")]
    assert len(line) == 1 and "test-org/never-fetched" in line[0] and "revision main" in line[0]


# ------------------------------------------------------------------------------------------ streaming
def sharded_repo() -> tuple[Repo, int]:
    """(repository, number of files): three parquet shards of a 'train' split with one image column (the layout
    of the Hub's COCO copies) where pyarrow is installed, else the same six images as six files (each file is
    then one unit of the stream)."""
    images = {(k, i): png_bytes(100 + 10 * k + i) for k in range(3) for i in range(2)}
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return Repo({f"train/{k}-{i}.png": v for (k, i), v in images.items()}, sha=SHA), 6
    return Repo({f"data/train-0000{k}-of-00003.parquet": parquet_bytes({"image": [images[k, 0], images[k, 1]]})
                 for k in range(3)}, sha=SHA), 3


def test_stream_starts_before_the_whole_dataset_is_here(hub_env):
    from zoo.data.stream import HubStream

    repo, units = sharded_repo()
    with HubServer({"test-org/coco": repo}) as hub:
        hub_env(hub.url)
        stream = HubStream(f"hf://datasets/test-org/coco@{SHA}/train")
        with pytest.raises(TypeError):
            len(stream)  # unknown while streaming
        it = iter(stream)
        first = next(it)
        assert first.shape == (3, 36, 40)
        assert len(hub.downloads) <= 2  # the shard being read and at most the one fetched ahead
        rest = list(it)
        assert len(rest) == 5 and len(hub.downloads) == units  # each image once a pass, each file fetched once
        assert len(stream) == 6  # every shard here now: the length is known
        again = [x.sum().item() for x in stream]  # the second pass: local files, another order
        assert len(hub.downloads) == units and len(again) == 6
        assert sorted(again) == sorted([first.sum().item()] + [x.sum().item() for x in rest])


def test_stream_splits_files_between_workers(hub_env):
    from torch.utils.data import DataLoader

    from zoo.data.stream import HubStream

    with HubServer({"test-org/coco": sharded_repo()[0]}) as hub:
        hub_env(hub.url)
        stream = HubStream(f"hf://datasets/test-org/coco@{SHA}/train")
        sums = [x.sum().item() for x in DataLoader(stream, batch_size=None, num_workers=2)]
    expected = sorted(S.data_folder(f"hf://datasets/test-org/coco@{SHA}/train").rglob("*.png"))
    assert len(sums) == len(expected) == 6 and len(set(round(s, 3) for s in sums)) == 6  # no repeats, none lost
    # two distributed processes (rank, world as each reads them at set-up) share the files the same way
    ranks = []
    for rank in (0, 1):
        stream = HubStream(f"hf://datasets/test-org/coco@{SHA}/train")
        stream.rank, stream.world = rank, 2
        ranks.append({round(x.sum().item(), 3) for x in stream})
    assert not ranks[0] & ranks[1] and ranks[0] | ranks[1] == {round(s, 3) for s in sums}


# ------------------------------------------------------------------------------------------ zoo bench, bare
class _Half:
    needs_style = False

    def __call__(self, content, styles):
        return content * 0.5


@pytest.fixture
def bench_family():
    from zoo.families import FAMILIES, Family

    FAMILIES.register(Family(name="hubbench", description="test family", stylizer=lambda opts: _Half(),
                             needs_style=False))
    yield "hubbench_horse2zebra"
    FAMILIES.unregister("hubbench")


def test_bench_fetches_the_test_split_and_prints_the_published_row(hub_env, bench_family, tmp_path, capsys,
                                                                    monkeypatch):
    """`zoo bench --model <..>_horse2zebra --protocol cyclegan` with no data argument: the protocol's test split
    (huggan/horse2zebra at the pinned commit, testA/testB) is fetched and verified, and the published FID rows
    are printed beside ours."""
    import json

    import benchmarks.run as R
    from benchmarks.protocols import TEST_DATA

    ds = H.parse_hub(TEST_DATA["horse2zebra"])
    files = {f"test{d}/{i}.png": png_bytes(40 + 10 * k + i, size=(32, 32)) for k, d in enumerate("AB")
             for i in range(3 + k)}
    files["trainA/0.png"] = png_bytes(1)
    repo = Repo(files, sha=ds.revision)
    out = tmp_path / "r.json"
    args = ["--model", bench_family, "--protocol", "cyclegan", "--size", "32", "--feature-extractor", "random",
            "--metrics", "fid_inception", "--out", str(out), "--work-dir", str(tmp_path / "work"), "--no-progress"]
    with HubServer({ds.repo_id: repo}) as hub:
        hub_env(hub.url)
        assert R.main(args) == 0, capsys.readouterr().err
        assert "trainA/0.png" not in hub.downloads  # the test split only
    text = capsys.readouterr().out
    r = json.loads(out.read_text())
    assert r["protocol"]["n"] == 3 and r["protocol"]["n_reference"] == 4
    assert r["protocol"]["data_dir"] == TEST_DATA["horse2zebra"] and r["protocol"]["dataset"] == "horse2zebra"
    assert [p["metrics"]["fid_inception"] for p in r["published"]] == [62.1, 64.5]
    assert "published: fid_inception 62.1" in text and "published: fid_inception 64.5" in text
    # offline on a fresh cache: one line naming the dataset and revision, exit 2
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert R.main(args + ["--overwrite"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: dataset huggan/horse2zebra") and ds.revision in err[-1]


def test_bench_styleid_fetches_styleids_images_by_url(tmp_path, monkeypatch, capsys):
    """`zoo bench --protocol styleid` with no --content/--style: StyleID's images, each fetched by URL and checked
    against its pinned sha256 (here a local server with tiny stand-ins); a file that does not match is refused."""
    import functools
    import hashlib
    import http.server
    import json
    import threading

    import benchmarks.protocols as P
    import benchmarks.run as R
    from zoo.families import FAMILIES, Family

    site = tmp_path / "site"
    table = {}
    for folder, n in (("cnt", 2), ("sty", 2)):
        rows = []
        for i in range(n):
            data = png_bytes(60 + 10 * len(table) + i, size=(32, 32))
            (site / folder).mkdir(parents=True, exist_ok=True)
            (site / folder / f"{i:02d}.png").write_bytes(data)
            rows.append(f"{i:02d}.png {hashlib.sha256(data).hexdigest()}")
        table[folder] = "\n".join(rows)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *a: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    monkeypatch.setattr(P, "STYLEID_URL", f"http://127.0.0.1:{httpd.server_address[1]}")
    monkeypatch.setattr(P, "STYLEID_FILES", table)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    FAMILIES.register(Family(name="hubbench2", description="test", stylizer=lambda opts: _Half(), needs_style=False))
    out = tmp_path / "s.json"
    args = ["--model", "hubbench2", "--allow-random-weights", "--protocol", "styleid", "--n-content", "2",
            "--n-style", "2", "--size", "32", "--feature-extractor", "random", "--metrics", "lpips_alex",
            "--out", str(out), "--work-dir", str(tmp_path / "work"), "--no-progress"]
    try:
        assert R.main(args) == 0, capsys.readouterr().err
        r = json.loads(out.read_text())
        assert r["protocol"]["n"] == 4 and r["protocol"]["content_files"] == ["00.png", "01.png"]
        assert "published: lpips_alex 0.608" in capsys.readouterr().out
        (site / "sty" / "01.png").write_bytes(png_bytes(99, size=(32, 32)))  # the source changed
        monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "fresh-cache"))
        assert R.main(args + ["--overwrite"]) == 2
        err = capsys.readouterr().err.strip().splitlines()[-1]
        assert err.startswith("error: refusing data file 01.png") and "nothing was saved" in err
    finally:
        FAMILIES.unregister("hubbench2")
        httpd.shutdown()
        httpd.server_close()


def test_adain_data_streams_content_and_style(hub_env):
    """ContentStyleData with streaming (the AdaIN recipes' COCO + WikiArt): batches of (content, style) come from
    two streams, the style stream cycling."""
    from zoo.data.content_style import ContentStyleData

    with HubServer({"test-org/coco": sharded_repo()[0], "test-org/art": sharded_repo()[0]}) as hub:
        hub_env(hub.url)
        dm = ContentStyleData(f"hf://datasets/test-org/coco@{SHA}/train", f"hf://datasets/test-org/art@{SHA}",
                              batch_size=4, size=36, crop=32, num_workers=0, streaming=True)
        dm.prepare_data()
        assert hub.downloads == []  # streaming: nothing fetched up front
        batches = list(dm.train_dataloader())
    assert len(batches) == 1  # 6 content images, full batches of 4 (the style stream never runs out)
    content, style = batches[0]
    assert content.shape == style.shape == (4, 3, 32, 32)


def test_johnson_recipe_streams_its_content(hub_env, tmp_path, monkeypatch, capsys):
    """The Johnson recipe with streamed content (its default for COCO): a run of 2 steps with validation."""
    import zoo.fit
    from conftest import make_image

    monkeypatch.chdir(tmp_path)
    style = make_image(tmp_path / "style.png", (40, 40), seed=2)
    with HubServer({"test-org/coco": sharded_repo()[0]}) as hub:
        hub_env(hub.url)
        rc = zoo.fit.main([str(REPO / "recipes/johnson.yaml"), f"--data.content_dir=hf://datasets/test-org/coco@{SHA}",
                           f"--data.style={style}", "--data.image_size=32", "--data.batch_size=2",
                           "--data.num_workers=0", "--data.val_images=2", "--model.backbone.weights=none",
                           "--model.network={channels: [4, 8, 8], num_residual: 1}", "--trainer.max_steps=2",
                           "--trainer.val_check_interval=1", "--trainer.limit_val_batches=1",
                           "--trainer.num_sanity_val_steps=0", "--trainer.enable_progress_bar=false"])
    assert rc == 0, capsys.readouterr().err[-2000:]
    ckpt = torch.load(tmp_path / "runs" / "johnson" / "version_0" / "checkpoints" / "last.ckpt", weights_only=True)
    assert ckpt["global_step"] == 2


def test_bad_data_options_are_one_line(run, tmp_path):
    for option, words in (("--data.limit=0", "--data.limit 0: must be a whole number >= 1"),
                          ("--data.root=hf://datasets/justaname", "hf://datasets/ORG/NAME")):
        r = run("-m", "zoo.fit", str(REPO / "recipes/cyclegan_horse2zebra.yaml"), option,
                "--trainer.fast_dev_run=true")
        assert r.returncode in (1, 2) and "Traceback" not in r.stderr, r.stderr[-2000:]
        assert words in r.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize("good", [True, False], ids=["resumed", "bad-partial-refused"])
def test_an_interrupted_download_resumes_and_a_bad_partial_is_not_trusted(hub_env, tmp_path, good):
    """A download killed half way leaves its partial file in the cache: the next run resumes it with a Range
    request. If the partial bytes were wrong (a disk fault), the resumed file fails its check, is deleted, and
    is downloaded again whole; either way no partial file is left."""
    from zoo.data.fetch import hub_cache_paths

    repo = parquet_free_repo = images_repo(1)
    data = repo.files["trainA/0.png"]
    entry = repo.entry("trainA/0.png")
    blob, _ = hub_cache_paths(tmp_path / "hf-cache", "test-org/tiny", SHA,
                              {"path": entry["path"], "blob_id": entry["oid"]})
    blob.parent.mkdir(parents=True)
    half = len(data) // 2
    blob.with_name(blob.name + ".part").write_bytes(data[:half] if good else b"\0" * half)
    with HubServer({"test-org/tiny": parquet_free_repo}) as hub:
        hub_env(hub.url)
        folder = S.data_folder(f"hf://datasets/test-org/tiny@{SHA}/trainA")
    assert (folder / "0.png").read_bytes() == data
    assert hub.ranges[0] == f"bytes={half}-"  # resumed where it stopped
    assert hub.downloads.count("trainA/0.png") == (1 if good else 2)
    assert not list(blob.parent.glob("*.part"))


def test_animegan_data_from_a_zip_by_url(tmp_path, monkeypatch):
    """AnimeGANv2's default data: folders of the reference's dataset.zip by URL (here a local server). The zip is
    fetched once (its sha256 recorded at the first download, as GitHub publishes none), unpacked once, members
    that would escape the folder are skipped, and the archive's own <style>/smooth copies are used."""
    import functools
    import http.server
    import threading
    import warnings
    import zipfile

    from zoo.data.anime import AnimeData

    site = tmp_path / "site"
    site.mkdir()
    with zipfile.ZipFile(site / "dataset.zip", "w") as zf:
        for i in range(2):
            zf.writestr(f"train_photo/{i}.jpg", png_bytes(70 + i))  # PNG bytes: read by content
            zf.writestr(f"Hayao/style/{i}.jpg", png_bytes(80 + i))
            zf.writestr(f"Hayao/smooth/{i}.jpg", png_bytes(90 + i))
        zf.writestr("../escape.png", png_bytes(1))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *a: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    url = f"http://127.0.0.1:{httpd.server_address[1]}/dataset.zip"
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            dm = AnimeData(f"{url}#path=train_photo", f"{url}#path=Hayao/style", image_size=32, batch_size=2,
                           num_workers=0)
            dm.prepare_data()
            dm.setup("fit")
        assert any("no published checksum" in str(w.message) for w in caught)  # the first download is recorded
        assert dm.smooth_dir.parts[-2:] == ("Hayao", "smooth") and dm.smooth_dir.is_dir()
        batch = next(iter(dm.train_dataloader()))
        assert batch["photo"].shape == batch["style"].shape == batch["smooth"].shape == (2, 3, 32, 32)
        assert not list((tmp_path / "hf-cache").rglob("escape.png"))
        (site / "dataset.zip").write_bytes(b"changed")  # a later, different upload is refused
        archive = S.data_file(url)
        archive.unlink()
        with pytest.raises(H.DatasetChecksumError, match="refusing"):
            S.data_file(url)
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_prefetch_command_then_offline(hub_env, tmp_path, monkeypatch, capsys):
    """`python -m zoo.data.sources SOURCE --limit N` fetches ahead of time and prints the folder; offline
    later, the same source is served from the cache."""
    from zoo.data.sources import main

    with HubServer({"test-org/tiny": images_repo(3)}) as hub:
        hub_env(hub.url)
        assert main([f"hf://datasets/test-org/tiny@{SHA}/trainA", "--limit", "1"]) == 0
        assert len(hub.downloads) == 1
    folder = Path(capsys.readouterr().out.strip())
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert S.data_folder(f"hf://datasets/test-org/tiny@{SHA}/trainA", limit=1) == folder
    assert main([f"hf://datasets/test-org/tiny@{SHA}/trainB"]) == 1
    assert capsys.readouterr().err.startswith("error: dataset test-org/tiny")


def test_data_by_name_does_not_import_lightning():
    """zoo bench fetches its test data through zoo.data.sources without bringing Lightning in."""
    code = ("import sys, zoo.data.sources, zoo.data.stream, benchmarks.protocols; "
            "print('lightning' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO,
                       env={**os.environ, "PYTHONPATH": str(REPO)})
    assert r.returncode == 0 and r.stdout.strip() == "False", r.stderr[-2000:]
