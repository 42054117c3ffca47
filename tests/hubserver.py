"""A tiny Hugging Face Hub on 127.0.0.1 for the data tests: dataset repositories the test builds, served on the
routes huggingface_hub uses (``/api/datasets/{id}/revision/{rev}``, ``/api/datasets/{id}/tree/{rev}[/{path}]``,
``/datasets/{id}/resolve/{rev}/{path}``), with the same metadata the Hub gives (commit, git blob ids, LFS
sha256), so zoo.data.hub runs its real code path against it (``HF_ENDPOINT``)."""

from __future__ import annotations

import hashlib
import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from conftest import make_image


def png_bytes(seed: int, size=(40, 36)) -> bytes:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        return make_image(Path(d) / "x.png", size, seed=seed).read_bytes()


def parquet_bytes(columns: dict[str, list[bytes | None]]) -> bytes:
    """A parquet file in the layout of the ``datasets`` library's Image feature: struct<bytes, path> columns."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    struct = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    arrays = {k: pa.array([None if v is None else {"bytes": v, "path": None} for v in vals], type=struct)
              for k, vals in columns.items()}
    buf = io.BytesIO()
    pq.write_table(pa.table(arrays), buf)
    return buf.getvalue()


class Repo:
    def __init__(self, files: dict[str, bytes], lfs: tuple[str, ...] = (".parquet",), sha: str = "1" * 40) -> None:
        self.files, self.lfs, self.sha = dict(files), lfs, sha
        self.corrupt: set[str] = set()  # files served with other bytes than the ones published

    def entry(self, path: str) -> dict:
        data = self.files[path]
        blob = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
        e = {"type": "file", "path": path, "size": len(data), "oid": blob}
        if path.endswith(self.lfs):
            e["lfs"] = {"oid": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 130}
        return e


class HubServer:
    """``with HubServer({"org/name": Repo(...)}) as hub: hub.url`` ; ``hub.downloads`` counts file GETs."""

    def __init__(self, repos: dict[str, Repo]) -> None:
        self.repos = repos
        self.downloads: list[str] = []
        self.ranges: list[str] = []  # the Range header of each download ("" for a whole file)
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _send(self, code: int, body: bytes = b"", headers: dict | None = None, head: bool = False):
                self.send_response(code)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if not head:
                    self.wfile.write(body)

            def _route(self, head: bool):
                path = unquote(urlsplit(self.path).path)
                parts = path.strip("/").split("/")
                if parts[:2] == ["api", "datasets"] and len(parts) >= 6:
                    repo = server.repos.get(f"{parts[2]}/{parts[3]}")
                    if repo is None:
                        return self._send(404, b'{"error": "Repository not found"}', {"X-Error-Code": "RepoNotFound"})
                    if parts[4] == "revision":
                        return self._send(200, json.dumps({"id": f"{parts[2]}/{parts[3]}", "sha": repo.sha}).encode(),
                                          {"Content-Type": "application/json"}, head)
                    if parts[4] == "tree":
                        prefix = "/".join(parts[6:])
                        listing = [repo.entry(p) for p in sorted(repo.files) if p.startswith(prefix)]
                        return self._send(200, json.dumps(listing).encode(), {"Content-Type": "application/json"}, head)
                if parts[0] == "datasets" and len(parts) >= 6 and parts[3] == "resolve":
                    repo = server.repos.get(f"{parts[1]}/{parts[2]}")
                    name = "/".join(parts[5:])
                    if repo is None or name not in repo.files:
                        return self._send(404, b"not found", {"X-Error-Code": "EntryNotFound"})
                    e = repo.entry(name)
                    data = repo.files[name]
                    if name in repo.corrupt:
                        data = data[:-1] + bytes([data[-1] ^ 0xFF])
                    etag = e["lfs"]["oid"] if "lfs" in e else e["oid"]
                    headers = {"X-Repo-Commit": repo.sha, "ETag": f'"{etag}"', "Accept-Ranges": "bytes"}
                    if "lfs" in e:
                        headers.update({"X-Linked-Etag": f'"{etag}"', "X-Linked-Size": str(len(data))})
                    if not head:
                        server.downloads.append(name)
                    wanted = self.headers.get("Range", "")
                    if not head:
                        server.ranges.append(wanted)
                    if wanted.startswith("bytes=") and not head:  # a resumed download, as the Hub serves it
                        start = int(wanted[6:].split("-")[0] or 0)
                        headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
                        return self._send(206, data[start:], headers)
                    return self._send(200, data, headers, head)
                return self._send(404, b"no such route")

            def do_GET(self):
                self._route(head=False)

            def do_HEAD(self):
                self._route(head=True)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "HubServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# ------------------------------------------------------------------------------------------ test repositories
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
