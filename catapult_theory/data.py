"""The one grammar of data specs, for every family: parse once, load as the family needs.

``toy``
    One datum ``x = 1`` (``d = 1``), ``y = 0``.
``toy:X:Y``
    One datum ``x = X`` (``d = 1``), ``y = Y``.
``random:B:D[:T]``
    Teacher–student: ``B`` training inputs in ``R^D`` (coordinates i.i.d. N(0, 1)), labels
    from a teacher of the same model, ``T`` test points drawn the same way (default: the
    family's, e.g. ``--test-size``).
``digits01``
    scikit-learn's 8×8 digits, 0 against 1, 128 training images (labels ±1).
``digits:A:B[:SIDE]``, ``mnist:A:B[:SIDE]``, ``fmnist:A:B[:SIDE]``, ``cifar10:A:B[:SIDE]``
    Two image classes, 128 training images (:mod:`catapult_theory.experiments._images`).

:func:`parse_data_spec` reads a spec (image specs with :func:`parse_image_spec`;
:class:`InvalidInput` naming the forms for any other text); :meth:`DataSpec.shape`
says its sizes without loading anything (for memory estimates). The data sets
themselves are built by :func:`catapult_theory.experiments.load_data` (the shared ones:
toy, digits, images; ``random`` by the family's own teacher). This module imports
nothing numeric: every command's ``--help`` shows the grammar.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from .errors import InvalidInput

__all__ = ["DATA_FORMS", "DATA_HELP", "DATA_SPECS", "DIGITS01_IMAGES", "DIGITS_PAIR_IMAGES", "IMAGE_SOURCES", "IMAGE_SPEC_FORMS",
           "IMAGE_TEST_SIZE", "TRAIN_SIZE", "DataSpec", "ImageSpec", "Source", "is_image_spec", "parse_data_spec",
           "parse_image_spec"]

#: the forms of an image spec, for messages and ``--help``
IMAGE_SPEC_FORMS = ("digits:A:B, mnist:A:B, fmnist:A:B or cifar10:A:B (two classes by index or name), "
                    "optionally :SIDE (pixels per side after average pooling)")

_FMNIST_NAMES = ("t-shirt/top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag",
                 "ankle boot")
_CIFAR_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
_ALIASES = {
    "fmnist": {"tshirt": 0, "top": 0, "boot": 9},
    "cifar10": {"plane": 0, "car": 1},
}


@dataclass(frozen=True)
class Source:
    """One image source: folder, native geometry, default side, class names, what to download."""

    name: str
    title: str
    folder: str | None
    side: int
    channels: int
    default_side: int
    classes: tuple[str, ...]
    scale: float
    download: str


#: the image sources by spec prefix
IMAGE_SOURCES: dict[str, Source] = {
    "digits": Source("digits", "scikit-learn 8x8 digits", None, 8, 1, 8, tuple(str(i) for i in range(10)), 16.0,
                      'pip install scikit-learn (or pip install "catapult_theory[digits]")'),
    "mnist": Source("mnist", "MNIST", "mnist", 28, 1, 14, tuple(str(i) for i in range(10)), 255.0,
                     "the four MNIST IDX files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
                     "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz, e.g. from "
                     "https://ossci-datasets.s3.amazonaws.com/mnist/)"),
    "fmnist": Source("fmnist", "Fashion-MNIST", "fashion-mnist", 28, 1, 14, _FMNIST_NAMES, 255.0,
                      "the four Fashion-MNIST IDX files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
                      "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz from "
                      "https://github.com/zalandoresearch/fashion-mnist)"),
    "cifar10": Source("cifar10", "CIFAR-10", "cifar-10-batches-py", 32, 3, 8, _CIFAR_NAMES, 255.0,
                       "CIFAR-10 for python (https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz, "
                       "extracted: it unpacks to cifar-10-batches-py/)"),
}


@dataclass(frozen=True)
class ImageSpec:
    """A parsed image spec: source, the two class indices (``−1`` and ``+1``), the side."""

    source: str
    classes: tuple[int, int]
    side: int

    @property
    def d(self) -> int:
        """Input dimension ``side² × channels``."""
        return self.side * self.side * IMAGE_SOURCES[self.source].channels

    @property
    def class_names(self) -> tuple[str, str]:
        """The names of the two classes."""
        names = IMAGE_SOURCES[self.source].classes
        return names[self.classes[0]], names[self.classes[1]]

    @property
    def canonical(self) -> str:
        """The spec with class indices and an explicit side (``mnist:3:8:14``)."""
        return f"{self.source}:{self.classes[0]}:{self.classes[1]}:{self.side}"

    @property
    def label(self) -> str:
        """A short human label: ``digits 3/8``, ``CIFAR-10 cat/dog (8x8)``."""
        src = IMAGE_SOURCES[self.source]
        a, b = self.class_names
        res = "" if self.side == src.side else f" ({self.side}x{self.side})"
        return f"{'digits' if src.name == 'digits' else src.title} {a}/{b}{res}"


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _class_index(src: Source, text: str, spec: str) -> int:
    if re.fullmatch(r"\d+", text):
        i = int(text)
        if i < len(src.classes):
            return i
    key = _norm(text)
    for i, name in enumerate(src.classes):
        if key == _norm(name):
            return i
    if key in _ALIASES.get(src.name, {}):
        return _ALIASES[src.name][key]
    raise InvalidInput(f"bad class {text!r} in data spec {spec!r}: {src.title} classes are "
                       f"0..{len(src.classes) - 1}" + ("" if src.name in ("digits", "mnist") else
                                                       " or " + ", ".join(_norm(c) for c in src.classes)))


def is_image_spec(spec: Any) -> bool:
    """True for a string of the form ``SOURCE:...`` with a known image source."""
    return isinstance(spec, str) and spec.split(":", 1)[0].lower() in IMAGE_SOURCES and ":" in spec


def parse_image_spec(spec: str) -> ImageSpec:
    """Parse ``SOURCE:A:B[:SIDE]`` (module docstring); :class:`InvalidInput` naming the problem."""
    if not isinstance(spec, str):
        raise InvalidInput(f"data spec must be a string, got {spec!r}")
    parts = spec.split(":")
    src = IMAGE_SOURCES.get(parts[0].lower())
    if src is None or len(parts) not in (3, 4):
        raise InvalidInput(f"bad image data spec {spec!r}: expected {IMAGE_SPEC_FORMS}")
    a, b = _class_index(src, parts[1], spec), _class_index(src, parts[2], spec)
    if a == b:
        raise InvalidInput(f"bad data spec {spec!r}: the two classes must differ")
    side = src.default_side
    if len(parts) == 4:
        if not re.fullmatch(r"\d+", parts[3]) or int(parts[3]) < 1 or src.side % int(parts[3]):
            divisors = [s for s in range(1, src.side + 1) if src.side % s == 0]
            raise InvalidInput(f"bad side {parts[3]!r} in data spec {spec!r}: {src.title} images are "
                               f"{src.side}x{src.side}; the side must divide {src.side} ({', '.join(map(str, divisors))})")
        side = int(parts[3])
    return ImageSpec(src.name, (a, b), side)



#: the forms of a data spec, as error messages name them
DATA_FORMS = ("toy, toy:X:Y, random:B:D[:T] (B, D positive integers, T >= 0), digits01, or two image classes "
              "digits:A:B, mnist:A:B, fmnist:A:B, cifar10:A:B[:SIDE]")
#: the help of ``--data``, the same in every family
DATA_HELP = ("toy (one datum x = 1, y = 0), toy:X:Y (one datum x = X, y = Y), random:B:D[:T] (teacher-student: "
             "B points in R^D, labels from a teacher of the same model, T test points), digits01 (8x8 digits 0 vs "
             "1), or two image classes: digits:A:B, mnist:A:B, fmnist:A:B, cifar10:A:B (index or name), optionally "
             ":SIDE, the pixels per side after average pooling (default toy)")

#: every form of a data spec with its meaning (``catapult models``, the families' records)
DATA_SPECS = {
    "toy": "one datum x = 1, y = 0",
    "toy:X:Y": "one datum x = X, y = Y",
    "random:B:D[:T]": "teacher-student: B training points in R^D, coordinates i.i.d. N(0, 1), labels from a "
                      "teacher of the same model, T test points",
    "digits01": "scikit-learn's 8x8 digits, 0 vs 1, 128 training images, labels +-1",
    "digits:A:B, mnist:A:B, fmnist:A:B, cifar10:A:B[:SIDE]":
        "two image classes (labels -1, +1), 128 training images; MNIST, Fashion-MNIST and CIFAR-10 read from "
        "--data-dir or $CATAPULT_DATA_DIR",
}

#: training images of the image data sets
TRAIN_SIZE = 128
#: images of the digits 0 and 1 in scikit-learn's 8x8 digits (training and test together)
DIGITS01_IMAGES = 360
#: an upper bound of the images of two classes of the 8x8 digits (about 180 per class)
DIGITS_PAIR_IMAGES = 400
#: test images drawn from the test split of MNIST, Fashion-MNIST and CIFAR-10
IMAGE_TEST_SIZE = 1000


@dataclass(frozen=True)
class DataSpec:
    """A parsed data spec: ``kind`` is ``toy``, ``random``, ``digits01`` or ``images``."""

    text: str
    kind: str
    x: float = 1.0
    y: float = 0.0
    B: int = 1
    D: int = 1
    T: int | None = None
    image: ImageSpec | None = None

    @property
    def dim(self) -> int:
        """The input dimension."""
        if self.kind == "random":
            return self.D
        if self.kind == "digits01":
            return 64
        if self.image is not None:
            return self.image.d
        return 1

    def shape(self, train_size: int = TRAIN_SIZE, test_size: int = 0) -> tuple[int, int, int]:
        """``(B, d, B_test)`` without loading the data (an upper bound for ``B_test`` of the
        digits); ``test_size``: the family's test set of ``random`` data when ``T`` is not given."""
        if self.kind == "toy":
            return 1, 1, 0
        if self.kind == "random":
            return self.B, self.D, test_size if self.T is None else self.T
        if self.kind == "digits01":
            return train_size, 64, DIGITS01_IMAGES - train_size
        assert self.image is not None
        test = DIGITS_PAIR_IMAGES - train_size if self.image.source == "digits" else IMAGE_TEST_SIZE
        return train_size, self.image.d, test


