"""The package's one invalid-input exception and the argument checks of the Python API."""

import numpy as np
import pytest

from catapult_theory.errors import InvalidInput, check_float, check_int, check_positive


def test_invalid_input_is_a_value_error():
    assert issubclass(InvalidInput, ValueError)


@pytest.mark.parametrize("val", [2.5, "3", None, True, [1], float("nan")])
def test_check_int_rejects_non_integers(val):
    with pytest.raises(InvalidInput, match="width must be an integer"):
        check_int("width", val, 1)


@pytest.mark.parametrize("val, want", [(3, 3), (np.int64(4), 4), (5.0, 5)])
def test_check_int_accepts_integers(val, want):
    out = check_int("width", val, 1)
    assert out == want and type(out) is int


def test_check_int_lower_limit():
    assert check_int("seed", 0, 0) == 0
    with pytest.raises(InvalidInput, match="seed must be an integer >= 0, got -1"):
        check_int("seed", -1, 0)


@pytest.mark.parametrize("val", [float("inf"), float("nan"), "1", None, False])
def test_check_float_rejects(val):
    with pytest.raises(InvalidInput, match="y must be"):
        check_float("y", val)


def test_check_positive():
    assert check_positive("k", 3) == 3.0
    for bad in (0, -1.0):
        with pytest.raises(InvalidInput, match="k must be positive"):
            check_positive("k", bad)


@pytest.mark.parametrize("call, name", [
    ("run_uv(width=2.5, k=3.0, steps=10)", "width"),
    ("run_uv(width=10, k=3.0, steps=10.5)", "steps"),
    ("run_uv(width=10, k='3', steps=10)", "k"),
    ("uv_setup(10, seed=-1)", "seed"),
    ("two_layer_setup(width=8.5, slope=0.5)", "width"),
    ("two_layer_setup(width=8, slope='a')", "slope"),
    ("quadratic_setup('pure-quadratic', rank=2.5)", "rank"),
])
def test_python_api_checks_argument_types(call, name):
    from catapult_theory import experiments

    with pytest.raises(InvalidInput, match=f"^{name} must be"):
        eval(call, vars(experiments))
