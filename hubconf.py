"""torch.hub entry points of Stylezoo: one function per name of ``zoo.list_models()``.

    torch.hub.list("<owner>/<repo>")
    torch.hub.help("<owner>/<repo>", "johnson_candy")
    model = torch.hub.load("<owner>/<repo>", "cyclegan_photo2anime", pretrained=True)

The functions are generated when this file is imported, from the family declarations (each family's
FAMILY in zoo/nets/<name>.py, found by zoo.families) and their pretrained tags (zoo.weights.WEIGHTS), each
with a docstring saying what it builds and where its weights come from; each only forwards to ``zoo.create_model``. A tag (``johnson_candy``,
``adain_original``) and a family with a default tag (``adain``) load trained weights by default, as
their names promise (for tags not published yet that is an error naming the recipe that trains them);
a family without one (``johnson``, ``cyclegan``) builds random weights. ``pretrained=False`` builds any
entry with random weights; keyword arguments override its config. CycleGAN entries take
``direction="AtoB"`` or ``"BtoA"`` (only AtoB generators have pretrained weights). Deprecated names
(``cyclegan_resnet``) are entry points too, for one release. tests/test_hub.py checks that
``torch.hub.list`` is ``zoo.list_models()`` plus the deprecated names and that every entry has a docstring.
"""

dependencies = ["torch", "torchvision", "huggingface_hub", "safetensors", "PIL", "numpy"]

from zoo.factory import canonical_arch as _canonical_arch, create_model as _create_model  # noqa: E402
from zoo.factory import list_models as _list_models  # noqa: E402
from zoo.families import deprecated_names as _deprecated_names, resolve as _resolve  # noqa: E402
from zoo.registry import UnknownNameError as _UnknownNameError  # noqa: E402
from zoo.weights import WEIGHTS as _WEIGHTS  # noqa: E402

_IO = "RGB [0, 1] in and out, (N, 3, H, W), any H and W."


def _resolved(name):
    try:
        return _resolve(name, warn=False)
    except _UnknownNameError:  # an architecture registered in zoo.registry.MODELS only
        return None


def _doc(name):
    """The docstring of entry ``name`` and whether it loads pretrained weights by default."""
    resolved = _resolved(name)
    if resolved is None:
        return (f"Stylezoo architecture {name!r} (zoo.registry.MODELS), built with random weights; keyword "
                f"arguments are its config. {_IO}"), False
    family, tag = resolved.family, resolved.weights
    lines = [f"{_WEIGHTS.get(resolved.tag).description if resolved.tag else family.description}."]
    if tag is None:
        tags = [t for t in _WEIGHTS.names() if _canonical_arch(_WEIGHTS.get(t).arch) == family.name]
        lines.append(f"Architecture only: random weights. Pretrained tags: {', '.join(tags) or '(none yet)'}; "
                     f"or your own export with zoo.create_model({family.name!r}, pretrained=EXPORT_DIR).")
    else:
        entry = _WEIGHTS.get(tag)
        if entry.published:
            where = f"the Hub, {entry.repo_id} (pinned revision, sha256-checked)"
        elif entry.canonical is not None:
            where = f"{entry.canonical.citation}, converted to safetensors on first use"
        else:
            where = f"not published yet; pretrained=True says how to train them ({entry.recipe})"
        lines.append(f"Weights ({tag}, licence {entry.licence}): {where}. pretrained=False: random weights.")
    if len(family.directions) > 1:
        lines.append(f"direction: {' or '.join(family.directions)} (only {family.directions[0]} has pretrained "
                     "weights).")
    lines.append(("Call it with a content and a style image, " if family.needs_style else "") + _IO)
    return "\n\n".join([lines[0], " ".join(lines[1:])]), tag is not None


def _entry(name, target=None):
    doc, default = _doc(target or name)
    resolved = _resolved(target or name)
    directions = resolved.family.directions if resolved is not None else ("",)
    if len(directions) > 1:
        def entry(pretrained=default, direction=directions[0], **config):
            if direction not in directions:
                raise ValueError(f"direction must be {' or '.join(map(repr, directions))}, got {direction!r}")
            if direction != directions[0] and pretrained:
                raise ValueError(f"{name}: only the {directions[0]} generator has pretrained weights; use "
                                 f"pretrained=False for {direction}")
            return _create_model(name, pretrained=pretrained, **config)
    else:
        def entry(pretrained=default, **config):
            return _create_model(name, pretrained=pretrained, **config)
    entry.__name__ = entry.__qualname__ = name
    entry.__doc__ = doc if target is None else f"Deprecated name of {target} (kept for one release).\n\n{doc}"
    return entry


for _name in _list_models():
    globals()[_name] = _entry(_name)
for _old, _new in _deprecated_names().items():
    if _old.isidentifier():
        globals()[_old] = _entry(_old, _new)
