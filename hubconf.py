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

    Use a cyclegan_<name> tag (zoo list --pretrained) for trained weights.
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


def cyclegan_apple2orange(pretrained=True, direction="AtoB", **config):
    """CycleGAN generator apple -> orange, the official weights of the CycleGAN authors.

    Weights: junyanz/pytorch-CycleGAN-and-pix2pix apple2orange.pth (BSD), converted on first use.
    The file holds this one direction; direction="BtoA" only builds the architecture (pretrained=False).
    RGB [0, 1] in and out, any H and W.
    """
    return _create_model(_direction("cyclegan_apple2orange", direction, pretrained), pretrained=pretrained, **config)


def cyclegan_cityscapes_label2photo(pretrained=True, direction="AtoB", **config):
    """CycleGAN generator semantic label map -> street photo, the official weights of the CycleGAN authors.

    Weights: junyanz/pytorch-CycleGAN-and-pix2pix cityscapes_label2photo.pth (BSD), converted on first use.
    The file holds this one direction; direction="BtoA" only builds the architecture (pretrained=False).
    RGB [0, 1] in and out, any H and W.
    """
    return _create_model(_direction("cyclegan_cityscapes_label2photo", direction, pretrained), pretrained=pretrained, **config)


def cyclegan_cityscapes_photo2label(pretrained=True, direction="AtoB", **config):
    """CycleGAN generator street photo -> semantic label map, the official weights of the CycleGAN authors.

    Weights: junyanz/pytorch-CycleGAN-and-pix2pix cityscapes_photo2label.pth (BSD), converted on first use.
    The file holds this one direction; direction="BtoA" only builds the architecture (pretrained=False).
    RGB [0, 1] in and out, any H and W.
    """
    return _create_model(_direction("cyclegan_cityscapes_photo2label", direction, pretrained), pretrained=pretrained, **config)


def cyclegan_facades_label2photo(pretrained=True, direction="AtoB", **config):
    """CycleGAN generator facade label map -> photo, the official weights of the CycleGAN authors.

    Weights: junyanz/pytorch-CycleGAN-and-pix2pix facades_label2photo.pth (BSD), converted on first use.
    The file holds this one direction; direction="BtoA" only builds the architecture (pretrained=False).
    RGB [0, 1] in and out, any H and W.
    """
    return _create_model(_direction("cyclegan_facades_label2photo", direction, pretrained), pretrained=pretrained, **config)


def cyclegan_facades_photo2label(pretrained=True, direction="AtoB", **config):
    """CycleGAN generator facade photo -> label map, the official weights of the CycleGAN authors.

    Weights: junyanz/pytorch-CycleGAN-and-pix2pix facades_photo2label.pth (BSD), converted on first use.
    The file holds this one direction; direction="BtoA" only builds the architecture (pretrained=False).
    RGB [0, 1] in and out, any H and W.
    """
    return _create_model(_direction("cyclegan_facades_photo2label", direction, pretrained), pretrained=pretrained, **config)


def cyclegan_iphone2dslr_flower(pretrained=True, direction="AtoB", **config):
    """CycleGAN generator iPhone flower photo -> DSLR (shallow depth of field), the official weights of the CycleGAN authors.

    Weights: junyanz/pytorch-CycleGAN-and-pix2pix iphone2dslr_flower.pth (BSD), converted on first use.
    The file holds this one direction; direction="BtoA" only builds the architecture (pretrained=False).
    RGB [0, 1] in and out, any H and W.
    """
    return _create_model(_direction("cyclegan_iphone2dslr_flower", direction, pretrained), pretrained=pretrained, **config)


def cyclegan_map2sat(pretrained=True, direction="AtoB", **config):
    """CycleGAN generator map -> satellite photo, the official weights of the CycleGAN authors.

    Weights: junyanz/pytorch-CycleGAN-and-pix2pix map2sat.pth (BSD), converted on first use.
    The file holds this one direction; direction="BtoA" only builds the architecture (pretrained=False).
    RGB [0, 1] in and out, any H and W.
    """
    return _create_model(_direction("cyclegan_map2sat", direction, pretrained), pretrained=pretrained, **config)


def cyclegan_monet2photo(pretrained=True, direction="AtoB", **config):
    """CycleGAN generator Monet painting -> photo, the official weights of the CycleGAN authors.

    Weights: junyanz/pytorch-CycleGAN-and-pix2pix monet2photo.pth (BSD), converted on first use.
    The file holds this one direction; direction="BtoA" only builds the architecture (pretrained=False).
    RGB [0, 1] in and out, any H and W.
    """
    return _create_model(_direction("cyclegan_monet2photo", direction, pretrained), pretrained=pretrained, **config)


