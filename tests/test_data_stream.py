"""Streaming large Hub datasets (zoo.data.stream) through the data modules, and `zoo bench` with no data
argument (its test sets by Hub id or URL, the published rows beside ours), against the local Hub of
tests/hubserver.py."""

from __future__ import annotations

import pytest
import torch

from conftest import REPO
from hubserver import SHA, HubServer, Repo, hub_env, png_bytes, sharded_repo  # noqa: F401

from zoo.data import hub as H
from zoo.data import sources as S


# ------------------------------------------------------------------------------------------ streaming
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
