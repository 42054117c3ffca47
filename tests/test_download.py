"""zoo.download: every file fetched from outside is verified before it is read.

Files are served by a local http.server on 127.0.0.1 (or file:// URLs) from folders the tests fill;
nothing is downloaded from the internet. The helpers here (``serve``, ``fill_hub_cache``, ``corrupt``)
are used by the tests of each download path (test_backbone, test_hub, test_benchmarks).
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import os
import re
import subprocess
import threading
from pathlib import Path

import pytest

from zoo import download as D

SHA_A = hashlib.sha256(b"weights A" * 1000).hexdigest()


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder; ``/short/<file>`` announces more bytes than it sends (a cut connection)."""

    def do_GET(self):  # noqa: N802 (http.server's name)
        if self.path.startswith("/short/"):
            data = (Path(self.directory) / self.path[len("/short/"):]).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data) + 100))
            self.end_headers()
            self.wfile.write(data)
            self.close_connection = True
            return
        super().do_GET()

    def log_message(self, *args):
        pass


@pytest.fixture
def serve(tmp_path, monkeypatch):
    """(folder, base URL) of an HTTP server on 127.0.0.1 serving the folder, stopped after the test."""
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    root = tmp_path / "www"
    root.mkdir()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def corrupt(path: Path) -> None:
    """Flip one bit of the last byte of ``path`` (through symlinks: the Hugging Face cache links blobs)."""
    path = Path(path).resolve()
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01
    path.write_bytes(bytes(data))


