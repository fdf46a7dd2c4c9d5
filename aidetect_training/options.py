"""Command-line options declared once, on dataclass fields.

A field made with ``option(...)`` is a flag (``--field-name`` unless ``flag`` says
otherwise). From the same declaration:

- ``add_arguments`` puts the flags on an argparse parser (or argument group),
- ``from_namespace`` builds the dataclass from parsed arguments (running ``parse``,
  whose ``ValueError`` the command reports as a usage error),
- ``to_args`` spells an instance back out as flags, so the ``command`` recorded in
  an artifact's metadata is rebuilt from the options by reflection, not by hand.

The run's shared options live on ``aidetect_training.config.RunConfig``; each architecture
declares its own options dataclass (``aidetect_training/cnn.py``'s ``CnnOptions``, ...).
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

_KEY = "option"


@dataclasses.dataclass(frozen=True)
class OptionSpec:
    help: str = ""
    flag: str | None = None
    choices: Sequence[Any] | None = None
    required: bool = False
    #: recorded in ``command`` (off for settings that do not change the model: workers, resume)
    record: bool = True
    #: the text given on the command line -> the field's value (errors: ValueError)
    parse: Callable[[Any], Any] | None = None
    #: the field's value -> the text to give on the command line
    show: Callable[[Any], str] | None = None


def option(default: Any = dataclasses.MISSING, **spec: Any) -> Any:
    """A dataclass field that is also a command-line option (see ``OptionSpec``)."""
    return dataclasses.field(default=default, metadata={_KEY: OptionSpec(**spec)})


def _options(cls: type) -> list[tuple[dataclasses.Field, OptionSpec, Any]]:
    hints = typing.get_type_hints(cls)
    return [
        (f, f.metadata[_KEY], hints[f.name]) for f in dataclasses.fields(cls) if _KEY in f.metadata
    ]


def flag_of(f: dataclasses.Field, spec: OptionSpec) -> str:
    return spec.flag or "--" + f.name.replace("_", "-")


def _scalar(hint: Any) -> Any:
    """``int | None`` -> ``int``; ``Path`` stays ``Path``; anything else: ``str``."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    return hint if hint in (int, float, str, Path, bool) else str


def add_arguments(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    cls: type,
    *,
    dest_prefix: str = "",
    choices: dict[str, Sequence[Any]] | None = None,
) -> None:
    """One argparse argument per ``option`` field of ``cls`` (dest: prefix + field name)."""
    for f, spec, hint in _options(cls):
        kwargs: dict[str, Any] = {"dest": dest_prefix + f.name, "help": spec.help}
        default = None if f.default is dataclasses.MISSING else f.default
        kind = _scalar(hint)
        if kind is bool:
            kwargs.update(action="store_true", default=bool(default))
        else:
            kwargs["default"] = default if spec.parse is None or default is None else None
            if spec.parse is None:
                kwargs["type"] = kind
            wanted = (choices or {}).get(f.name, spec.choices)
            if wanted is not None:
                kwargs["choices"] = list(wanted)
            if spec.required:
                kwargs["required"] = True
        parser.add_argument(flag_of(f, spec), **kwargs)


def from_namespace(cls: type, ns: argparse.Namespace, *, dest_prefix: str = "", **extra: Any):
    """``cls`` from parsed arguments (plus ``extra`` fields that are not options)."""
    values: dict[str, Any] = {}
    for f, spec, _ in _options(cls):
        value = getattr(ns, dest_prefix + f.name)
        if spec.parse is not None:
            value = spec.parse(value)
        if value is not None or f.default is dataclasses.MISSING:
            values[f.name] = value
    return cls(**values, **extra)


def to_args(obj: Any) -> list[str]:
    """The recorded options of a dataclass instance as command-line arguments."""
    args: list[str] = []
    for f, spec, _ in _options(type(obj)):
        value = getattr(obj, f.name)
        if not spec.record or value is None:
            continue
        if isinstance(value, bool):
            if value:
                args.append(flag_of(f, spec))
            continue
        args += [flag_of(f, spec), spec.show(value) if spec.show else str(value)]
    return args


def flags(cls: type) -> list[str]:
    """The flags ``cls`` declares (the architecture table checks they do not collide)."""
    return [flag_of(f, spec) for f, spec, _ in _options(cls)]
