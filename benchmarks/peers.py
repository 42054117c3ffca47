"""The peers' own code paths, restated for the speed scripts (never copied), each with its source.

Every speed ratio in ``benchmarks/results/`` is *peer time / zoo time* against one of these, measured in
the same process with interleaved runs. Each restatement keeps the peer's structure and operations (the
``nn.Sequential`` with loss modules inserted, ``torch.mm`` Gram matrices, NCHW float32, ``torch.no_grad``
...), and every deviation from the published script is listed here and in the results JSON
(``peer.deviations``). The scripts check that both sides compute the same thing (equal outputs, or equal
loss curves from the same start) before timing them.

Sources (repository, file, commit):

* Gatys: the PyTorch "Neural Transfer" tutorial, pytorch/tutorials ``advanced_source/neural_style_tutorial.py``
  at 0a7e68666de5faceafa90276ad2b7874cd32c5e0.
* Johnson: pytorch/examples ``fast_neural_style/neural_style/transformer_net.py`` (network) and
  ``neural_style.py`` ``stylize()`` (0-255 input, ``torch.no_grad``, ``eval``) at
  77f55b912142e11fcfdf5b530231fb9c52f181e8.
* AdaIN: naoto0804/pytorch-AdaIN ``net.py`` (``vgg``, ``decoder``), ``function.py`` (``calc_mean_std``,
  ``adaptive_instance_normalization``) and ``test.py`` (``style_transfer``; the VGG cut after relu4_1,
  ``vgg.children()[:31]``) at 47950d0e6656a95a80a4b105c4c0f58d38ef785c.
* CycleGAN: junyanz/pytorch-CycleGAN-and-pix2pix ``models/networks.py`` (``ResnetGenerator``,
  ``ResnetBlock``, ``NLayerDiscriminator``, ``GANLoss``) and ``models/cycle_gan_model.py``
  (``optimize_parameters``) at 78913853ab4a4f5eba717af8433809300c99f0bb.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "TUTORIAL_GATYS", "PYTORCH_EXAMPLES_JOHNSON", "PYTORCH_ADAIN", "OFFICIAL_CYCLEGAN",
    "tutorial_style_model", "tutorial_optimizer", "tutorial_gram_matrix",
    "ExamplesTransformerNet", "examples_stylize",
    "adain_vgg", "adain_decoder", "adain_style_transfer",
    "OfficialResnetGenerator", "OfficialNLayerDiscriminator", "OfficialCycleGANStep",
]

TUTORIAL_GATYS = {
    "peer": "PyTorch neural style tutorial",
    "source": "pytorch/tutorials advanced_source/neural_style_tutorial.py @ 0a7e68666de5faceafa90276ad2b7874cd32c5e0",
    "deviations": [
        "VGG frozen (requires_grad_(False)); the tutorial leaves its weights trainable, so autograd also "
        "computes every convolution's weight gradient, which no optimiser uses",
        "loss layers are the paper's (content relu4_2, style relu1_1..relu5_1, the zoo's default) instead of "
        "the tutorial's conv_4 / conv_1..conv_5, and pooling is average (the zoo's Gatys default, paper sec. 2) "
        "instead of max; the weights are the same tensors as the zoo's encoder",
        "the input is not clamped to [0, 1] inside the closure (the zoo does not clamp), so both optimise "
        "the same function and their loss curves can be compared",
        "L-BFGS history_size 50 and one iteration per optimizer.step (the zoo's); the tutorial's default "
        "(20 iterations per step, history 100) makes the same iterations for the first 50",
    ],
}


# ---------------------------------------------------------------------------------------------- Gatys
def tutorial_gram_matrix(x: torch.Tensor) -> torch.Tensor:
    """The tutorial's gram_matrix: view (a*b, c*d), torch.mm with its transpose, divided by a*b*c*d."""
    a, b, c, d = x.size()
    f = x.view(a * b, c * d)
    return torch.mm(f, f.t()).div(a * b * c * d)


