"""The original implementations the zoo's pretrained networks come from, restated for the exactness tests.

Each builder restates the original network and its pre/post-processing from the authors' code (file and
commit cited), in its own state-dict layout, so that random weights made for the original load into the
zoo's network through the zoo's own importer. These are restatements for testing, written from the
published code's structure; nothing here is used by the package.

* Johnson (pytorch/examples, commit 77f55b912142e11fcfdf5b530231fb9c52f181e8):
  ``fast_neural_style/neural_style/transformer_net.py`` (``TransformerNet``, ``ConvLayer``,
  ``ResidualBlock``, ``UpsampleConvLayer``) and ``neural_style.py`` ``stylize`` (input ``ToTensor() * 255``,
  the raw output is clamped to 0-255 by ``utils.save_image``).
* AdaIN (naoto0804/pytorch-AdaIN, commit 47950d0e6656a95a80a4b105c4c0f58d38ef785c): ``net.py``
  (``decoder``; ``vgg``, of which ``test.py`` keeps layers ``[:31]``, up to relu4_1), ``function.py``
  (``calc_mean_std``, ``adaptive_instance_normalization``, ``coral``) and ``test.py``
  (``style_transfer``; input ``ToTensor()``; ``torchvision.utils.save_image`` clamps to [0, 1]).
* CycleGAN (junyanz/pytorch-CycleGAN-and-pix2pix, commit 29bbc96, ``models/networks.py``
  ``ResnetGenerator``/``ResnetBlock`` with ``norm='instance'`` (``InstanceNorm2d(affine=False,
  track_running_stats=False)``), ``use_bias=True``, ``padding_type='reflect'``, no dropout);
  pre-processing ``Normalize((0.5,) * 3, (0.5,) * 3)`` (``data/base_dataset.py`` ``get_transform``), post
  ``(x + 1) / 2`` (``util/util.py`` ``tensor2im``). With ``--preprocess none`` its data loader also resizes
  each image to the nearest multiple of 4 (``__make_power_2``) before the network; the zoo does not
  resize, and the comparison is with the network on the image as given.

Minimum sizes (the originals raise on smaller inputs: a reflection pad must be smaller than the side it
pads): Johnson and CycleGAN 5 px, AdaIN 9 px (:data:`MIN_SIZE`).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

MIN_SIZE = {"johnson": 5, "cyclegan": 5, "adain": 9}


# ------------------------------------------------------------------------------------- pytorch/examples
class _FnsConv(nn.Module):
    """ConvLayer / UpsampleConvLayer: (nearest x2 upsampling,) ReflectionPad2d(k // 2), Conv2d(k, stride)."""

    def __init__(self, c_in: int, c_out: int, k: int, stride: int = 1, upsample: bool = False) -> None:
        super().__init__()
        self.upsample = upsample
        self.reflection_pad = nn.ReflectionPad2d(k // 2)
        self.conv2d = nn.Conv2d(c_in, c_out, k, stride)

    def forward(self, x: Tensor) -> Tensor:
        if self.upsample:
            x = nn.functional.interpolate(x, mode="nearest", scale_factor=2)
        return self.conv2d(self.reflection_pad(x))


class _FnsResidual(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.conv1, self.in1 = _FnsConv(c, c, 3), nn.InstanceNorm2d(c, affine=True)
        self.conv2, self.in2 = _FnsConv(c, c, 3), nn.InstanceNorm2d(c, affine=True)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.in2(self.conv2(torch.relu(self.in1(self.conv1(x)))))


class FastNeuralStyleNet(nn.Module):
    """pytorch/examples ``TransformerNet`` (fixed widths 32, 64, 128; 5 residual blocks); 0-255 in and out."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1, self.in1 = _FnsConv(3, 32, 9), nn.InstanceNorm2d(32, affine=True)
        self.conv2, self.in2 = _FnsConv(32, 64, 3, 2), nn.InstanceNorm2d(64, affine=True)
        self.conv3, self.in3 = _FnsConv(64, 128, 3, 2), nn.InstanceNorm2d(128, affine=True)
        for i in range(1, 6):
            setattr(self, f"res{i}", _FnsResidual(128))
        self.deconv1, self.in4 = _FnsConv(128, 64, 3, upsample=True), nn.InstanceNorm2d(64, affine=True)
        self.deconv2, self.in5 = _FnsConv(64, 32, 3, upsample=True), nn.InstanceNorm2d(32, affine=True)
        self.deconv3 = _FnsConv(32, 3, 9)

    def forward(self, x: Tensor) -> Tensor:
        y = torch.relu(self.in1(self.conv1(x)))
        y = torch.relu(self.in2(self.conv2(y)))
        y = torch.relu(self.in3(self.conv3(y)))
        for i in range(1, 6):
            y = getattr(self, f"res{i}")(y)
        y = torch.relu(self.in4(self.deconv1(y)))
        y = torch.relu(self.in5(self.deconv2(y)))
        return self.deconv3(y)


def fast_neural_style_stylize(net: FastNeuralStyleNet, image: Tensor) -> Tensor:
    """``neural_style.py`` ``stylize`` on an RGB [0, 1] batch: the picture it saves, in [0, 1] (before
    ``save_image``'s conversion to uint8), of the original's own output size."""
    with torch.no_grad():
        return net(image * 255).clamp(0, 255) / 255


# ------------------------------------------------------------------------------------- pytorch-AdaIN
def adain_decoder() -> nn.Sequential:
    """``net.py`` ``decoder``: its state dict is ``decoder.pth``'s layout (convs at 1, 5, 8, ..., 28)."""
    def conv(c_in: int, c_out: int, relu: bool = True) -> list[nn.Module]:
        return [nn.ReflectionPad2d((1, 1, 1, 1)), nn.Conv2d(c_in, c_out, (3, 3))] + ([nn.ReLU()] if relu else [])

    up = [nn.Upsample(scale_factor=2, mode="nearest")]
    return nn.Sequential(
        *conv(512, 256), *up,
        *conv(256, 256), *conv(256, 256), *conv(256, 256), *conv(256, 128), *up,
        *conv(128, 128), *conv(128, 64), *up,
        *conv(64, 64), *conv(64, 3, relu=False))


def adain_vgg() -> nn.Sequential:
    """``net.py`` ``vgg`` cut as ``test.py`` cuts it (``[:31]``: up to relu4_1); ``vgg_normalised.pth``'s
    layout (1x1 input conv at 0, convs at 2, 5, 9, 12, 16, 19, 22, 25, 29), ceil-mode max pooling."""
    layers: list[nn.Module] = [nn.Conv2d(3, 3, (1, 1))]
    widths = [(3, 64), (64, 64), "M", (64, 128), (128, 128), "M", (128, 256), (256, 256), (256, 256),
              (256, 256), "M", (256, 512)]
    for w in widths:
        if w == "M":
            layers.append(nn.MaxPool2d((2, 2), (2, 2), (0, 0), ceil_mode=True))
        else:
            layers += [nn.ReflectionPad2d((1, 1, 1, 1)), nn.Conv2d(w[0], w[1], (3, 3)), nn.ReLU()]
    return nn.Sequential(*layers)


def calc_mean_std(feat: Tensor, eps: float = 1e-5) -> tuple[Tensor, Tensor]:
    """``function.py`` ``calc_mean_std``: per-channel mean and sqrt(unbiased var + eps)."""
    n, c = feat.shape[:2]
    var = feat.reshape(n, c, -1).var(dim=2) + eps
    return feat.reshape(n, c, -1).mean(dim=2).view(n, c, 1, 1), var.sqrt().view(n, c, 1, 1)


def adaptive_instance_normalization(content_feat: Tensor, style_feat: Tensor) -> Tensor:
    s_mean, s_std = calc_mean_std(style_feat)
    c_mean, c_std = calc_mean_std(content_feat)
    return (content_feat - c_mean) / c_std * s_std + s_mean


def adain_style_transfer(vgg: nn.Module, decoder: nn.Module, content: Tensor, style: Tensor,
                         alpha: float = 1.0, interpolation_weights: list[float] | None = None) -> Tensor:
    """``test.py`` ``style_transfer`` followed by ``save_image``'s clamp to [0, 1]. With
    ``interpolation_weights``, ``content`` is one image repeated once per style (as ``test.py`` expands it)
    and the result is one image."""
    with torch.no_grad():
        content_f, style_f = vgg(content), vgg(style)
        if interpolation_weights:
            base = adaptive_instance_normalization(content_f, style_f)
            feat = sum(w * base[i:i + 1] for i, w in enumerate(interpolation_weights))
            content_f = content_f[0:1]
        else:
            feat = adaptive_instance_normalization(content_f, style_f)
        feat = feat * alpha + content_f * (1 - alpha)
        return decoder(feat).clamp(0, 1)


def coral(source: Tensor, target: Tensor) -> Tensor:
    """``function.py`` ``coral`` on (3, H, W) tensors: the style recoloured for ``--preserve_color``
    (``test.py``: ``style = coral(style, content)``)."""
    def flat(x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        f = x.reshape(3, -1)
        return f, f.mean(dim=-1, keepdim=True), f.std(dim=-1, keepdim=True)

    def mat_sqrt(x: Tensor) -> Tensor:
        u, d, v = torch.svd(x)
        return u @ d.pow(0.5).diag() @ v.t()

    s_f, s_mean, s_std = flat(source)
    s_norm = (s_f - s_mean) / s_std
    t_f, t_mean, t_std = flat(target)
    t_norm = (t_f - t_mean) / t_std
    s_cov = s_norm @ s_norm.t() + torch.eye(3)
    t_cov = t_norm @ t_norm.t() + torch.eye(3)
    out = mat_sqrt(t_cov) @ torch.inverse(mat_sqrt(s_cov)) @ s_norm
    return (out * t_std + t_mean).view(source.shape)


# ------------------------------------------------------------------------------------- CycleGAN
class _CycleBlock(nn.Module):
    """``ResnetBlock`` with reflection padding, instance norm, bias, no dropout: keys ``conv_block.N``."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, padding=0, bias=True), nn.InstanceNorm2d(dim), nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, padding=0, bias=True), nn.InstanceNorm2d(dim))

    def forward(self, x: Tensor) -> Tensor:
        return x + self.conv_block(x)


class CycleGANGenerator(nn.Module):
    """``ResnetGenerator(3, 3, ngf, instance norm, use_dropout=False, n_blocks)``: keys ``model.N.*``;
    [-1, 1] in and out."""

    def __init__(self, ngf: int = 64, n_blocks: int = 9) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(3, ngf, 7, padding=0, bias=True),
                                   nn.InstanceNorm2d(ngf), nn.ReLU(True)]
        for i in range(2):
            m = 2 ** i
            layers += [nn.Conv2d(ngf * m, ngf * m * 2, 3, stride=2, padding=1, bias=True),
                       nn.InstanceNorm2d(ngf * m * 2), nn.ReLU(True)]
        layers += [_CycleBlock(ngf * 4) for _ in range(n_blocks)]
        for i in range(2):
            m = 2 ** (2 - i)
            layers += [nn.ConvTranspose2d(ngf * m, ngf * m // 2, 3, stride=2, padding=1, output_padding=1, bias=True),
                       nn.InstanceNorm2d(ngf * m // 2), nn.ReLU(True)]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, 3, 7, padding=0), nn.Tanh()]
        self.model = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)


def cyclegan_translate(generator: nn.Module, image: Tensor) -> Tensor:
    """The test pipeline on an RGB [0, 1] batch: normalise to [-1, 1], the generator, ``(y + 1) / 2``."""
    with torch.no_grad():
        return (generator((image - 0.5) / 0.5) + 1) / 2


# ------------------------------------------------------------------------------------- weights
def randomize(module: nn.Module, seed: int) -> nn.Module:
    """Random weights that keep activations O(1) and affine norms away from identity, in eval mode."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                fan_in = m.weight[0].numel() if isinstance(m, nn.Conv2d) else m.weight[:, 0].numel() / 4
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) * (2.0 / fan_in) ** 0.5)
                if m.bias is not None:
                    m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
            elif isinstance(m, nn.InstanceNorm2d) and m.affine:
                m.weight.copy_(1 + 0.2 * torch.randn(m.weight.shape, generator=g))
                m.bias.copy_(0.2 * torch.randn(m.bias.shape, generator=g))
    return module.eval()


# ------------------------------------------------------------------------------------- AnimeGANv2
# bryandlee/animegan2-pytorch, commit 25d7b017267208dfaf34026aa3425e518372aa2f (the PyTorch port of
# TachibanaYoshino/AnimeGANv2 whose four checkpoints the zoo imports):
# * model.py ``ConvNormLReLU`` (an nn.Sequential: pad layer (``pad_mode="reflect"`` -> ReflectionPad2d of
#   ``padding``), Conv2d(padding=0, ``bias=False`` unless asked), GroupNorm(num_groups=1, affine=True),
#   LeakyReLU(0.2)); ``InvertedResBlock(in, out, expansion_ratio=2)`` (``layers``: 1x1 ConvNormLReLU to
#   round(in * 2) channels, depthwise 3x3 ConvNormLReLU with bias, 1x1 Conv2d without bias, GroupNorm(1);
#   residual only when in == out); ``Generator`` (blocks a-e, ``out_layer`` = 1x1 conv without bias + Tanh;
#   the two stride-2 convs pad ``(0, 1, 0, 1)``; ``forward(input, align_corners=True)`` up-samples
#   bilinearly to block_a's output size and then to the input size).
# * hubconf.py ``generator`` (the model called as ``model(img)``: align_corners=True) and ``face2paint``
#   (input ``to_tensor(img) * 2 - 1``, output ``(out * 0.5 + 0.5).clip(0, 1)``); test.py maps the same way
#   (``out.clip(-1, 1) * 0.5 + 0.5``) but passes ``--upsample_align`` (default False) to forward.
# The port raises below 8 px a side (MIN_SIZE): the 1/4-resolution map is floor(floor(H / 2) / 2) px and
# block_b's ReflectionPad2d(1) needs 2.
MIN_SIZE["animeganv2"] = 8


class _AnimeConv(nn.Sequential):
    """ConvNormLReLU with reflection padding ``pad`` (an int or (left, right, top, bottom))."""

    def __init__(self, c_in: int, c_out: int, k: int = 3, stride: int = 1, pad=1, groups: int = 1,
                 bias: bool = False) -> None:
        super().__init__(nn.ReflectionPad2d(pad), nn.Conv2d(c_in, c_out, k, stride, 0, groups=groups, bias=bias),
                         nn.GroupNorm(1, c_out, affine=True), nn.LeakyReLU(0.2, inplace=True))


class _AnimeInvRes(nn.Module):
    def __init__(self, c_in: int, c_out: int, ratio: float = 2) -> None:
        super().__init__()
        self.use_res_connect = c_in == c_out
        mid = int(round(c_in * ratio))
        layers: list[nn.Module] = [] if ratio == 1 else [_AnimeConv(c_in, mid, k=1, pad=0)]
        layers += [_AnimeConv(mid, mid, groups=mid, bias=True), nn.Conv2d(mid, c_out, 1, padding=0, bias=False),
                   nn.GroupNorm(1, c_out, affine=True)]
        self.layers = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        out = self.layers(x)
        return x + out if self.use_res_connect else out


class AnimeGANv2Port(nn.Module):
    """bryandlee's ``Generator``: keys ``block_a`` ... ``block_e``, ``out_layer``; [-1, 1] in and out."""

    def __init__(self) -> None:
        super().__init__()
        down = (0, 1, 0, 1)
        self.block_a = nn.Sequential(_AnimeConv(3, 32, 7, pad=3), _AnimeConv(32, 64, stride=2, pad=down),
                                     _AnimeConv(64, 64))
        self.block_b = nn.Sequential(_AnimeConv(64, 128, stride=2, pad=down), _AnimeConv(128, 128))
        self.block_c = nn.Sequential(_AnimeConv(128, 128), _AnimeInvRes(128, 256), _AnimeInvRes(256, 256),
                                     _AnimeInvRes(256, 256), _AnimeInvRes(256, 256), _AnimeConv(256, 128))
        self.block_d = nn.Sequential(_AnimeConv(128, 128), _AnimeConv(128, 128))
        self.block_e = nn.Sequential(_AnimeConv(128, 64), _AnimeConv(64, 64), _AnimeConv(64, 32, 7, pad=3))
        self.out_layer = nn.Sequential(nn.Conv2d(32, 3, 1, 1, 0, bias=False), nn.Tanh())

    def forward(self, x: Tensor, align_corners: bool = True) -> Tensor:
        out = self.block_a(x)
        half = out.shape[-2:]
        out = self.block_c(self.block_b(out))
        if align_corners:
            out = nn.functional.interpolate(out, half, mode="bilinear", align_corners=True)
        else:
            out = nn.functional.interpolate(out, scale_factor=2, mode="bilinear", align_corners=False)
        out = self.block_d(out)
        if align_corners:
            out = nn.functional.interpolate(out, x.shape[-2:], mode="bilinear", align_corners=True)
        else:
            out = nn.functional.interpolate(out, scale_factor=2, mode="bilinear", align_corners=False)
        return self.out_layer(self.block_e(out))


def animeganv2_face2paint(generator: nn.Module, image: Tensor) -> Tensor:
    """hubconf ``face2paint``'s arithmetic on an RGB [0, 1] batch (without its centre crop and resize)."""
    with torch.no_grad():
        return (generator(image * 2 - 1) * 0.5 + 0.5).clip(0, 1)


def randomize_animeganv2(net: nn.Module, seed: int) -> nn.Module:
    """:func:`randomize` for the port: He-scaled convs, GroupNorm affine away from identity; the last conv
    scaled down so that the tanh output spreads over (-1, 1) instead of saturating."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.Conv2d):
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) * (2.0 / m.weight[0].numel()) ** 0.5)
                if m.bias is not None:
                    m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
            elif isinstance(m, nn.GroupNorm):
                m.weight.copy_(1 + 0.2 * torch.randn(m.weight.shape, generator=g))
                m.bias.copy_(0.2 * torch.randn(m.bias.shape, generator=g))
        net.out_layer[0].weight.mul_(0.3)
    return net.eval()
