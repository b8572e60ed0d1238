"""A model FILE wherever the command line takes a model name.

``catapult derive path/to/mine.py``, ``catapult run mine.py``, ``catapult phases
mine.py``, ``catapult falsify mine.py --claim ...`` and ``catapult prove --model
mine.py`` load the file (it runs, as pytest runs a ``conftest.py``), register its
model for this one command under the file's stem
(:func:`catapult_theory.families.file_model_name`) and put that name in place of
the path before the arguments are parsed; ``run`` and ``phases`` then take the
generic numeric family of its symbols. ``--builder NAME`` picks a function of the
file instead of its module-level ``model``. The registration is undone when the
command ends.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import TracebackType

from ..errors import InvalidInput

__all__ = ["FILE_COMMANDS", "FILE_HELP", "ModelFiles"]

#: commands whose MODEL may be a file
FILE_COMMANDS = ("derive", "falsify", "run", "phases")

#: the help text that says what a model file is and that loading runs it
FILE_HELP = ("MODEL may also be a path to a .py file that defines a SymbolicModel: a module-level "
             "`model`, or the function named by --builder NAME (and, optionally, init(sizes, rng) returning "
             "initial arrays by parameter name). Loading runs the file's own code, as pytest runs a conftest.py: "
             "load only files you trust.")


#: options of ``falsify`` whose value is a text that may end in ``.py``
_VALUED = ("--claim", "--assume", "--format", "--seed", "--max-examples", "--steps", "--max-memory")


def _pop_builder(argv: list[str]) -> str | None:
    """Remove ``--builder NAME`` (or ``--builder=NAME``) from ``argv``; return NAME."""
    found: list[str] = []
    out: list[str] = []
    i = 0
    while i < len(argv):
        tok = argv[i]
        if tok == "--builder":
            if i + 1 >= len(argv):
                raise InvalidInput("--builder needs a function name")
            found.append(argv[i + 1])
            i += 2
            continue
        if tok.startswith("--builder="):
            found.append(tok.split("=", 1)[1])
            i += 1
            continue
        out.append(tok)
        i += 1
    argv[:] = out
    if len(found) > 1:
        raise InvalidInput("--builder given more than once")
    return found[0] if found else None


class ModelFiles:
    """Registers the model files of one command line and unregisters them afterwards."""

    def __init__(self) -> None:
        self._undo: list[tuple[str, Callable[..., object] | None]] = []

    def __enter__(self) -> ModelFiles:  # noqa: PYI034 - Self needs Python 3.11
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Unregister every model this object registered (restoring what a name meant before)."""
        if not self._undo:
            return
        from ..families import clear_compiled, forget_model_file
        from ..symbolic import MODELS, theory

        for name, previous in reversed(self._undo):
            forget_model_file(name)
            if previous is None:
                MODELS.pop(name, None)
            else:
                MODELS[name] = previous  # type: ignore[assignment]
        self._undo.clear()
        theory.cache_clear()
        clear_compiled()

    def _register(self, path: str, builder: str | None, loaded: dict[str, str]) -> str:
        if path in loaded:
            return loaded[path]
        from ..families import file_model_name, register_model_file
        from ..symbolic import MODELS

        previous = MODELS.get(file_model_name(path))
        name = register_model_file(path, builder)
        self._undo.append((name, previous))
        loaded[path] = name
        return name

    def load(self, argv: Sequence[str]) -> list[str]:
        """``argv`` with every model file registered and replaced by its registry name.

        Raises :class:`InvalidInput` for a file that cannot be loaded, a file given to a
        command that needs a built-in model (``run``, ``phases``), or ``--builder``
        without a file.
        """
        args = list(argv)
        builder = _pop_builder(args)
        loaded: dict[str, str] = {}
        command_at = next((i for i, tok in enumerate(args) if not tok.startswith("-")), None)
        command = args[command_at] if command_at is not None else None
        if command is not None and command_at is not None:
            model_at = command_at + 1
            if command == "falsify":  # its MODEL may follow the options: the first .py that is no option's value
                model_at = next((i for i in range(command_at + 1, len(args))
                                 if args[i].endswith(".py") and args[i - 1] not in _VALUED), model_at)
            token = args[model_at] if model_at < len(args) else ""
            if token.endswith(".py") and command in FILE_COMMANDS:
                args[model_at] = self._register(token, builder, loaded)
            if command == "prove":
                in_models = False
                for i in range(command_at + 1, len(args)):
                    tok = args[i]
                    if tok.startswith("--model="):
                        value = tok.split("=", 1)[1]
                        if value.endswith(".py"):
                            args[i] = "--model=" + self._register(value, builder, loaded)
                        in_models = False
                        continue
                    if tok == "--model":
                        in_models = True
                        continue
                    if tok.startswith("-"):
                        in_models = False
                        continue
                    if in_models and tok.endswith(".py"):
                        args[i] = self._register(tok, builder, loaded)
        if builder is not None and not loaded:
            raise InvalidInput("--builder NAME needs a model FILE (a .py path) in place of the model name")
        return args
