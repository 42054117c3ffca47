"""One file of a Hub dataset repository at a commit, into the Hugging Face cache, resumable.

``hf_hub_download`` downloads to a process-unique temporary file, so a download that is interrupted starts
again from zero. For datasets (parquet shards of 500 MB) this module keeps the partial file instead and resumes
it with an HTTP Range request, as ``wget -c`` does, then places the whole file where huggingface_hub would
(``datasets--ORG--NAME/blobs/<etag>`` and ``snapshots/<commit>/<path>``, a relative link), so that
``hf download``, ``hf_hub_download(local_files_only=True)`` and this module share one cache. It does not check
the file: :func:`zoo.data.hub.fetch_verified` does, before use (a partial file with wrong bytes makes a whole
file that fails its check, and is then deleted and downloaded afresh).

The request goes through huggingface_hub's HTTP session and headers (``HF_ENDPOINT``, ``HF_TOKEN``, proxies);
the progress bar is huggingface_hub's (size, rate, time left; ``HF_HUB_DISABLE_PROGRESS_BARS`` hides it).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

__all__ = ["hub_cache_paths", "download_resumable"]


def hub_cache_paths(cache: Path, repo_id: str, sha: str, entry: dict) -> tuple[Path, Path]:
    """(blob, snapshot path) of a dataset file in the Hugging Face cache layout; the etag of an LFS file is its
    sha256, of a small file its git blob id."""
    repo = cache / f"datasets--{repo_id.replace('/', '--')}"
    return repo / "blobs" / (entry.get("sha256") or entry["blob_id"]), repo / "snapshots" / sha / entry["path"]


def download_resumable(cache: Path, repo_id: str, sha: str, entry: dict, endpoint: str | None) -> Path:
    """The snapshot path of ``entry`` (a file of ``repo_id`` at commit ``sha``), downloaded when missing; a
    partial download (``<blob>.part``) left by an interrupted run is resumed. Raises on network errors."""
    from filelock import FileLock
    from huggingface_hub import hf_hub_url
    from huggingface_hub.utils import build_hf_headers, get_session, tqdm

    blob, link = hub_cache_paths(cache, repo_id, sha, entry)
    if link.exists():
        return link
    blob.parent.mkdir(parents=True, exist_ok=True)
    part = blob.with_name(blob.name + ".part")
    with FileLock(str(blob) + ".lock"):  # one writer per file, across processes and DataLoader workers
        if not blob.exists():
            url = hf_hub_url(repo_id, entry["path"], repo_type="dataset", revision=sha, endpoint=endpoint)
            headers = build_hf_headers()
            have = part.stat().st_size if part.exists() else 0
            if have:
                headers["Range"] = f"bytes={have}-"
            with get_session().stream("GET", url, headers=headers, follow_redirects=True, timeout=60) as r:
                if r.status_code == 416 and have == entry.get("size"):  # complete already
                    pass
                else:
                    if r.status_code != 206:
                        r.raise_for_status()
                        have = 0  # the server sent the whole file
                    with open(part, "ab" if have else "wb") as f, tqdm(
                            total=entry.get("size"), initial=have, unit="B", unit_scale=True, unit_divisor=1024,
                            desc=Path(entry["path"]).name, name="huggingface_hub.http_get") as bar:
                        for chunk in r.iter_bytes(1 << 20):
                            f.write(chunk)
                            bar.update(len(chunk))
            os.replace(part, blob)
    link.parent.mkdir(parents=True, exist_ok=True)
    tmp = link.with_name(f".{link.name}.{os.getpid()}.link")
    tmp.unlink(missing_ok=True)
    try:
        os.symlink(os.path.relpath(blob, link.parent), tmp)
    except OSError:  # no symlinks (some Windows setups): a copy, as huggingface_hub does
        shutil.copyfile(blob, tmp)
    os.replace(tmp, link)
    return link
