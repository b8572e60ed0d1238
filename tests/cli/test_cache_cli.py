"""`catapult cache info|clear|build` on a temporary cache folder."""

import json

from catapult_theory.symbolic import _cache, _catalog, _theory, theory

from .conftest import run_cli


def test_info_lists_the_entries_and_clear_removes_them(cache_dir, capsys):
    code, out, _ = run_cli(capsys, "cache", "info")
    assert code == 0 and str(cache_dir) in out and "0 entries" in out
    theory("uv")
    _catalog.bounds("uv")
    code, out, _ = run_cli(capsys, "cache", "info", "--format", "json")
    info = json.loads(out)
    assert code == 0 and info["dir"] == str(cache_dir) and info["enabled"]
    assert sorted((e["kind"], e["model"], e["current"]) for e in info["entries"]) == \
        [("bounds", "uv", True), ("theory", "uv", True)]
    assert info["total_bytes"] == sum(p.stat().st_size for p in cache_dir.iterdir()) > 0
    code, out, _ = run_cli(capsys, "cache", "info")
    assert "2 entries" in out and "theory  uv" in out
    code, out, _ = run_cli(capsys, "cache", "clear")
    assert code == 0 and "removed 2 cache files" in out and not cache_dir.exists()
    code, out, _ = run_cli(capsys, "cache", "clear", "--format", "json")
    assert json.loads(out) == {"dir": str(cache_dir), "removed": 0}


def test_derive_after_clear_derives_again_and_stores(cache_dir, capsys, monkeypatch):
    calls = []
    real = _theory.derive_theory
    monkeypatch.setattr(_theory, "derive_theory", lambda m: calls.append(m.name) or real(m))
    code, out, _ = run_cli(capsys, "derive", "uv", "--format", "json")
    assert code == 0 and json.loads(out)["thresholds"]["eta_max"] == "4/lam"
    assert calls == ["uv"] and any(p.name.startswith("theory-uv-") for p in cache_dir.iterdir())
    theory.cache_clear()
    _catalog.bounds.cache_clear()
    code, again, _ = run_cli(capsys, "derive", "uv", "--format", "json")
    assert code == 0 and again == out and calls == ["uv"]  # loaded, the same output


def test_build_derives_every_registered_model(cache_dir, capsys, monkeypatch):
    built = []
    monkeypatch.setattr(_cache, "prebuild", lambda names=None: built.append(names) or ["uv"])
    code, out, _ = run_cli(capsys, "cache", "build", "--format", "json")
    assert code == 0 and built == [None] and json.loads(out)["models"] == ["uv"]


def test_the_cache_can_be_turned_off(cache_dir, capsys, monkeypatch):
    monkeypatch.setenv(_cache.ENV_VAR, "off")
    code, out, _ = run_cli(capsys, "cache", "info")
    assert code == 0 and "cache off" in out
    code, out, _ = run_cli(capsys, "cache", "info", "--format", "json")
    assert json.loads(out)["enabled"] is False


def test_cache_needs_an_action(cache_dir, capsys):
    code, _, err = run_cli(capsys, "cache")
    assert code == 2 and "ACTION" in err
    code, _, err = run_cli(capsys, "cache", "drop")
    assert code == 2 and "invalid choice" in err
