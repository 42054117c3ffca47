"""The pretrained zoo: weights table, verified loading from a local Hugging Face cache, canonical
checkpoint import, export / publish, model cards and hubconf.py. Offline: every cache is made here.

The networks of the zoo are not needed: a tiny network defined below is registered in MODELS under a
test name for the duration of a test (monkeypatch removes it afterwards).
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import inspect
import io
import json
import zipfile
from pathlib import Path

import pytest
import torch
import yaml
from huggingface_hub import PyTorchModelHubMixin
from safetensors.torch import save as st_save
from torch import nn

import zoo.cli as cli
import zoo.download as download
import zoo.factory as factory
import zoo.publish as publishing
import zoo.weights as weights
from zoo.backbone import WeightsUnavailableError
from zoo.families import FAMILIES, Family, deprecated_names, load, resolve
from zoo.registry import MODELS, UnknownNameError
from zoo.pins import Pin
from zoo.weights import WEIGHTS, CanonicalSource, PretrainedWeights, get_weights

from test_download import corrupt, fill_hub_cache

REPO = Path(__file__).resolve().parent.parent
TINY = "tiny_test"  # architecture name of the test network
REV = "0123456789abcdef0123456789abcdef01234567"


def smoke_overrides(arch: str) -> dict:
    """Config overrides that keep building a network offline: an encoder weight source (AdaIN's VGG, which
    its config would download) becomes random. Derived from the builder's signature, for every family."""
    if arch not in FAMILIES or FAMILIES[arch].network is None:
        return {}
    return {"backbone_weights": "none"} if "backbone_weights" in inspect.signature(
        load(FAMILIES[arch].network)).parameters else {}


# ---------------------------------------------------------------------------------------------------
# A tiny network, its builder, and the upstream key layout its fake canonical checkpoint uses
# ---------------------------------------------------------------------------------------------------

