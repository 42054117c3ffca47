"""zoo.download: every file fetched from outside is verified before it is read.

Files are served by a local http.server on 127.0.0.1 (or file:// URLs) from folders the tests fill;
nothing is downloaded from the internet. The helpers here (``serve``, ``fill_hub_cache``, ``corrupt``)
are used by the tests of each download path (test_backbone, test_hub, test_benchmarks).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.server
import os
import re
import subprocess
import threading
import warnings
from pathlib import Path

import pytest

from zoo import download as D
from zoo.pins import file_digests

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


CAFFE_VGG19 = "caffe_vgg19"  # pinned_stand_ins' key for zoo.backbone.CAFFE_VGG19_PIN (vgg_normalised.pth)

_REPIN = """
import dataclasses
from zoo.pins import Pin


def repin(pins):
    from zoo import backbone
    from zoo.weights import WEIGHTS

    before = {}
    for key, sha in pins.items():
        pin = Pin(sha256=sha, source="test: the sha256 of the stand-in file")
        if key == "caffe_vgg19":
            before[key] = backbone.CAFFE_VGG19_PIN
            backbone.CAFFE_VGG19_PIN = pin
        else:
            e = before[key] = WEIGHTS.unregister(key)
            WEIGHTS.register(dataclasses.replace(e, canonical=dataclasses.replace(e.canonical, pin=pin)))
    return before


def restore(before):
    from zoo import backbone
    from zoo.weights import WEIGHTS

    for key, old in before.items():
        if key == "caffe_vgg19":
            backbone.CAFFE_VGG19_PIN = old
        else:
            WEIGHTS.unregister(key)
            WEIGHTS.register(old)
