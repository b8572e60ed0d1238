"""The on-disk cache of derived theories: a loaded theory is the derived one, and
a corrupted, stale or foreign entry is never used.

Every test runs with ``CATAPULT_CACHE_DIR`` pointing at its own temporary folder,
so nothing here reads or writes the user's cache.
"""

import json
import pickle

import pytest
import sympy as sp
from sympy.matrices.expressions import MatrixSymbol

from catapult_theory import records
from catapult_theory.symbolic import _cache, _catalog, _store, _theory, bound_catalog, derive_theory, register, theory
from catapult_theory.symbolic import symbols as S
from catapult_theory.symbolic._derive import SymbolicModel
from catapult_theory.symbolic.models import uv_model


_FRESH = {}


def _fresh(model):
    """A fresh derivation of ``model`` (each model derived once per test module)."""
    key = _cache.declaration(model)
    if key not in _FRESH:
        _FRESH[key] = derive_theory(model)
    return _FRESH[key]


@pytest.fixture
def derivations(monkeypatch):
    """Counts the derivations that :func:`theory` asks for (served by :func:`_fresh`)."""
    calls = []

    def counting(model):
        calls.append(model.name)
        return _fresh(model)

    monkeypatch.setattr(_theory, "derive_theory", counting)
    return calls


def _files(folder, kind="theory"):
    return sorted(p for p in folder.glob(f"{kind}-*.json"))


def _same_theory(a, b):
    assert a.model == b.model
    assert dict(a.update.update) == dict(b.update.update)
    assert dict(a.update.leftover) == dict(b.update.leftover)
    assert a.update.increments() == b.update.increments()
    assert a.update.contract() == b.update.contract()
    assert set(a.thresholds) == set(b.thresholds)
    for name in a.thresholds:
        assert sp.simplify(a.thresholds[name].eta - b.thresholds[name].eta) == 0
        assert a.thresholds[name].reason == b.thresholds[name].reason
    for field in ("euler_residual", "homogeneity_residual", "weight_norm_residual", "K", "window"):
        x, y = getattr(a, field), getattr(b, field)
        assert (x is None) == (y is None), field
        if x is not None:
            assert sp.simplify(x - y) == 0, field
    assert a.derivation.lam == b.derivation.lam and a.derivation.w2 == b.derivation.w2


def _differ(a, b):
    """True when :func:`_same_theory` tells ``a`` and ``b`` apart."""
    try:
        _same_theory(a, b)
    except AssertionError:
        return True
    return False


@pytest.mark.parametrize("name", ["uv", "pure-quadratic", "quadratic-bias",
                                  pytest.param("two-layer", marks=pytest.mark.slow)])
def test_a_loaded_theory_equals_a_fresh_derivation(cache_dir, derivations, name):
    first = theory(name)  # derived afresh (a real derivation) and stored
    assert derivations == [name] and len(_files(cache_dir)) == 1
    theory.cache_clear()
    loaded = theory(name)  # loaded from disk: no second derivation
    assert derivations == [name] and loaded is not first
    _same_theory(loaded, first)
    assert _differ(loaded, _fresh(_theory.MODELS["uv" if name != "uv" else "pure-quadratic"]()))


def test_a_loaded_catalogue_equals_a_fresh_one_and_its_premises_still_work(cache_dir):
    fresh = _catalog._FAMILIES["uv"]()
    bound_catalog("uv")
    assert len(_files(cache_dir, "bounds")) == 1
    _catalog.bounds.cache_clear()
    loaded = bound_catalog("uv")
    assert set(loaded) == set(fresh)
    for name, spec in fresh.items():
        got = loaded[name]
        assert (got.K, got.k_max, got.ntk, got.norm_increment, got.rigorous) == \
            (spec.K, spec.k_max, spec.ntk, spec.norm_increment, spec.rigorous)
        assert got.rests_on == spec.rests_on
        for p, q in zip(got.premises, spec.premises):
            assert p.relation == q.relation and p.kind == q.kind
            if q.derivation is not None:  # a closure: stored as a handle that rebuilds the catalogue
                der_p, der_q = p.derivation(), q.derivation()
                assert der_p.lam == der_q.lam
                for (k1, m1), (k2, m2) in zip(p.meanings.items(), q.meanings.items()):
                    assert k1 == k2
                    if callable(m2):
                        assert sp.expand(m1(der_p) - m2(der_q)) == 0
    assert any(isinstance(p.derivation, _cache.Deferred) for s in loaded.values() for p in s.premises)


def test_a_corrupted_entry_is_ignored_and_rebuilt(cache_dir, derivations):
    theory("uv")
    (path,) = _files(cache_dir)
    path.write_bytes(b"not a record at all")
    theory.cache_clear()
    th = theory("uv")
    assert derivations == ["uv", "uv"]
    assert th.thresholds["eta_max"].eta == 4 / S.lam
    assert _cache.load("theory", "uv", uv_model()) is not None  # rewritten, valid again


