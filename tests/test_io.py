import errno
import io as _io
import os

import numpy as np
import pytest
import torch
from PIL import Image

from zoo.io import ImageReadError, ImageWriteError, list_images, load_image, resize_long_edge, save_image


def _rgb(path, color=(255, 0, 0), size=(6, 4), mode="RGB"):
    Image.new(mode, size, color).save(path)
    return path


def test_rgb_round_trip_exact(tmp_path):
    array = (np.random.default_rng(0).random((5, 7, 3)) * 255).astype(np.uint8)
    Image.fromarray(array).save(tmp_path / "a.png")
    x = load_image(tmp_path / "a.png")
    assert x.shape == (1, 3, 5, 7) and x.dtype == torch.float32
    assert torch.equal((x[0].permute(1, 2, 0) * 255).round().to(torch.uint8), torch.from_numpy(array))
    save_image(x, tmp_path / "b.png")
    assert np.array_equal(np.asarray(Image.open(tmp_path / "b.png")), array)


@pytest.mark.parametrize("mode,color,expected", [
    ("L", 128, (128 / 255,) * 3),
    ("1", 1, (1.0, 1.0, 1.0)),
    ("CMYK", (0, 255, 0, 0), (1.0, 0.0, 1.0)),  # no cyan, full magenta -> magenta
    ("RGBA", (255, 0, 0, 0), (1.0, 1.0, 1.0)),  # fully transparent: white background
    ("RGBA", (255, 0, 0, 255), (1.0, 0.0, 0.0)),
    ("LA", (0, 128), (127 / 255,) * 3),  # half-transparent black on white
])
def test_modes_become_correct_rgb(tmp_path, mode, color, expected):
    ext = ".jpg" if mode == "CMYK" else ".png"
    path = tmp_path / f"img{ext}"
    Image.new(mode, (4, 3), color).save(path)
    x = load_image(path)
    assert x.shape == (1, 3, 3, 4)
    assert torch.allclose(x[0, :, 1, 1], torch.tensor(expected), atol=2 / 255)


def test_palette_with_transparency(tmp_path):
    img = Image.new("P", (4, 4), 0)
    img.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    img.putpixel((0, 0), 1)
    img.save(tmp_path / "p.png", transparency=0)
    x = load_image(tmp_path / "p.png")
    assert torch.allclose(x[0, :, 0, 0], torch.tensor([0.0, 1.0, 0.0]))  # opaque green
    assert torch.allclose(x[0, :, 2, 2], torch.ones(3))  # transparent red -> white


def test_16_bit_png_is_scaled_not_clipped(tmp_path):
    a = np.array([[0, 32768, 65535]], dtype=np.uint16)
    Image.fromarray(a).save(tmp_path / "g16.png")
    x = load_image(tmp_path / "g16.png")
    assert torch.allclose(x[0, 0, 0], torch.tensor([0.0, 32768 / 65535, 1.0]))
    assert torch.equal(x[0, 0], x[0, 1]) and torch.equal(x[0, 0], x[0, 2])


def test_animated_gif_first_frame(tmp_path):
    frames = [Image.new("RGB", (4, 4), c) for c in [(255, 0, 0), (0, 0, 255)]]
    frames[0].save(tmp_path / "a.gif", save_all=True, append_images=frames[1:], duration=100)
    x = load_image(tmp_path / "a.gif")
    assert torch.allclose(x[0, :, 0, 0], torch.tensor([1.0, 0.0, 0.0]), atol=0.02)


def test_exif_orientation_is_applied(tmp_path):
    img = Image.new("RGB", (6, 2), (0, 0, 0))
    img.putpixel((0, 0), (255, 255, 255))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW to display
    img.save(tmp_path / "r.jpg", exif=exif, quality=100)
    x = load_image(tmp_path / "r.jpg")
    assert x.shape == (1, 3, 6, 2)  # portrait after rotation
    assert x[0, :, 0, 1].mean() > 0.7  # the white corner moved to the top right