class TinyNet(nn.Module, PyTorchModelHubMixin):
    """Two convolutions and a persistent buffer; RGB [0, 1] in and out."""

    def __init__(self, channels: int = 4, bias: float = 0.0) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, 3, 3, padding=1)
        self.register_buffer("offset", torch.full((1, 3, 1, 1), float(bias)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.conv2(torch.relu(self.conv1(x))) + self.offset)


def build_tiny(**config) -> TinyNet:
    """Test builder: TinyNet(**config)."""
    return TinyNet(**config)


def convert_tiny_state_dict(sd):
    """Fake importer: the 'upstream' layout prefixes keys with 'model.' and carries stale stats."""
    return {k[len("model."):]: v for k, v in sd.items() if k.startswith("model.") and "running" not in k}


def _upstream(sd):
    out = {f"model.{k}": v for k, v in sd.items()}
    out["model.conv1.running_mean"] = torch.zeros(4)  # like old InstanceNorm files: must be dropped
    return out


def _random_tiny(seed: int = 0, **config) -> TinyNet:
    torch.manual_seed(seed)
    net = TinyNet(**config)
    with torch.no_grad():
        net.offset.normal_()
    return net


def _assert_same_tensors(a: nn.Module, b: nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert sorted(sa) == sorted(sb)
    for k in sa:
        assert sa[k].dtype == sb[k].dtype and torch.equal(sa[k], sb[k]), k


# ---------------------------------------------------------------------------------------------------
# Fixtures: isolated caches, a registered test architecture, temporary weights entries
# ---------------------------------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Every cache under tmp_path, offline, no results files from the repository."""
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("STYLEZOO_CACHE", raising=False)
    monkeypatch.setattr(torch.hub, "_hub_dir", None)
    monkeypatch.setattr(weights, "RESULTS_DIR", tmp_path / "no-results")
    return tmp_path


@pytest.fixture
def tiny_arch(monkeypatch):
    monkeypatch.setitem(MODELS._items, TINY, build_tiny)
    return TINY


@pytest.fixture
def register():
    """register(**fields) adds a PretrainedWeights entry for the test and removes it afterwards."""
    added = []

    def _register(tag="tiny_pub", **fields):
        base = dict(tag=tag, name=f"{TINY}.{tag}", arch=TINY, description="tiny test weights",
                    licence="mit", training_data="none", repo_id=f"testorg/{tag.replace('_', '-')}",
                    config={"channels": 4}, recipe="recipes/tiny.yaml")
        base.update(fields)
        entry = WEIGHTS.register(PretrainedWeights(**base))
        added.append(entry.tag)
        return entry

    yield _register
    for tag in added:
        WEIGHTS.unregister(tag)


def _published(register, tmp_path, net: nn.Module, *, sd=None, sha=None, tag="tiny_pub"):
    """Put ``sd`` (default: net's) in the cache as safetensors and register a published entry."""
    data = st_save({k: v.contiguous() for k, v in (sd if sd is not None else net.state_dict()).items()})
    entry = register(tag=tag, published=True, revision=REV, sha256=sha or hashlib.sha256(data).hexdigest())
    fill_hub_cache(tmp_path / "hf" / "hub", entry.repo_id, REV, entry.filename, data)
    return entry


# ---------------------------------------------------------------------------------------------------
# The weights table
# ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("tag", sorted(WEIGHTS.names()))
def test_every_entry_follows_the_schema(tag):
    e = get_weights(tag)
    e.validate()
    assert get_weights(e.name) is e  # the timm-style name resolves to the same entry
    assert e.description and e.training_data and e.paper
    with pytest.raises(TypeError):
        e.config["x"] = 1  # frozen: the config is read-only
    if e.tag in MODELS and e.tag != e.arch:
        pytest.fail(f"tag {e.tag} shadows another architecture")
    if e.canonical is not None:
        assert e.canonical.converter.startswith("zoo.nets.")
        assert e.canonical.converter in FAMILIES[e.arch].converters  # one of the family's declared converters
        module, _, fn = e.canonical.converter.rpartition(".")
        try:
            mod = __import__(module, fromlist=[fn])
        except ModuleNotFoundError:
            pytest.skip(f"{module} is not merged yet")
        assert callable(getattr(mod, fn, None)), e.canonical.converter
    assert e.arch in FAMILIES  # every entry is a network of a declared family
    if FAMILIES[e.arch].network is not None:  # the config builds the network
        try:
            net = factory.build_network(e.arch, {**e.config_dict(), **smoke_overrides(e.arch)}, e.tag)
        except WeightsUnavailableError as err:  # weights the config needs, not downloadable here
            pytest.skip(str(err)[:100])
        assert isinstance(net, PyTorchModelHubMixin)


def test_every_tag_says_where_its_weights_come_from():
    """Converted originals download from https and convert on first use; ours name the recipe that trains
    them, one of their family's (nothing is uploaded yet: no pinned revision)."""
    assert len(WEIGHTS) == sum(len(FAMILIES[f].pretrained) for f in FAMILIES)  # every entry is a family's
    for tag in WEIGHTS.names():
        e = get_weights(tag)
        assert e in FAMILIES[e.arch].pretrained, tag
        assert e.published is False and e.revision is None and e.sha256 is None  # nothing uploaded yet
        assert e.available == (e.canonical is not None)
        if e.canonical is not None:
            assert e.canonical.url.startswith("https://"), tag  # every upstream serves https (docs/hub.md)
            assert e.recipe is None
        else:
            recipe = Path(e.recipe)
            assert (REPO / recipe).is_file() and recipe.stem in FAMILIES[e.arch].recipes, tag
    assert get_weights("johnson_candy").canonical.member == "saved_models/candy.pth"
    assert get_weights("johnson_udnie").canonical.filename == "fast_neural_style_saved_models.zip"
    assert get_weights("cyclegan_photo2anime").config == {"n_blocks": 9, "ngf": 64, "dropout": False}
    assert get_weights("cyclegan_horse2zebra").canonical.url.endswith("/pretrained_models/horse2zebra.pth")
    assert get_weights("adain_original").canonical.licence == "mit"


def test_unknown_tag_lists_the_tags():
    with pytest.raises(UnknownNameError) as err:
        get_weights("johnson_starry")
    assert "johnson_starry" in str(err.value) and "johnson_candy" in str(err.value)


def test_table_refuses_duplicates_and_bad_entries(register):
    with pytest.raises(KeyError, match="already registered"):
        WEIGHTS.register(get_weights("adain_original"))
    with pytest.raises(ValueError, match="revision"):
        register(tag="tiny_bad", published=True, sha256="0" * 64)
    with pytest.raises(ValueError, match="recipe"):
        register(tag="tiny_norecipe", recipe=None)
    with pytest.raises(ValueError, match="is not https://"):
        register(tag="tiny_http", canonical=CanonicalSource(
            url="http://example.invalid/w.pth", converter=f"{__name__}.convert_tiny_state_dict", licence="mit",
            citation="test"), licence="mit")


def test_metrics_come_from_results_files(tmp_path, monkeypatch):
    results = tmp_path / "results"
    results.mkdir()
    (results / "cyclegan-cpu.json").write_text(json.dumps({
        "protocol": "cyclegan", "usable": True, "results": [
            {"weights": "cyclegan_horse2zebra", "dataset": "horse2zebra", "n": 120, "metrics": {"fid": 61.5}},
            {"weights": "cyclegan_horse2zebra", "random_weights": True, "metrics": {"fid": 300.0}},
        ]}))
    (results / "broken.json").write_text("{not json")
    # The layout benchmarks/run.py writes: protocol as a dict, metric names with their implementation.
    (results / "adain-styleid-cpu-2core.json").write_text(json.dumps({
        "model": "adain", "weights": "adain", "usable": True,
        "protocol": {"name": "styleid", "n": 800, "size": 512, "standard": True},
        "metrics": {"artfid": 30.5, "lpips_alex": 0.6, "fid_inception": 18.0}, "speed": {"images_per_s": 2.0}}))
    monkeypatch.setattr(weights, "RESULTS_DIR", results)
    m = get_weights("cyclegan_horse2zebra").metrics()
    assert m == [{"metric": "fid", "value": 61.5, "protocol": "cyclegan", "dataset": "horse2zebra", "n": 120,
                  "file": "cyclegan-cpu.json"}]
    # the record names the tag's former name "adain" (results written before the rename still count)
    assert {(x["metric"], x["value"], x["protocol"], x["n"]) for x in get_weights("adain_original").metrics()} == {
        ("artfid", 30.5, "styleid", 800), ("lpips_alex", 0.6, "styleid", 800), ("fid_inception", 18.0, "styleid", 800)}
    rows = {r["tag"]: r for r in weights.zoo_table_rows()}
    assert set(rows) == set(WEIGHTS.names())
    assert rows["cyclegan_horse2zebra"]["metrics"] == {"fid": 61.5}
    assert rows["johnson_candy"]["metrics"] == {}
    assert rows["cyclegan_photo2anime"]["kind"] == "ours" and rows["cyclegan_photo2anime"]["published"] is False
    assert rows["adain_original"]["licence"] == "mit" and "pytorch-AdaIN" in rows["adain_original"]["url"]
    text = cli.format_pretrained_table(cli.pretrained_rows())
    assert "fid=61.5" in text and "not published: python -m zoo.fit recipes/adain.yaml" in text


# ---------------------------------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------------------------------

def test_list_models_partitions_by_availability(tiny_arch, monkeypatch):
    monkeypatch.setitem(MODELS._items, "cyclegan_patchgan", build_tiny)  # a discriminator: not an entry
    every = factory.list_models()
    assert "cyclegan_patchgan" not in every
    networks = {n for n in FAMILIES.names() if FAMILIES[n].network is not None}  # not Gatys: no network
    assert set(WEIGHTS.names()) | networks | {TINY} == set(every)
    assert not set(deprecated_names()) & set(every)  # a deprecated name works but is not listed
    yes, no = factory.list_models(pretrained=True), factory.list_models(pretrained=False)
    assert sorted(yes + no) == every and not set(yes) & set(no)
    assert {t for t in WEIGHTS.names() if get_weights(t).available} <= set(yes) and TINY in no
    assert {t for t in WEIGHTS.names() if not get_weights(t).available} <= set(no)


def test_create_model_names_and_errors(tiny_arch, register):
    register(tag="tiny_pub", config={"channels": 6})
    assert isinstance(factory.create_model(TINY), TinyNet)
    net = factory.create_model("tiny_pub", pretrained=False)  # the tag's config, random weights
    assert net.conv1.out_channels == 6
    assert factory.create_model(f"{TINY}.tiny_pub", pretrained=False, channels=2).conv1.out_channels == 2  # timm name
    with pytest.raises(UnknownNameError, match="valid names: .*johnson_candy"):
        factory.create_model("no_such_model")
    with pytest.raises(ValueError, match="architecture without weights of its own; pretrained tags for it: tiny_pub"):
        factory.create_model(TINY, pretrained=True)


# ---------------------------------------------------------------------------------------------------
# Loading from the (local) Hub cache
# ---------------------------------------------------------------------------------------------------

def test_pretrained_from_offline_cache_is_bit_for_bit(tiny_arch, register, isolated, monkeypatch):
    ref = _random_tiny(1)
    _published(register, isolated, ref)
    net = factory.create_model("tiny_pub", pretrained=True)
    _assert_same_tensors(net, ref)
    assert not net.training
    x = torch.rand(1, 3, 64, 64)
    assert torch.equal(net(x), ref.eval()(x))
    row = next(r for r in cli.pretrained_rows() if r["tag"] == "tiny_pub")
    assert row["cached"] is True and row["status"] == f"hub testorg/tiny-pub@{REV[:7]}"
    # Online too, a pinned commit that is cached is served without asking the Hub (no network here).
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    _assert_same_tensors(factory.create_model("tiny_pub", pretrained=True), ref)


def test_wrong_checksum_is_refused_and_never_loaded(tiny_arch, register, isolated, monkeypatch):
    _published(register, isolated, _random_tiny(2), sha="f" * 64)
    loads = []
    monkeypatch.setattr(download, "_safetensors_from_bytes", lambda *a: loads.append(a) or {})
    with pytest.raises(download.ChecksumMismatchError) as err:
        factory.create_model("tiny_pub", pretrained=True)
    msg = str(err.value)
    assert "refusing to load pretrained weights 'tiny_pub'" in msg and "testorg/tiny-pub" in msg
    assert "expected ffffffffffff... (the hash pinned in Stylezoo)" in msg and "\n" not in msg
    assert "tampered" in msg and "hf download testorg/tiny-pub model.safetensors --revision" in msg
    assert loads == []


def test_tampered_cache_file_is_refused(tiny_arch, register, isolated):
    entry = _published(register, isolated, _random_tiny(3))
    snap = isolated / "hf" / "hub" / "models--testorg--tiny-pub" / "snapshots" / REV / entry.filename
    corrupt(snap)  # one flipped bit in the last tensor
    with pytest.raises(download.ChecksumMismatchError, match="corrupted or was tampered with"):
        factory.create_model("tiny_pub", pretrained=True)


def test_missing_file_offline_names_repo_and_file(tiny_arch, register):
    register(tag="tiny_pub", published=True, revision=REV, sha256="a" * 64)
    with pytest.raises(WeightsUnavailableError) as err:
        factory.create_model("tiny_pub", pretrained=True)
    msg = str(err.value)
    assert f"testorg/tiny-pub/model.safetensors (revision {REV})" in msg
    assert "HF_HUB_OFFLINE=1" in msg and "not in the Hugging Face cache" in msg
    assert next(r for r in cli.pretrained_rows() if r["tag"] == "tiny_pub")["cached"] is False


def test_strict_key_mismatch_is_an_error(tiny_arch, register, isolated):
    ref = _random_tiny(4)
    sd = dict(ref.state_dict())
    sd["conv3.weight"] = sd.pop("conv2.weight")
    _published(register, isolated, ref, sd=sd)
    with pytest.raises(ValueError) as err:
        factory.create_model("tiny_pub", pretrained=True)
    msg = str(err.value)
    assert "pretrained weights 'tiny_pub'" in msg
    assert "missing keys ['conv2.weight']" in msg and "unexpected keys ['conv3.weight']" in msg


def test_only_safetensors_are_served_from_the_hub(tiny_arch, register):
    with pytest.raises(ValueError, match="only safetensors"):
        register(tag="tiny_pickle", filename="pytorch_model.bin", published=True, revision=REV, sha256="a" * 64)


@pytest.mark.parametrize("tag", ["cyclegan_photo2anime", "adain_gan"])
def test_unpublished_tag_names_its_recipe(tag):
    with pytest.raises(download.NotPublishedError) as err:
        factory.create_model(tag, pretrained=True)
    msg = str(err.value)
    assert f"python -m zoo.fit {get_weights(tag).recipe}" in msg and "not published yet" in msg
    assert isinstance(err.value, WeightsUnavailableError)  # zoo.fit / the CLI print it in one line


# ---------------------------------------------------------------------------------------------------
# Canonical checkpoints: fake upstream file where the download would go, no network
# ---------------------------------------------------------------------------------------------------

@pytest.fixture
def canonical(register):
    """canonical(...) registers a tag served from a canonical checkpoint: pinned to ``sha`` (a sha256), or
    without a pinned hash (``sha=None``: used with a warning)."""
    def _canonical(tag="tiny_canon", url="https://example.invalid/models/tiny_style.pth", member=None, sha=None):
        pin = (Pin(sha256=sha, source="test: the sha256 of the stand-in upstream file") if sha
               else Pin(unpinned="the test upstream publishes no checksum"))
        return register(tag=tag, canonical=CanonicalSource(
            url=url, member=member, pin=pin, licence="mit", citation="test upstream",
            converter=f"{__name__}.convert_tiny_state_dict"))
    return _canonical


def _torch_bytes(obj) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def test_canonical_checkpoint_is_verified_and_converted_on_every_use(tiny_arch, canonical, monkeypatch):
    ref = _random_tiny(5)
    data = _torch_bytes(_upstream(ref.state_dict()))
    entry = canonical(sha=hashlib.sha256(data).hexdigest())
    original = download.canonical_download_path(entry)
    assert original == Path(torch.hub.get_dir()) / "checkpoints" / "tiny_style.pth"
    original.parent.mkdir(parents=True)
    original.write_bytes(data)
    built = []
    monkeypatch.setitem(MODELS._items, TINY, lambda **c: built.append(c) or build_tiny(**c))
    net = factory.create_model("tiny_canon", pretrained=True, channels=4)
    _assert_same_tensors(net, ref)
    assert built == [{"channels": 4}]  # one network, built with the caller's config, checks the conversion
    # Nothing is cached beside the original: no record, no conversion (neither could be pinned).
    assert sorted(p.name for p in original.parent.iterdir()) == ["tiny_style.pth"]
    assert not download.converted_dir("tiny_canon").exists()
    _assert_same_tensors(factory.create_model("tiny_canon", pretrained=True), ref)
    corrupt(original)  # a modified original is refused, moved aside, and never converted
    with pytest.raises(download.ChecksumMismatchError) as err:
        factory.create_model("tiny_canon", pretrained=True)
    msg = str(err.value)
    assert "refusing to load pretrained weights 'tiny_canon' (the canonical checkpoint)" in msg and "\n" not in msg
    assert f"moved aside to {download.rejected_path(original)}" in msg and not original.exists()


def test_canonical_truncated_then_good_copy(tiny_arch, canonical, isolated, monkeypatch):
    """From a local mirror (file://): a truncated copy put in the cache by hand is refused in one line and
    moved aside; the good copy downloaded (or copied) afterwards loads; a substituted download is refused."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    mirror = isolated / "mirror" / "tiny_style.pth"
    mirror.parent.mkdir()
    ref = _random_tiny(10)
    data = _torch_bytes(_upstream(ref.state_dict()))
    mirror.write_bytes(data)
    entry = canonical(url=mirror.as_uri(), sha=hashlib.sha256(data).hexdigest())
    original = download.canonical_download_path(entry)
    original.parent.mkdir(parents=True)
    original.write_bytes(data[: len(data) // 2])
    with pytest.raises(download.ChecksumMismatchError, match=f"Run again to download {mirror.as_uri()} afresh"):
        factory.create_model("tiny_canon", pretrained=True)
    _assert_same_tensors(factory.create_model("tiny_canon", pretrained=True), ref)  # downloaded afresh
    assert original.read_bytes() == data

    original.unlink()  # download again: the upstream file is not the pinned one
    mirror.write_bytes(_torch_bytes(_upstream(_random_tiny(11).state_dict())))
    with pytest.raises(download.ChecksumMismatchError, match="nothing was saved"):
        factory.create_model("tiny_canon", pretrained=True)
    assert not original.exists()


def test_unpinned_canonical_file_warns_and_an_unreadable_copy_is_moved_aside(tiny_arch, canonical, capfd):
    ref = _random_tiny(6)
    entry = canonical()
    original = download.canonical_download_path(entry)
    original.parent.mkdir(parents=True)
    data = _torch_bytes(_upstream(ref.state_dict()))
    original.write_bytes(data[:-300])  # truncated: no hash to tell, so reading it tells
    with pytest.raises(download.UnreadableDownloadError) as err:
        factory.create_model("tiny_canon", pretrained=True)
    msg = str(err.value)
    assert "\n" not in msg and str(original) in msg and f"moved aside to {download.rejected_path(original)}" in msg
    assert "HF_HUB_OFFLINE" not in msg and "copy it to" in msg  # offline: where to put the good copy
    assert not original.exists()
    original.write_bytes(data)  # the good copy: nothing recorded from the bad one stands in its way
    _assert_same_tensors(factory.create_model("tiny_canon", pretrained=True), ref)
    err = capfd.readouterr().err
    assert f"warning: pretrained weights 'tiny_canon' (the canonical checkpoint): {original} is used unverified" in err


def test_canonical_zip_member(tiny_arch, canonical):
    ref = _random_tiny(6)
    entry = canonical(url="https://example.invalid/saved_models.zip?dl=1", member="saved_models/tiny.pth")
    zpath = download.canonical_download_path(entry)
    assert zpath.name == "saved_models.zip"
    zpath.parent.mkdir(parents=True)
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.writestr("saved_models/other.pth", b"x")
        zf.writestr("saved_models/tiny.pth", _torch_bytes(_upstream(ref.state_dict())))
    _assert_same_tensors(factory.create_model("tiny_canon", pretrained=True), ref)


def test_canonical_pinned_checksum_mismatch_refused(tiny_arch, canonical):
    entry = canonical(sha="0" * 64)
    path = download.canonical_download_path(entry)
    path.parent.mkdir(parents=True)
    path.write_bytes(_torch_bytes(_upstream(_random_tiny(7).state_dict())))
    with pytest.raises(download.ChecksumMismatchError, match=r"weights 'tiny_canon' \(the canonical checkpoint\)"):
        factory.create_model("tiny_canon", pretrained=True)


def test_canonical_missing_offline_says_where_to_put_it(tiny_arch, canonical):
    entry = canonical()
    with pytest.raises(WeightsUnavailableError) as err:
        factory.create_model("tiny_canon", pretrained=True)
    msg = str(err.value)
    assert "HF_HUB_OFFLINE=1" in msg and entry.canonical.url in msg and str(download.canonical_download_path(entry)) in msg


class _Payload:
    """An object whose unpickling would create a file: proof that it was (not) unpickled."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickle_with_arbitrary_object_is_refused(tiny_arch, canonical, isolated):
    marker = isolated / "pwned"
    entry = canonical()
    path = download.canonical_download_path(entry)
    path.parent.mkdir(parents=True)
    sd = _upstream(_random_tiny(8).state_dict())
    sd["evil"] = _Payload(marker)
    path.write_bytes(_torch_bytes(sd))
    with pytest.raises(download.UnreadableDownloadError) as err:
        factory.create_model("tiny_canon", pretrained=True)
    assert "weights_only=True" in str(err.value) and "never unpickles" in str(err.value)
    assert isinstance(err.value.__cause__, download.UnsafeCheckpointError)
    assert not marker.exists() and not path.exists() and download.rejected_path(path).exists()
    # Pinned to its own sha256 (a hostile pin cannot make it run either): refused, not moved (it is "genuine")
    entry2 = canonical(tag="tiny_canon2", sha=hashlib.sha256(download.rejected_path(path).read_bytes()).hexdigest())
    download.rejected_path(path).rename(path)
    with pytest.raises(download.UnsafeCheckpointError):
        factory.create_model(entry2.tag, pretrained=True)
    assert not marker.exists()


# ---------------------------------------------------------------------------------------------------
# Export and publish
# ---------------------------------------------------------------------------------------------------

def _lightning_checkpoint(path: Path) -> nn.Module:
    """A real Lightning checkpoint of a tiny variant: network under 'net.', plus a discriminator."""
    import lightning as L

    class TinyVariant(L.LightningModule):
        def __init__(self, network: dict, lr: float = 1e-3):
            super().__init__()
            self.save_hyperparameters()
            self.net = TinyNet(**network)
            self.disc = nn.Conv2d(3, 1, 3)

        def training_step(self, batch, _):
            return (self.net(batch[0]) - 0.5).abs().mean() + 0 * self.disc(batch[0]).mean()

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)

    torch.manual_seed(9)
    model = TinyVariant(network={"channels": 5, "bias": 0.25})
    data = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.rand(2, 3, 16, 16)), batch_size=1)
    trainer = L.Trainer(max_steps=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, accelerator="cpu", default_root_dir=str(path.parent))
    trainer.fit(model, data)
    trainer.save_checkpoint(path)
    return model.net


