"""torch.hub entry points of Stylezoo: one function per pretrained tag and per architecture.

    torch.hub.list("<owner>/<repo>")
    torch.hub.help("<owner>/<repo>", "johnson_candy")
    model = torch.hub.load("<owner>/<repo>", "cyclegan_photo2anime", pretrained=True)

Every function is written out (nothing is generated at import time) and only forwards to
``zoo.hub.create_model``; the weights, their checksums and licences live in ``zoo/weights.py``.
A tag entry (``johnson_candy``, ``adain``, ...) loads its trained weights by default, as its name promises
(for tags not published yet that is an error naming the recipe that trains them); an architecture entry
(``johnson``, ``cyclegan_resnet``) builds random weights. ``pretrained=False`` builds any entry with
random weights; keyword arguments override its config.
The set of functions equals ``zoo.hub.list_models()`` (checked by tests/test_hub.py).
"""

dependencies = ["torch", "torchvision", "huggingface_hub", "safetensors", "PIL", "numpy"]

from zoo.hub import create_model as _create_model  # noqa: E402  (names with "_" are not entry points)


# ---- Johnson et al. 2016 feed-forward networks (architecture "johnson") -----------------------------

def johnson(pretrained=False, **config):
    """Johnson et al. 2016 image transformation network (architecture only, no weights of its own).

    Use a style tag (johnson_candy, johnson_mosaic, johnson_rain_princess, johnson_udnie) for trained
    weights, or load your own with zoo.create_model("johnson", pretrained=EXPORT_DIR).
    RGB [0, 1] in and out, any H and W.
    """
    return _create_model("johnson", pretrained=pretrained, **config)


def johnson_candy(pretrained=True, **config):
    """Johnson et al. 2016 network for the Candy style.

    Weights: pytorch/examples fast_neural_style (BSD-3-Clause), converted to safetensors on first use.
    RGB [0, 1] in and out, any H and W.
    """
    return _create_model("johnson_candy", pretrained=pretrained, **config)


def johnson_mosaic(pretrained=True, **config):
    """Johnson et al. 2016 network for the Mosaic style.

    Weights: pytorch/examples fast_neural_style (BSD-3-Clause), converted to safetensors on first use.
    RGB [0, 1] in and out, any H and W.
    """
    return _create_model("johnson_mosaic", pretrained=pretrained, **config)


def johnson_rain_princess(pretrained=True, **config):
    """Johnson et al. 2016 network for the Rain Princess style (Leonid Afremov).

    Weights: pytorch/examples fast_neural_style (BSD-3-Clause), converted to safetensors on first use.
    RGB [0, 1] in and out, any H and W.
    """
    return _create_model("johnson_rain_princess", pretrained=pretrained, **config)


def johnson_udnie(pretrained=True, **config):
    """Johnson et al. 2016 network for the Udnie style (Francis Picabia).

    Weights: pytorch/examples fast_neural_style (BSD-3-Clause), converted to safetensors on first use.
    RGB [0, 1] in and out, any H and W.
    """
    return _create_model("johnson_udnie", pretrained=pretrained, **config)


# ---- CycleGAN ResNet generators (architecture "cyclegan_resnet") ------------------------------------

def cyclegan_resnet(pretrained=False, **config):
    """CycleGAN ResNet generator of Zhu et al. 2017 (architecture only, no weights of its own).

    Use cyclegan_photo2anime or cyclegan_horse2zebra for trained weights.
    RGB [0, 1] in and out, any H and W.
    """
    return _create_model("cyclegan_resnet", pretrained=pretrained, **config)


def cyclegan_photo2anime(pretrained=True, direction="AtoB", **config):
    """CycleGAN generator photo -> anime face, trained by Stylezoo (recipes/cyclegan_photo2anime.yaml).

    Weights: not published yet; pretrained=True says how to train them. Licence Apache-2.0.
    direction="BtoA" (anime -> photo) is the same architecture; only AtoB weights are in the table.
    RGB [0, 1] in and out, any H and W.
    """
    return _create_model(_direction("cyclegan_photo2anime", direction, pretrained), pretrained=pretrained, **config)


def cyclegan_horse2zebra(pretrained=True, direction="AtoB", **config):
    """CycleGAN generator horse -> zebra, the official weights of the CycleGAN authors.

    Weights: junyanz/pytorch-CycleGAN-and-pix2pix horse2zebra.pth (BSD), converted on first use.
    direction="BtoA" (zebra -> horse) is the same architecture; only AtoB weights are in the table.
    RGB [0, 1] in and out, any H and W.
    """
    return _create_model(_direction("cyclegan_horse2zebra", direction, pretrained), pretrained=pretrained, **config)


def _direction(tag, direction, pretrained):
    if direction not in ("AtoB", "BtoA"):
        raise ValueError(f"direction must be 'AtoB' or 'BtoA', got {direction!r}")
    if direction == "BtoA" and pretrained:
        raise ValueError(f"{tag}: only the AtoB generator has pretrained weights; use pretrained=False for BtoA")
    return tag


# ---- AdaIN networks (architecture "adain") ----------------------------------------------------------

def adain(pretrained=True, **config):
    """AdaIN network of Huang & Belongie 2017: VGG19 encoder to relu4_1, AdaIN, decoder.

    Weights: the decoder of naoto0804/pytorch-AdaIN (MIT), converted on first use. Call it with a
    content and a style image, RGB [0, 1], any H and W.
    """
    return _create_model("adain", pretrained=pretrained, **config)


def adain_gan(pretrained=True, **config):
    """AdaIN network trained with an additional adversarial loss, by Stylezoo (recipes/adain.yaml).

    Weights: not published yet; pretrained=True says how to train them. Licence Apache-2.0.
    """
    return _create_model("adain_gan", pretrained=pretrained, **config)


# ---- AnimeGANv2 generators (architecture "animeganv2") ----------------------------------------------
# Weights: bryandlee/animegan2-pytorch, converted on first use. Licence: non-commercial use only (the
# AnimeGANv2 terms, TachibanaYoshino/AnimeGANv2 README); the port and its files are MIT.

def animeganv2(pretrained=False, **config):
    """AnimeGANv2 generator (architecture only). Use animeganv2_paprika, animeganv2_face_paint_512_v2, ...
    for trained weights. RGB [0, 1] in and out, any H and W."""
    return _create_model("animeganv2", pretrained=pretrained, **config)


def animeganv2_celeba_distill(pretrained=True, **config):
    """AnimeGANv2 generator, photo -> webtoon-style face (bryandlee, celeba_distill). Non-commercial use only."""
    return _create_model("animeganv2_celeba_distill", pretrained=pretrained, **config)


def animeganv2_face_paint_512_v1(pretrained=True, **config):
    """AnimeGANv2 generator, photo -> face portrait v1 (bryandlee, face_paint_512_v1). Non-commercial use only."""
    return _create_model("animeganv2_face_paint_512_v1", pretrained=pretrained, **config)


def animeganv2_face_paint_512_v2(pretrained=True, **config):
    """AnimeGANv2 generator, photo -> face portrait v2 (bryandlee, face_paint_512_v2). Non-commercial use only."""
    return _create_model("animeganv2_face_paint_512_v2", pretrained=pretrained, **config)


def animeganv2_paprika(pretrained=True, **config):
    """AnimeGANv2 generator, photo -> anime in the Paprika style (the AnimeGANv2 authors' weights, converted
    by bryandlee). Non-commercial use only."""
    return _create_model("animeganv2_paprika", pretrained=pretrained, **config)
