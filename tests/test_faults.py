"""Faults from outside: SIGTERM and Ctrl-C end a run with one line, the right exit status and no temporary
file; what a SIGKILLed run left is removed by the next run that writes there (never a live run's files);
a real full disk (a small tmpfs, where this machine may mount one) gives one line naming the file.

Waits are on events (a line the child prints) with generous limits, never on a time: the tests pass on a
busy machine."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import REPO, WAIT, make_image




def _dead_pid() -> int:
    """The id of a process that has ended (and was reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _leftover(folder: Path, stem: str, pid: int, suffix: str = ".png") -> Path:
    """A temporary in the layout zoo.fileio gives, as a writer with process ``pid`` on this machine leaves it."""
    from zoo.fileio import _host

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f".{stem}.0123abcd-{_host()}-{pid}.tmp{suffix}"
    path.write_bytes(b"half a file")
    return path


def _start(argv: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen:
    """The child, unbuffered: a progress bar's carriage-return updates reach the pipe as they are drawn."""
    return subprocess.Popen([sys.executable, *argv], cwd=cwd, env={**env, "PYTHONUNBUFFERED": "1"},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_line(stream, needle: str) -> str:
    """Read ``stream`` until ``needle`` appears (the event; progress bars end their lines with a carriage
    return, so this reads characters, not lines); what was read. Fails at EOF."""
    seen = ""
    while needle not in seen[-200:]:
        char = stream.read(1)
        if not char:
            raise AssertionError(f"the child ended before printing {needle!r}: {seen[-3000:]}")
        seen += char
    return seen


# ------------------------------------------------------------------------------------------ SIGTERM, Ctrl-C
HOLD_A_WRITE = textwrap.dedent("""
    import signal, sys, time
    from zoo.cli import main
    import zoo.fileio

    signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal (a background job ignores it)

    real = zoo.fileio._flush_to_disk
    def slow_flush(path):  # the write is under way (its temporary exists): tell the test, then wait
        print("writing", flush=True)
        signal.pause() if hasattr(signal, "pause") else time.sleep(3600)
        real(path)
    zoo.fileio._flush_to_disk = slow_flush
    sys.exit(main(sys.argv[1:]))
""")


@pytest.mark.parametrize("sig,code,line", [(signal.SIGTERM, 143, "terminated"), (signal.SIGINT, 130, "interrupted")])
def test_a_signal_during_a_write_leaves_no_temporary(sig, code, line, offline_env, tmp_path):
    """The signal arrives while the output's temporary exists: exit status and one line, no file at all."""
    make_image(tmp_path / "in.png", (40, 36), seed=1)
    (tmp_path / "johnson").mkdir()
    from zoo.nets.johnson import TransformerNet

    TransformerNet(channels=[4, 8, 8], num_residual=1).save_pretrained(tmp_path / "johnson")
    proc = _start(["-c", HOLD_A_WRITE, "stylize", "in.png", "--model", "johnson", "--weights", "johnson",
                   "-o", "out/result.png", "--quiet"], offline_env, tmp_path)
    try:
        _wait_for_line(proc.stdout, "writing")
        assert [p.name for p in (tmp_path / "out").iterdir()], "the temporary should exist now"
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=WAIT)
    finally:
        proc.kill()
    assert proc.returncode == code, err
    assert err.strip().splitlines()[-1] == line and "Traceback" not in err
    assert list((tmp_path / "out").iterdir()) == []


# As in a terminal: Ctrl-C raises KeyboardInterrupt (a child of a background job would inherit "ignore SIGINT").
AS_IN_A_TERMINAL = ("import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
                    "sys.argv = sys.argv[1:]; runpy.run_module(sys.argv[0], run_name='__main__', alter_sys=True)")


def _long_run(kind: str, tmp: Path) -> list[str]:
    make_image(tmp / "in.png", (40, 36), seed=1)
    make_image(tmp / "style.png", (36, 40), seed=2)
    if kind == "stylize":
        return ["zoo", "stylize", "in.png", "--style", "style.png", "--steps", "1000000", "--backbone-weights", "none",
                "-o", "out.png"]
    from test_fit import recipe_args

    return ["zoo.fit", str(REPO / "recipes" / "gatys.yaml"), *recipe_args("gatys", tmp), "--trainer.max_steps=1000000"]


@pytest.mark.skipif(sys.platform == "win32", reason="a pseudo-terminal and POSIX signals")
@pytest.mark.parametrize("kind,sig,code,line", [
    ("stylize", signal.SIGTERM, 143, "terminated"), ("stylize", signal.SIGINT, 130, "interrupted"),
    ("fit", signal.SIGTERM, 143, "terminated"), ("fit", signal.SIGINT, 130, "interrupted"),
])
def test_a_signal_during_a_long_run_is_one_line_and_its_exit_status(kind, sig, code, line, offline_env, tmp_path):
    """In a terminal (a pseudo-terminal: progress bars draw only there), the signal once the progress bar
    moves: the exit status, one last line, no traceback, no output or temporary left."""
    import fcntl
    import pty
    import select
    import struct
    import termios

    argv = _long_run(kind, tmp_path)
    before = {p for p in tmp_path.rglob("*")}
    master, slave = pty.openpty()
    # a terminal of 24 x 100 characters: a new pseudo-terminal has 0 columns, where tqdm draws nothing
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    proc = subprocess.Popen([sys.executable, "-c", AS_IN_A_TERMINAL, *argv], cwd=tmp_path, env=offline_env,
                            stdin=subprocess.DEVNULL, stdout=slave, stderr=slave)
    os.close(slave)
    seen = b""

    def read(until: bytes | None) -> None:
        nonlocal seen
        while until is None or until not in seen:
            ready, _, _ = select.select([master], [], [], WAIT)
            assert ready, f"nothing printed within {WAIT:.0f} s: {seen[-2000:]!r}"
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the child closed the terminal
                chunk = b""
            if not chunk:
                assert until is None, f"the child ended before printing {until!r}: {seen[-3000:]!r}"
                return
            seen += chunk

    try:
        read(b"/s")  # the progress bar moves (it/s, step/s or s/step): the optimisation runs
        proc.send_signal(sig)
        read(None)
        proc.wait(WAIT)
    finally:
        proc.kill()
        os.close(master)
    text = seen.decode(errors="replace")
    assert proc.returncode == code, text[-3000:]
    last = text.strip().splitlines()[-1].strip()
    assert last.endswith(line) or last.startswith(line + ";"), text[-3000:]
    assert "Traceback" not in text
    new = [p for p in set(tmp_path.rglob("*")) - before if p.is_file()]
    assert not [p for p in new if ".tmp" in p.name]
    if kind == "stylize":  # nothing at all: the result was not finished
        assert new == []


# ------------------------------------------------------------------------------------------ SIGKILL leftovers
def test_the_next_run_removes_a_killed_runs_temporaries_and_never_a_live_ones(offline_env, tmp_path, capsys):
    from zoo.cli import main
    from zoo.nets.johnson import TransformerNet

    make_image(tmp_path / "in" / "a.png", (40, 36), seed=1)
    TransformerNet(channels=[4, 8, 8], num_residual=1).save_pretrained(tmp_path / "johnson")
    out = tmp_path / "out"
    dead, live = _dead_pid(), os.getppid()  # the test's parent runs as long as the test
    killed = [_leftover(out, "a", dead), _leftover(out / "sub", "b", dead), _leftover(tmp_path, "net", dead, ".pt")]
    running = _leftover(out, "c", live)
    assert main(["stylize", str(tmp_path / "in"), "--model", "johnson", "--weights", str(tmp_path / "johnson"),
                 "-o", str(out), "--quiet"]) == 0
    assert not killed[0].exists() and not killed[1].exists() and running.exists()
    assert main(["export", "--model", "johnson", "--weights", str(tmp_path / "johnson"), "--format", "torchscript",
                 "-o", str(tmp_path / "net.pt")]) == 0
    assert not killed[2].exists()
    # a convert into a folder a killed convert left its temporary in: removed, and the folder counts as empty
    import torch

    import originals

    torch.save(originals.randomize(originals.FastNeuralStyleNet(), seed=1).state_dict(), tmp_path / "candy.pth")
    half = _leftover(tmp_path / "converted", "model", dead, ".safetensors")
    assert main(["convert", str(tmp_path / "candy.pth"), "--model", "johnson", "-o", str(tmp_path / "converted")]) == 0
    assert not half.exists()
    assert sorted(p.name for p in (tmp_path / "converted").iterdir()) == ["README.md", "config.json",
                                                                           "model.safetensors"]


def test_a_new_training_run_removes_a_killed_runs_temporaries(offline_env, tmp_path, monkeypatch, capsys):
    import zoo.fit
    from test_fit import recipe_args

    monkeypatch.chdir(tmp_path)
    dead = _dead_pid()
    left = _leftover(tmp_path / "runs" / "gatys" / "version_0" / "checkpoints", "last", dead, ".ckpt")
    args = [str(REPO / "recipes" / "gatys.yaml"), *recipe_args("gatys", tmp_path), "--trainer.max_steps=1",
            "--trainer.enable_progress_bar=false"]
    assert zoo.fit.main(args) == 0
    assert not left.exists()
    assert "removed 1 unfinished write(s) of a killed run" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------ a real full disk
@pytest.fixture
def small_disk(tmp_path):
    """A 3 MiB tmpfs (skipped where this machine may not mount one: not root, or no such permission)."""
    mount = tmp_path / "small"
    mount.mkdir()
    if sys.platform != "linux" or os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root on Linux")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_training_run_onto_a_full_disk_is_one_line(small_disk, run, tmp_path):
    from test_fit import recipe_args

    args = [str(REPO / "recipes" / "johnson.yaml"), *recipe_args("johnson", tmp_path), "--trainer.max_steps=1",
            "--trainer.enable_progress_bar=false", f"--runs_dir={small_disk / 'runs'}",
            "--model.network={channels: [32, 64, 128], num_residual: 5}"]  # a checkpoint larger than the disk
    r = run("-m", "zoo.fit", *args)
    assert r.returncode == 1, r.stderr[-3000:]
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: {small_disk / 'runs'}") and "cannot write (No space left on device); the disk " \
        "is full: free some space or write elsewhere" in last, r.stderr[-3000:]
    assert "Traceback" not in r.stderr
    assert not [p for p in small_disk.rglob("*") if ".tmp" in p.name]


def test_a_folder_run_onto_a_full_disk_stops_and_says_how_much_was_written(small_disk, run, tmp_path):
    from zoo.nets.johnson import TransformerNet

    TransformerNet(channels=[4, 8, 8], num_residual=1).save_pretrained(tmp_path / "johnson")
    for i in range(30):
        make_image(tmp_path / "in" / f"{i:02d}.png", (200, 160), seed=i)
    with open(small_disk / "filler", "wb") as f:  # leave room for a few pictures only
        try:
            f.write(b"\0" * (3 * 2**20 - 6 * 2**17))
        except OSError as e:
            assert e.errno == errno.ENOSPC
    r = run("-m", "zoo", "stylize", str(tmp_path / "in"), "--model", "johnson", "--weights",
            str(tmp_path / "johnson"), "-o", str(small_disk / "out"), "--quiet")
    assert r.returncode == 1, r.stderr[-3000:]
    last = r.stderr.strip().splitlines()[-1]
    written = len(list((small_disk / "out").glob("*.png")))
    assert 0 < written < 30
    assert "cannot write (No space left on device)" in last and \
        last.endswith(f"; {written} of 30 image(s) written to {small_disk / 'out'} before it"), r.stderr[-3000:]
    assert not [p for p in small_disk.rglob("*") if ".tmp" in p.name]