@pytest.fixture
def family():
    """family(**fields) registers a Family for the test (network TinyNet) and removes it afterwards."""
    added = []

    def _family(**fields):
        base = dict(name=TINY, description="tiny test family", stylizer=f"{__name__}:build_tiny",
                    network=build_tiny, module="tests:TinyVariant")
        if added:
            FAMILIES.unregister(added.pop())
        added.append(FAMILIES.register(Family(**{**base, **fields})).name)

    yield _family
    for name in added:
        FAMILIES.unregister(name)


@pytest.fixture
def trained(tiny_arch, isolated, family):
    """(checkpoint path, trained TinyNet) of a family whose LightningModule is tests.TinyVariant."""
    ckpt = isolated / "runs" / "last.ckpt"
    net = _lightning_checkpoint(ckpt)
    family()
    return ckpt, net


def test_publish_dry_run_loads_back_bit_for_bit(trained, isolated):
    ckpt, net = trained
    out = isolated / "export"
    res = publishing.publish(ckpt, "me/tiny", dry_run_dir=out, variant="tests.TinyVariant")
    assert res.dry_run and res.folder == out and res.architecture == TINY
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "config.json", "model.safetensors"]
    assert res.sha256 == download.sha256_file(out / "model.safetensors")
    assert json.loads((out / "config.json").read_text()) == {"channels": 5, "bias": 0.25}
    loaded = factory.create_model(TINY, pretrained=out)
    _assert_same_tensors(loaded, net)
    assert "disc.weight" not in loaded.state_dict()  # only the inference network is exported
    _assert_same_tensors(publishing.load_export(out), net)  # architecture read from the file's metadata
    _assert_same_tensors(factory.create_model(TINY, pretrained=out / "model.safetensors"), net)
    # The export is also a PyTorchModelHubMixin folder.
    _assert_same_tensors(TinyNet.from_pretrained(str(out)), net)
    # Re-publishing writes the same bytes; a folder with other files is refused.
    again = publishing.publish(out, "me/tiny", dry_run_dir=isolated / "again")
    assert again.sha256 == res.sha256
    (isolated / "dirty").mkdir()
    (isolated / "dirty" / "notes.txt").write_text("x")
    with pytest.raises(FileExistsError, match="notes.txt"):
        publishing.publish(ckpt, "me/tiny", dry_run_dir=isolated / "dirty", variant="tests.TinyVariant")


