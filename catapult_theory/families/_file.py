"""A model family from a user's Python file.

The file defines a :class:`~catapult_theory.symbolic.SymbolicModel`, either as a
module-level ``model`` (a ``SymbolicModel``, or a function returning one) or as
a function whose name is given (``builder="make"``). Loading *runs the file's
code*, the way pytest runs a ``conftest.py``: only load files you trust.

Every problem (no such file, a syntax error, an exception in the file, no
``model``, a value that is not a ``SymbolicModel``, a model the generic
derivation cannot handle) is an :class:`~catapult_theory.errors.InvalidInput`
whose one-line message names the file and the problem.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import itertools
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InvalidInput
from ..symbolic import MODELS, SymbolicModel, register, theory

__all__ = ["ModelFile", "clear_compiled", "ensure_model_file", "file_digest", "file_families", "file_model_name",
           "forget_model_file", "is_model_file", "load_model_file", "model_file", "register_model_file",
           "registry_scope"]

_COUNTER = itertools.count(1)


def is_model_file(token: str) -> bool:
    """True when ``token`` names a Python file (ends in ``.py``) rather than a registered model."""
    return isinstance(token, str) and token.endswith(".py")


def _one_line(exc: BaseException) -> str:
    msg = str(exc).strip().splitlines()
    text = msg[0] if msg else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _execute(path: Path) -> Any:
    """Run the file as a fresh module (its folder importable meanwhile) and return the module."""
    name = f"_catapult_model_file_{next(_COUNTER)}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise InvalidInput(f"{path}: cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling in the file look their module up
    folder = str(path.resolve().parent)
    sys.path.insert(0, folder)
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        sys.modules.pop(name, None)
        where = f" (line {exc.lineno})" if exc.lineno else ""
        raise InvalidInput(f"{path}: SyntaxError: {exc.msg}{where}") from None
    except InvalidInput as exc:  # the package refused what the file built (a model's names, ...)
        sys.modules.pop(name, None)
        raise InvalidInput(f"{path}: {str(exc).strip().splitlines()[0] if str(exc).strip() else 'invalid'}") from None
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - the user's own code failed: bad input, not our bug
        sys.modules.pop(name, None)
        raise InvalidInput(f"{path}: running the file raised {_one_line(exc)}") from None
    finally:
        try:
            sys.path.remove(folder)
        except ValueError:  # the file removed it itself
            pass
    return module


def load_model_file(path: str | Path, builder: str | None = None) -> SymbolicModel:
    """Run ``path`` and return the :class:`SymbolicModel` it defines (:func:`_load`)."""
    return _load(path, builder)[0]


def _load(path: str | Path, builder: str | None = None) -> tuple[SymbolicModel, Any]:
    """Run ``path``: the :class:`SymbolicModel` it defines and its module.

    Parameters
    ----------
    path
        A ``.py`` file.
    builder
        Name of a function in the file that returns the model; by default the
        module-level ``model`` (a ``SymbolicModel`` or a function returning one).

    Raises
    ------
    InvalidInput
        With the file name and the problem, in one line.
    """
    p = Path(path)
    if p.suffix != ".py":
        raise InvalidInput(f"{p}: a model file must be a .py file")
    from ..files import check_name_lengths

    check_name_lengths(p, "model file")
    if not p.is_file():
        raise InvalidInput(f"{p}: no such model file")
    module = _execute(p)
    attr = builder or "model"
    if builder is not None and not builder.isidentifier():
        raise InvalidInput(f"{p}: --builder {builder!r} is not a Python name")
    if not hasattr(module, attr):
        if builder is None:
            raise InvalidInput(f"{p}: defines no module-level `model` (a SymbolicModel); "
                               "or name a function that returns one with --builder NAME")
        raise InvalidInput(f"{p}: defines no function {builder!r}")
    obj = getattr(module, attr)
    if not isinstance(obj, SymbolicModel):
        if not callable(obj):
            raise InvalidInput(f"{p}: `{attr}` is not a SymbolicModel (it is of type {type(obj).__name__})")
        try:
            obj = obj()
        except Exception as exc:  # noqa: BLE001 - the user's builder failed: bad input, not our bug
            raise InvalidInput(f"{p}: calling {attr}() raised {_one_line(exc)}") from None
        if not isinstance(obj, SymbolicModel):
            raise InvalidInput(f"{p}: {attr}() did not return a SymbolicModel (it returned a value of type "
                               f"{type(obj).__name__})")
    return obj, module


def _taken(name: str, path: str | Path | None = None) -> bool:
    """A name is taken unless it is free or the same file's (loaded again)."""
    if name not in MODELS:
        return False
    entry = model_file(name)
    return entry is None or path is None or Path(entry.path).resolve() != Path(path).resolve()


