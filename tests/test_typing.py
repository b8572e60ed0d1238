"""The package and the proofs type-check: mypy with the configuration of pyproject.toml."""

from pathlib import Path

import pytest
from mypy import api

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow  # 15 s of one core from a clean clone (0.7 s with mypy's cache): run with -m slow
def test_mypy_is_clean_on_the_package_and_the_proofs():
    out, err, status = api.run(["--config-file", str(ROOT / "pyproject.toml"), str(ROOT / "catapult_theory"),
                                str(ROOT / "proofs")])
    assert status == 0, out + err