def test_a_truncated_entry_is_ignored(cache_dir, derivations):
    theory("uv")
    (path,) = _files(cache_dir)
    path.write_bytes(path.read_bytes()[:100])
    assert _cache.load("theory", "uv", uv_model()) is None


def _record(path):
    head, body = path.read_bytes().split(b"\n", 1)
    return json.loads(head), records.decode(json.loads(body))


def test_an_entry_with_another_key_or_model_is_not_used(cache_dir, derivations):
    theory("uv")
    (path,) = _files(cache_dir)
    header, record = _record(path)
    for change in ({"key": header["key"] + "x"}, {"format": -1}, {"magic": "pickle"}):
        path.write_bytes(records.dumps(header["key"], record).replace(
            json.dumps(header, separators=(",", ":")).encode(),
            json.dumps({**header, **change}, separators=(",", ":")).encode()))
        assert _cache.load("theory", "uv", uv_model()) is None, change
    path.write_bytes(records.dumps(header["key"], {**record, "declaration": "another model"}))
    assert _cache.load("theory", "uv", uv_model()) is None
    # the right key and model but a value of the wrong type: refused by the check
    path.write_bytes(records.dumps(header["key"], {**record, "value": "a string"}))
    theory.cache_clear()
    assert theory("uv").K == S.x2 / S.n
    assert derivations == ["uv", "uv"]


def test_a_changed_symbolic_source_is_a_miss_and_replaces_the_old_entry(cache_dir, derivations, monkeypatch):
    theory("uv")
    (old,) = _files(cache_dir)
    monkeypatch.setattr(_store, "source_digest", lambda: "0" * 64)
    assert _cache.load("theory", "uv", uv_model()) is None
    theory.cache_clear()
    theory("uv")
    assert derivations == ["uv", "uv"]
    (new,) = _files(cache_dir)  # the superseded entry of the same version is removed
    assert new != old


def test_the_key_names_version_and_model_declaration():
    key = _cache.entry_key("theory", "uv", uv_model())
    assert "catapult_theory " in key and f"sympy {sp.__version__}" in key
    other = SymbolicModel("uv", uv_model().params, 2 * uv_model().output)
    assert _cache.entry_key("theory", "uv", other) != key
    assert _cache.declaration(uv_model()) == _cache.declaration(uv_model())


def test_the_environment_variable_chooses_the_folder_or_turns_the_cache_off(cache_dir, monkeypatch, tmp_path):
    assert _cache.cache_dir() == cache_dir
    theory("uv")
    assert _files(cache_dir) and not list(cache_dir.glob(".*.tmp"))  # the temporary file was renamed
    monkeypatch.setenv(_cache.ENV_VAR, "off")
    assert _cache.cache_dir() is None
    assert _cache.store("theory", "uv", uv_model(), theory("uv")) is None
    assert _cache.entries() == [] and _cache.clear() == 0
    monkeypatch.delenv(_cache.ENV_VAR)
    assert _cache.cache_dir().name == "catapult_theory"