def test_publish_uses_class_path_and_explicit_mapping(trained, isolated):
    ckpt, net = trained
    obj = torch.load(ckpt, weights_only=True)
    obj["hyper_parameters"]["_class_path"] = "tests.TinyVariant"  # what LightningCLI records
    torch.save(obj, isolated / "cli.ckpt")
    publishing.publish(isolated / "cli.ckpt", "me/tiny", dry_run_dir=isolated / "a")
    _assert_same_tensors(publishing.load_export(isolated / "a"), net)
    publishing.publish(ckpt, "me/tiny", dry_run_dir=isolated / "b", architecture=TINY, prefix="net.")
    _assert_same_tensors(publishing.load_export(isolated / "b"), net)
    with pytest.raises(ValueError, match="no family's LightningModule.*--variant CLASS_PATH"):
        publishing.publish(ckpt, "me/tiny", dry_run_dir=isolated / "c")
    with pytest.raises(KeyError, match="no weights under 'generator.'"):
        publishing.publish(ckpt, "me/tiny", dry_run_dir=isolated / "d", architecture=TINY, prefix="generator.")


def tiny_config_from_hparams(hparams):
    """Like AdaIN-GAN's: part of the network config lives outside hparams['network']."""
    return {**(hparams["network"] or {}), "bias": hparams["extra_bias"]}


