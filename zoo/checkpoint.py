"""Reading weights from the files users have: safetensors exports, Lightning checkpoints, torch files.

Nothing is unpickled beyond tensors and plain containers: torch files are read with
``weights_only=True``. Loading is strict everywhere (:func:`load_strict`, :class:`zoo.nets.base.StrictHubMixin`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import torch
from torch import Tensor

from .errors import ConfigError, MissingFileError, NotFoundError

__all__ = ["read_checkpoint", "load_torch_file", "strip_prefix", "load_strict", "Importer"]


def read_checkpoint(path: str | os.PathLike) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """Return ``(state_dict, hyper_parameters)`` of a checkpoint file.

    * ``.safetensors``: the tensors; hyper-parameters from the safetensors metadata or a ``config.json``
      beside the file (``save_pretrained`` layout), else empty.
    * ``.ckpt`` (Lightning): ``state_dict`` and ``hyper_parameters``.
    * ``.pt`` / ``.pth``: a state dict (or a dict holding one under ``state_dict``).
    """
    path = Path(path)
    if path.is_dir():
        path = path / "model.safetensors"
    if not path.is_file():
        raise MissingFileError(f"{path}: no such checkpoint file")
    if path.suffix == ".safetensors":
        import json

        from safetensors import safe_open
        from safetensors.torch import load_file

        try:
            with safe_open(str(path), framework="pt") as f:
                meta = f.metadata() or {}
            tensors = load_file(str(path))
        except Exception as e:  # truncated, or not a safetensors file
            raise ConfigError(f"{path}: not a readable safetensors file ({type(e).__name__}: {e})") from None
        config = path.with_name("config.json")
        hparams: dict[str, Any] = {}
        try:
            if "config" in meta:
                hparams = json.loads(meta["config"])
            elif config.is_file():
                hparams = json.loads(config.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            where = config if "config" not in meta else f"{path} (its config metadata)"
            raise ConfigError(f"{where}: not valid JSON ({e})") from None
        if not isinstance(hparams, dict):
            raise ConfigError(f"{config}: expected a JSON object of the network's options, got {type(hparams).__name__}")
        return tensors, hparams
    obj = load_torch_file(path)
    if not isinstance(obj, Mapping):
        raise ConfigError(f"{path}: expected a state dict or a Lightning checkpoint, got {type(obj).__name__}")
    if "state_dict" in obj and isinstance(obj["state_dict"], Mapping):
        return dict(obj["state_dict"]), dict(obj.get("hyper_parameters") or {})
    return dict(obj), {}


def load_torch_file(path: str | os.PathLike, **kwargs: Any) -> Any:
    """``torch.load(path, map_location="cpu", weights_only=True, **kwargs)``; a file it cannot read is a
    one-line ValueError that starts with the path and says why (torch's own messages do not)."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True, **kwargs)
    except (OSError, MemoryError):
        raise
    except Exception as e:
        found = re.search(r"Unsupported global: GLOBAL (\S+)", str(e))
        if found:  # a pickled object (a class, a function call) that weights_only refused to create
            raise ConfigError(f"{path}: holds Python objects besides tensors ({found.group(1)}), which are never "
                             "unpickled (torch.load weights_only=True); save the state dict alone, or as "
                             "safetensors") from None
        # a truncated zip, a text file, an image ...
        raise ConfigError(f"{path}: not a readable weights file (neither safetensors nor a file of torch.save, "
                         "or a damaged one)") from None


def strip_prefix(state_dict: Mapping[str, Tensor], prefix: str) -> dict[str, Tensor]:
    """The entries under ``prefix`` (e.g. ``"generator."``), with the prefix removed."""
    out = {k[len(prefix):]: v for k, v in state_dict.items() if k.startswith(prefix)}
    if not out:
        heads = sorted({k.split(".", 1)[0] for k in state_dict})
        raise NotFoundError(f"no weights under {prefix!r} in this checkpoint (it has: {', '.join(heads)})")
    return out


def load_strict(module: torch.nn.Module, state_dict: Mapping[str, Tensor], source: str = "checkpoint") -> None:
    """``load_state_dict(strict=True)`` with an error that names the source and the first mismatches."""
    result = module.load_state_dict(state_dict, strict=False)
    problems = []
    if result.missing_keys:
        problems.append(f"missing keys {result.missing_keys[:5]}{' ...' if len(result.missing_keys) > 5 else ''}")
    if result.unexpected_keys:
        problems.append(f"unexpected keys {result.unexpected_keys[:5]}{' ...' if len(result.unexpected_keys) > 5 else ''}")
    if problems:
        raise ConfigError(f"{source} does not match {type(module).__name__}: {'; '.join(problems)}")


@dataclass(frozen=True)
class Importer:
    """A reference implementation's checkpoint layout: how to recognise it, convert it to the network's keys,
    and the network config that computes what the reference computes with it. A family lists its importers
    (:attr:`zoo.families.Family.importers`); :func:`zoo.loading.load_network` tries them on a file that is
    neither a training checkpoint nor an export."""

    what: str                                                  # for messages: "a fast_neural_style .pth"
    detect: Callable[[Mapping[str, Tensor]], bool]
    convert: Callable[[Mapping[str, Tensor]], dict[str, Tensor]]
    config: Callable[[Mapping[str, Tensor]], dict[str, Any]]   # of the converted state dict
