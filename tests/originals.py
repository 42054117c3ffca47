"""The original implementations the zoo is compared with, restated once: for the exactness tests and for the
speed scripts (``benchmarks/peers.py`` imports this file from the repository checkout and adds what each
benchmark deviates from the published script).

Each builder restates the original network and its pre/post-processing from the authors' code (file and
commit cited), in its own state-dict layout, so that random weights made for the original load into the
zoo's network through the zoo's own importer. These are restatements written from the published code's
structure; nothing here is used by the package (the wheel does not ship it).

* Johnson (pytorch/examples, commit 77f55b912142e11fcfdf5b530231fb9c52f181e8):
  ``fast_neural_style/neural_style/transformer_net.py`` (``TransformerNet``, ``ConvLayer``,
  ``ResidualBlock``, ``UpsampleConvLayer``) and ``neural_style.py`` ``stylize`` (input ``ToTensor() * 255``,
  the raw output is clamped to 0-255 by ``utils.save_image``).
* AdaIN (naoto0804/pytorch-AdaIN, commit 47950d0e6656a95a80a4b105c4c0f58d38ef785c): ``net.py``
  (``decoder``; ``vgg``, of which ``test.py`` keeps layers ``[:31]``, up to relu4_1), ``function.py``
  (``calc_mean_std``, ``adaptive_instance_normalization``, ``coral``) and ``test.py``
  (``style_transfer``; input ``ToTensor()``; ``torchvision.utils.save_image`` clamps to [0, 1]).
* CycleGAN (junyanz/pytorch-CycleGAN-and-pix2pix, commit 78913853ab4a4f5eba717af8433809300c99f0bb,
  ``models/networks.py`` ``ResnetGenerator``/``ResnetBlock`` with ``norm='instance'``
  (``InstanceNorm2d(affine=False, track_running_stats=False)``), ``use_bias=True``,
  ``padding_type='reflect'``, no dropout; ``NLayerDiscriminator``, ``GANLoss('lsgan')``;
  ``models/cycle_gan_model.py`` ``optimize_parameters``);
  pre-processing ``Normalize((0.5,) * 3, (0.5,) * 3)`` (``data/base_dataset.py`` ``get_transform``), post
  ``(x + 1) / 2`` (``util/util.py`` ``tensor2im``). With ``--preprocess none`` its data loader also resizes
  each image to the nearest multiple of 4 (``__make_power_2``) before the network; the zoo does not
  resize, and the comparison is with the network on the image as given.
* Gatys (the PyTorch "Neural Transfer" tutorial, pytorch/tutorials ``advanced_source/neural_style_tutorial.py``
  at 0a7e68666de5faceafa90276ad2b7874cd32c5e0): ``gram_matrix``, ``ContentLoss``, ``StyleLoss``,
  ``Normalization``, ``get_style_model_and_losses``, ``get_input_optimizer`` and ``run_style_transfer``'s
  closure, on the weights of a zoo VGG encoder (deviations for the speed comparison: ``benchmarks/peers.py``).
* Gatys et al. 2017 spatial control (leongatys/NeuralImageSynthesis, commit c3ce8ace227bbc2da0bf8721b944bfe2bd7f7aed,
  ``ExampleNotebooks/SpatialControl.ipynb``): ``gram_matrix``, ``gram_matrix_guided`` and the feature-map guides'
  normalisation ``guides / sqrt(diag(gram_matrix(guides)))``, in numpy as there; and pystiche's guided Gram
  operator (pystiche/pystiche: ``Operator.apply_guide`` ``image * guide``, then ``pystiche.gram_matrix(x,
  normalize=True)``, ``core/_math.py`` at 0514b3dc91c3815b19377c68f51ed1c6a2cc89f8: ``x x^T / (H W)``).

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


class NLayerDiscriminator(nn.Module):
    """``NLayerDiscriminator(3, ndf, n_layers=3, instance norm)``, the 70x70 PatchGAN: keys ``model.N.*``."""

    def __init__(self, ndf: int = 64, n_layers: int = 3) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(3, ndf, 4, stride=2, padding=1), nn.LeakyReLU(0.2, True)]
        mult = 1
        for n in range(1, n_layers + 1):
            prev, mult = mult, min(2 ** n, 8)
            layers += [nn.Conv2d(ndf * prev, ndf * mult, 4, stride=2 if n < n_layers else 1, padding=1, bias=True),
                       nn.InstanceNorm2d(ndf * mult), nn.LeakyReLU(0.2, True)]
        layers.append(nn.Conv2d(ndf * mult, 1, 4, stride=1, padding=1))
        self.model = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)


class CycleGANStep:
    """``cycle_gan_model.py`` ``optimize_parameters`` with its defaults (lsgan, lambda_A = lambda_B = 10,
    lambda_identity 0.5, Adam lr 2e-4 betas (0.5, 0.999)): forward (fake_B, rec_A, fake_A, rec_B), G step
    with the Ds frozen (identity, GAN and cycle losses, one backward), then D_A and D_B (each
    0.5 * (MSE(D(real), 1) + MSE(D(pooled fake), 0)), one backward each), one Adam step. Images in [-1, 1];
    ``pool_A`` / ``pool_B`` have the ``util/image_pool.py`` ``query`` method. Returns (loss_G, loss_D)."""

    def __init__(self, G_A, G_B, D_A, D_B, pool_A, pool_B, lambda_A=10.0, lambda_B=10.0, lambda_idt=0.5):
        self.G_A, self.G_B, self.D_A, self.D_B = G_A, G_B, D_A, D_B
        self.pool_A, self.pool_B = pool_A, pool_B  # fake_A pool, fake_B pool
        self.lambda_A, self.lambda_B, self.lambda_idt = lambda_A, lambda_B, lambda_idt
        self.opt_G = torch.optim.Adam([*G_A.parameters(), *G_B.parameters()], lr=2e-4, betas=(0.5, 0.999))
        self.opt_D = torch.optim.Adam([*D_A.parameters(), *D_B.parameters()], lr=2e-4, betas=(0.5, 0.999))
        self.mse, self.l1 = nn.MSELoss(), nn.L1Loss()

    def _gan(self, pred: Tensor, real: bool) -> Tensor:  # GANLoss('lsgan'): MSE against a target like pred
        return self.mse(pred, torch.full_like(pred, 1.0 if real else 0.0))

    def _set_requires_grad(self, nets, flag: bool) -> None:
        for net in nets:
            for p in net.parameters():
                p.requires_grad = flag

    def _backward_D_basic(self, netD, real: Tensor, fake: Tensor) -> Tensor:
        loss = (self._gan(netD(real), True) + self._gan(netD(fake.detach()), False)) * 0.5
        loss.backward()
        return loss

    def __call__(self, real_A: Tensor, real_B: Tensor) -> tuple[float, float]:
        fake_B = self.G_A(real_A)
        rec_A = self.G_B(fake_B)
        fake_A = self.G_B(real_B)
        rec_B = self.G_A(fake_A)
        self._set_requires_grad([self.D_A, self.D_B], False)
        self.opt_G.zero_grad()
        idt_A = self.G_A(real_B)
        loss_idt_A = self.l1(idt_A, real_B) * self.lambda_B * self.lambda_idt
        idt_B = self.G_B(real_A)
        loss_idt_B = self.l1(idt_B, real_A) * self.lambda_A * self.lambda_idt
        loss_G = (self._gan(self.D_A(fake_B), True) + self._gan(self.D_B(fake_A), True)
                  + self.l1(rec_A, real_A) * self.lambda_A + self.l1(rec_B, real_B) * self.lambda_B
                  + loss_idt_A + loss_idt_B)
        loss_G.backward()
        self.opt_G.step()
        self._set_requires_grad([self.D_A, self.D_B], True)
        self.opt_D.zero_grad()
        loss_D_A = self._backward_D_basic(self.D_A, real_B, self.pool_B.query(fake_B))
        loss_D_B = self._backward_D_basic(self.D_B, real_A, self.pool_A.query(fake_A))
        self.opt_D.step()
        return loss_G.item(), (loss_D_A + loss_D_B).item()


# ------------------------------------------------------------------------------------- PyTorch tutorial
def tutorial_gram_matrix(x: Tensor) -> Tensor:
    """``gram_matrix``: view (a*b, c*d), torch.mm with its transpose, divided by a*b*c*d."""
    a, b, c, d = x.size()
    f = x.view(a * b, c * d)
    return torch.mm(f, f.t()).div(a * b * c * d)


class _TutorialContentLoss(nn.Module):
    def __init__(self, target: Tensor) -> None:
        super().__init__()
        self.target = target.detach()

    def forward(self, x: Tensor) -> Tensor:
        self.loss = nn.functional.mse_loss(x, self.target)
        return x


class _TutorialStyleLoss(nn.Module):
    def __init__(self, target_feature: Tensor) -> None:
        super().__init__()
        self.target = tutorial_gram_matrix(target_feature).detach()

    def forward(self, x: Tensor) -> Tensor:
        self.loss = nn.functional.mse_loss(tutorial_gram_matrix(x), self.target)
        return x


class _TutorialNormalization(nn.Module):
    def __init__(self, mean: Tensor, std: Tensor) -> None:
        super().__init__()
        self.mean = torch.as_tensor(mean).view(-1, 1, 1)
        self.std = torch.as_tensor(std).view(-1, 1, 1)

    def forward(self, img: Tensor) -> Tensor:
        return (img - self.mean) / self.std


def tutorial_style_model(encoder, content: Tensor, style: Tensor, content_layers, style_layers):
    """``get_style_model_and_losses`` on the weights of ``encoder`` (a zoo VGGEncoder in torchvision layout):
    an nn.Sequential of Normalization, Conv2d/ReLU(inplace=False)/pool layers with a ContentLoss/StyleLoss
    module inserted after each loss layer (targets computed while building), trimmed after the last loss.
    Layer names are the zoo's (relu4_2, ...); the pooling is the encoder's. The tutorial leaves the VGG
    trainable; here it is frozen (``benchmarks/peers.py`` lists this deviation).
    Returns (model, style_losses, content_losses)."""
    from zoo.backbone import IMAGENET_MEAN, IMAGENET_STD

    device = content.device
    model = nn.Sequential(_TutorialNormalization(torch.tensor(IMAGENET_MEAN, device=device),
                                                 torch.tensor(IMAGENET_STD, device=device)))
    content_losses, style_losses = [], []
    last = max(encoder.layer_names.index(n) for n in [*content_layers, *style_layers])
    for name, kind, _ in encoder._plan[: last + 1]:
        if kind == "conv":
            w = getattr(encoder, f"{name}_weight")
            layer = nn.Conv2d(w.shape[1], w.shape[0], 3, padding=1)
            layer.weight.data.copy_(w)
            layer.bias.data.copy_(getattr(encoder, f"{name}_bias"))
        elif kind == "relu":
            layer = nn.ReLU(inplace=False)
        else:
            layer = nn.AvgPool2d(2, 2) if encoder.pool == "avg" else nn.MaxPool2d(2, 2)
        model.add_module(name, layer.to(device))
        if name in content_layers:
            loss = _TutorialContentLoss(model(content).detach())
            model.add_module(f"content_loss_{name}", loss)
            content_losses.append(loss)
        if name in style_layers:
            loss = _TutorialStyleLoss(model(style).detach())
            model.add_module(f"style_loss_{name}", loss)
            style_losses.append(loss)
    model.requires_grad_(False)
    return model.eval(), style_losses, content_losses


def tutorial_optimizer(input_img: Tensor, history_size: int = 50) -> torch.optim.LBFGS:
    """``get_input_optimizer`` (L-BFGS on the image), one iteration per ``step``."""
    return torch.optim.LBFGS([input_img.requires_grad_()], max_iter=1, history_size=history_size)


def tutorial_closure(model, style_losses, content_losses, optimizer, input_img, style_weight=1e6,
                     content_weight=1.0):
    """``run_style_transfer``'s closure without its clamp: forward, sum the module losses, weight, backward,
    return the total."""
    def closure():
        optimizer.zero_grad()
        model(input_img)
        style_score = sum(sl.loss for sl in style_losses) * style_weight
        content_score = sum(cl.loss for cl in content_losses) * content_weight
        loss = style_score + content_score
        loss.backward()
        return style_score + content_score
    return closure


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


# ------------------------------------------------------------------------- Gatys et al. 2017 spatial control
def nis_gram_matrix(activations):
    """NeuralImageSynthesis ``gram_matrix``: (n_fm, h, w) -> F F^T / (h w), numpy."""
    n_fm = activations.shape[0]
    f = activations.reshape(n_fm, -1)
    return f.dot(f.T) / f[0, :].size


def nis_normalise_guides(guides):
    """The notebook's ``fm_guides / sqrt(diag(gram_matrix(fm_guides)))[:, None, None]``: (n_ch, h, w)."""
    import numpy as np

    return guides / np.sqrt(np.diag(nis_gram_matrix(guides)))[:, None, None]


def nis_gram_matrix_guided(activations, guides):
    """NeuralImageSynthesis ``gram_matrix_guided``: one Gram matrix per guidance channel, (n_ch, n_fm, n_fm)."""
    import numpy as np

    assert (guides.sum(1).sum(1) == 0).sum() == 0, "Dont use empty guidance channels"
    n_fm, n_ch = activations.shape[0], guides.shape[0]
    g = np.zeros((n_ch, n_fm, n_fm))
    for c in range(n_ch):
        f = (activations * guides[c, :, :]).reshape(n_fm, -1)
        g[c, :, :] = f.dot(f.T) / f[0, :].size
    return g


def pystiche_guided_gram(enc: Tensor, guide: Tensor) -> Tensor:
    """pystiche's guided Gram operator on an encoding (B, C, H, W) and a guide (1, 1, H, W): ``apply_guide``
    then ``gram_matrix(normalize=True)``."""
    x = torch.flatten(enc * guide, 2)
    return torch.bmm(x, x.transpose(1, 2)) / x.size()[-1]
