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
import yaml

from conftest import REPO
from hubserver import SHA, HubServer, Repo, hub_env, images_repo, parquet_bytes, parquet_repo, png_bytes  # noqa: F401

from zoo.data import hub as H
from zoo.data import sources as S
from zoo.data.folder import EmptyFolderError

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


def test_animegan_data_from_a_zip_by_url(tmp_path, monkeypatch, capsys):
    """AnimeGANv2's default data: folders of the reference's dataset.zip by URL (here a local server). The zip is
    fetched once (used unverified, saying so on stderr, as no independent hash exists), unpacked once, members
    that would escape the folder are skipped, and the archive's own <style>/smooth copies are used."""
    import functools
    import http.server
    import threading
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
        dm = AnimeData(f"{url}#path=train_photo", f"{url}#path=Hayao/style", image_size=32, batch_size=2,
                       num_workers=0)
        dm.prepare_data()
        dm.setup("fit")
        # no independent checksum exists for the zip: every use says so on stderr (docs/hub.md lists it)
        assert "is used unverified" in capsys.readouterr().err
        assert dm.smooth_dir.parts[-2:] == ("Hayao", "smooth") and dm.smooth_dir.is_dir()
        batch = next(iter(dm.train_dataloader()))
        assert batch["photo"].shape == batch["style"].shape == batch["smooth"].shape == (2, 3, 32, 32)
        assert not list((tmp_path / "hf-cache").rglob("escape.png"))
        (site / "dataset.zip").write_bytes(b"changed")  # the cached, unpacked copy is used: no new download
        assert S.data_file(url).read_bytes() != b"changed"
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