def cyclegan_orange2apple(pretrained=True, direction="AtoB", **config):
    """CycleGAN generator orange -> apple, the official weights of the CycleGAN authors.

    Weights: junyanz/pytorch-CycleGAN-and-pix2pix orange2apple.pth (BSD), converted on first use.
    The file holds this one direction; direction="BtoA" only builds the architecture (pretrained=False).
    RGB [0, 1] in and out, any H and W.
    """
    return _create_model(_direction("cyclegan_orange2apple", direction, pretrained), pretrained=pretrained, **config)


def cyclegan_sat2map(pretrained=True, direction="AtoB", **config):
    """CycleGAN generator satellite photo -> map, the official weights of the CycleGAN authors.

    Weights: junyanz/pytorch-CycleGAN-and-pix2pix sat2map.pth (BSD), converted on first use.
    The file holds this one direction; direction="BtoA" only builds the architecture (pretrained=False).
    RGB [0, 1] in and out, any H and W.
    """
    return _create_model(_direction("cyclegan_sat2map", direction, pretrained), pretrained=pretrained, **config)


def cyclegan_style_cezanne(pretrained=True, direction="AtoB", **config):
    """CycleGAN generator photo -> Cezanne's style, the official weights of the CycleGAN authors.

    Weights: junyanz/pytorch-CycleGAN-and-pix2pix style_cezanne.pth (BSD), converted on first use.
    The file holds this one direction; direction="BtoA" only builds the architecture (pretrained=False).
    RGB [0, 1] in and out, any H and W.
    """
    return _create_model(_direction("cyclegan_style_cezanne", direction, pretrained), pretrained=pretrained, **config)


def cyclegan_style_monet(pretrained=True, direction="AtoB", **config):
    """CycleGAN generator photo -> Monet's style, the official weights of the CycleGAN authors.

    Weights: junyanz/pytorch-CycleGAN-and-pix2pix style_monet.pth (BSD), converted on first use.
    The file holds this one direction; direction="BtoA" only builds the architecture (pretrained=False).
    RGB [0, 1] in and out, any H and W.
    """
    return _create_model(_direction("cyclegan_style_monet", direction, pretrained), pretrained=pretrained, **config)


def cyclegan_style_ukiyoe(pretrained=True, direction="AtoB", **config):
    """CycleGAN generator photo -> Ukiyo-e style, the official weights of the CycleGAN authors.

    Weights: junyanz/pytorch-CycleGAN-and-pix2pix style_ukiyoe.pth (BSD), converted on first use.
    The file holds this one direction; direction="BtoA" only builds the architecture (pretrained=False).
    RGB [0, 1] in and out, any H and W.
    """
    return _create_model(_direction("cyclegan_style_ukiyoe", direction, pretrained), pretrained=pretrained, **config)


def cyclegan_style_vangogh(pretrained=True, direction="AtoB", **config):
    """CycleGAN generator photo -> Van Gogh's style, the official weights of the CycleGAN authors.

    Weights: junyanz/pytorch-CycleGAN-and-pix2pix style_vangogh.pth (BSD), converted on first use.
    The file holds this one direction; direction="BtoA" only builds the architecture (pretrained=False).
    RGB [0, 1] in and out, any H and W.
    """
    return _create_model(_direction("cyclegan_style_vangogh", direction, pretrained), pretrained=pretrained, **config)


def cyclegan_summer2winter_yosemite(pretrained=True, direction="AtoB", **config):
    """CycleGAN generator Yosemite summer -> winter, the official weights of the CycleGAN authors.

    Weights: junyanz/pytorch-CycleGAN-and-pix2pix summer2winter_yosemite.pth (BSD), converted on first use.
    The file holds this one direction; direction="BtoA" only builds the architecture (pretrained=False).
    RGB [0, 1] in and out, any H and W.
    """
    return _create_model(_direction("cyclegan_summer2winter_yosemite", direction, pretrained), pretrained=pretrained, **config)


def cyclegan_winter2summer_yosemite(pretrained=True, direction="AtoB", **config):
    """CycleGAN generator Yosemite winter -> summer, the official weights of the CycleGAN authors.

    Weights: junyanz/pytorch-CycleGAN-and-pix2pix winter2summer_yosemite.pth (BSD), converted on first use.
    The file holds this one direction; direction="BtoA" only builds the architecture (pretrained=False).
    RGB [0, 1] in and out, any H and W.
    """
    return _create_model(_direction("cyclegan_winter2summer_yosemite", direction, pretrained), pretrained=pretrained, **config)


def cyclegan_zebra2horse(pretrained=True, direction="AtoB", **config):
    """CycleGAN generator zebra -> horse, the official weights of the CycleGAN authors.

    Weights: junyanz/pytorch-CycleGAN-and-pix2pix zebra2horse.pth (BSD), converted on first use.
    The file holds this one direction; direction="BtoA" only builds the architecture (pretrained=False).
    RGB [0, 1] in and out, any H and W.
    """
    return _create_model(_direction("cyclegan_zebra2horse", direction, pretrained), pretrained=pretrained, **config)


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
