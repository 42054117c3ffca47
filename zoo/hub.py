"""Compatibility module (deprecated, kept for one release): what ``zoo.hub`` held now lives in

* :mod:`zoo.factory`: ``create_model``, ``list_models``, ``pretrained_net``, ``load_pretrained_state_dict``,
  ``load_export`` (the ``save_pretrained`` layout's loader);
* :mod:`zoo.download`: verified downloads and their cache (``converted_dir``, ``canonical_download_path``, the
  errors); :mod:`zoo.convert`: the canonical-checkpoint conversion;
* :mod:`zoo.publish`: export (the ``save_pretrained`` layout), model cards, publishing;
* :mod:`zoo.cli`: the ``zoo publish`` flags and the ``zoo list --pretrained`` table.

Which network of a training checkpoint is exported (``VARIANT_EXPORTS`` before) and which architectures
are training-only (``TRAINING_ONLY_ARCHITECTURES``) are read from the family declarations
(:mod:`zoo.families`).
"""

from __future__ import annotations

from .cli import add_publish_arguments, format_pretrained_table, pretrained_rows, publish_from_args
from .download import (ChecksumMismatchError, NotPublishedError, UnsafeCheckpointError, canonical_download_path,
                       converted_dir, sha256_file)
from .download import hf_cache_dir as hub_cache_dir
from .factory import create_model, list_models, load_export, load_pretrained_state_dict, pretrained_net
from .publish import ExportResult, PublishResult, export_for_hub, publish, render_model_card

__all__ = [
    "create_model", "list_models", "pretrained_net", "load_pretrained_state_dict", "load_export", "export_for_hub",
    "publish", "render_model_card", "pretrained_rows", "format_pretrained_table", "add_publish_arguments",
    "publish_from_args", "ChecksumMismatchError", "NotPublishedError", "UnsafeCheckpointError", "ExportResult",
    "PublishResult", "converted_dir", "canonical_download_path", "hub_cache_dir", "sha256_file",
]