def fill_hub_cache(cache: Path, repo_id: str, revision: str, filename: str, data: bytes) -> Path:
    """Write ``data`` into the huggingface_hub cache layout: blobs/, snapshots/<rev>/<file>, refs/main."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    blob = repo / "blobs" / hashlib.sha256(data).hexdigest()
    blob.parent.mkdir(parents=True, exist_ok=True)
    blob.write_bytes(data)
    snap = repo / "snapshots" / revision / filename
    snap.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(os.path.relpath(blob, snap.parent), snap)
    (repo / "refs").mkdir(exist_ok=True)
    (repo / "refs" / "main").write_text(revision)
    return snap


def _one_line(err: pytest.ExceptionInfo) -> str:
    msg = str(err.value)
    assert "\n" not in msg
    return msg


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return tmp_path / "torch" / "hub" / "checkpoints"


def test_download_is_streamed_verified_and_renamed(serve, cache):
    root, base = serve
    (root / "w.pth").write_bytes(b"weights A" * 1000)
    dst = D.fetch_url(f"{base}/w.pth", cache / "w.pth", SHA_A, what="test weights", progress=False)
    assert dst == cache / "w.pth" and dst.read_bytes() == b"weights A" * 1000
    assert sorted(p.name for p in cache.iterdir()) == ["w.pth"]  # a published sha256: no record, no leftovers
    assert D.fetch_url(f"{base}/nothing-there", dst, SHA_A, what="test weights") == dst  # cached: not fetched


def test_first_download_is_recorded_then_modified_or_substituted_copies_are_refused(serve, cache):
    root, base = serve
    (root / "w.pth").write_bytes(b"weights A" * 1000)
    url, dst = f"{base}/w.pth", cache / "w.pth"
    with pytest.warns(UserWarning, match="no published checksum"):
        D.fetch_url(url, dst, None, what="test weights", progress=False)
    record = D.record_path(dst)
    assert record.read_text() == f"{SHA_A}  w.pth\n"
    assert subprocess.run(["sha256sum", "-c", record.name], cwd=cache, capture_output=True).returncode == 0
    D.fetch_url(url, dst, None, what="test weights")  # the same file again: fine, no new warning

    corrupt(dst)  # a modified cached copy
    with pytest.raises(D.ChecksumMismatchError) as err:
        D.fetch_url(url, dst, None, what="test weights", manual="; or pass --x PATH")
    msg = _one_line(err)
    assert f"refusing to load test weights: {dst} has sha256 " in msg and f"expected {SHA_A[:12]}..." in msg
    assert str(record) in msg and f"Delete it and download {url} again; or pass --x PATH." in msg
    assert SHA_A not in msg  # short checksums only

    dst.unlink()  # the next download is a different file (the upstream changed, or someone swapped it)
    (root / "w.pth").write_bytes(b"weights B" * 1000)
    with pytest.raises(D.ChecksumMismatchError) as err:
        D.fetch_url(url, dst, None, what="test weights", progress=False)
    msg = _one_line(err)
    assert f"refusing test weights downloaded from {url}" in msg and "nothing was saved" in msg
    assert f"if the new file is genuine, delete {record}" in msg
    assert sorted(p.name for p in cache.iterdir()) == ["w.pth.sha256"]
    assert record.read_text() == f"{SHA_A}  w.pth\n"  # the record is not overwritten

    (root / "w.pth").write_bytes(b"weights A" * 1000)  # the genuine file again
    assert D.fetch_url(url, dst, None, what="test weights", progress=False).read_bytes() == b"weights A" * 1000


def test_published_prefix_is_checked_and_the_full_sha256_recorded(serve, cache):
    root, base = serve
    (root / "vgg-1a2b3c4d.pth").write_bytes(b"weights A" * 1000)
    url = f"{base}/vgg-1a2b3c4d.pth"
    with pytest.raises(D.ChecksumMismatchError, match="sha256 prefix published in its name"):
        D.fetch_url(url, cache / "v.pth", "1a2b3c4d", what="test weights", progress=False)
    assert not (cache / "v.pth").exists()
    dst = D.fetch_url(url, cache / "v.pth", SHA_A[:8], what="test weights", progress=False)
    assert D.record_path(dst).read_text().split()[0] == SHA_A


def test_wrong_published_sha256_refuses_the_download(serve, cache):
    root, base = serve
    (root / "w.pth").write_bytes(b"weights A" * 1000)
    with pytest.raises(D.ChecksumMismatchError) as err:
        D.fetch_url(f"{base}/w.pth", cache / "w.pth", "0" * 64, what="test weights", progress=False)
    assert "expected 000000000000... (its published sha256)" in _one_line(err)
    assert list(cache.iterdir()) == []  # nothing saved, no partial file


def test_cut_download_leaves_nothing_behind(serve, cache):
    root, base = serve
    (root / "w.pth").write_bytes(b"weights A" * 1000)
    with pytest.raises(D.WeightsUnavailableError) as err:
        D.fetch_url(f"{base}/short/w.pth", cache / "w.pth", None, what="test weights", progress=False)
    assert "could not be downloaded" in _one_line(err)
    assert list(cache.iterdir()) == []  # no file, no partial, no record


def test_http_error_and_offline_are_one_line_saying_where_to_put_the_file(serve, cache, monkeypatch):
    _, base = serve
    url = f"{base}/missing.pth"
    with pytest.raises(D.WeightsUnavailableError) as err:
        D.fetch_url(url, cache / "missing.pth", None, what="test weights", manual="; or pass --x PATH")
    msg = _one_line(err)
    assert "HTTPError" in msg and f"copy it to {cache / 'missing.pth'}" in msg and msg.endswith("--x PATH.")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(D.WeightsUnavailableError) as err:
        D.fetch_url(url, cache / "missing.pth", None, what="test weights")
    msg = _one_line(err)
    assert "HF_HUB_OFFLINE=1 forbids downloading" in msg and f"Download {url}" in msg


def test_file_url_mirror(tmp_path, cache):
    src = tmp_path / "mirror" / "w.pth"
    src.parent.mkdir()
    src.write_bytes(b"weights A" * 1000)
    dst = D.fetch_url(src.as_uri(), cache / "w.pth", SHA_A, what="test weights", progress=False)
    assert dst.read_bytes() == src.read_bytes()


def test_unreadable_record_is_refused(tmp_path):
    f = tmp_path / "w.pth"
    f.write_bytes(b"weights A" * 1000)
    D.record_path(f).write_text("not a checksum\n")
    with pytest.raises(D.ChecksumMismatchError, match=re.escape(f"{D.record_path(f)} is not a checksum record")):
        D.verify_file(f, None, what="test weights", fix="")


def test_hub_file_is_checked_against_its_pinned_sha256(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    rev = "0123456789abcdef0123456789abcdef01234567"
    snap = fill_hub_cache(tmp_path / "hf", "org/repo", rev, "model.safetensors", b"weights A" * 1000)
    path = D.fetch_hub_file("org/repo", "model.safetensors", rev, SHA_A, what="test weights")
    assert path == snap and path.read_bytes() == b"weights A" * 1000
    corrupt(snap)
    with pytest.raises(D.ChecksumMismatchError) as err:
        D.fetch_hub_file("org/repo", "model.safetensors", rev, SHA_A, what="test weights", manual="; or pass --x PATH")
    msg = _one_line(err)
    assert f"Delete the cache folder {tmp_path / 'hf' / 'models--org--repo'}" in msg and msg.endswith("--x PATH.")
    with pytest.raises(D.WeightsUnavailableError, match="not in the Hugging Face cache"):
        D.fetch_hub_file("org/other", "model.safetensors", rev, SHA_A, what="test weights")


def test_pinned_checksums_agree_with_the_names_that_publish_their_prefix():
    from benchmarks import metrics as M
    from zoo import backbone as B

    for url, sha in [*D.TORCHVISION_WEIGHTS.values(), (M.INCEPTION_URL, M.INCEPTION_SHA256)]:
        assert url.startswith("https://")
        prefix = re.search(r"-([0-9a-f]{8,})\.pth$", url).group(1)
        assert re.fullmatch(r"[0-9a-f]{8,64}", sha) and sha.startswith(prefix), url
    for repo, rev, sha in [*B.TIMM_WEIGHTS.values(), (M.ART_INCEPTION_REPO, M.ART_INCEPTION_REVISION,
                                                     M.ART_INCEPTION_SHA256)]:
        assert re.fullmatch(r"[0-9a-f]{40}", rev) and re.fullmatch(r"[0-9a-f]{64}", sha), repo
    assert B.CAFFE_VGG19_URL.startswith("https://")