def test_an_unwritable_folder_only_costs_the_cache(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the folder would be")
    monkeypatch.setenv(_cache.ENV_VAR, str(blocker / "cache"))
    assert _cache.store("theory", "uv", uv_model(), "value") is None
    assert _cache.cached("theory", "uv", uv_model(), lambda: "built") == "built"


def test_a_registered_model_is_cached_under_its_own_key(cache_dir, derivations):
    U = MatrixSymbol("U", S.n, 3)
    v = MatrixSymbol("v", S.n, 1)
    x = MatrixSymbol("x", 3, 1)
    register("bare-uv-cached", lambda: SymbolicModel("bare-uv-cached", (U, v), v.T * U * x / sp.sqrt(S.n)))
    try:
        theory("bare-uv-cached")
        assert [p.name.split("-0")[0] for p in _files(cache_dir)] == ["theory-bare-uv-cached"]
        theory.cache_clear()
        theory("bare-uv-cached")
        assert derivations == ["bare-uv-cached"]
        assert [e.current for e in _cache.entries()] == [True]
    finally:
        _theory.MODELS.pop("bare-uv-cached", None)
        theory.cache_clear()
    assert [e.current for e in _cache.entries()] == [False]  # no longer registered
    assert _cache.clear() == 1 and not cache_dir.exists()


def test_clear_leaves_other_files_alone(cache_dir):
    theory("uv")
    (cache_dir / "notes.txt").write_text("mine")
    assert _cache.clear() == 1
    assert [p.name for p in cache_dir.iterdir()] == ["notes.txt"]


def test_first_use_of_a_builtin_prebuilds_the_others_only_where_it_can_store(tmp_path, monkeypatch, derivations):
    calls = []
    monkeypatch.setattr(_cache, "prebuild", lambda names=None: calls.append(names) or list(names or ()))
    monkeypatch.setattr(_theory, "PREBUILD_BUILTINS", True)
    blocker = tmp_path / "file"
    blocker.write_text("a file where the folder would be")
    monkeypatch.setenv(_cache.ENV_VAR, str(blocker / "cache"))
    theory.cache_clear()
    try:
        theory("uv")
        assert calls == []  # nothing can be stored: no point deriving the others
        monkeypatch.setenv(_cache.ENV_VAR, str(tmp_path / "cache"))
        theory.cache_clear()
        theory("uv")
        assert calls == [tuple(_theory.BUILTIN_MODELS)]
    finally:
        theory.cache_clear()


def test_clear_removes_left_over_temporary_files_of_entries_only(cache_dir):
    theory("uv")
    (entry,) = [p for p in _files(cache_dir) if p.name.startswith("theory-uv-")]
    left = cache_dir / f".{entry.name}.4242.deadbeef.tmp"  # a killed writer's temporary file
    left.write_bytes(b"half")
    other = cache_dir / ".notes.4242.deadbeef.tmp"
    other.write_bytes(b"mine")
    assert _cache.clear() >= 2 and not left.exists() and not entry.exists() and other.exists()


# ----------------------------------------------------------------------------- no code from the cache
class _Plant:
    """Writes ``marker`` when unpickled: a pickle that runs code on load."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        import pathlib

        return (pathlib.Path.write_text, (pathlib.Path(self.marker), "ran"))


def test_a_planted_pickle_never_runs_and_the_entry_is_rebuilt(cache_dir, derivations, tmp_path):
    """A shared cache folder with a crafted pickle under an entry's name (the old format)
    or a record whose body names code: nothing runs, the entry is rebuilt."""
    marker = tmp_path / "ran"
    payload = pickle.dumps(_Plant(marker))
    pickle.loads(payload)  # the plant works: unpickling it writes the file
    assert marker.read_text() == "ran"
    marker.unlink()
    key = _cache.entry_key("theory", "uv", uv_model())
    path = _cache._path("theory", "uv", key)
    path.parent.mkdir(parents=True, exist_ok=True)
    legacy = path.with_suffix(".pickle")
    legacy.write_bytes(payload)  # the old file name of this very entry
    path.write_bytes(payload)  # and the current one
    th = theory("uv")
    assert not marker.exists() and derivations == ["uv"] and th.K == S.x2 / S.n
    assert _cache.load("theory", "uv", uv_model()) is not None  # rebuilt, valid again
    assert not legacy.exists()  # superseded entries of the same version are removed


@pytest.mark.parametrize("body", [
    # a class outside the package, a function, a package module's non-data class
    {"sympy": [], "value": {"O": ["pathlib:Path", []]}},
    {"sympy": [], "value": {"O": ["catapult_theory.files:write_atomic", []]}},
    {"sympy": [], "value": {"O": ["catapult_theory.files:FolderLock", []]}},
    {"sympy": [], "value": {"E": ["os:system", "touch MARK"]}},
    # SymPy: a class that is not SymPy's, a string where an expression belongs (sympify would eval it)
    {"sympy": [["@system", []]], "value": {"X": 0}},
    {"sympy": [["@Add", ["__import__('os').system('touch MARK')"]]], "value": {"X": 0}},
    {"sympy": [["Symbol", "x", {}], ["@exp", [1]]], "value": {"X": 1}},
    {"sympy": [["Integer", "__import__('os')"]], "value": {"X": 0}},
    # an object array, a reference out of range
    {"sympy": [], "value": {"A": ["|O8", [1], "AAAAAAAAAAA="]}},
    {"sympy": [["Symbol", "x", {"real": "__import__('os')"}]], "value": {"X": 0}},
])
def test_a_crafted_record_is_refused_and_the_entry_rebuilt(cache_dir, derivations, body, tmp_path,
                                                            monkeypatch):
    monkeypatch.chdir(tmp_path)
    key = _cache.entry_key("theory", "uv", uv_model())
    path = _cache._path("theory", "uv", key)
    path.parent.mkdir(parents=True, exist_ok=True)
    head = {"magic": records.MAGIC, "format": records.FORMAT, "key": key}
    path.write_text(json.dumps(head) + "\n" + json.dumps(body) + "\n")
    with pytest.raises(records.RecordError):
        records.decode(body)
    assert _cache.load("theory", "uv", uv_model()) is None
    assert theory("uv").K == S.x2 / S.n and derivations == ["uv"]
    assert not (tmp_path / "MARK").exists()
    assert _cache.load("theory", "uv", uv_model()) is not None


def test_the_key_is_checked_before_the_body_is_parsed(cache_dir, monkeypatch):
    theory("uv")
    (path,) = _files(cache_dir)
    parsed = []
    real = records.decode
    monkeypatch.setattr(records, "decode", lambda data: parsed.append(1) or real(data))
    head, body = path.read_bytes().split(b"\n", 1)
    path.write_bytes(head.replace(b'"key":"', b'"key":"x') + b"\n" + body)
    assert _cache.load("theory", "uv", uv_model()) is None and parsed == []
    path.write_bytes(head + b"\n" + body)
    assert _cache.load("theory", "uv", uv_model()) is not None and parsed == [1]