def parse_data_spec(text: Any) -> DataSpec:
    """Read a data spec (module docstring); :class:`InvalidInput` naming the problem."""
    bad = InvalidInput(f"bad data spec {text!r}: expected {DATA_FORMS}")
    if not isinstance(text, str):
        raise bad
    spec = text.strip()
    parts = spec.split(":")
    head = parts[0].strip().lower()
    if head == "toy" and len(parts) == 1:
        return DataSpec(text, "toy")
    if head == "digits01" and len(parts) == 1:
        return DataSpec(text, "digits01")
    try:
        if head == "toy" and len(parts) == 3:
            x, y = float(parts[1]), float(parts[2])
            if not (math.isfinite(x) and math.isfinite(y)) or x == 0:
                raise bad
            return DataSpec(text, "toy", x=x, y=y)
        if head == "random" and len(parts) in (3, 4):
            B, D = int(parts[1]), int(parts[2])
            T = int(parts[3]) if len(parts) == 4 else None
            if B < 1 or D < 1 or (T is not None and T < 0):
                raise bad
            return DataSpec(text, "random", B=B, D=D, T=T)
    except ValueError:
        raise bad from None
    if is_image_spec(text) and head in IMAGE_SOURCES:
        return DataSpec(text, "images", image=parse_image_spec(text))
    raise bad