@pytest.mark.parametrize("make,match", [
    (lambda p: None, "no such file"),
    (lambda p: p.write_bytes(b""), "empty file"),
    (lambda p: p.write_text("hello, not an image"), "not an image"),
    (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40), "(not an image|corrupt)"),
])
def test_bad_files_give_one_line_errors_naming_the_file(tmp_path, make, match):
    path = tmp_path / "bad.png"
    make(path)
    with pytest.raises(ImageReadError, match=match) as e:
        load_image(path)
    assert str(e.value).startswith(str(path)) and "\n" not in str(e.value)


def test_truncated_file(tmp_path):
    buf = _io.BytesIO()
    Image.fromarray((np.random.default_rng(0).random((64, 64, 3)) * 255).astype(np.uint8)).save(buf, "JPEG")
    (tmp_path / "t.jpg").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    with pytest.raises(ImageReadError, match="t.jpg: corrupt or truncated"):
        load_image(tmp_path / "t.jpg")


def test_directory_and_pixel_limit(tmp_path, monkeypatch):
    with pytest.raises(ImageReadError, match="is a directory"):
        load_image(tmp_path)
    path = _rgb(tmp_path / "big.png", size=(100, 50))
    with pytest.raises(ImageReadError, match="100x50 image has 5,000 pixels, over the limit of 4,999"):
        load_image(path, max_pixels=4999)
    monkeypatch.setenv("ZOO_MAX_PIXELS", "100")
    with pytest.raises(ImageReadError, match="over the limit of 100"):
        load_image(path)
    assert load_image(path, max_pixels=5000).shape == (1, 3, 50, 100)


def test_save_never_overwrites_unless_asked(tmp_path):
    path = _rgb(tmp_path / "out.png", color=(1, 2, 3))
    before = path.read_bytes()
    with pytest.raises(ImageWriteError, match="file exists; pass --overwrite"):
        save_image(torch.zeros(1, 3, 4, 6), path)
    assert path.read_bytes() == before
    save_image(torch.zeros(1, 3, 4, 6), path, overwrite=True)
    assert np.asarray(Image.open(path)).max() == 0
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]  # no temporary files left


def test_format_follows_extension_and_values_are_clamped(tmp_path):
    x = torch.full((3, 4, 4), 2.0)
    save_image(x, tmp_path / "o.jpg")
    save_image(x, tmp_path / "sub" / "o.webp")
    assert Image.open(tmp_path / "o.jpg").format == "JPEG"
    assert Image.open(tmp_path / "sub" / "o.webp").format == "WEBP"
    assert np.asarray(Image.open(tmp_path / "o.jpg")).min() >= 254
    with pytest.raises(ImageWriteError, match="unknown image extension '.xyz'"):
        save_image(x, tmp_path / "o.xyz")


def test_list_images_and_resize(tmp_path):
    _rgb(tmp_path / "b.PNG")
    _rgb(tmp_path / "sub" / "a.jpg") if (tmp_path / "sub").mkdir() is None else None
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / ".hidden.png").write_bytes(b"")
    assert [p.relative_to(tmp_path).as_posix() for p in list_images(tmp_path)] == ["b.PNG", "sub/a.jpg"]
    assert resize_long_edge(torch.rand(1, 3, 40, 80), 20).shape == (1, 3, 10, 20)


# ------------------------------------------------------------------------------------------ atomic writes
def test_atomic_write_failure_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    from zoo.fileio import WriteError, atomic_path

    path = tmp_path / "result.json"
    path.write_text("old")
    with pytest.raises(WriteError, match=r"result.json: cannot write \(No space left on device\); the disk is full"):
        with atomic_path(path) as tmp:
            tmp.write_text("half of the new cont")
            raise OSError(errno.ENOSPC, "No space left on device")  # the disk filled up mid-write
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["result.json"]
    with pytest.raises(ValueError):  # any other failure of the writer: the same
        with atomic_path(path) as tmp:
            tmp.write_text("x")
            raise ValueError("encoder failed")
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["result.json"]


