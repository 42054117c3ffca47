"""The command line of ``python -m zoo.fit``: the options zoo reads before LightningCLI sees the arguments
(``--run_name``, ``--runs_dir``, ``--ckpt_path``, ``--allow_config_change``), ``--section.key=null``, and
jsonargparse's several-line messages for a bad option as one line naming the option."""

from __future__ import annotations

import re

from .errors import ConfigError

__all__ = ["take_option", "take_flag", "parse_error_line", "null_overrides"]


def take_option(args: list[str], name: str) -> str | None:
    """Remove ``--name=value`` or ``--name value`` from ``args``; return the value (last one wins)."""
    value = None
    i = 0
    while i < len(args):
        a = args[i]
        if a.startswith(f"--{name}="):
            value = a.split("=", 1)[1]
            del args[i]
        elif a == f"--{name}" and i + 1 < len(args):
            value = args[i + 1]
            del args[i:i + 2]
        else:
            i += 1
    return value


def take_flag(args: list[str], name: str) -> bool:
    """Remove ``--name`` or ``--name=true|false`` from ``args``; whether it was given (and true)."""
    value = False
    for a in list(args):
        if a == f"--{name}" or a.startswith(f"--{name}="):
            args.remove(a)
            given = a.split("=", 1)[1].strip().lower() if "=" in a else "true"
            if given not in ("true", "false", "1", "0", "yes", "no"):
                raise ConfigError(f"--{name}={given}: expected true or false")
            value = given in ("true", "1", "yes")
    return value


# ------------------------------------------------------------------------------------------ the CLI
_NOISE = re.compile(r"^(Does not validate against any of the (Union )?(sub)?types|Subtypes:|Errors:|Given value|"
                    r"Expected a <class 'NoneType'>|Problem with given class_path|Expected a path but None)")
# jsonargparse's three ways of saying that a key does not exist; the groups are the key below the parser key.
_UNKNOWN_KEY = re.compile(r"^(?:unrecognized arguments: --([\w.]+)|Option '([\w.]+)' is not accepted|"
                          r"Group '(\w+)' does not accept option '([\w.]+)')")
_CLASS_PATH = re.compile(r"Problem with given class_path '([\w.]+)'")


def _options_of(class_path: str) -> list[str]:
    """The argument names of the class a recipe section names (its dataclass fields or constructor
    arguments); [] when it cannot be imported."""
    import dataclasses
    import importlib
    import inspect

    module, _, name = class_path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module), name)
        if dataclasses.is_dataclass(cls):
            return [f.name for f in dataclasses.fields(cls)]
        return [p.name for p in list(inspect.signature(cls.__init__).parameters.values())[1:]
                if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    except Exception:  # noqa: BLE001 - only a hint for the message
        return []


def parse_error_line(message: str) -> str:
    """jsonargparse's several-line message for a bad option as one line: ``--the.option: reason``, with the
    whole key of an option that does not exist (``--model.losses.gram.wieght: no such option; valid: ...``)."""
    keys: list[str] = []
    reasons: list[str] = []
    class_path = None
    for line in str(message).splitlines():
        line = line.strip().lstrip("- ").strip()
        key = re.match(r'Parser key "([^"]+)":\s*(.*)', line)
        if key:
            keys.append(key.group(1))
            line = key.group(2)
        found = _CLASS_PATH.match(line)
        if found:
            class_path = found.group(1)
        unknown = _UNKNOWN_KEY.match(line)
        if unknown:
            rest, option = [g for g in unknown.groups() if g], unknown.group(2)
            valid = _options_of(class_path) if class_path and option and "." not in option else []
            return f"--{'.'.join(keys + rest)}: no such option" + (f"; valid: {', '.join(valid)}" if valid else "")
        if line and not _NOISE.match(line):
            reasons.append(re.sub(r"<class '(?:[\w.]+\.)?(\w+)'>", r"\1", line))
    reason = "; ".join(dict.fromkeys(reasons)) or "invalid value"
    return (f"--{'.'.join(keys)}: {reason}" if keys else reason)[:600]


_NULL_KEY = re.compile(r"^--model\.(?:init_args\.)?(\w+)\.(\w+)=(null|none|None)$")


def null_overrides(args: list[str]) -> list[str]:
    """``--model.losses.tv=null`` as ``--model.losses={tv: null}`` (the form jsonargparse takes to turn
    off one optional part of a typed section)."""
    return [_NULL_KEY.sub(r"--model.\1={\2: null}", a) for a in args]