def test_publish_with_config_function_and_default_network(tiny_arch, isolated, family):
    torch.manual_seed(12)
    net = TinyNet(channels=4, bias=0.5)
    ckpt = {"state_dict": {f"gen.{k}": v for k, v in net.state_dict().items()},
            "hyper_parameters": {"network": None, "extra_bias": 0.5, "_class_path": "tests.OtherVariant"}}
    torch.save(ckpt, isolated / "other.ckpt")
    family(module="tests:OtherVariant", checkpoint_prefix={"": "gen."}, network_config=f"{__name__}:tiny_config_from_hparams")
    res = publishing.publish(isolated / "other.ckpt", "me/other", dry_run_dir=isolated / "o")
    assert res.architecture == TINY
    assert json.loads((isolated / "o" / "config.json").read_text()) == {"channels": 4, "bias": 0.5}
    _assert_same_tensors(publishing.load_export(isolated / "o"), net)
    family(module="tests:OtherVariant", checkpoint_prefix={"": "gen."})  # network None: defaults
    publishing.publish(isolated / "other.ckpt", "me/other", dry_run_dir=isolated / "p")
    assert json.loads((isolated / "p" / "config.json").read_text()) == {"channels": 4, "bias": 0.0}


def test_model_card_metadata(trained, isolated, register, monkeypatch):
    ckpt, _ = trained
    register(tag="tiny_pub", recipe="recipes/tiny.yaml", datasets=("huggan/wikiart",), licence="apache-2.0")
    results = isolated / "results"
    results.mkdir()
    (results / "tiny-cpu-2core.json").write_text(json.dumps([
        {"weights": "tiny_pub", "usable": True, "protocol": {"name": "styleid", "n": 800}, "dataset": "coco-wikiart",
         "metrics": {"fid_inception": 18.5, "lpips_alex": 0.61, "artfid": 30.9, "content_loss": 2.0}},
        {"weights": "tiny_pub", "usable": False, "metrics": {"fid": 999.0}},
        {"weights": "someone_else", "metrics": {"fid": 1.0}},
    ]))
    monkeypatch.setattr(weights, "RESULTS_DIR", results)
    out = isolated / "card"
    publishing.publish(ckpt, "me/tiny-pub", dry_run_dir=out, variant="tests.TinyVariant", tag="tiny_pub")
    text = (out / "README.md").read_text()
    assert text.startswith("---\n")
    meta = yaml.safe_load(text.split("---\n")[1])
    assert meta["library_name"] == "pytorch" and meta["license"] == "apache-2.0"
    assert meta["pipeline_tag"] == "image-to-image" and meta["datasets"] == ["huggan/wikiart"]
    assert {"stylezoo", "style-transfer", TINY} <= set(meta["tags"])
    (index,) = meta["model-index"]
    assert index["name"] == "tiny_pub"
    got = {(m["type"], m["name"], m["value"]) for r in index["results"] for m in r["metrics"]}
    assert got == {("fid", "FID (Inception-v3)", 18.5), ("lpips", "LPIPS (AlexNet)", 0.61),
                   ("artfid", "ArtFID", 30.9)}  # no other metric, no unusable record, no other model
    assert {r["dataset"]["name"] for r in index["results"]} == {"coco-wikiart"}
    assert "python -m zoo.fit recipes/tiny.yaml" in text and download.sha256_file(out / "model.safetensors") in text
    from huggingface_hub import ModelCard

    card = ModelCard.load(out / "README.md")
    assert card.data.license == "apache-2.0" and card.data.eval_results[0].metric_type in {"fid", "lpips", "artfid"}
    assert "| content_loss | 2 | styleid | coco-wikiart | 800 |" in text  # every metric in the body table