"""


@contextlib.contextmanager
def pinned_stand_ins(files: dict[str, bytes], site: Path):
    """Inside: each weights tag of ``files`` (or :data:`CAFFE_VGG19`) pinned to the sha256 of its stand-in
    bytes (a test's file in place of the published one), in this process and in subprocesses started with
    the yielded environment (a ``sitecustomize`` module in ``site`` re-pins them there; nothing in the
    package reads a test hook)."""
    pins = {key: hashlib.sha256(data).hexdigest() for key, data in files.items()}
    site.mkdir(parents=True, exist_ok=True)
    (site / "sitecustomize.py").write_text(f"{_REPIN}\nrepin({pins!r})\n")
    namespace: dict = {}
    exec(compile(_REPIN, "<repin>", "exec"), namespace)
    before = namespace["repin"](pins)
    repo = Path(__file__).resolve().parent.parent
    try:
        yield {"PYTHONPATH": os.pathsep.join([str(site), str(repo)])}
    finally:
        namespace["restore"](before)


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


def test_pinned_cached_copy_that_fails_is_moved_aside_and_never_blocks_a_good_copy(serve, cache, capfd):
    """A truncated hand-copied file is refused in one line and moved aside, so the good copy placed (or
    downloaded) afterwards loads; nothing is ever recorded beside the file."""
    root, base = serve
    good = b"weights A" * 1000
    (root / "w.pth").write_bytes(good)
    url, dst = f"{base}/w.pth", cache / "w.pth"
    pin = D.Pin(sha256=SHA_A, source="test: the sha256 of the stand-in file")
    cache.mkdir(parents=True)
    dst.write_bytes(good[:1234])  # copied by hand, cut short
    with pytest.raises(D.ChecksumMismatchError) as err:
        D.fetch_url(url, dst, pin, what="test weights", manual="; or pass --x PATH")
    msg = _one_line(err)
    assert f"refusing to load test weights: {dst} has sha256 " in msg and f"expected {SHA_A[:12]}..." in msg
    assert f"moved aside to {D.rejected_path(dst)}" in msg and f"Run again to download {url} afresh" in msg
    assert msg.endswith("--x PATH.") and SHA_A not in msg  # short checksums only
    assert not dst.exists() and D.rejected_path(dst).read_bytes() == good[:1234]

    dst.write_bytes(good)  # the good copy, by hand
    assert D.fetch_url(url, dst, pin, what="test weights").read_bytes() == good
    dst.write_bytes(good[:99])  # truncated again; this time the next run downloads it afresh
    with pytest.raises(D.ChecksumMismatchError):
        D.fetch_url(url, dst, pin, what="test weights", progress=False)
    assert D.fetch_url(url, dst, pin, what="test weights", progress=False).read_bytes() == good
    assert sorted(p.name for p in cache.iterdir()) == ["w.pth", "w.pth.rejected"]  # no record, no partial
    assert "warning" not in capfd.readouterr().err  # a pinned file: nothing to warn about


def test_a_record_beside_the_file_is_never_trusted(serve, cache, capfd):
    """A forged ``<file>.sha256`` can neither make a swapped file load nor block the genuine one."""
    root, base = serve
    url, dst = f"{base}/w.pth", cache / "w.pth"
    pin = D.Pin(sha256=SHA_A, source="test: the sha256 of the stand-in file")
    cache.mkdir(parents=True)
    swapped = b"weights B" * 1000
    dst.write_bytes(swapped)
    D.record_path(dst).write_text(f"{hashlib.sha256(swapped).hexdigest()}  w.pth\n")  # forged to match it
    with pytest.raises(D.ChecksumMismatchError, match="refusing to load test weights"):
        D.fetch_url(url, dst, pin, what="test weights")
    assert not dst.exists()
    err = capfd.readouterr().err
    assert f"warning: ignoring {D.record_path(dst)}: it records sha256 " in err and "(delete it)" in err
    assert len(err.strip().splitlines()) == 1

    dst.write_bytes(b"weights A" * 1000)  # the genuine file, with the forged record still beside it
    assert D.fetch_url(url, dst, pin, what="test weights").read_bytes() == b"weights A" * 1000


def test_unpinned_file_is_used_with_a_one_line_warning_on_stderr(serve, cache, capfd):
    """A file without an independent hash: no record is written or read; every process says so once."""
    root, base = serve
    (root / "w.pth").write_bytes(b"weights A" * 1000)
    url, dst = f"{base}/w.pth", cache / "w.pth"
    pin = D.Pin(unpinned="the test upstream publishes no checksum")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # not a Python warning (the CLI silences those without -v): stderr
        D.fetch_url(url, dst, pin, what="test weights", progress=False)
    err = capfd.readouterr().err.strip().splitlines()
    assert err == [f"warning: test weights: {dst} is used unverified: the test upstream publishes no checksum "
                   f"(docs/hub.md, 'Files without a pinned hash'); compare it with a copy you trust"]
    D.fetch_url(url, dst, pin, what="test weights")  # the same process: said once
    assert capfd.readouterr().err == ""
    assert sorted(p.name for p in cache.iterdir()) == ["w.pth"]  # nothing recorded beside it


def test_wrong_published_sha256_refuses_the_download(serve, cache):
    root, base = serve
    (root / "w.pth").write_bytes(b"weights A" * 1000)
    with pytest.raises(D.ChecksumMismatchError) as err:
        D.fetch_url(f"{base}/w.pth", cache / "w.pth", "0" * 64, what="test weights", progress=False)
    msg = _one_line(err)
    assert "expected 000000000000... (the hash pinned in Stylezoo)" in msg and "nothing was saved" in msg
    assert list(cache.iterdir()) == []  # nothing saved, no partial file


def test_git_blob_pin_is_the_id_git_gives_the_file(tmp_path):
    """A git blob id pin (AnimeGANv2's files) checks the content the way `git hash-object` names it."""
    f = tmp_path / "w.pt"
    f.write_bytes(b"weights A" * 1000)
    blob = subprocess.run(["git", "hash-object", str(f)], capture_output=True, text=True, check=True).stdout.strip()
    assert file_digests(f).git_blob == blob
    pin = D.Pin(git_blob=blob, source="test: git hash-object of the stand-in")
    assert D.verify_file(f, pin, what="test weights", fix="") == SHA_A
    corrupt(f)
    with pytest.raises(D.ChecksumMismatchError, match=f"has git blob id [0-9a-f]{{12}}..., expected {blob[:12]}"):
        D.verify_file(f, pin, what="test weights", fix="")
    with pytest.raises(D.ChecksumMismatchError, match="has 9000 bytes, expected 9001"):
        D.verify_file(f, D.Pin(sha256=SHA_A, size=9001, source="test: a size that differs"), what="w", fix="")


def test_a_pin_must_be_well_formed_and_cited():
    assert D.Pin(sha256=SHA_A, source="where it is published").problems() == []
    assert "cite" in " ".join(D.Pin(sha256=SHA_A).problems())
    assert "64 lower-case hex" in " ".join(D.Pin(sha256=SHA_A[:8], source="a name's prefix").problems())
    assert "40 lower-case hex" in " ".join(D.Pin(git_blob="abc", source="a git tree somewhere").problems())
    assert "no reason" in " ".join(D.Pin().problems())
    with pytest.raises(ValueError, match="64 lower-case hex"):
        D.fetch_url("https://example.invalid/w.pth", "w.pth", SHA_A[:8], what="test weights")


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


def _every_download():
    """(name, url or Hub repository, Pin) of every file Stylezoo downloads, from the constants that hold them."""
    from benchmarks import metrics as M
    from zoo import backbone as B
    from zoo.weights import WEIGHTS

    out = []
    for tag in WEIGHTS.names():
        e = WEIGHTS.get(tag)
        if e.canonical is not None:
            out.append((tag, e.canonical.url, e.canonical.pin))
        if e.published:  # Hub LFS sha256 at the pinned commit; the table's schema checks the commit
            out.append((tag, e.repo_id, D.Pin(sha256=e.sha256, source=f"Hub LFS at {e.revision}")))
    out += [(name, url, pin) for name, (url, pin) in D.TORCHVISION_WEIGHTS.items()]
    out.append(("caffe vgg19", B.CAFFE_VGG19_URL, B.CAFFE_VGG19_PIN))
    out.append(("fid inception", M.INCEPTION_URL, D.Pin(sha256=M.INCEPTION_SHA256, source=M.INCEPTION_SOURCE)))
    hub = [*B.TIMM_WEIGHTS.values(), (M.ART_INCEPTION_REPO, M.ART_INCEPTION_REVISION, M.ART_INCEPTION_SHA256)]
    for repo, rev, sha in hub:
        assert re.fullmatch(r"[0-9a-f]{40}", rev), repo  # the Hub's LFS sha256 of that commit
        out.append((repo, repo, D.Pin(sha256=sha, source=f"the Hub's LFS metadata at commit {rev}")))
    return out


def _unpinned_section() -> str:
    text = (Path(__file__).resolve().parent.parent / "docs" / "hub.md").read_text()
    return text.split("### Files without a pinned hash", 1)[1].split("\n## ", 1)[0]


@pytest.mark.parametrize("name, url, pin", _every_download(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_download_has_a_well_formed_cited_pin_or_is_listed_without_one(name, url, pin):
    assert isinstance(pin, D.Pin) and pin.problems() == [], (name, pin.problems())
    assert url.startswith("https://") or "/" in url and "://" not in url, url  # a URL, or a Hub repository
    file = url.split("?", 1)[0].rsplit("/", 1)[-1]
    prefix = re.search(r"-([0-9a-f]{8})\.pth$", file)  # torchvision's convention: the sha256's first 8 digits
    if prefix:
        assert pin.sha256 is not None and pin.sha256.startswith(prefix.group(1)), name
    if pin.pinned:
        assert file not in _unpinned_section(), f"{file} is pinned now: take it off the list in docs/hub.md"
    else:
        assert f"`{file}`" in _unpinned_section(), f"{file} has no pinned hash: list it in docs/hub.md, with why"


def test_animeganv2_pins_are_blob_ids_of_the_pinned_commit():
    from zoo.weights import WEIGHTS

    entries = [WEIGHTS.get(t) for t in WEIGHTS.names() if WEIGHTS.get(t).arch == "animeganv2"]
    assert len(entries) == 4
    for e in entries:
        commit = re.search(r"/raw/([0-9a-f]{40})/weights/", e.canonical.url).group(1)
        pin = e.canonical.pin
        assert pin.git_blob and commit in pin.source and e.canonical.url.rsplit("/", 1)[-1] in pin.source


def test_raft_pins_are_torchvisions_default_files():
    from torchvision.models import optical_flow as of

    assert D.TORCHVISION_WEIGHTS["raft_large"][0] == of.Raft_Large_Weights.DEFAULT.url
    assert D.TORCHVISION_WEIGHTS["raft_small"][0] == of.Raft_Small_Weights.DEFAULT.url


class _Payload:
    """An object whose unpickling would create a file: proof that it was (not) unpickled."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("content", ["pickle", "random bytes", "truncated"])
def test_bad_raft_cache_is_one_line_naming_the_file_and_the_fix(content, tmp_path, monkeypatch):
    """RAFT's weights go through the verified path: whatever sits in its cache is checked against the pinned
    sha256 before anything reads it; a bad file is moved aside with one line saying what to do."""
    import torch

    from zoo.flow import build_flow

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    url = D.TORCHVISION_WEIGHTS["raft_large"][0]
    cached = tmp_path / "th" / "hub" / "checkpoints" / url.rsplit("/", 1)[-1]
    cached.parent.mkdir(parents=True)
    marker = tmp_path / "pwned"
    if content == "pickle":
        torch.save({"weight": torch.zeros(1), "evil": _Payload(marker)}, cached)
    elif content == "random bytes":
        cached.write_bytes(os.urandom(4096))
    else:
        cached.write_bytes(b"PK\x03\x04" + os.urandom(100))
    with pytest.raises(D.ChecksumMismatchError) as err:
        build_flow("raft")
    msg = _one_line(err)
    assert msg.startswith(f"refusing to load RAFT weights: {cached} has ") and "(the hash pinned in Stylezoo)" in msg
    assert f"moved aside to {D.rejected_path(cached)}" in msg
    assert f"copy it to {cached}" in msg and msg.endswith("or use --flow dis (no weights).")
    assert not marker.exists() and not cached.exists()
    with pytest.raises(D.WeightsUnavailableError, match="RAFT weights are not available: .* is not cached"):
        build_flow("raft")  # the bad copy is out of the way: the next run fetches (here: offline, where to put it)


def test_first_use_of_an_unpinned_tag_says_so_on_stderr_without_verbose(run, offline_env, tmp_path):
    """`zoo stylize --model johnson_candy` (pytorch/examples' zip has no pinned hash): a one-line warning on
    stderr, without -v; a truncated zip is moved aside in one line (exit 1), the good one put back works."""
    import io
    import zipfile

    import torch
    from PIL import Image

    from test_johnson import _original_state_dict
    from zoo.weights import WEIGHTS

    _, sd = _original_state_dict(old_format=True)
    buf, archive = io.BytesIO(), io.BytesIO()
    torch.save(sd, buf)
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("saved_models/candy.pth", buf.getvalue())
    entry = WEIGHTS.get("johnson_candy")
    cached = Path(offline_env["TORCH_HOME"]) / "hub" / "checkpoints" / entry.canonical.filename
    cached.parent.mkdir(parents=True)
    Image.new("RGB", (24, 20), (120, 80, 40)).save(tmp_path / "in.png")
    args = ("-m", "zoo", "stylize", "in.png", "--model", "johnson_candy", "-o", "out.png", "--overwrite")

    cached.write_bytes(archive.getvalue()[:-40])  # copied by hand, cut short
    bad = run(*args)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr, bad.stderr
    line = [l for l in bad.stderr.splitlines() if l.startswith("error: ")]
    assert len(line) == 1 and str(cached) in line[0] and f"moved aside to {D.rejected_path(cached)}" in line[0]
    assert not cached.exists()

    cached.write_bytes(archive.getvalue())  # the good copy: nothing left from the bad one stands in its way
    good = run(*args)
    assert good.returncode == 0, good.stderr
    warned = [l for l in good.stderr.splitlines() if "used unverified" in l]
    assert len(warned) == 1 and warned[0].startswith("warning: ") and str(cached) in warned[0]
    assert "docs/hub.md" in warned[0] and (tmp_path / "out.png").is_file()