def file_model_name(path: str | Path, taken: Callable[[str], bool] | None = None) -> str:
    """The registry name of a model file: its stem (``mine`` for ``models/mine.py``), or the
    file name (``uv.py``) when the stem is already a registered model's name (another
    file's, or a built-in's: the same file loaded again keeps its name)."""
    if taken is None:
        def taken(n: str) -> bool:
            return _taken(n, path)
    p = Path(path)
    stem = re.sub(r"[^A-Za-z0-9_.-]", "-", p.stem) or "model"
    return stem if not taken(stem) else re.sub(r"[^A-Za-z0-9_.-]", "-", p.name)


def register_model_file(path: str | Path, builder: str | None = None) -> str:
    """Load ``path``, register its model under :func:`file_model_name` and derive it once.

    The model is renamed to its registry name (so that no built-in's bounds or
    caches are mistaken for it). Returns the name. A model the derivation
    cannot handle is an :class:`InvalidInput` naming the file, and is not left
    registered.
    """
    model, module = _load(path, builder)
    name = file_model_name(path)
    model = dataclasses.replace(model, name=name)
    previous = MODELS.get(name)

    def build() -> SymbolicModel:
        return model

    register(name, build)
    clear_compiled()
    try:
        theory(name)
    except (Exception, RecursionError) as exc:  # noqa: BLE001 - the model is the user's: its failure is bad input
        if previous is None:
            MODELS.pop(name, None)
        else:
            MODELS[name] = previous
        theory.cache_clear()
        raise InvalidInput(f"{path}: the model cannot be derived: {_one_line(exc)}") from None
    init = getattr(module, "init", None)
    if init is not None and not callable(init):
        raise InvalidInput(f"{path}: `init` must be a function init(sizes, rng) returning arrays by parameter name")
    _FILES[name] = ModelFile(str(path), builder, build, init, file_digest(path))
    return name


@dataclass(frozen=True)
class ModelFile:
    """A model file loaded in this process: its path, builder, the registered model
    builder, its ``init`` (or ``None``) and the SHA-256 of its text."""

    path: str
    builder: str | None
    model: Callable[[], SymbolicModel]
    init: Callable[..., Any] | None
    sha256: str


#: the model files loaded in this process, by registry name
_FILES: dict[str, ModelFile] = {}


def file_digest(path: str | Path) -> str:
    """SHA-256 of a model file's bytes (a grid cell's key holds it: an edited file is another cell)."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError as err:
        raise InvalidInput(f"{path}: cannot be read: {err.strerror or err}") from None


def model_file(name: str) -> ModelFile | None:
    """The model file registered as ``name`` (still registered), or ``None``."""
    entry = _FILES.get(name)
    if entry is None or MODELS.get(name) is not entry.model:
        return None
    return entry


def ensure_model_file(path: str, builder: str | None = None, sha256: str | None = None) -> tuple[str, ModelFile]:
    """The model file ``path`` registered in this process (loaded once; loaded again when
    its text changed): its registry name and record. ``sha256``: the text it must have
    (:class:`InvalidInput` when the file changed since)."""
    digest = file_digest(path)
    if sha256 is not None and digest != sha256:
        raise InvalidInput(f"{path}: the model file changed since the grid was planned (its SHA-256 differs)")
    name = file_model_name(path)
    entry = model_file(name)
    if entry is None or entry.path != path or entry.sha256 != digest or entry.builder != builder:
        name = register_model_file(path, builder)
        entry = _FILES[name]
    return name, entry


def forget_model_file(name: str) -> None:
    """Forget the file behind ``name`` (the command that loaded it ended)."""
    _FILES.pop(name, None)


@contextmanager
def registry_scope() -> Iterator[None]:
    """Whatever is registered inside (model files, models) is unregistered at the end, and
    what a name meant before is restored (one command of the command line)."""
    models, files = dict(MODELS), dict(_FILES)
    try:
        yield
    finally:
        if MODELS != models or _FILES != files:
            MODELS.clear()
            MODELS.update(models)
            _FILES.clear()
            _FILES.update(files)
            theory.cache_clear()
            clear_compiled()


def clear_compiled() -> None:
    """Forget compiled maps cached under a name that may now mean another model."""
    from ..compiled import threshold, update_map

    update_map.cache_clear()
    threshold.cache_clear()


def file_families() -> list[Any]:
    """The numeric families of the model files loaded in this process and still registered
    (:class:`~catapult_theory.families._symbolic.SymbolicFamily`)."""
    from ._symbolic import SymbolicFamily

    out = []
    for name in list(_FILES):
        entry = model_file(name)
        if entry is not None:
            out.append(SymbolicFamily.of_file(name, entry))
    return out