def test_publish_uploads_with_hfapi(trained, isolated, monkeypatch):
    ckpt, net = trained
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    calls = []

    class FakeApi:
        def __init__(self, token=None):
            calls.append(("init", token))

        def create_repo(self, repo_id, **kw):
            calls.append(("create_repo", repo_id, kw))

        def upload_folder(self, *, repo_id, folder_path, **kw):
            files = sorted(p.name for p in Path(folder_path).iterdir())
            calls.append(("upload_folder", repo_id, files, kw))
            _assert_same_tensors(publishing.load_export(folder_path), net)
            return argparse.Namespace(oid="c" * 40, commit_url="https://huggingface.co/me/tiny/commit/cc")

    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "HfApi", FakeApi)
    res = publishing.publish(ckpt, "me/tiny", token="hf_test", variant="tests.TinyVariant", private=True)
    assert calls[0] == ("init", "hf_test")
    assert calls[1] == ("create_repo", "me/tiny", {"repo_type": "model", "exist_ok": True, "private": True})
    assert calls[2][:3] == ("upload_folder", "me/tiny", ["README.md", "config.json", "model.safetensors"])
    assert res.commit == "c" * 40 and res.folder is None
    assert f'revision="{"c" * 40}"' in res.weights_fields() and res.sha256 in res.weights_fields()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(WeightsUnavailableError, match="--dry-run"):
        publishing.publish(ckpt, "me/tiny", variant="tests.TinyVariant")


