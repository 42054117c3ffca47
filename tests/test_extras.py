"""A feature whose extra is not installed says so in one line naming the extra (zoo.extras.require); the core
(`import zoo`, stylising) imports none of the extras. The core install itself, in a fresh environment, is
checked by .ci/core (tests/test_core_install.py, slow)."""

import sys

import pytest

from zoo.extras import EXTRAS, MissingExtraError, require

# Run the zoo command with these packages made unimportable, as in an environment without their extras.
BLOCKED = ("lightning", "pytorch_lightning", "jsonargparse", "av", "cv2", "gradio", "torchmetrics", "wandb")
BLOCKING_MAIN = ("import sys; sys.modules.update(dict.fromkeys({blocked!r})); from zoo.cli import main; "
                 "sys.exit(main(sys.argv[1:]))").format(blocked=BLOCKED)


def test_require_returns_the_module():
    assert require("json", "train") is sys.modules["json"]


def test_a_missing_package_names_its_extra(monkeypatch):
    for name in ("lightning", "lightning.pytorch"):  # as if never installed, even where a test imported it
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(MissingExtraError) as e:
        require("lightning.pytorch", "train")
    assert str(e.value) == 'training (zoo fit, the recipes) needs lightning, which is not installed: ' \
                           'pip install "stylezoo[train]"'
    assert isinstance(e.value, ImportError) and e.value.extra == "train"


def test_an_installed_package_with_a_broken_dependency_keeps_its_own_error(tmp_path, monkeypatch):
    (tmp_path / "zoo_fake_pkg").mkdir()
    (tmp_path / "zoo_fake_pkg" / "__init__.py").write_text("import zoo_absent_dependency_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError) as e:
        require("zoo_fake_pkg", "video")
    assert not isinstance(e.value, MissingExtraError) and e.value.name == "zoo_absent_dependency_xyz"


def test_every_extra_of_the_messages_is_declared_in_pyproject():
    import tomllib

    from conftest import REPO

    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert set(EXTRAS) <= set(declared)
    assert {"all", "dev"} <= set(declared)
    core = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    heavy = ("lightning", "torchmetrics", "av", "opencv", "gradio", "wandb", "timm", "jsonargparse")
    assert not [d for d in core if d.split(">")[0].split("[")[0].strip() in heavy or d.startswith("opencv")]


@pytest.mark.parametrize("extra,args", [
    ("train", ["fit", "johnson", "--trainer.fast_dev_run=true"]),
    ("demo", ["demo", "--port", "7860"]),
    ("bench", ["bench", "--model", "johnson", "--allow-random-weights", "--out", "b.json"]),
    ("video", ["stylize", "clip.mp4", "--model", "johnson", "--weights", "random", "-o", "out.mp4"]),
])
def test_a_command_without_its_extra_is_one_line_naming_it(run, tmp_path, extra, args):
    (tmp_path / "clip.mp4").write_bytes(b"not a real video")
    r = run("-c", BLOCKING_MAIN, *args)
    assert r.returncode == 1, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and f'pip install "stylezoo[{extra}]"' in lines[0], \
        r.stderr
    assert not (tmp_path / "out.mp4").exists()


def test_python_m_zoo_fit_without_the_train_extra_is_one_line(run):
    r = run("-c", "import sys; sys.modules.update(dict.fromkeys(%r)); from zoo.fit import main; "
                  "sys.exit(main(sys.argv[1:]))" % (BLOCKED,), "recipes/johnson.yaml")
    assert r.returncode == 1
    assert r.stderr.strip().splitlines() == ['error: training (zoo fit, the recipes) needs lightning, which is not '
                                             'installed: pip install "stylezoo[train]"']


def test_pictures_are_stylised_without_any_extra(run, images, tmp_path):
    r = run("-c", BLOCKING_MAIN, "stylize", str(images["content"]), "--model", "johnson", "--weights", "random",
            "--quiet", "-o", str(tmp_path / "out.png"))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "out.png").stat().st_size > 0


def test_import_zoo_imports_none_of_the_extras(run):
    r = run("-c", "import sys, zoo, zoo.cli; print(sorted(m for m in sys.modules if m.split('.')[0] in "
                  f"{BLOCKED!r}))")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"