class _TutorialContentLoss(nn.Module):
    def __init__(self, target: torch.Tensor) -> None:
        super().__init__()
        self.target = target.detach()

    def forward(self, x):
        self.loss = F.mse_loss(x, self.target)
        return x


class _TutorialStyleLoss(nn.Module):
    def __init__(self, target_feature: torch.Tensor) -> None:
        super().__init__()
        self.target = tutorial_gram_matrix(target_feature).detach()

    def forward(self, x):
        self.loss = F.mse_loss(tutorial_gram_matrix(x), self.target)
        return x


class _TutorialNormalization(nn.Module):
    def __init__(self, mean, std) -> None:
        super().__init__()
        self.mean = torch.as_tensor(mean).view(-1, 1, 1)
        self.std = torch.as_tensor(std).view(-1, 1, 1)

    def forward(self, img):
        return (img - self.mean) / self.std


def tutorial_style_model(encoder, content: torch.Tensor, style: torch.Tensor, content_layers, style_layers):
    """The tutorial's get_style_model_and_losses on the weights of ``encoder`` (a zoo VGGEncoder in
    torchvision layout): an nn.Sequential of Normalization, Conv2d/ReLU(inplace=False)/pool layers with a
    ContentLoss/StyleLoss module inserted after each loss layer (targets computed while building), trimmed
    after the last loss. Layer names are the zoo's (relu4_2, ...). Returns (model, style_losses, content_losses)."""
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
    model.requires_grad_(False)  # deviation: frozen
    return model.eval(), style_losses, content_losses


def tutorial_optimizer(input_img: torch.Tensor, history_size: int = 50) -> torch.optim.LBFGS:
    """The tutorial's get_input_optimizer (L-BFGS on the image), one iteration per step (see deviations)."""
    return torch.optim.LBFGS([input_img.requires_grad_()], max_iter=1, history_size=history_size)


def tutorial_closure(model, style_losses, content_losses, optimizer, input_img, style_weight=1e6,
                     content_weight=1.0):
    """The tutorial's closure (without its clamp, see deviations): forward, sum the module losses, weight,
    backward, return the total."""
    def closure():
        optimizer.zero_grad()
        model(input_img)
        style_score = sum(sl.loss for sl in style_losses) * style_weight
        content_score = sum(cl.loss for cl in content_losses) * content_weight
        loss = style_score + content_score
        loss.backward()
        return style_score + content_score
    return closure


# ---------------------------------------------------------------------------------------------- Johnson
PYTORCH_EXAMPLES_JOHNSON = {
    "peer": "pytorch/examples fast_neural_style",
    "source": "pytorch/examples fast_neural_style/neural_style/{transformer_net.py,neural_style.py} @ "
              "77f55b912142e11fcfdf5b530231fb9c52f181e8",
    "deviations": ["input already a tensor in [0, 1] (stylize() loads a file; the x255 and the clamp of "
                   "save_image are kept)"],
}