def test_publish_cli_flags(trained, isolated, capsys):
    ckpt, net = trained
    parser = cli.add_publish_arguments(argparse.ArgumentParser(prog="zoo publish"))
    args = parser.parse_args([str(ckpt), "--repo-id", "me/tiny", "--dry-run", str(isolated / "cli"),
                              "--variant", "tests.TinyVariant", "--license", "mit"])
    res = cli.publish_from_args(args)
    assert f"sha256 {res.sha256}" in capsys.readouterr().out
    assert yaml.safe_load((isolated / "cli" / "README.md").read_text().split("---\n")[1])["license"] == "mit"
    _assert_same_tensors(factory.create_model(TINY, pretrained=isolated / "cli"), net)
    with pytest.raises(SystemExit):
        parser.parse_args([str(ckpt)])  # --repo-id is required


def test_export_module_needs_mixin_and_architecture(tiny_arch, isolated):
    with pytest.raises(ValueError, match="needs architecture="):
        publishing.export_for_hub(_random_tiny(), isolated / "x")
    with pytest.raises(ValueError, match="PyTorchModelHubMixin"):
        publishing.export_for_hub(nn.Conv2d(3, 3, 1), isolated / "y", architecture=TINY)
    net = _random_tiny(10, channels=3)
    res = publishing.export_for_hub(net, isolated / "z", architecture=TINY)
    assert res.config == {"channels": 3, "bias": 0.0}
    _assert_same_tensors(publishing.load_export(isolated / "z"), net)
    # Reproducible: the same weights give the same bytes (safetensors writes its metadata in hash order).
    publishing.export_for_hub(net, isolated / "z2", architecture=TINY)
    assert (isolated / "z" / "model.safetensors").read_bytes() == (isolated / "z2" / "model.safetensors").read_bytes()


