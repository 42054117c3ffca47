"""The table of pretrained weights: one frozen entry per tag, with everything needed to load and cite it.

Names. Every entry has a short *tag* that is also its ``hubconf.py`` entry point and its
``zoo.create_model`` name (``johnson_candy``, ``cyclegan_photo2anime``), and a timm-style
``family.suffix`` *name* (``johnson.candy``, ``cyclegan.photo2anime``); both resolve to the entry. ``arch`` is
the entry's family (:mod:`zoo.families`); ``former`` lists deprecated earlier names, which
:func:`zoo.families.resolve` still accepts for one release.

Where the weights come from (exactly one of these holds for every entry):

* ``published=True``: a ``.safetensors`` file in a Hugging Face Hub repository, pinned to a commit
  (``revision``, 40 hex digits) and checked against ``sha256`` before it is read (:mod:`zoo.download`).
* ``canonical=CanonicalSource(...)``: the public checkpoint of the reference implementation, downloaded
  from its original URL (https), verified against the hash pinned here (``pin``, citing a source
  independent of the download; :mod:`zoo.download`), read with ``torch.load(weights_only=True)`` and
  converted by the importer named in ``converter`` on every use (until we mirror it on the Hub).
* neither: our own weights that are not published yet; ``pretrained=True`` raises an error that names
  ``recipe``, the config that trains them.

Metrics are never typed here: :meth:`PretrainedWeights.metrics` reads them from
``benchmarks/results/*.json`` (see :func:`read_metrics` for the fields it reads).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Iterator, Mapping

from .pins import Pin
from .registry import UnknownNameError
from .resources import results_dir

__all__ = [
    "CanonicalSource",
    "PretrainedWeights",
    "WeightsTable",
    "WEIGHTS",
    "get_weights",
    "read_metrics",
    "zoo_table_rows",
    "RESULTS_DIR",
]

_SHA256 = re.compile(r"[0-9a-f]{64}")
_COMMIT = re.compile(r"[0-9a-f]{40}")
_TAG = re.compile(r"[a-z][a-z0-9_]*")  # a Python identifier: tags are hubconf function names

#: Where the benchmark results live (``benchmarks/results/*.json``; zoo.results, which reads them).
RESULTS_DIR = results_dir()


@dataclass(frozen=True)
class CanonicalSource:
    """A checkpoint published by the authors of a reference implementation, and how we import it.

    ``url`` is the original download address: ``https://`` (every upstream serves it), or ``file://`` for
    a local mirror. ``member`` is the path of the checkpoint inside the downloaded archive when ``url`` is
    a ``.zip`` (pytorch/examples ships its four styles in one zip). ``converter`` is the dotted path of
    the importer ``convert_<source>_state_dict(sd) -> dict`` in the network's module; it is imported only
    when the weights are converted. ``pin`` (:class:`zoo.pins.Pin`) is the downloaded file's content hash
    from a source independent of the download, citing where it is published, or the reason why none
    exists (such a file is used with a warning; docs/hub.md lists them); ``sha256`` is a shorthand for a
    pin of that sha256 cited by ``citation``. ``file`` is the local file name in
    ``$TORCH_HOME/hub/checkpoints`` (default: the URL's last path component). ``licence`` is the upstream
    licence (SPDX id, lower case as the Hub writes it).
    """

    url: str
    converter: str
    licence: str
    citation: str
    member: str | None = None
    sha256: str | None = None
    file: str | None = None
    pin: Pin = Pin()

    def __post_init__(self) -> None:
        if self.sha256 is not None and self.pin == Pin():
            object.__setattr__(self, "pin", Pin(sha256=self.sha256, source=self.citation))

    @property
    def filename(self) -> str:
        """The local file name of the download (``file``, else the URL's last path component)."""
        return self.file or self.url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]


@dataclass(frozen=True)
class PretrainedWeights:
    """One pretrained tag. See the module docstring for the three kinds of source."""

    tag: str                      # short name: hubconf entry point and create_model name
    name: str                     # timm-style "arch.suffix"
    arch: str                     # family name (zoo.families), or an architecture in zoo.registry.MODELS
    description: str              # one line, used in docstrings, model cards and the README table
    licence: str                  # of the weights: SPDX id, lower case ("other": see licence_terms); upstream's
    #                               for canonical ones
    training_data: str            # what the network was trained on, in words
    repo_id: str                  # Hugging Face Hub repository (planned until published)
    config: Mapping[str, Any] = field(default_factory=dict)  # JSON config passed to the MODELS builder
    filename: str = "model.safetensors"
    revision: str | None = None   # pinned Hub commit (40 hex digits) once published
    sha256: str | None = None     # sha256 of ``filename`` at ``revision`` once published
    published: bool = False
    recipe: str | None = None     # recipes/<name>.yaml that trains these weights (ours)
    canonical: CanonicalSource | None = None
    datasets: tuple[str, ...] = ()  # Hugging Face dataset ids for the model card, where one exists
    paper: str = ""               # citation of the method
    former: tuple[str, ...] = ()  # earlier tags / names (deprecated; results files may still use them)
    # What an SPDX id cannot say: with licence "other", the upstream terms in one line (shown with the
    # licence in `zoo list --pretrained`, the README table and the model card) and where they are stated.
    licence_terms: str = ""
    licence_link: str = ""

    def __post_init__(self) -> None:
        # The config is part of a frozen record: keep a read-only view of a private copy.
        object.__setattr__(self, "config", MappingProxyType(json.loads(json.dumps(dict(self.config)))))

    @property
    def source(self) -> str:
        """Where the weights come from, in one line: our recipe or the canonical checkpoint's URL."""
        if self.canonical is not None:
            return f"converted from {self.canonical.url} ({self.canonical.converter.rsplit('.', 1)[-1]})"
        return f"trained by {self.recipe}" if self.recipe else "unknown"

    @property
    def licence_text(self) -> str:
        """The licence as tables show it: the id, and the terms where the id is ``other``."""
        return f"{self.licence}: {self.licence_terms}" if self.licence_terms else self.licence

    @property
    def available(self) -> bool:
        """Whether ``pretrained=True`` can load these weights (from the Hub or the canonical URL)."""
        return self.published or self.canonical is not None

    def config_dict(self) -> dict[str, Any]:
        """A mutable copy of the network config."""
        return json.loads(json.dumps(dict(self.config)))

    def metrics(self, results_dir: str | os.PathLike | None = None) -> list[dict[str, Any]]:
        """The benchmark results recorded for this tag (see :func:`read_metrics`); empty when none."""
        return read_metrics(self, results_dir)

    def validate(self) -> None:
        """Raise ValueError if the entry breaks the table's rules (the schema test runs this on all)."""
        problems = []
        if not _TAG.fullmatch(self.tag):
            problems.append(f"tag {self.tag!r} is not a lower-case Python identifier")
        if self.name.split(".", 1)[0] != self.arch or "." not in self.name:
            problems.append(f"name {self.name!r} must be '{self.arch}.<suffix>'")
        if not self.filename.endswith(".safetensors"):
            problems.append(f"filename {self.filename!r}: only safetensors files are served from the Hub")
        if "/" not in self.repo_id:
            problems.append(f"repo_id {self.repo_id!r} is not 'owner/name'")
        if self.published:
            if not (self.revision and _COMMIT.fullmatch(self.revision)):
                problems.append(f"published but revision {self.revision!r} is not a 40-hex commit")
            if not (self.sha256 and _SHA256.fullmatch(self.sha256)):
                problems.append(f"published but sha256 {self.sha256!r} is not 64 lower-case hex digits")
        else:
            if self.revision is not None or self.sha256 is not None:
                problems.append("revision/sha256 are set but published is False")
        if self.canonical is None and not self.published and not self.recipe:
            problems.append("unpublished weights of our own must name the recipe that trains them")
        if self.recipe is not None and not (self.recipe.startswith("recipes/") and self.recipe.endswith(".yaml")):
            problems.append(f"recipe {self.recipe!r} is not recipes/<name>.yaml")
        if self.canonical is not None:
            c = self.canonical
            if not c.url.startswith(("https://", "file://")):
                problems.append(f"canonical url {c.url!r} is not https:// (or file:// for a local mirror)")
            if not re.fullmatch(r"[A-Za-z_][\w.]*\.convert_[a-z0-9_]+_state_dict", c.converter):
                problems.append(f"converter {c.converter!r} is not <module>.convert_<source>_state_dict")
            if c.sha256 is not None and c.pin.sha256 != c.sha256:
                problems.append(f"canonical sha256 {c.sha256!r} differs from its pin's")
            problems.extend(f"canonical pin: {p}" for p in c.pin.problems())
            if c.url.split("?", 1)[0].endswith(".zip") != (c.member is not None):
                problems.append("a .zip url needs the member path of the checkpoint inside it (and only a zip)")
            if c.licence != self.licence:
                problems.append(f"licence {self.licence!r} differs from the upstream licence {c.licence!r}")
        if not self.licence or self.licence != self.licence.lower():
            problems.append(f"licence {self.licence!r} must be a lower-case SPDX id")
        if (self.licence == "other") != bool(self.licence_terms and self.licence_link.startswith("https://")):
            problems.append("licence 'other' needs licence_terms and an https licence_link (and only 'other')")
        if problems:
            raise ValueError(f"weights entry {self.tag!r}: " + "; ".join(problems))


class WeightsTable(Mapping[str, PretrainedWeights]):
    """The pretrained tags, keyed by tag; lookups also accept the timm-style ``arch.suffix`` names.

    Like :class:`zoo.registry.Registry`: names are explicit and unique, registering a tag or name twice
    is an error, and an unknown name lists the valid ones.
    """

    def __init__(self) -> None:
        self._entries: dict[str, PretrainedWeights] = {}
        self._names: dict[str, str] = {}  # timm-style name -> tag

    def register(self, entry: PretrainedWeights) -> PretrainedWeights:
        entry.validate()
        for key in (entry.tag, entry.name):
            if key in self._entries or key in self._names:
                raise KeyError(f"pretrained weights {key!r} are already registered")
        self._entries[entry.tag] = entry
        self._names[entry.name] = entry.tag
        return entry

    def unregister(self, tag: str) -> PretrainedWeights:
        """Remove an entry (tests register temporary ones)."""
        entry = self._entries.pop(tag)
        self._names.pop(entry.name, None)
        return entry

    def get(self, name: str, default: Any = None) -> PretrainedWeights:  # type: ignore[override]
        """The entry for a tag or timm-style name; an unknown name raises, listing the valid ones."""
        if name in self._entries:
            return self._entries[name]
        if name in self._names:
            return self._entries[self._names[name]]
        valid = ", ".join(self.names()) or "(none)"
        raise UnknownNameError(f"unknown pretrained weights {name!r}; valid tags: {valid}")

    def names(self) -> list[str]:
        """The tags, sorted."""
        return sorted(self._entries)

    def __getitem__(self, name: str) -> PretrainedWeights:
        return self.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._entries or name in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"WeightsTable({self.names()})"


WEIGHTS = WeightsTable()


def get_weights(tag: str) -> PretrainedWeights:
    """The entry of ``tag`` (or of its timm-style name); an unknown name lists every tag."""
    return WEIGHTS.get(tag)


# --------------------------------------------------------------------------------------------------
# The entries. Each config is the network's constructor arguments, written out.
# --------------------------------------------------------------------------------------------------

_HUB_OWNER = "stylezoo"  # the Hub organisation we publish to (repositories are created by `zoo publish`)

# pytorch/examples fast_neural_style: the four pretrained styles ship in one zip, downloaded by
# fast_neural_style/download_saved_models.py; the repository is BSD-3-Clause (pytorch/examples LICENSE).
# No checksum is published for the zip (nor for the four .pth in it), and no independent copy's hash was
# found: it is used unverified, with a warning (docs/hub.md).
_FNS_PIN = Pin(unpinned="pytorch/examples publishes no checksum for saved_models.zip (served from Dropbox) "
                        "and no hash of it from an independent source is known")
_FNS_ZIP = "https://www.dropbox.com/s/lrvwfehqdcxoza8/saved_models.zip?dl=1"
# The TransformerNet config that reproduces pytorch/examples' network through the [0, 1] interface
# (it reads and writes 0-255 pixels, no output non-linearity): zoo.nets.johnson.fast_neural_style_config();
# the schema test checks the two agree.
_FNS_CONFIG = {"channels": [32, 64, 128], "num_residual": 5, "norm": "instance", "upsample": "nearest",
               "output": "clamp", "input_scale": 255.0, "output_scale": 1.0 / 255.0}
_JOHNSON_PAPER = ("Johnson, Alahi, Fei-Fei. Perceptual Losses for Real-Time Style Transfer and "
                  "Super-Resolution. ECCV 2016")

for _style, _title in (("candy", "Candy"), ("mosaic", "Mosaic"), ("rain_princess", "Rain Princess"),
                       ("udnie", "Udnie (Francis Picabia)")):
    WEIGHTS.register(PretrainedWeights(
        tag=f"johnson_{_style}",
        name=f"johnson.{_style}",
        arch="johnson",
        description=f"Johnson et al. 2016 feed-forward network for the {_title} style "
                    f"(pytorch/examples fast_neural_style weights)",
        licence="bsd-3-clause",
        training_data=f"MS-COCO 2014 train (content) and the {_style}.jpg style image of "
                      f"pytorch/examples fast_neural_style",
        repo_id=f"{_HUB_OWNER}/johnson-{_style.replace('_', '-')}",
        config=_FNS_CONFIG,
        canonical=CanonicalSource(
            url=_FNS_ZIP,
            member=f"saved_models/{_style}.pth",
            file="fast_neural_style_saved_models.zip",  # the name zoo.nets.johnson caches it under
            converter="zoo.nets.johnson.convert_fast_neural_style_state_dict",
            licence="bsd-3-clause",
            citation="pytorch/examples, fast_neural_style (download_saved_models.py), BSD-3-Clause",
            pin=_FNS_PIN,
        ),
        paper=_JOHNSON_PAPER,
    ))

_CYCLEGAN_PAPER = ("Zhu, Park, Isola, Efros. Unpaired Image-to-Image Translation using Cycle-Consistent "
                   "Adversarial Networks. ICCV 2017")
# 9 residual blocks, 64 filters, no dropout: the paper's 256 px generator, the recipes' network and the
# official test settings (--no_dropout) of the published generators.
_CYCLEGAN_CONFIG = {"n_blocks": 9, "ngf": 64, "dropout": False}

WEIGHTS.register(PretrainedWeights(
    tag="cyclegan_photo2anime",
    name="cyclegan.photo2anime",
    arch="cyclegan",
    description="CycleGAN ResNet generator, photo -> anime face (A -> B), trained by Stylezoo",
    licence="apache-2.0",
    training_data="selfie2anime (unpaired selfies and anime faces, trainA/trainB)",
    repo_id=f"{_HUB_OWNER}/cyclegan-photo2anime",
    config=_CYCLEGAN_CONFIG,
    recipe="recipes/cyclegan_photo2anime.yaml",
    datasets=("huggan/selfie2anime",),
    paper=_CYCLEGAN_PAPER,
))

# The official CycleGAN generators: scripts/download_cyclegan_model.sh of
# junyanz/pytorch-CycleGAN-and-pix2pix downloads <name>.pth from this host (the 18 names of its list are
# zoo.nets.cyclegan.CANONICAL); the code is BSD-licensed (repository LICENSE: BSD 2-clause text,
# Copyright (c) 2017 Jun-Yan Zhu and Taesung Park), and the weights are published with it under the same
# terms. The script says http://, but the host serves https: Taesung Park's pointer to
# https://efrosgans.eecs.berkeley.edu/cyclegan/datasets/ (taesungp/contrastive-unpaired-translation
# issue #171, "worked for me") and the scripts of other projects that fetch this host over https
# (eriklindernoren/PyTorch-GAN pull request #203). No checksum is published and no independent copy's hash
# was found: used unverified, with a warning (docs/hub.md).
# Each file is one generator, named after its direction; the tag's network maps its first domain to its
# second. Training data: docs/datasets.md of the same repository (what each dataset holds and where it was
# collected); the style_* generators map a photo to the painter's style and were trained on the
# <painter>2photo sets (CycleGAN paper, section 5.2 "collection style transfer").
CYCLEGAN_OFFICIAL_URL = "https://efrosgans.eecs.berkeley.edu/cyclegan/pretrained_models/{name}.pth"
_CYCLEGAN_PIN = Pin(unpinned="the CycleGAN authors publish no checksum for their generators (plain files on "
                             "efrosgans.eecs.berkeley.edu) and no hash of them from an independent source is known")
_IMAGENET = "downloaded from ImageNet by the CycleGAN authors"
_PAINTINGS = ("{painter} paintings from WikiArt and Flickr landscape photos (the {set} set of the "
              "CycleGAN authors)")
_CYCLEGAN_OFFICIAL = (
    # (name, what the generator does, training data, Hugging Face dataset id or None)
    ("apple2orange", "apple -> orange", f"apple2orange: 996 apple and 1020 navel orange images {_IMAGENET}",
     "huggan/apple2orange"),
    ("orange2apple", "orange -> apple", f"apple2orange: 996 apple and 1020 navel orange images {_IMAGENET}",
     "huggan/apple2orange"),
    ("summer2winter_yosemite", "Yosemite summer -> winter",
     "summer2winter_yosemite: 1273 summer and 854 winter Yosemite photos from Flickr",
     "huggan/summer2winter_yosemite"),
    ("winter2summer_yosemite", "Yosemite winter -> summer",
     "summer2winter_yosemite: 1273 summer and 854 winter Yosemite photos from Flickr",
     "huggan/summer2winter_yosemite"),
    ("horse2zebra", "horse -> zebra", f"horse2zebra: 939 wild horse and 1177 zebra images {_IMAGENET}",
     "huggan/horse2zebra"),
    ("zebra2horse", "zebra -> horse", f"horse2zebra: 939 wild horse and 1177 zebra images {_IMAGENET}",
     "huggan/horse2zebra"),
    ("monet2photo", "Monet painting -> photo", _PAINTINGS.format(painter="Monet", set="monet2photo"),
     "huggan/monet2photo"),
    ("style_monet", "photo -> Monet's style", _PAINTINGS.format(painter="Monet", set="monet2photo"),
     "huggan/monet2photo"),
    ("style_cezanne", "photo -> Cezanne's style", _PAINTINGS.format(painter="Cezanne", set="cezanne2photo"),
     "huggan/cezanne2photo"),
    ("style_ukiyoe", "photo -> Ukiyo-e style", _PAINTINGS.format(painter="Ukiyo-e", set="ukiyoe2photo"),
     "huggan/ukiyoe2photo"),
    ("style_vangogh", "photo -> Van Gogh's style", _PAINTINGS.format(painter="Van Gogh", set="vangogh2photo"),
     "huggan/vangogh2photo"),
    ("sat2map", "satellite photo -> map", "maps: 1096 Google Maps satellite/map pairs (used unpaired)",
     "huggan/maps"),
    ("map2sat", "map -> satellite photo", "maps: 1096 Google Maps satellite/map pairs (used unpaired)",
     "huggan/maps"),
    ("cityscapes_photo2label", "street photo -> semantic label map",
     "cityscapes: 2975 images of the Cityscapes training set (used unpaired)", "huggan/cityscapes"),
    ("cityscapes_label2photo", "semantic label map -> street photo",
     "cityscapes: 2975 images of the Cityscapes training set (used unpaired)", "huggan/cityscapes"),
    ("facades_photo2label", "facade photo -> label map",
     "facades: 400 images of the CMP Facades dataset (used unpaired)", "huggan/facades"),
    ("facades_label2photo", "facade label map -> photo",
     "facades: 400 images of the CMP Facades dataset (used unpaired)", "huggan/facades"),
    ("iphone2dslr_flower", "iPhone flower photo -> DSLR (shallow depth of field)",
     "iphone2dslr_flower: 1813 iPhone and 3316 DSLR flower photos from Flickr", "huggan/iphone2dslr_flower"),
)

for _name, _what, _data, _dataset in _CYCLEGAN_OFFICIAL:
    WEIGHTS.register(PretrainedWeights(
        tag=f"cyclegan_{_name}",
        name=f"cyclegan.{_name}",
        arch="cyclegan",
        description=f"CycleGAN ResNet generator, {_what} (official weights of the CycleGAN authors)",
        licence="bsd-2-clause",
        training_data=_data,
        repo_id=f"{_HUB_OWNER}/cyclegan-{_name.replace('_', '-')}",
        config=_CYCLEGAN_CONFIG,
        canonical=CanonicalSource(
            url=CYCLEGAN_OFFICIAL_URL.format(name=_name),
            converter="zoo.nets.cyclegan.convert_official_state_dict",
            licence="bsd-2-clause",
            citation="junyanz/pytorch-CycleGAN-and-pix2pix, scripts/download_cyclegan_model.sh",
            pin=_CYCLEGAN_PIN,
        ),
        datasets=(_dataset,),
        paper=_CYCLEGAN_PAPER,
    ))

_ADAIN_PAPER = ("Huang, Belongie. Arbitrary Style Transfer in Real-time with Adaptive Instance "
                "Normalization. ICCV 2017")

# pytorch-AdaIN (naoto0804, MIT licence): decoder.pth from the repository's release v0.0.0. The release
# (2017) predates GitHub's release-asset digests and the repository publishes no checksum; the sha256 pinned
# here is the one independent public projects pin for this release file (weight manifests and download
# scripts of at least 3 projects, GitHub code search, 2026-12).
WEIGHTS.register(PretrainedWeights(
    tag="adain_original",
    name="adain.original",
    arch="adain",
    description="AdaIN decoder of pytorch-AdaIN (Huang & Belongie 2017), arbitrary style transfer",
    licence="mit",
    training_data="MS-COCO 2014 train (content) and WikiArt (style)",
    repo_id=f"{_HUB_OWNER}/adain",
    # the decoder was trained on the Caffe-normalised VGG19; pytorch-AdaIN's std is unbiased (Tensor.var):
    # zoo.nets.adain.pytorch_adain_config(), which the schema test compares with this
    config={"backbone_weights": "caffe", "unbiased_std": True},
    canonical=CanonicalSource(
        url="https://github.com/naoto0804/pytorch-AdaIN/releases/download/v0.0.0/decoder.pth",
        converter="zoo.nets.adain.convert_pytorch_adain_state_dict",
        licence="mit",
        citation="naoto0804/pytorch-AdaIN, README (models), release v0.0.0, MIT licence",
        pin=Pin(sha256="379ca41d59f3a37eed3599bbbc2560c19da5c458870a5ffd3a9dd41aa88f9472",
                source="pinned for releases/download/v0.0.0/decoder.pth by at least 3 independent public projects' "
                       "weight manifests and download scripts (GitHub code search, 2026-12)"),
    ),
    datasets=("huggan/wikiart",),
    paper=_ADAIN_PAPER,
    # until this release the tag was "adain", which now names the family (whose default tag this is)
    former=("adain", "adain.pytorch_adain"),
))

WEIGHTS.register(PretrainedWeights(
    tag="adain_gan",
    name="adain.gan",
    arch="adain",
    description="AdaIN network trained with an additional adversarial loss (AdaIN-GAN), by Stylezoo",
    licence="apache-2.0",
    training_data="MS-COCO 2014 train (content) and WikiArt (style)",
    repo_id=f"{_HUB_OWNER}/adain-gan",
    config={"backbone_weights": "caffe"},  # recipes/adain.yaml's backbone
    recipe="recipes/adain.yaml",
    datasets=("huggan/wikiart",),
    paper=_ADAIN_PAPER,
))

# AnimeGANv2 (Chen, Liu & Chen): the four generators of bryandlee/animegan2-pytorch, downloaded by its
# hubconf.py ``generator(pretrained=<name>)`` from https://github.com/bryandlee/animegan2-pytorch/raw/main/
# weights/<name>.pt (README "Torch Hub Usage"); pinned here to the commit of that repository we read
# (25d7b01, 2021-11-30). The files are plain git blobs there (not LFS), so git's tree at that commit names
# each one's content: its blob id, sha1 of b"blob <size>\0" + content, read with `git ls-tree -r 25d7b01
# weights/` in a clone of the repository; that is the pin (it is the same at the repository's HEAD).
# Licences: the port's repository (code and weight files) is MIT (its LICENSE, Copyright (c) 2021 Bryan Lee);
# AnimeGANv2 itself (TachibanaYoshino/AnimeGANv2, README "License") is "made freely available to academic and
# non-academic entities for non-commercial purposes such as academic research, teaching, scientific
# publications"; commercial use needs the author's authorisation letter. paprika.pt is converted from the
# original's Paprika checkpoint (the port's convert_weights.py); the other three were trained by Bryan Lee
# with the AnimeGANv2 generator. We record all four as "other" with the non-commercial restriction.
_ANIMEGAN_PAPER = ("Chen, Liu, Chen. AnimeGAN: A Novel Lightweight GAN for Photo Animation. ISICA 2019 "
                   "(AnimeGANv2: TachibanaYoshino/AnimeGANv2, 2020)")
_ANIMEGAN_TERMS = "non-commercial use only (AnimeGANv2 terms); port MIT"
_ANIMEGAN_LINK = "https://github.com/TachibanaYoshino/AnimeGANv2#license"
_ANIMEGAN_URL = ("https://github.com/bryandlee/animegan2-pytorch/raw/25d7b017267208dfaf34026aa3425e518372aa2f/"
                 "weights/{name}.pt")

_ANIMEGAN_BLOBS = {  # weights/<name>.pt -> git blob id at 25d7b01 (git ls-tree)
    "celeba_distill": "3b7ea61b02254980831cc3bc77af30666dbc999c",
    "face_paint_512_v1": "19c1a1da4d9580186109a2b055d91044e5127de6",
    "face_paint_512_v2": "d75102f8f201ddaf8dbe6b913b1a97585b55f838",
    "paprika": "58086c9db9fc7a9e5c2876ca31b8079599352643",
}

for _name, _what, _data in (
    ("celeba_distill", "photo -> webtoon-style face, distilled by Bryan Lee from his webtoon face model "
                       "(256 px faces)",
     "CelebA-HQ face photos, with a webtoon face model as the teacher (L2 + VGG + GAN loss; port README)"),
    ("face_paint_512_v1", "photo -> face portrait painting v1, trained by Bryan Lee (512 px faces)",
     "512x512 face images (port README, 'Face Portrait v1')"),
    ("face_paint_512_v2", "photo -> face portrait painting v2, trained by Bryan Lee (512 px faces; more robust "
                          "than v1)",
     "512x512 face images (port README, 'Face Portrait v2')"),
    ("paprika", "photo -> anime in the style of the film Paprika (Satoshi Kon), the AnimeGANv2 authors' "
                "weights converted from TensorFlow by Bryan Lee",
     "real photos and frames of the film Paprika (AnimeGANv2 dataset)"),
):
    WEIGHTS.register(PretrainedWeights(
        tag=f"animeganv2_{_name}",
        name=f"animeganv2.{_name}",
        arch="animeganv2",
        description=f"AnimeGANv2 generator, {_what}; non-commercial use only",
        licence="other",
        licence_terms=_ANIMEGAN_TERMS,
        licence_link=_ANIMEGAN_LINK,
        training_data=_data,
        repo_id=f"{_HUB_OWNER}/animeganv2-{_name.replace('_', '-')}",
        config={},
        canonical=CanonicalSource(
            url=_ANIMEGAN_URL.format(name=_name),
            file=f"animegan2-pytorch_{_name}.pt",
            converter="zoo.nets.animeganv2.convert_bryandlee_state_dict",
            licence="other",
            citation=f"bryandlee/animegan2-pytorch, hubconf.py generator(pretrained={_name!r}), weights/{_name}.pt",
            pin=Pin(git_blob=_ANIMEGAN_BLOBS[_name],
                    source=f"git blob id of weights/{_name}.pt in the tree of bryandlee/animegan2-pytorch at "
                           f"commit 25d7b017267208dfaf34026aa3425e518372aa2f (git ls-tree)"),
        ),
        paper=_ANIMEGAN_PAPER,
    ))


# --------------------------------------------------------------------------------------------------
# Metrics from benchmarks/results
# --------------------------------------------------------------------------------------------------

def read_metrics(entry: PretrainedWeights | str, results_dir: str | os.PathLike | None = None) -> list[dict[str, Any]]:
    """The usable quality metrics measured for ``entry`` (its tag or timm-style name) in ``results_dir``
    (default :data:`RESULTS_DIR`): ``{"metric", "value", "protocol", "dataset", "n", "file"}`` per number,
    as :func:`zoo.results.metrics_of` reads them (the layouts, and which records count, are described
    there); none of it is typed by hand."""
    from .results import metrics_of

    if isinstance(entry, str):
        entry = get_weights(entry)
    return metrics_of({entry.tag, entry.name, *entry.former}, results_dir if results_dir is not None else RESULTS_DIR)


def zoo_table_rows(results_dir: str | os.PathLike | None = None) -> list[dict[str, Any]]:
    """One row per tag for the README zoo table and ``zoo list --pretrained``.

    Keys: ``tag``, ``name``, ``arch``, ``description``, ``kind`` (``"canonical"`` or ``"ours"``),
    ``source`` (one line), ``converter`` (dotted name or None), ``url`` (canonical URL or Hub
    repository), ``recipe``, ``licence`` (the id, with the terms where it is ``other``), ``published``,
    ``available``, ``training_data`` and
    ``metrics`` (``{metric: value}`` of the first record of each metric, from benchmarks/results).
    """
    rows = []
    for tag in WEIGHTS.names():
        e = WEIGHTS.get(tag)
        metrics: dict[str, float] = {}
        for m in e.metrics(results_dir):
            metrics.setdefault(m["metric"], m["value"])
        rows.append({
            "tag": e.tag,
            "name": e.name,
            "arch": e.arch,
            "description": e.description,
            "kind": "canonical" if e.canonical is not None else "ours",
            "source": e.source,
            "converter": e.canonical.converter if e.canonical is not None else None,
            "url": e.canonical.url if e.canonical is not None else f"https://huggingface.co/{e.repo_id}",
            "recipe": e.recipe,
            "licence": e.licence_text,
            "published": e.published,
            "available": e.available,
            "training_data": e.training_data,
            "metrics": metrics,
        })
    return rows
