"""The SMT checker's budget is a count of the solver's operations, not wall-clock time."""

import pytest
import sympy as sp

from proofs import _smt

pytestmark = pytest.mark.skipif(not _smt.available(), reason="z3-solver is not installed")

x, y = sp.symbols("x y", real=True)
# AM-GM in two variables without a hint: non-linear, a few thousand resource units.
AMGM = (x**2 + y**2 >= 2 * x * y, ())


def test_a_valid_claim_is_accepted_and_a_false_one_refuted():
    assert _smt.check_obligation(*AMGM, {}).status == "proved"
    res = _smt.check_obligation(x**2 + y**2 >= 3 * x * y, (), {})
    assert res.status == "refuted" and "countermodel" in res.detail


def test_the_budget_is_resource_units_and_the_same_on_every_run():
    """One unit of budget is not enough, whatever the machine's load; the same claim
    with the default budget is proved. Run twice: the verdict does not change."""
    for _ in range(2):
        assert _smt.check_obligation(*AMGM, {}, rlimit=1).status == "unknown"
        assert _smt.check_obligation(*AMGM, {}, rlimit=_smt.RLIMIT).status == "proved"
