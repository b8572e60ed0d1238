"""Shared tolerances and a closeness check that also demands finiteness."""

import numpy as np

#: float64 agreement of two exact computations of the same quantity
EXACT = dict(rtol=1e-9, atol=0.0)
#: one GD step against the derived map (a few roundings of O(1) terms)
STEP = dict(rtol=1e-10, atol=1e-12)


def assert_close(actual, desired, rtol, atol=0.0, what=""):
    actual = np.asarray(actual, dtype=float)
    desired = np.asarray(desired, dtype=float)
    assert np.all(np.isfinite(actual)), f"{what}: non-finite actual {actual}"
    assert np.all(np.isfinite(desired)), f"{what}: non-finite desired {desired}"
    np.testing.assert_allclose(actual, desired, rtol=rtol, atol=atol, err_msg=what)
