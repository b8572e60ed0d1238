"""The grid SPEC: the contract shape, the family's own argument checks, errors naming the key."""

import copy

import pytest

from catapult_theory.errors import InvalidInput
from catapult_theory.grid import cell_key, load_spec, parse_scheduler, parse_spec
from tests.grid.conftest import TINY, TINY_TOML


def _with(**changes):
    spec = copy.deepcopy(TINY)
    for path, value in changes.items():
        *head, last = path.split("__")
        node = spec
        for h in head:
            node = node[h]
        if value is None:
            del node[last]
        else:
            node[last] = value
    return spec


def test_the_contract_shape_reads_from_toml(tmp_path):
    path = tmp_path / "g.toml"
    path.write_text(TINY_TOML)
    spec = load_spec(path)
    assert spec.model == "uv" and spec.fixed == {"steps": 60}
    assert (spec.k.min, spec.k.max, spec.k.num, spec.k.scale) == (0.5, 5.0, 8, "linear")
    assert spec.axes == {"width": (50, 500), "seed": (0, 1)} and spec.shape() == (2, 2)
    cells = spec.cells()
    # the first axis outermost; every cell carries every phases argument of the family
    assert [dict(c.axes) for c in cells] == [{"width": 50, "seed": 0}, {"width": 50, "seed": 1},
                                             {"width": 500, "seed": 0}, {"width": 500, "seed": 1}]
    assert cells[0].params == {"width": 50, "seed": 0, "steps": 60, "y": 0.0, "f0": None, "lam0": None,
                               "w2_0": None, "d": 1, "x_norm": 1.0, "no_refine": False}
    assert len({c.key for c in cells}) == 4 and cells[0].label() == "width=50 seed=0"
    assert parse_spec(TINY).cells()[3].key == cells[3].key


def test_the_key_hashes_the_configuration_not_the_spec_layout():
    as_axis = parse_spec(TINY).cells()[0]
    fixed = parse_spec({"model": "uv", "fixed": {"steps": 60, "width": 50, "seed": 0, "x-norm": 1,
                                                 "k": {"min": 0.5, "max": 5, "num": 8}}}).cells()
    assert len(fixed) == 1 and fixed[0].key == as_axis.key == cell_key(as_axis.config)
    other = parse_spec(_with(fixed__steps=61)).cells()[0]
    assert other.key != as_axis.key


def test_the_key_changes_with_the_package_version(monkeypatch):
    """A stored cell of another version is never reused (results may differ between versions)."""
    import catapult_theory

    cell = parse_spec(TINY).cells()[0]
    before = cell_key(cell.config)
    monkeypatch.setattr(catapult_theory, "__version__", catapult_theory.__version__ + ".post1")
    assert cell_key(cell.config) != before


def test_log_k_scale_and_other_families():
    spec = parse_spec({"model": "two-layer", "fixed": {"width": 16, "no-refine": True,
                                                       "k": {"min": 0.5, "max": 50, "num": 3, "scale": "log"}},
                       "axes": {"slope": [0, 0.5]}})
    assert spec.k.values().tolist() == pytest.approx([0.5, 5.0, 50.0])
    assert spec.cells()[1].params["no_refine"] is True and spec.cells()[1].params["slope"] == 0.5
    q = parse_spec({"model": "pure-quadratic", "fixed": {"rank": 4, "k": {"min": 1, "max": 2, "num": 2}},
                    "axes": {"mu_dist": ["uniform:1:2", "const:1"], "act": ["identity", "tanh"]}})
    assert len(q.cells()) == 4