def test_atomic_write_never_replaces_without_overwrite_even_a_file_that_appears_meanwhile(tmp_path):
    from zoo.fileio import OutputExistsError, atomic_path, write_bytes

    path = tmp_path / "out.png"
    with pytest.raises(OutputExistsError, match="out.png: file exists; pass --overwrite"):
        with atomic_path(path, overwrite=False) as tmp:
            tmp.write_bytes(b"ours")
            path.write_bytes(b"someone else's")  # appears between the check and the rename
    assert path.read_bytes() == b"someone else's" and len(list(tmp_path.iterdir())) == 1
    write_bytes(path, b"new")  # overwrite=True replaces
    assert path.read_bytes() == b"new"
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # the permissions of a plain open(), not mkstemp's 0600


def test_save_image_write_faults_are_one_line_image_write_errors(tmp_path, monkeypatch):
    import zoo.fileio

    def disk_full(path):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(zoo.fileio, "_flush_to_disk", disk_full)
    with pytest.raises(ImageWriteError, match=r"^\S*o.png: cannot write \(No space left on device\)"):
        save_image(torch.zeros(1, 3, 4, 4), tmp_path / "o.png")
    assert list(tmp_path.iterdir()) == []


def test_save_image_refuses_nan_instead_of_writing_black(tmp_path):
    x = torch.rand(1, 3, 4, 6)
    x[0, :, 1, 2] = float("nan")
    x[0, 0, 3, 5] = float("inf")
    with pytest.raises(ImageWriteError, match="the image has 2 pixel\\(s\\) with NaN or infinite values"):
        save_image(x, tmp_path / "o.png")
    assert list(tmp_path.iterdir()) == []


def test_check_writable_names_the_folder_and_the_option(tmp_path, monkeypatch):
    import zoo.fileio
    from zoo.fileio import WriteError, check_writable

    check_writable(tmp_path / "new" / "folder", "-o")  # created, and nothing left in it
    assert list((tmp_path / "new" / "folder").iterdir()) == []

    def read_only(path):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(zoo.fileio, "new_temp", read_only)
    with pytest.raises(WriteError, match=r"ro: cannot write \(Read-only file system\); the file system is "
                                         r"read-only: choose another folder \(-o\)"):
        check_writable(tmp_path / "ro", "-o")


_PICTURE = torch.rand(1, 3, 20, 24, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("content,message", [
    (_PICTURE[0], r"content: expected an RGB image batch \(N, 3, H, W\), got shape \(3, 20, 24\) \(add the batch "
                  r"dimension: image\[None\]\)"),
    (_PICTURE[:, :1], r"content: expected an RGB image batch \(N, 3, H, W\), got shape \(1, 1, 20, 24\)$"),
    ((_PICTURE * 255).byte(), r"content: expected float values in \[0, 1\], got torch.uint8 \(image.float\(\) / 255\)"),
    (_PICTURE * 255, r"content: values span \[.*, 25\d.*\], expected \[0, 1\] \(a 0-255 image: divide it by 255\)"),
    (_PICTURE - 0.5, r"content: values span \[-0.4.*, 0.4.*\], expected \[0, 1\]$"),
    (torch.where(_PICTURE > 0.5, float("nan"), _PICTURE), "content: has NaN or infinite values"),
])
def test_python_api_refuses_a_tensor_that_is_not_a_picture(content, message):
    """zoo.stylize takes (N, 3, H, W) floats in [0, 1]; anything else is refused by name, not stylised wrongly."""
    import zoo

    with pytest.raises(ValueError, match=message):
        zoo.stylize(content, [_PICTURE], model="gatys", backbone_weights="none", steps=1)
    with pytest.raises(ValueError, match=message.replace("content", r"styles\[1\]")):
        zoo.stylize(_PICTURE, [_PICTURE, content], model="gatys", backbone_weights="none", steps=1)


def test_python_api_takes_a_picture_that_resampling_overshot_slightly():
    import zoo

    out = zoo.stylize(_PICTURE * 1.005 - 0.002, [_PICTURE], model="gatys", backbone_weights="none", steps=1,
                      progress=False)
    assert out.shape == _PICTURE.shape and 0 <= float(out.min()) and float(out.max()) <= 1