# ---------------------------------------------------------------------------------------------------
# hubconf.py
# ---------------------------------------------------------------------------------------------------

@pytest.fixture
def local_hub(monkeypatch):
    """torch.hub.list/help have no source="local" (torch 2.x): point their repo cache at this checkout."""
    monkeypatch.setattr(torch.hub, "_get_cache_or_reload", lambda *a, **k: str(REPO))
    return "local/stylezoo"


def test_hubconf_list_equals_list_models(local_hub):
    entries = torch.hub.list(local_hub)
    # Generated from the declarations: every listed name, and the deprecated names, for one release.
    deprecated = sorted(n for n in deprecated_names() if n.isidentifier())
    assert entries == sorted(factory.list_models() + deprecated)
    tree = ast.parse((REPO / "hubconf.py").read_text())
    deps = next(n.value for n in tree.body if isinstance(n, ast.Assign) and n.targets[0].id == "dependencies")
    assert {"torch", "huggingface_hub", "safetensors"} <= set(ast.literal_eval(deps))
    for name in entries:
        doc = torch.hub.help(local_hub, name)
        assert doc and len(doc.split()) >= 8, name
        assert "RGB [0, 1]" in doc, name
        r = resolve(name, warn=False)
        if r.weights:  # a tag, or a family with a default tag: loads those weights by default
            assert f"Weights ({r.weights}, licence {get_weights(r.weights).licence})" in doc, name
        else:
            assert "Architecture only" in doc, name
        assert (f"direction: {' or '.join(r.family.directions)}" in doc) == (len(r.family.directions) > 1), name
        assert doc.startswith(f"Deprecated name of {deprecated_names().get(name)}") == (name in deprecated), name


def test_hubconf_direction_and_deprecated_entry():
    g = torch.hub.load(str(REPO), "cyclegan_horse2zebra", source="local", pretrained=False, direction="BtoA",
                       n_blocks=1, ngf=8)
    assert sum(p.numel() for p in g.parameters()) > 0
    with pytest.raises(ValueError, match="only the AtoB generator has pretrained weights"):
        torch.hub.load(str(REPO), "cyclegan_horse2zebra", source="local", pretrained=True, direction="BtoA")
    with pytest.warns(DeprecationWarning, match="'cyclegan_resnet' is deprecated.*use 'cyclegan'"):
        old = torch.hub.load(str(REPO), "cyclegan_resnet", source="local", n_blocks=1, ngf=8)
    assert type(old) is type(g)


def _smoke(net: nn.Module) -> None:
    """Run a network of the zoo on one 64x64 image (a second, style, input when forward takes two)."""
    import inspect

    params = [p for p in inspect.signature(net.forward).parameters.values()
              if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    torch.manual_seed(0)
    inputs = [torch.rand(1, 3, 64, 64) for _ in params]
    with torch.no_grad():
        out = net.eval()(*inputs)
    assert out.shape == (1, 3, 64, 64)
    assert torch.isfinite(out).all() and out.min() >= 0 and out.max() <= 1


def _registered_entries() -> list[str]:
    return factory.list_models()  # every name builds a network (families with one, MODELS, tags)


@pytest.mark.parametrize("name", _registered_entries())
def test_every_registered_hubconf_entry_runs(name):
    arch = get_weights(name).arch if name in WEIGHTS else name
    overrides = smoke_overrides(factory.canonical_arch(arch))
    net = torch.hub.load(str(REPO), name, source="local", pretrained=False, **overrides)
    assert isinstance(net, nn.Module)
    _smoke(net)


def test_hubconf_machinery_with_the_tiny_network(tiny_arch, register, isolated):
    """What the parametrised test does for the zoo's nets, shown on the tiny one (always runs)."""
    ref = _random_tiny(11)
    _published(register, isolated, ref)
    assert "tiny_pub" in _registered_entries() and TINY in _registered_entries()
    _smoke(factory.create_model("tiny_pub", pretrained=False))
    net = factory.create_model("tiny_pub")  # a tag loads its trained weights by default
    _smoke(net)
    _assert_same_tensors(net, ref)
    with pytest.raises(download.NotPublishedError, match="recipes/cyclegan_photo2anime.yaml"):
        torch.hub.load(str(REPO), "cyclegan_photo2anime", source="local", pretrained=True)