@pytest.mark.parametrize("spec, key", [
    (_with(axes__widht=[1, 2]), "axes.widht"),                     # unknown axis
    (_with(axes__width=[50, 0]), "axes.width[1]"),                 # bad value
    (_with(axes__width=[50, "x"]), "axes.width[1]"),
    (_with(axes__width=[50, 50]), "axes.width[1]"),                # a cell twice
    (_with(axes__width=50), "axes.width"),
    (_with(axes__width=[]), "axes.width"),
    (_with(model="uvv"), "model"),                                 # unknown family
    (_with(model=3), "model"),
    (_with(model=None), "model"),
    (_with(fixed__steps=0), "fixed.steps"),
    (_with(fixed__steps=True), "fixed.steps"),
    (_with(fixed__steps=[1]), "fixed.steps"),
    (_with(fixed__width=10), "axes.width"),                        # fixed and an axis at once
    (_with(fixed__k=None), "fixed.k"),
    (_with(fixed__k=3), "fixed.k"),
    (_with(fixed__k={"min": 1, "max": 2}), "fixed.k.num"),
    (_with(fixed__k={"min": 2, "max": 1, "num": 3}), "fixed.k.min"),
    (_with(fixed__k={"min": 1, "max": 2, "num": 1}), "fixed.k.num"),
    (_with(fixed__k={"min": 0, "max": 2, "num": 3}), "fixed.k.min"),
    (_with(fixed__k={"min": 1, "max": 2, "num": 3, "scale": "exp"}), "fixed.k.scale"),
    (_with(fixed__k={"min": 1, "max": 2, "num": 3, "step": 1}), "fixed.k.step"),
    (_with(axes__k=[1, 2]), "axes.k"),                             # k is batched inside a cell
    (_with(axes__plot=["a.png"]), "axes.plot"),                    # not a grid parameter
    (_with(axes__width=None, axes__seed=[0]), "fixed.width"),      # required by the family
    (_with(steps=3), "steps"),                                     # unknown top-level key
    (_with(fixed=[1]), "fixed"),
    ({"model": "two-layer", "fixed": {"width": 8, "k": {"min": 1, "max": 2, "num": 2}},
      "axes": {"slope": [0, 1.5]}}, "axes.slope[1]"),
    ({"model": "two-layer", "fixed": {"width": 8, "slope": 0, "no_refine": "yes",
                                      "k": {"min": 1, "max": 2, "num": 2}}}, "fixed.no_refine"),
    ({"model": "pure-quadratic", "fixed": {"rank": 3, "k": {"min": 1, "max": 2, "num": 2}}}, "fixed.rank"),
    ({"model": "pure-quadratic", "fixed": {"rank": 4, "k": {"min": 1, "max": 2, "num": 2}},
      "axes": {"mu-dist": ["uniform:1:2", "uniform:-1:2"]}}, "axes.mu-dist[1]"),
    ({"model": "pure-quadratic", "fixed": {"rank": 4, "k": {"min": 1, "max": 2, "num": 2}},
      "axes": {"data": ["toy", "random:0:2"]}}, "axes.data[1]"),
    ({"model": "pure-quadratic", "fixed": {"rank": 4, "act": "sigmoid", "k": {"min": 1, "max": 2, "num": 2}}},
     "fixed.act"),
])
def test_a_malformed_spec_names_its_key(spec, key):
    with pytest.raises(InvalidInput) as err:
        parse_spec(spec)
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(f"SPEC key {key}:"), msg


def test_unreadable_spec_files(tmp_path):
    with pytest.raises(InvalidInput, match="not found"):
        load_spec(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("model = \"uv\"\n[fixed\n")
    with pytest.raises(InvalidInput, match="not valid TOML.*line 2"):
        load_spec(bad)


def test_scheduler_forms():
    assert parse_scheduler("synchronous").kind == "synchronous"
    assert parse_scheduler("processes:3").workers == 3
    assert parse_scheduler("local:2").kind == "local" and parse_scheduler("local").workers >= 1
    assert parse_scheduler("tcp://10.0.0.1:8786").address == "tcp://10.0.0.1:8786"
    assert parse_scheduler("scheduler-host:8786").kind == "address"
    assert parse_scheduler(None, todo=1).kind == "synchronous"
    for bad in ("processes:0", "processes:x", "threads", "threads:4", ""):
        with pytest.raises(InvalidInput, match="scheduler"):
            parse_scheduler(bad)
