"""The family declarations (``FAMILY`` beside each network, zoo/nets/<name>.py): one record per family, found
by zoo.families and read by every command.

A throwaway family is declared in this module only (a one-convolution network, its stylizer and
loader) and registered twice: in-process (``FAMILIES.register``) and as a third-party plugin through the
``stylezoo.families`` entry-point group (a ``*.dist-info`` folder written to a temporary directory on
PYTHONPATH). No other file of the repository names it, yet ``zoo list``, ``zoo stylize``,
``zoo.create_model``, ``zoo export``, ``zoo publish`` and ``benchmarks.run`` all take it.

A throwaway weights-only family is added to a copy of the package as a contributor adds one (docs/design.md,
"Adding a family"): its network module in zoo/nets/ and nothing else, which ``zoo list``, ``zoo stylize``,
torch.hub's listing and the weights lookup then all know.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from conftest import REPO, WAIT, make_image
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

import zoo
from zoo.families import FAMILIES, ENTRY_POINT_GROUP, Family, FamilyRegistry, ZooDeprecationWarning, resolve
from zoo.registry import UnknownNameError
from zoo.weights import WEIGHTS, PretrainedWeights
from zoo.stylize import StylizeOptions, build_stylizer

NAME = "tinyfam"


# ----------------------------------------------------------------------------------------- the family
class TinyFamilyNet(nn.Module, PyTorchModelHubMixin):
    """One 1x1 convolution and a sigmoid: RGB [0, 1] in and out, any size."""

    def __init__(self, gain: float = 1.0) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 1)
        self.gain = gain

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.gain * self.conv(x))


def build_tiny(**config) -> TinyFamilyNet:
    return TinyFamilyNet(**config)


def load_tiny(weights: str) -> TinyFamilyNet:
    return zoo.create_model(NAME, pretrained=weights)


class TinyStylizer:
    needs_style = True  # takes style images (and ignores them), so the styleid protocol can run it

    def __init__(self, net: TinyFamilyNet, size: int | None) -> None:
        self.net, self.size = net, size

    @torch.no_grad()
    def __call__(self, content, styles):
        from zoo.io import resize_long_edge

        return self.net(resize_long_edge(content, self.size))


def build_tiny_stylizer(opts) -> TinyStylizer:
    if not opts.weights:
        raise ValueError(f"model {NAME!r} needs --weights")
    return TinyStylizer(load_tiny(opts.weights), opts.size)


FAMILY = Family(
    name=NAME, description="a throwaway test family (one 1x1 convolution)",
    stylizer=f"{__name__}:build_tiny_stylizer", network=f"{__name__}:build_tiny",
    loader=f"{__name__}:load_tiny", module="tests.TinyFamilyModule", needs_style=True, bytes_per_pixel=100,
)


@pytest.fixture
def tiny_family():
    FAMILIES.register(FAMILY)
    try:
        yield FAMILY
    finally:
        FAMILIES.unregister(NAME)


@pytest.fixture
def plugin_env(offline_env, tmp_path):
    """Subprocess environment where FAMILY is an installed plugin: a dist-info with an entry point."""
    site = tmp_path / "site"
    dist = site / "stylezoo_tinyfam-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: stylezoo-tinyfam\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{NAME} = {__name__}:FAMILY\n")
    env = dict(offline_env)
    env["PYTHONPATH"] = os.pathsep.join([str(site), str(Path(__file__).parent), env["PYTHONPATH"]])
    return env


@pytest.fixture
def tiny_weights(tmp_path):
    """A save_pretrained folder of the tiny family (random weights, seed 3) and its network."""
    torch.manual_seed(3)
    net = TinyFamilyNet(gain=2.0)
    net.save_pretrained(tmp_path / "tiny-weights")
    return tmp_path / "tiny-weights", net


def _zoo(env, *args, cwd):
    return subprocess.run([sys.executable, "-m", "zoo", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=WAIT)


# ----------------------------------------------------------------------------------------- in-process
def test_a_family_declared_in_one_module_is_seen_everywhere(tiny_family, tiny_weights, tmp_path, images, capsys):
    import benchmarks.run as R
    from zoo.cli import main

    folder, ref = tiny_weights
    assert NAME in zoo.list_models() and NAME in zoo.FAMILIES
    assert isinstance(zoo.create_model(NAME), TinyFamilyNet)  # random weights
    net = zoo.create_model(NAME, pretrained=folder)
    assert torch.equal(net.conv.weight, ref.conv.weight) and net.gain == 2.0
    x = torch.rand(1, 3, 11, 13)
    assert torch.equal(zoo.stylize(x, [x], model=NAME, weights=str(folder), progress=False), ref(x))
    # zoo export (TorchScript: the same function at another size)
    assert main(["export", "--model", NAME, "--weights", str(folder), "--format", "torchscript",
                 "-o", str(tmp_path / "tiny.pt")]) == 0
    traced = torch.jit.load(str(tmp_path / "tiny.pt"))
    y = torch.rand(2, 3, 7, 9)
    torch.testing.assert_close(traced(y), ref(y))
    # zoo publish of a training checkpoint: the family's module and checkpoint prefix pick the network
    ckpt = tmp_path / "tiny.ckpt"
    torch.save({"state_dict": {f"net.{k}": v for k, v in ref.state_dict().items()},
                "hyper_parameters": {"network": {"gain": 2.0}, "_class_path": "tests.TinyFamilyModule"}}, ckpt)
    assert main(["publish", str(ckpt), "--repo-id", "me/tiny", "--dry-run", str(tmp_path / "pub")]) == 0
    assert torch.equal(zoo.create_model(NAME, pretrained=tmp_path / "pub").conv.bias, ref.conv.bias)
    # benchmarks.run (the styleid protocol, metric networks random)
    make_image(tmp_path / "cnt" / "a.png", (40, 36), seed=1)
    make_image(tmp_path / "sty" / "b.png", (36, 36), seed=2)
    assert R.resolve_model(NAME, str(folder)) == (NAME, str(folder), "file")
    assert R.main(["--model", NAME, "--weights", str(folder), "--protocol", "styleid", "--content",
                   str(tmp_path / "cnt"), "--style", str(tmp_path / "sty"), "--n-content", "1", "--n-style", "1",
                   "--size", "32", "--feature-extractor", "random", "--metrics", "lpips_alex", "--no-progress",
                   "--out", str(tmp_path / "r.json"), "--work-dir", str(tmp_path / "work")]) == 0
    assert (tmp_path / "r.json").is_file()


def test_unsupported_options_are_refused_in_one_place_for_every_family():
    """Every StylizeOptions field a family does not declare is refused before anything is loaded,
    naming the model as given (Johnson used to ignore --seed)."""
    probes = {"weights": "x", "style_weights": [1.0], "steps": 3, "scales": [0.5, 1.0], "preserve_color": "luminance",
              "backbone_weights": "none", "seed": 1, "alpha": 0.5, "direction": "BtoA", "tile": 64, "masks": ["m"]}
    assert set(probes) | {"model", "size", "device", "progress"} == set(StylizeOptions.__dataclass_fields__)
    refused = {}
    for name in FAMILIES.names():
        for option, value in probes.items():
            if option not in FAMILIES[name].supports:
                with pytest.raises(ValueError, match=f"model '{name}' does not support --{option.replace('_', '-')}"):
                    build_stylizer(StylizeOptions(model=name, progress=False, **{option: value}))
                refused.setdefault(name, set()).add(option)
    assert "seed" in refused["johnson"] and "seed" in refused["cyclegan"] and "seed" in refused["adain"]
    assert "alpha" in refused["gatys"] and "direction" in refused["adain"]
    # gatys has no trained network: --weights is the smoke path's "random" only (a random VGG)
    with pytest.raises(ValueError, match="--weights x: gatys has no trained network .* --weights random only"):
        build_stylizer(StylizeOptions(model="gatys", weights="x", progress=False))
    with pytest.raises(ValueError, match="model 'johnson_candy' does not support --seed"):  # the name as given
        build_stylizer(StylizeOptions(model="johnson_candy", seed=1))


def test_one_resolver_for_families_tags_and_timm_names():
    assert resolve("johnson").family.name == "johnson" and resolve("johnson").tag is None
    assert resolve("johnson_candy").tag == "johnson_candy" == resolve("johnson.candy").tag
    adain = resolve("adain")  # the family; its default tag is the pytorch-AdaIN decoder
    assert adain.is_family and adain.weights == "adain_original" and resolve("adain_gan").family.name == "adain"
    assert resolve("cyclegan_photo2anime").family is FAMILIES["cyclegan"]
    with pytest.raises(UnknownNameError, match="unknown model 'johnson_starry'; valid names: .*johnson_candy"):
        resolve("johnson_starry")
    with pytest.raises(UnknownNameError):
        resolve("johnson_starry", prefix_tags=False)
    assert resolve("johnson_starry", prefix_tags=True).family.name == "johnson"  # benchmarks.run --import


@pytest.mark.parametrize("old,new,tag", [
    ("cyclegan_resnet", "cyclegan", None),
    ("cyclegan_resnet.horse2zebra", "cyclegan.horse2zebra", "cyclegan_horse2zebra"),
    ("adain.pytorch_adain", "adain_original", "adain_original"),
])
def test_deprecated_names_still_resolve_and_warn(old, new, tag):
    with pytest.warns(ZooDeprecationWarning, match=f"'{old}' is deprecated.*use '{new}'"):
        r = resolve(old)
    assert r.tag == tag and r.family.name == new.split(".")[0].split("_")[0]
    assert issubclass(ZooDeprecationWarning, DeprecationWarning)


def test_deprecated_architecture_and_module_names_still_work():
    with pytest.warns(ZooDeprecationWarning, match="'cyclegan_resnet' is deprecated"):
        g = zoo.create_model("cyclegan_resnet", n_blocks=1, ngf=4)
    assert type(g) is type(zoo.create_model("cyclegan", n_blocks=1, ngf=4))
    import importlib

    import zoo.variants.johnson as new_module

    for old in ("zoo.variants.perceptual", "zoo.variants.adain_gan"):
        sys.modules.pop(old, None)
        with pytest.warns(ZooDeprecationWarning, match=f"module '{old}' is deprecated"):
            mod = importlib.import_module(old)
        assert mod.__name__ == old
    assert sys.modules["zoo.variants.perceptual"].PerceptualVariant is new_module.PerceptualVariant


def test_former_class_path_of_a_checkpoint_still_exports(tmp_path):
    from zoo.nets.johnson import TransformerNet
    from zoo.publish import publish

    config = {"channels": [4, 4, 4], "num_residual": 1}
    net = TransformerNet(**config)
    torch.save({"state_dict": {f"net.{k}": v for k, v in net.state_dict().items()},
                "hyper_parameters": {"network": config, "_class_path": "zoo.variants.perceptual.PerceptualVariant"}},
               tmp_path / "old.ckpt")
    with pytest.warns(ZooDeprecationWarning, match="use 'zoo.variants.johnson.PerceptualVariant'"):
        res = publish(tmp_path / "old.ckpt", "me/old", dry_run_dir=tmp_path / "out")
    assert res.architecture == "johnson"
    loaded = zoo.create_model("johnson", pretrained=tmp_path / "out").state_dict()
    assert loaded.keys() == net.state_dict().keys()
    assert all(torch.equal(loaded[k], v) for k, v in net.state_dict().items())


def test_entry_point_discovery_and_a_broken_plugin(tmp_path, monkeypatch, caplog):
    dist = tmp_path / "site" / "plugins-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: plugins\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{NAME} = {__name__}:FAMILY\n"
                                           "broken = no_such_module_xyz:FAMILY\n")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    registry = FamilyRegistry()
    with caplog.at_level("WARNING", logger="zoo.families"):
        assert registry.names() == [NAME]  # the broken one is skipped, with one log line naming it
    assert "broken = no_such_module_xyz:FAMILY" in caplog.text
    with pytest.raises(KeyError, match="already registered"):
        registry.register(FAMILY)


# ----------------------------------------------------------------------------------------- subprocesses
def test_an_entry_point_family_in_zoo_list_and_zoo_stylize(plugin_env, tiny_weights, images, tmp_path):
    """The plugin family, installed through its entry point only, in `zoo list` and `zoo stylize` (one
    interpreter runs both commands, as the `zoo` console script would)."""
    folder, ref = tiny_weights
    out = tmp_path / "out.png"
    argv = [["list"], ["stylize", str(images["content"]), "--style", str(images["style"]), "--model", NAME,
                       "--weights", str(folder), "-o", str(out)],
            ["stylize", str(images["content"]), "--style", str(images["style"]), "--model", NAME,
             "--weights", str(folder), "--seed", "1", "-o", str(tmp_path / "x.png")]]
    code = f"import sys; from zoo.cli import main; print('status', [main(a) for a in {argv!r}])"
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=plugin_env, capture_output=True, text=True,
                       timeout=WAIT)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "status [0, 0, 1]"
    assert f"  {NAME}" in r.stdout and "a throwaway test family" in r.stdout
    assert r.stderr.strip() == f"error: model '{NAME}' does not support --seed"
    from zoo.io import load_image

    expected = ref(load_image(images["content"])).detach()
    assert (load_image(out) - expected).abs().max() <= 1 / 255 + 1e-6


# A weights-only family as a contributor writes it: zoo/nets/<name>.py, the network (a box blur), its converter
# of the upstream checkpoint and its declaration with one pretrained tag. Nothing else of the package changes.
BOXBLUR = "boxblur"
BOXBLUR_MODULE = f'''"""A box blur: a weights-only family (tests/test_families.py)."""

from torch import Tensor, nn

from ..families import Family
from ..pins import Pin
from ..weights import CanonicalSource, PretrainedWeights
from .base import ZooNet

CONVERTER = f"{{__name__}}.convert_upstream_state_dict"


class BoxBlur(ZooNet):
    def __init__(self, radius: int = 1) -> None:
        super().__init__()
        self.radius = radius
        self.blur = nn.Conv2d(3, 3, 2 * radius + 1, padding=radius, padding_mode="replicate", groups=3)

    def forward(self, x: Tensor) -> Tensor:
        return self.any_size(lambda t: self.blur(t).clamp(0, 1), x)


def convert_upstream_state_dict(sd):
    return {{f"blur.{{k}}": v for k, v in sd.items()}}


FAMILY = Family(
    name="{BOXBLUR}", description="a throwaway box blur (tests/test_families.py)",
    stylizer="zoo.stylizers:build_image_stylizer", network=f"{{__name__}}:BoxBlur", converters=(CONVERTER,),
    pretrained=(PretrainedWeights(
        tag="{BOXBLUR}_soft", name="{BOXBLUR}.soft", arch="{BOXBLUR}", description="a 5 x 5 box blur",
        licence="mit", training_data="none", repo_id="stylezoo/{BOXBLUR}-soft", config={{"radius": 2}},
        canonical=CanonicalSource(url="https://example.invalid/soft.pth", converter=CONVERTER, licence="mit",
                                  citation="tests/test_families.py", pin=Pin(unpinned="a test file")),
    ),),
)
'''


def test_a_weights_only_family_is_its_network_module(offline_env, images, tmp_path):
    """docs/design.md's count of a weights-only family: a copy of the package with only zoo/nets/boxblur.py
    added lists it (``zoo list``, ``zoo list --pretrained``, torch.hub's hubconf listing), looks its tag up,
    and stylises with it (``--weights random``, the smoke path)."""
    checkout = tmp_path / "checkout"
    shutil.copytree(REPO / "zoo", checkout / "zoo", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "hubconf.py", checkout / "hubconf.py")
    (checkout / "zoo" / "nets" / f"{BOXBLUR}.py").write_text(BOXBLUR_MODULE)
    out = tmp_path / "blurred.png"
    argv = [["list"], ["list", "--pretrained"],
            ["stylize", str(images["content"]), "--model", BOXBLUR, "--weights", "random", "-o", str(out)]]
    code = f"""
import torch, zoo
from zoo.cli import main
from zoo.weights import get_weights
torch.hub._get_cache_or_reload = lambda *a, **k: {str(checkout)!r}  # torch.hub.list of this checkout
print("hub", torch.hub.list("local/stylezoo"))
entry = get_weights("{BOXBLUR}.soft")
print("weights", entry.tag, entry.arch, dict(entry.config), zoo.FAMILIES["{BOXBLUR}"].converters == (entry.canonical.converter,))
print("status", [main(a) for a in {argv!r}])
"""
    env = {**offline_env, "PYTHONPATH": str(checkout)}
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                       timeout=WAIT)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[-1] == "status [0, 0, 0]", r.stderr
    hub = next(line for line in lines if line.startswith("hub "))
    assert f"'{BOXBLUR}'" in hub and f"'{BOXBLUR}_soft'" in hub
    assert f"weights {BOXBLUR}_soft {BOXBLUR} {{'radius': 2}} True" in lines
    assert any(line.split() == [BOXBLUR, "a", "throwaway", "box", "blur", "(tests/test_families.py)"]
               for line in lines)  # zoo list, with its description
    assert any(line.split()[:3] == [f"{BOXBLUR}_soft", BOXBLUR, "mit"] and "canonical, converted on first use" in line
               for line in lines)  # zoo list --pretrained
    from zoo.io import load_image

    assert load_image(out).shape == load_image(images["content"]).shape
    assert not (REPO / "zoo" / "nets" / f"{BOXBLUR}.py").exists() and BOXBLUR not in FAMILIES  # only the copy


def test_every_family_has_its_test_and_its_docs_page():
    """The rest of a family's count (docs/design.md): tests/test_<name>.py and docs/<name>.md."""
    for name in FAMILIES.names():
        assert (REPO / "tests" / f"test_{name}.py").is_file(), name
        assert (REPO / "docs" / f"{name}.md").is_file(), name


def test_a_family_whose_tag_is_taken_is_refused_whole():
    """A family registers with its pretrained entries, all or nothing."""
    taken = WEIGHTS.get(WEIGHTS.names()[0])
    clash = Family(name=NAME, description="d", stylizer="x:y",
                   pretrained=(PretrainedWeights(**{**{f: getattr(taken, f) for f in taken.__dataclass_fields__},
                                                    "arch": NAME, "name": f"{NAME}.x"}),))
    with pytest.raises(KeyError, match=f"pretrained weights '{taken.tag}' are already registered"):
        FAMILIES.register(clash)
    assert NAME not in FAMILIES and WEIGHTS.get(taken.tag) is taken
    with pytest.raises(ValueError, match=f"its pretrained entries must have arch {NAME!r}"):
        Family(name=NAME, description="d", stylizer="x:y", pretrained=(taken,))


def test_a_deprecated_name_prints_one_warning_line(offline_env, tmp_path):
    from zoo.publish import export_for_hub

    export_for_hub(zoo.create_model("cyclegan", n_blocks=1, ngf=4), tmp_path / "g", architecture="cyclegan")
    r = _zoo(offline_env, "export", "--model", "cyclegan_resnet", "--weights", str(tmp_path / "g"), "--format",
             "torchscript", "-o", str(tmp_path / "g.pt"), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip() == ("warning: name 'cyclegan_resnet' is deprecated and will be removed in the next "
                                "release; use 'cyclegan'")
    assert (tmp_path / "g.pt").is_file()


def test_no_family_is_named_outside_the_declarations():
    """The maps that used to repeat the families are gone: listings read zoo.families."""
    for path, names in {"zoo/stylize.py": ("FAMILY_OF_ARCH", "BYTES_PER_PIXEL"),
                        "zoo/cli.py": ("FAMILY_OF_ARCH", '"adain_gan"', 'choices=["johnson"'),
                        "benchmarks/run.py": ("WEIGHTLESS_FAMILIES", "FAMILY_OF_ARCH"),
                        "zoo/hub.py": ("VARIANT_EXPORTS =", "TRAINING_ONLY_ARCHITECTURES ="),
                        "hubconf.py": ("def johnson_candy",)}.items():
        text = (REPO / path).read_text()
        for name in names:
            assert name not in text, (path, name)
    # reading every declaration imports neither Lightning nor a LightningModule
    code = ("import sys, zoo.families as f; [f.resolve(n) for n in f.model_names()]; "
            "print(sorted(m for m in sys.modules if m == 'lightning' or m.startswith('zoo.variants')))")
    r = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(REPO)},
                       capture_output=True, text=True, timeout=WAIT)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


def test_every_recipe_belongs_to_its_family():
    """Each recipes/*.yaml is declared by exactly one family and trains that family's LightningModule."""
    import yaml

    owners = {r: name for name in FAMILIES.names() for r in FAMILIES[name].recipes}
    files = sorted(p.stem for p in (REPO / "recipes").glob("*.yaml"))
    assert sorted(owners) == files
    for recipe, family in owners.items():
        model = yaml.safe_load((REPO / "recipes" / f"{recipe}.yaml").read_text())["model"]
        assert model["class_path"] == FAMILIES[family].module_path, recipe