class _ExConvLayer(nn.Module):
    def __init__(self, c_in, c_out, kernel_size, stride):
        super().__init__()
        self.reflection_pad = nn.ReflectionPad2d(kernel_size // 2)
        self.conv2d = nn.Conv2d(c_in, c_out, kernel_size, stride)

    def forward(self, x):
        return self.conv2d(self.reflection_pad(x))


class _ExResidualBlock(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv1 = _ExConvLayer(channels, channels, 3, 1)
        self.in1 = nn.InstanceNorm2d(channels, affine=True)
        self.conv2 = _ExConvLayer(channels, channels, 3, 1)
        self.in2 = nn.InstanceNorm2d(channels, affine=True)
        self.relu = nn.ReLU()

    def forward(self, x):
        residual = x
        out = self.relu(self.in1(self.conv1(x)))
        out = self.in2(self.conv2(out))
        return out + residual


class _ExUpsampleConvLayer(nn.Module):
    def __init__(self, c_in, c_out, kernel_size, stride, upsample=None):
        super().__init__()
        self.upsample = upsample
        self.reflection_pad = nn.ReflectionPad2d(kernel_size // 2)
        self.conv2d = nn.Conv2d(c_in, c_out, kernel_size, stride)

    def forward(self, x):
        if self.upsample:
            x = F.interpolate(x, mode="nearest", scale_factor=self.upsample)
        return self.conv2d(self.reflection_pad(x))


class ExamplesTransformerNet(nn.Module):
    """pytorch/examples TransformerNet: 0-255 RGB in, 0-255 out (unclamped); keys conv1..3, in1..5,
    res1..5, deconv1..3 (the layout zoo.nets.johnson.convert_fast_neural_style_state_dict reads)."""

    def __init__(self):
        super().__init__()
        self.conv1 = _ExConvLayer(3, 32, kernel_size=9, stride=1)
        self.in1 = nn.InstanceNorm2d(32, affine=True)
        self.conv2 = _ExConvLayer(32, 64, kernel_size=3, stride=2)
        self.in2 = nn.InstanceNorm2d(64, affine=True)
        self.conv3 = _ExConvLayer(64, 128, kernel_size=3, stride=2)
        self.in3 = nn.InstanceNorm2d(128, affine=True)
        for i in range(1, 6):
            setattr(self, f"res{i}", _ExResidualBlock(128))
        self.deconv1 = _ExUpsampleConvLayer(128, 64, kernel_size=3, stride=1, upsample=2)
        self.in4 = nn.InstanceNorm2d(64, affine=True)
        self.deconv2 = _ExUpsampleConvLayer(64, 32, kernel_size=3, stride=1, upsample=2)
        self.in5 = nn.InstanceNorm2d(32, affine=True)
        self.deconv3 = _ExConvLayer(32, 3, kernel_size=9, stride=1)
        self.relu = nn.ReLU()

    def forward(self, x):
        y = self.relu(self.in1(self.conv1(x)))
        y = self.relu(self.in2(self.conv2(y)))
        y = self.relu(self.in3(self.conv3(y)))
        for i in range(1, 6):
            y = getattr(self, f"res{i}")(y)
        y = self.relu(self.in4(self.deconv1(y)))
        y = self.relu(self.in5(self.deconv2(y)))
        return self.deconv3(y)


def examples_stylize(model: ExamplesTransformerNet, x: torch.Tensor) -> torch.Tensor:
    """stylize(): x * 255 through the eval-mode network under torch.no_grad(); clamped to 0-255 and
    scaled back to [0, 1] as save_image does (before its uint8 rounding)."""
    with torch.no_grad():
        return model(x.mul(255)).clamp(0, 255).div(255)


# ---------------------------------------------------------------------------------------------- AdaIN
PYTORCH_ADAIN = {
    "peer": "pytorch-AdaIN test.py",
    "source": "naoto0804/pytorch-AdaIN net.py, function.py, test.py @ 47950d0e6656a95a80a4b105c4c0f58d38ef785c",
    "deviations": ["images already tensors in [0, 1] (test.py loads files); output clamped to [0, 1] as "
                   "save_image does; alpha 1, no interpolation weights (test.py's defaults)"],
}


def adain_vgg() -> nn.Sequential:
    """net.py's ``vgg``: a 1x1 conv (the Caffe preprocessing), then reflection-padded 3x3 convs with ReLU
    and ceil-mode max pooling, conv1_1 .. conv5_4 (53 modules)."""
    pad = lambda: nn.ReflectionPad2d((1, 1, 1, 1))  # noqa: E731
    layers: list[nn.Module] = [nn.Conv2d(3, 3, (1, 1))]
    c_in = 3
    for block, (c, n) in enumerate([(64, 2), (128, 2), (256, 4), (512, 4), (512, 4)]):
        for _ in range(n):
            layers += [pad(), nn.Conv2d(c_in, c, (3, 3)), nn.ReLU()]
            c_in = c
        if block < 4:
            layers.append(nn.MaxPool2d((2, 2), (2, 2), (0, 0), ceil_mode=True))
    return nn.Sequential(*layers)


def adain_decoder() -> nn.Sequential:
    """net.py's ``decoder`` (29 modules): relu4_1 features -> RGB."""
    pad = lambda: nn.ReflectionPad2d((1, 1, 1, 1))  # noqa: E731
    up = lambda: nn.Upsample(scale_factor=2, mode="nearest")  # noqa: E731
    layers: list[nn.Module] = []
    for c_in, c_out, upsample in [(512, 256, True), (256, 256, False), (256, 256, False), (256, 256, False),
                                  (256, 128, True), (128, 128, False), (128, 64, True), (64, 64, False)]:
        layers += [pad(), nn.Conv2d(c_in, c_out, (3, 3)), nn.ReLU()] + ([up()] if upsample else [])
    layers += [pad(), nn.Conv2d(64, 3, (3, 3))]
    return nn.Sequential(*layers)


def _calc_mean_std(feat, eps=1e-5):
    """function.py calc_mean_std: unbiased Tensor.var over H*W, plus eps, square root."""
    n, c = feat.size()[:2]
    feat_var = feat.view(n, c, -1).var(dim=2) + eps
    return feat.view(n, c, -1).mean(dim=2).view(n, c, 1, 1), feat_var.sqrt().view(n, c, 1, 1)


def _adaptive_instance_normalization(content_feat, style_feat):
    size = content_feat.size()
    style_mean, style_std = _calc_mean_std(style_feat)
    content_mean, content_std = _calc_mean_std(content_feat)
    normalized = (content_feat - content_mean.expand(size)) / content_std.expand(size)
    return normalized * style_std.expand(size) + style_mean.expand(size)


def adain_style_transfer(vgg_to_relu4_1: nn.Sequential, decoder: nn.Sequential, content, style, alpha=1.0):
    """test.py: style_transfer (content and style encoded by the VGG cut at relu4_1, AdaIN, decoder) under
    torch.no_grad(), clamped as save_image does."""
    with torch.no_grad():
        content_f = vgg_to_relu4_1(content)
        style_f = vgg_to_relu4_1(style)
        feat = _adaptive_instance_normalization(content_f, style_f)
        feat = feat * alpha + content_f * (1 - alpha)
        return decoder(feat).clamp(0, 1)


# ---------------------------------------------------------------------------------------------- CycleGAN
OFFICIAL_CYCLEGAN = {
    "peer": "official CycleGAN (junyanz/pytorch-CycleGAN-and-pix2pix)",
    "source": "junyanz/pytorch-CycleGAN-and-pix2pix models/networks.py, models/cycle_gan_model.py @ "
              "78913853ab4a4f5eba717af8433809300c99f0bb",
    "deviations": ["inference takes [0, 1] and maps to and from the network's [-1, 1] as the test script's "
                   "transforms and tensor2im do (tensor2im's uint8 rounding left out)",
                   "training step: the image pools are the zoo's ImagePool (the same algorithm: 50 images, "
                   "half the time swap a stored one); the data loading is left out on both sides"],
}


class _OfficialResnetBlock(nn.Module):
    def __init__(self, dim):
        super().__init__()
        norm = lambda c: nn.InstanceNorm2d(c, affine=False, track_running_stats=False)  # noqa: E731
        self.conv_block = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, padding=0, bias=True),
                                        norm(dim), nn.ReLU(True), nn.ReflectionPad2d(1),
                                        nn.Conv2d(dim, dim, 3, padding=0, bias=True), norm(dim))

    def forward(self, x):
        return x + self.conv_block(x)


class OfficialResnetGenerator(nn.Module):
    """networks.py ResnetGenerator with norm='instance' (affine=False, no running stats, hence conv bias),
    no dropout, reflect padding: [-1, 1] in and out."""

    def __init__(self, input_nc=3, output_nc=3, ngf=64, n_blocks=9):
        super().__init__()
        norm = lambda c: nn.InstanceNorm2d(c, affine=False, track_running_stats=False)  # noqa: E731
        model = [nn.ReflectionPad2d(3), nn.Conv2d(input_nc, ngf, kernel_size=7, padding=0, bias=True), norm(ngf),
                 nn.ReLU(True)]
        for i in range(2):
            mult = 2 ** i
            model += [nn.Conv2d(ngf * mult, ngf * mult * 2, kernel_size=3, stride=2, padding=1, bias=True),
                      norm(ngf * mult * 2), nn.ReLU(True)]
        model += [_OfficialResnetBlock(ngf * 4) for _ in range(n_blocks)]
        for i in range(2):
            mult = 2 ** (2 - i)
            model += [nn.ConvTranspose2d(ngf * mult, ngf * mult // 2, kernel_size=3, stride=2, padding=1,
                                         output_padding=1, bias=True), norm(ngf * mult // 2), nn.ReLU(True)]
        model += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, output_nc, kernel_size=7, padding=0), nn.Tanh()]
        self.model = nn.Sequential(*model)

    def forward(self, x):
        return self.model(x)


class OfficialNLayerDiscriminator(nn.Module):
    """networks.py NLayerDiscriminator (70x70 PatchGAN, n_layers=3, instance norm, LeakyReLU 0.2)."""

    def __init__(self, input_nc=3, ndf=64, n_layers=3):
        super().__init__()
        norm = lambda c: nn.InstanceNorm2d(c, affine=False, track_running_stats=False)  # noqa: E731
        seq = [nn.Conv2d(input_nc, ndf, kernel_size=4, stride=2, padding=1), nn.LeakyReLU(0.2, True)]
        mult = 1
        for n in range(1, n_layers):
            prev, mult = mult, min(2 ** n, 8)
            seq += [nn.Conv2d(ndf * prev, ndf * mult, kernel_size=4, stride=2, padding=1, bias=True),
                    norm(ndf * mult), nn.LeakyReLU(0.2, True)]
        prev, mult = mult, min(2 ** n_layers, 8)
        seq += [nn.Conv2d(ndf * prev, ndf * mult, kernel_size=4, stride=1, padding=1, bias=True),
                norm(ndf * mult), nn.LeakyReLU(0.2, True),
                nn.Conv2d(ndf * mult, 1, kernel_size=4, stride=1, padding=1)]
        self.model = nn.Sequential(*seq)

    def forward(self, x):
        return self.model(x)


class OfficialCycleGANStep:
    """cycle_gan_model.py optimize_parameters with its defaults (lsgan, lambda_A = lambda_B = 10,
    lambda_identity 0.5, Adam lr 2e-4 betas (0.5, 0.999)): forward (fake_B, rec_A, fake_A, rec_B), G step
    with the Ds frozen (identity, GAN and cycle losses, one backward), then D_A and D_B (each
    0.5 * (MSE(D(real), 1) + MSE(D(pooled fake), 0)), one backward each), one Adam step. Images in [-1, 1]."""

    def __init__(self, G_A, G_B, D_A, D_B, pool_A, pool_B, lambda_A=10.0, lambda_B=10.0, lambda_idt=0.5):
        self.G_A, self.G_B, self.D_A, self.D_B = G_A, G_B, D_A, D_B
        self.pool_A, self.pool_B = pool_A, pool_B  # fake_A pool, fake_B pool
        self.lambda_A, self.lambda_B, self.lambda_idt = lambda_A, lambda_B, lambda_idt
        self.opt_G = torch.optim.Adam([*G_A.parameters(), *G_B.parameters()], lr=2e-4, betas=(0.5, 0.999))
        self.opt_D = torch.optim.Adam([*D_A.parameters(), *D_B.parameters()], lr=2e-4, betas=(0.5, 0.999))
        self.mse, self.l1 = nn.MSELoss(), nn.L1Loss()

    def _gan(self, pred, real: bool):  # GANLoss('lsgan'): MSE against a target tensor of pred's shape
        return self.mse(pred, torch.full_like(pred, 1.0 if real else 0.0))

    def _set_requires_grad(self, nets, flag):
        for net in nets:
            for p in net.parameters():
                p.requires_grad = flag

    def _backward_D_basic(self, netD, real, fake):
        loss = (self._gan(netD(real), True) + self._gan(netD(fake.detach()), False)) * 0.5
        loss.backward()
        return loss

    def __call__(self, real_A, real_B):
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
