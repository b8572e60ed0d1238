"""The benchmark suite: every figure as a ratio against a baseline measured in the same run.

Run from the repository root (the package in the working tree is measured)::

    python -m benchmarks [--out benchmarks/BENCHMARKS.md] [--repeats 5]
                         [--reproduce full|quick|skip] [--digits-steps 3000] [--quick]

It writes one Markdown report (default ``benchmarks/BENCHMARKS.md``) with

1. **start-up**: ``python -c "import numpy, scipy, sympy"`` (the baseline) against
   ``catapult derive two-layer --format json`` with the derivation cache off
   (every process derives, as before the cache), on first use (empty cache: derives
   and stores every built-in) and warm; and the two short sweeps of the done
   criteria, warm and with the cache off. Each command runs in a fresh process with
   its own cache folder and bytecode cache (``PYTHONPYCACHEPREFIX``, as an installed
   package has its ``.pyc``); best and median wall time of ``--repeats`` runs and the
   best CPU time (user + system of the child), each as a ratio to the baseline;
2. **uv: exact reduced map against full-parameter GD**, per step, at widths
   10³ … 10⁶ (the map costs the same at every width, GD grows with it);
3. **batched learning rates against a loop over rates** (the same engine, the
   same steps), for the pure-quadratic GD engine and the two-layer digits sweep;
4. **FLOP/s**: the float64 matmul rate and the memory bandwidth of this machine
   against the digits sweep of issue 11 (the digits figure's sweep as first written:
   28 rates ``k = 0.5 … 14``, width 1024, 128 images, ``lam`` every step,
   ``--digits-steps`` steps; ``catapult reproduce`` now runs a lighter one): achieved FLOP/s (the engine's own count)
   over the matmul rate, and the roofline line (bytes moved per step against the
   measured bandwidth) that says which term bounds it;
5. **``catapult reproduce`` per section** (``--reproduce full``, the default, or
   ``quick``), wall and CPU time;

and a summary table of the done criteria (each a ratio, with its target). The
machine's load average is recorded at the start and the end: other processes on
the machine slow every wall-clock figure; CPU times are much less affected, so
both are shown.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np

from catapult_theory.files import write_atomic
from catapult_theory.report import BUILTIN_SECTIONS

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = Path(__file__).resolve().parent / "BENCHMARKS.md"

#: the done criteria: name -> (target ratio, "below" or "above")
BARE = 'python -c "import numpy, scipy, sympy"'
DERIVE = ["derive", "two-layer", "--format", "json"]
TWO_LAYER_SWEEP = ["phases", "two-layer", "--width", "1024", "--slope", "0.5", "--k-min", "0.5", "--k-max", "6",
                   "--num", "60", "--steps", "1000"]
QUADRATIC_SWEEP = ["phases", "pure-quadratic", "--rank", "1000", "--mu-dist", "uniform:1:2", "--k-min", "0.5",
                   "--k-max", "6", "--num", "40", "--engine", "gd", "--steps", "1000"]
SECTIONS = BUILTIN_SECTIONS  # every section of `catapult reproduce`, timed one by one
MATMUL_TARGET = 0.40


# ------------------------------------------------------------------ helpers
def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover - not on every platform
        return "n/a"


def _say(message: str) -> None:
    sys.stderr.write(f"[bench] {message}\n")
    sys.stderr.flush()


@dataclass
class Timing:
    """Repeated runs of one thing: wall and CPU seconds of each run."""

    label: str
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    #: the baseline run just before each run (paired: load that drifts hits both alike)
    base_wall: list[float] = field(default_factory=list)
    base_cpu: list[float] = field(default_factory=list)

    @property
    def paired_wall(self) -> float:
        """Median over the runs of wall time / wall time of the baseline run just before it."""
        return statistics.median(w / b for w, b in zip(self.wall, self.base_wall))

    @property
    def paired_cpu(self) -> float:
        """Median over the runs of CPU time / CPU time of the baseline run just before it."""
        return statistics.median(c / b for c, b in zip(self.cpu, self.base_cpu))

    @property
    def best(self) -> float:
        """Best wall time."""
        return min(self.wall)

    @property
    def median(self) -> float:
        """Median wall time."""
        return statistics.median(self.wall)

    @property
    def best_cpu(self) -> float:
        """Best CPU time (user + system)."""
        return min(self.cpu)


class Processes:
    """Runs commands in fresh processes with a private derivation cache and bytecode cache."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.cache = work / "derivation-cache"
        self.env = dict(os.environ)
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)
        self.env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
        self.env["CATAPULT_CACHE_DIR"] = str(self.cache)
        self.env["PYTHONPATH"] = os.pathsep.join([str(ROOT), self.env.get("PYTHONPATH", "")]).rstrip(os.pathsep)

    def catapult(self, args: Sequence[str]) -> list[str]:
        """The command line of ``catapult ARGS`` for the package in this tree."""
        return [sys.executable, "-m", "catapult_theory", *args]

    def run(self, cmd: Sequence[str], *, cache: str | None = None, check: bool = True) -> tuple[float, float]:
        """``(wall, cpu)`` seconds of one run; ``cache``: ``"off"`` or a folder for the derivation cache."""
        env = dict(self.env)
        if cache is not None:
            env["CATAPULT_CACHE_DIR"] = cache
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run(list(cmd), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True, check=False)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if check and proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} exited with {proc.returncode}: {proc.stderr[-2000:]}")
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return wall, cpu

    def timing(self, label: str, cmd: Sequence[str], repeats: int, *, cache: str | None = None,
               base: Sequence[str] | None = None, fresh_cache: bool = False) -> Timing:
        """``repeats`` timed runs of ``cmd``, each right after a run of the baseline ``base``
        (``fresh_cache``: the folder ``cache`` is emptied before each run)."""
        out = Timing(label)
        for _ in range(repeats):
            if base is not None:
                bw, bc = self.run(base)
                out.base_wall.append(bw)
                out.base_cpu.append(bc)
            if fresh_cache and cache is not None:
                shutil.rmtree(cache, ignore_errors=True)
            wall, cpu = self.run(cmd, cache=cache)
            out.wall.append(wall)
            out.cpu.append(cpu)
        paired = f", paired ratio {out.paired_wall:.2f} (cpu {out.paired_cpu:.2f})" if out.base_wall else ""
        _say(f"{label}: best {out.best:.2f} s, median {out.median:.2f} s, cpu {out.best_cpu:.2f} s{paired}")
        return out


def _seconds(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def best_seconds(fn: Callable[[], object], repeats: int) -> float:
    """The shortest of ``repeats`` timed calls of ``fn`` (wall seconds)."""
    return min(_seconds(fn) for _ in range(repeats))


def matmul_gflops(size: int = 2000, repeats: int = 5) -> float:
    """Best-of-``repeats`` float64 ``size × size`` matrix product rate, GFLOP/s."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((size, size)), rng.standard_normal((size, size))
    out = np.empty((size, size))
    np.matmul(a, b, out=out)
    return 2.0 * size**3 / best_seconds(lambda: np.matmul(a, b, out=out), repeats) / 1e9


def bandwidth_gbs(nbytes: int, repeats: int = 5) -> float:
    """Memory bandwidth (GB/s) of ``a = b + c`` over three arrays of ``nbytes / 3`` bytes each
    (STREAM's convention: two reads and one write counted)."""
    n = max(nbytes // 3 // 8, 1024)
    b, c, a = np.ones(n), np.full(n, 2.0), np.empty(n)
    np.add(b, c, out=a)
    return 3 * 8 * n / best_seconds(lambda: np.add(b, c, out=a), repeats) / 1e9


# ------------------------------------------------------------------ sections
def startup(proc: Processes, repeats: int) -> dict[str, Timing]:
    """Section 1: start-up and the short sweeps against the bare import, each run paired
    with a bare import run just before it."""
    out: dict[str, Timing] = {}
    bare = [sys.executable, "-c", "import numpy, scipy, sympy"]
    proc.run(bare)  # warm the file cache
    proc.run(proc.catapult(["models"]))  # compile the package's bytecode once
    out["bare"] = proc.timing("bare import", bare, repeats)
    few = max(2, repeats // 2)
    out["derive_off"] = proc.timing("derive, cache off", proc.catapult(DERIVE), few, cache="off", base=bare)
    out["derive_first"] = proc.timing("derive, first use (empty cache)", proc.catapult(DERIVE), few,
                                      cache=str(proc.work / "first-use-cache"), base=bare, fresh_cache=True)
    proc.run(proc.catapult(["cache", "build"]))  # the benchmark's own warm cache
    out["derive_warm"] = proc.timing("derive, warm", proc.catapult(DERIVE), repeats, base=bare)
    out["two_layer_warm"] = proc.timing("two-layer 60-rate sweep, warm", proc.catapult(TWO_LAYER_SWEEP), repeats,
                                        base=bare)
    out["two_layer_off"] = proc.timing("two-layer 60-rate sweep, cache off", proc.catapult(TWO_LAYER_SWEEP), few,
                                       cache="off", base=bare)
    out["quadratic_warm"] = proc.timing("pure-quadratic 40-rate GD sweep, warm", proc.catapult(QUADRATIC_SWEEP),
                                        few, base=bare)
    out["quadratic_off"] = proc.timing("pure-quadratic 40-rate GD sweep, cache off", proc.catapult(QUADRATIC_SWEEP),
                                       1, cache="off", base=bare)
    return out


def quadratic_breakdown() -> dict[str, float]:
    """Where the pure-quadratic GD sweep of the done criteria spends its time, in-process:
    the setup (meta-features: one ``expm`` of a 1000 × 1000 antisymmetric matrix), the
    bound constants (``λ_max(ψ²)``: one ``eigvalsh``) and the sweep (grid and refinement runs)."""
    from catapult_theory.experiments import quadratic_setup, sweep_quadratic
    from catapult_theory.experiments import quadratic_bounds

    out = {}
    t0 = time.perf_counter()
    setup = quadratic_setup("pure-quadratic", 1000, mu="uniform:1:2", data="toy")
    out["setup: model (expm), data, init, lam0"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    quadratic_bounds(setup)
    out["bound constants (eigvalsh of psi^2) and compiled bounds"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    sweep_quadratic(setup, np.linspace(0.5, 6, 40), steps=1000, engine="gd")
    out["sweep: 40-rate grid and the refinement runs (GD)"] = time.perf_counter() - t0
    _say("quadratic sweep breakdown: " + ", ".join(f"{k} {v:.2f} s" for k, v in out.items()))
    return out


@dataclass
class UVRow:
    """One width of the uv comparison (seconds per step)."""

    width: int
    gd: float
    map: float
    steps: int


def uv_map_vs_gd(widths: Sequence[int], steps: int) -> list[UVRow]:
    """Section 2: per-step cost of full-parameter GD and of the exact reduced map (one rate)."""
    from catapult_theory.compiled import update_map
    from catapult_theory.engine import iterate_map, train_uv, uv_init, uv_observables

    cmap = update_map("uv")
    x = np.array([1.0])
    rows = []
    for n in widths:
        init = uv_init(n, 1, seed=0)
        f0, lam0, w2_0 = (float(a) for a in uv_observables(init, x))
        eta = 1.5 / lam0  # lazy: every step is taken (no blow-up, no early stop)
        gd = partial(train_uv, init, x, eta, steps)
        exact = partial(iterate_map, cmap, f0=f0, lam0=lam0, w2_0=w2_0, eta=eta, steps=steps, n=n, x2=1.0)
        t_gd = best_seconds(gd, 3) / steps
        t_map = best_seconds(exact, 3) / steps
        rows.append(UVRow(n, t_gd, t_map, steps))
        _say(f"uv width {n}: GD {1e6 * t_gd:.1f} us/step, map {1e6 * t_map:.1f} us/step, ratio {t_gd / t_map:.1f}")
    return rows




@dataclass
class BatchRow:
    """Batched rates against a loop of single-rate calls of the same engine."""

    what: str
    rates: int
    steps: int
    batched: float
    loop: float


def batched_vs_loop(steps_quadratic: int, steps_two_layer: int) -> list[BatchRow]:
    """Section 3: one batched call against a Python loop over the rates."""
    from catapult_theory.engine import (
        QuadraticSpec,
        ntk,
        quadratic_init,
        quadratic_model,
        train_quadratic,
        train_two_layer,
        two_layer_init,
        two_layer_observables,
    )
    from catapult_theory.experiments import digits01

    rows = []
    model = quadratic_model(QuadraticSpec(rank=1000, d=1, family="pure", features=0, mu="uniform:1:2", seed=0))
    init = quadratic_init(model, 0)
    X, y = np.ones((1, 1)), np.zeros(1)
    lam0 = float(ntk(model, init, X).lam)
    eta = np.linspace(0.1, 1.9, 40) / lam0  # lazy rates: every run takes every step
    t_batch = best_seconds(lambda: train_quadratic(model, init, X, y, eta, steps_quadratic), 2)
    t_loop = _seconds(lambda: [train_quadratic(model, init, X, y, e, steps_quadratic) for e in eta])
    rows.append(BatchRow("pure-quadratic GD, toy datum, rank 1000", eta.size, steps_quadratic, t_batch, t_loop))
    _say(f"quadratic batched {t_batch:.2f} s, loop {t_loop:.2f} s")

    data = digits01(train_size=128, seed=0)
    tinit = two_layer_init(1024, data.d, seed=0)
    tlam0 = float(two_layer_observables(tinit, data.X, data.y, 0.0).lam)
    teta = np.arange(1, 29) * 0.5 / tlam0
    s = steps_two_layer
    t_batch = _seconds(lambda: train_two_layer(tinit, data, 0.0, teta, s, test_every=s))
    t_loop = _seconds(lambda: [train_two_layer(tinit, data, 0.0, e, s, test_every=s) for e in teta])
    rows.append(BatchRow("two-layer GD, digits01, width 1024, 128 images", teta.size, s, t_batch, t_loop))
    _say(f"two-layer batched {t_batch:.2f} s, loop {t_loop:.2f} s")
    return rows


@dataclass
class FlopsResult:
    """The digits sweep against this machine's matmul rate and memory bandwidth."""

    matmul: float
    bw_cache: float
    bw_working_set: float
    bw_dram: float
    working_set: int
    steps: int
    seconds: float
    flops: int
    flops_per_step: float
    bytes_per_step: float
    rates: int
    outcomes: dict[str, int]


def two_layer_traffic(n: int, d: int, B: int) -> tuple[float, float]:
    """``(FLOPs, bytes)`` moved per active rate and step of the batched two-layer engine
    (``lam`` every step, no test forward): the level-3 count of its module docstring,
    and the float64 passes of ``_TwoLayerFamily`` over ``N = B n`` and ``D = d n``:
    forward GEMM (read ``Uᵀ``, write ``Z``: ``D + N``), activation (``Z > 0`` into a
    byte mask, ``σ`` in place, ``W = v ∘ mask``: ``4 N + N/4``), the two syrks (read
    ``[v; A]`` and ``W``: ``2 N``), the active count (``N/8``), the gradient of ``U``
    (read ``W``, write ``M``: ``N + D``), of ``v`` (read ``A``: ``N``), ``Uᵀ -= M``
    (``3 D``) and ``|U|²`` (``D``)."""
    flops = 2 * n * d * B + n * (B + 1) * (B + 2) + n * B * (B + 1) + 2 * n * d * B
    N, D = B * n, d * n
    doubles = (D + N) + (4 * N + N / 4) + 2 * N + N / 8 + (N + D) + N + 3 * D + D
    return float(flops), 8.0 * doubles


def flops_digits(steps: int) -> FlopsResult:
    """Section 4: the digits sweep of issue 11 (28 rates, ``lam`` every step, a fixed budget)."""
    from catapult_theory.engine import (
        train_two_layer,
        two_layer_init,
        two_layer_observables,
    )
    from catapult_theory.experiments import digits01

    data = digits01(train_size=128, seed=0)
    n, d, B, Bt = 1024, data.d, data.B, data.B_test
    init = two_layer_init(n, d, seed=0)
    lam0 = float(two_layer_observables(init, data.X, data.y, 0.0).lam)
    eta = np.arange(1, 29) * 0.5 / lam0
    # the sweep's resident arrays: pre-activations (1 + B + B_test), W, M, U^T, the byte mask, per rate
    working_set = eta.size * n * 8 * ((1 + B + Bt) + B + 2 * d + B / 8)
    matmul_before = matmul_gflops()
    bw_cache = bandwidth_gbs(4 << 20)
    bw_ws = bandwidth_gbs(int(working_set))
    bw_dram = bandwidth_gbs(3 << 30)
    _say(f"matmul {matmul_before:.1f} GFLOP/s; bandwidth {bw_cache:.1f} (4 MB), {bw_ws:.1f} "
         f"({working_set / 1e6:.0f} MB working set), {bw_dram:.1f} GB/s (3 GB)")
    t0 = time.perf_counter()
    run = train_two_layer(init, data, 0.0, eta, steps, test_every=steps)
    seconds = time.perf_counter() - t0
    # the larger of the rates before and after the sweep: load that eases meanwhile cannot flatter the ratio
    matmul = max(matmul_before, matmul_gflops())
    flops_rate, bytes_rate = two_layer_traffic(n, d, B)
    outcomes = {str(r): int(np.count_nonzero(run.stop_reason == r)) for r in np.unique(run.stop_reason)}
    _say(f"digits sweep {steps} steps: {seconds:.1f} s, {run.gemm_flops / seconds / 1e9:.1f} GFLOP/s")
    return FlopsResult(matmul, bw_cache, bw_ws, bw_dram, int(working_set), steps, seconds, int(run.gemm_flops),
                       flops_rate, bytes_rate, int(eta.size), outcomes)


def reproduce_sections(proc: Processes, mode: str) -> dict[str, Timing]:
    """Section 5: ``catapult reproduce --only SECTION`` for each section, in fresh processes."""
    out = {}
    for section in SECTIONS:
        args = ["reproduce", "--only", section, "--out", str(proc.work / f"report-{section}")]
        if mode == "quick":
            args.append("--quick")
        out[section] = proc.timing(f"reproduce {mode} {section}", proc.catapult(args), 1)
    return out


# ------------------------------------------------------------------ report
def _ratio_row(name: str, t: Timing, base: Timing, target: float | None) -> str:
    best = t.best / base.best
    wall, cpu = (t.paired_wall, t.paired_cpu) if t.base_wall else (1.0, 1.0)  # no pairs: the baseline itself
    verdict = "" if target is None else (
        f"{'yes' if wall < target else 'no'} / {'yes' if cpu < target else 'no'}")
    return (f"| {name} | {len(t.wall)} | {t.best:.2f} | {t.median:.2f} | {t.best_cpu:.2f} | {best:.2f} | "
            f"{wall:.2f} | {cpu:.2f} | {'' if target is None else f'< {target:g}'} | {verdict} |")


def render(meta: dict[str, str], st: dict[str, Timing] | None, qb: dict[str, float] | None,
           uv: list[UVRow] | None,
           batch: list[BatchRow] | None, fl: FlopsResult | None, rep: dict[str, Timing] | None,
           rep_mode: str, argv: Sequence[str]) -> str:
    """The Markdown report."""
    lines = ["# Benchmarks", "",
             ("Measured by `python -m benchmarks` (see `benchmarks/run.py`) in one run on the machine below; "
             "every figure is a ratio against a baseline measured in the same run."), "",
             "- command: `" + " ".join(["python -m benchmarks", *argv]) + "`",
             *(f"- {k}: {v}" for k, v in meta.items()), ""]
    summary: list[str] = []
    if st is not None:
        base = st["bare"]
        summary += [
            _ratio_row("warm `catapult derive two-layer --format json`", st["derive_warm"], base, 2),
            _ratio_row("60-rate two-layer toy sweep, warm", st["two_layer_warm"], base, 3),
            _ratio_row("40-rate pure-quadratic GD sweep, warm", st["quadratic_warm"], base, 6),
        ]
    head = ("| what | runs | best wall s | median wall s | best CPU s | best / best bare | paired wall ratio | "
            "paired CPU ratio | target | met (wall / CPU) |")
    sep = "|---|---:|---:|---:|---:|---:|---:|---:|---|---|"
    if summary or fl is not None:
        lines += ["## Done criteria", "",
                  (f"Ratios to the bare import `{BARE}` measured in the same run. Every run of a command "
                   "follows a run of the bare import; *paired* ratios are the median over the runs of "
                   "(command / the bare import just before it), so load on the machine that drifts during "
                   "the benchmark hits both alike. CPU: user + system time of the child process, which "
                   "other load disturbs far less than wall time. A target is met when the paired ratio is "
                   "below it."), "", head, sep, *summary, ""]
        if fl is not None:
            achieved = fl.flops / fl.seconds / 1e9
            roof = min(fl.matmul, fl.bw_working_set * fl.flops_per_step / fl.bytes_per_step)
            lines += [(f"- digits sweep: **{achieved / fl.matmul:.2f}** of this machine's float64 matmul rate "
                      f"(target {MATMUL_TARGET:.2f}); the roofline bound at the measured bandwidth is "
                      f"{roof / fl.matmul:.2f} of it, and the sweep reaches **{achieved / roof:.2f}** of that bound "
                      "(section 4)."), ""]
    if st is not None:
        base = st["bare"]
        lines += ["## 1. Start-up and short runs", "",
                  ("Fresh processes, each with the benchmark's own derivation cache "
                  "(`CATAPULT_CACHE_DIR`) and bytecode cache (`PYTHONPYCACHEPREFIX`: an installed package "
                  "has its `.pyc`). *cache off*: `CATAPULT_CACHE_DIR=off`, every process derives the theory "
                  "and bound catalogue afresh (the cost before the cache); *first use*: an empty cache folder, "
                  "so the process derives and stores every built-in model; *warm*: the cache holds them."), "",
                  (f"Commands: `catapult {' '.join(DERIVE)}`; two-layer sweep `catapult {' '.join(TWO_LAYER_SWEEP)}`; "
                  f"pure-quadratic sweep `catapult {' '.join(QUADRATIC_SWEEP)}` (toy datum, the default data)."), "",
                  head, sep,
                  _ratio_row(f"bare `{BARE}`", base, base, None),
                  _ratio_row("derive two-layer, cache off", st["derive_off"], base, None),
                  _ratio_row("derive two-layer, first use (builds every built-in)", st["derive_first"], base, None),
                  _ratio_row("derive two-layer, warm", st["derive_warm"], base, 2),
                  _ratio_row("two-layer sweep, cache off", st["two_layer_off"], base, None),
                  _ratio_row("two-layer sweep, warm", st["two_layer_warm"], base, 3),
                  _ratio_row("pure-quadratic GD sweep, cache off", st["quadratic_off"], base, None),
                  _ratio_row("pure-quadratic GD sweep, warm", st["quadratic_warm"], base, 6), ""]
    if qb is not None:
        lines += ["### Where the pure-quadratic sweep's time goes", "",
                  ("The same sweep in-process (`quadratic_setup`, `quadratic_bounds`, `sweep_quadratic` with the "
                   "GD engine), after the imports:"), "", "| part | seconds |", "|---|---:|"]
        lines += [f"| {k} | {v:.2f} |" for k, v in qb.items()]
        lines.append("")
    if uv is not None:
        ref = uv[0]
        lines += ["## 2. uv: exact reduced map against full-parameter GD", "",
                  (f"One rate (`k = 1.5`, lazy: every step is taken), {ref.steps} steps, best of 3; "
                  "per-step wall time. The map's cost does not depend on the width; GD's grows with it, "
                  "so the ratio grows about linearly once the per-step overhead of the driver "
                  "(the same for both) is small against GD's O(n) work."), "",
                  "| width n | GD µs/step | map µs/step | GD / map | (GD / map) / (n / 10³) |",
                  "|---:|---:|---:|---:|---:|"]
        for r in uv:
            lines.append(f"| {r.width:,} | {1e6 * r.gd:.1f} | {1e6 * r.map:.1f} | {r.gd / r.map:.1f} | "
                         f"{r.gd / r.map / (r.width / 1e3):.2f} |")
        lines.append("")
    if batch is not None:
        lines += ["## 3. Batched learning rates against a loop over rates", "",
                  ("The same engine, the same steps: one call with every rate against a Python loop of "
                  "single-rate calls."), "",
                  "| engine | rates | steps | batched s | loop s | loop / batched |", "|---|---:|---:|---:|---:|---:|"]
        for b in batch:
            lines.append(f"| {b.what} | {b.rates} | {b.steps} | {b.batched:.2f} | {b.loop:.2f} | "
                         f"{b.loop / b.batched:.1f} |")
        lines.append("")
    if fl is not None:
        achieved = fl.flops / fl.seconds / 1e9
        ai = fl.flops_per_step / fl.bytes_per_step
        bw_bound = fl.bw_working_set * ai
        roof = min(fl.matmul, bw_bound)
        term = "memory bandwidth" if bw_bound < fl.matmul else "matmul (compute)"
        lines += ["## 4. FLOP/s of the digits sweep", "",
                  (f"The digits sweep of issue 11 (the digits figure's sweep as first written; `catapult "
                  "reproduce` now runs 12 rates with `lam` every 10th step): digits01 (128 training images, "
                  f"d = 64), width 1024, ReLU, {fl.rates} rates `k = 0.5 … 14`, {fl.steps} steps, `lam` every "
                  f"step, test loss at the end; outcomes {fl.outcomes}."), "",
                  "| quantity | value |", "|---|---:|",
                  (f"| float64 matmul (2000², best of 5, the larger of before and after the sweep) | "
                   f"{fl.matmul:.1f} GFLOP/s |"),
                  f"| bandwidth `a = b + c`, 4 MB (cache) | {fl.bw_cache:.1f} GB/s |",
                  (f"| bandwidth at the sweep's working set ({fl.working_set / 1e6:.0f} MB) | "
                  f"{fl.bw_working_set:.1f} GB/s |"),
                  f"| bandwidth, 3 GB (main memory) | {fl.bw_dram:.1f} GB/s |",
                  f"| sweep wall time | {fl.seconds:.1f} s ({1e3 * fl.seconds / fl.steps:.1f} ms/step) |",
                  f"| level-3 work executed (engine count) | {fl.flops / 1e9:.1f} GFLOP |",
                  f"| achieved | {achieved:.1f} GFLOP/s = **{achieved / fl.matmul:.2f}** of matmul |",
                  f"| FLOPs per rate and step | {fl.flops_per_step / 1e6:.1f} MFLOP |",
                  f"| bytes moved per rate and step (model below) | {fl.bytes_per_step / 1e6:.1f} MB |",
                  f"| arithmetic intensity | {ai:.2f} FLOP/byte |",
                  (f"| machine balance (matmul / working-set bandwidth) | {fl.matmul / fl.bw_working_set:.2f} "
                  "FLOP/byte |"),
                  (f"| roofline bound min(matmul, intensity × bandwidth) | {roof:.1f} GFLOP/s "
                  f"= {roof / fl.matmul:.2f} of matmul ({term}) |"),
                  f"| achieved / roofline bound | {achieved / roof:.2f} |", "",
                  ("Roofline line: per rate and step the engine does the level-3 work above and moves about "
                  f"{fl.bytes_per_step / 1e6:.1f} MB (`benchmarks.run.two_layer_traffic`: the forward GEMM, the "
                  "activation passes into a byte mask, two syrks, the gradient GEMM and the in-place update, each "
                  "a pass over a `B × n` or `d × n` float64 array); at the measured bandwidth these passes take "
                  f"{1e3 * fl.rates * fl.bytes_per_step / fl.bw_working_set / 1e9:.1f} ms per step of "
                  f"{fl.rates} rates, the arithmetic at the matmul rate "
                  f"{1e3 * fl.rates * fl.flops_per_step / fl.matmul / 1e9:.1f} ms. "
                  f"The sweep is bounded by **{term}** at {roof / fl.matmul:.2f} of matmul."), ""]
    if rep is not None:
        lines += [f"## 5. `catapult reproduce` per section ({rep_mode})", "",
                  "Each section alone in a fresh process (`catapult reproduce --only SECTION"
                  + (" --quick" if rep_mode == "quick" else "") + "`), warm derivation cache.", "",
                  "| section | wall s | CPU s |", "|---|---:|---:|"]
        lines += [f"| {name} | {t.best:.1f} | {t.best_cpu:.1f} |" for name, t in rep.items()]
        lines += [f"| total | {sum(t.best for t in rep.values()):.1f} | {sum(t.best_cpu for t in rep.values()):.1f} |",
                  ""]
    lines += ["## How to regenerate", "", ("From the repository root: `python -m benchmarks` (about "
              "half an hour on an idle two-core machine with `--reproduce full`); `--reproduce quick` and "
              "`--digits-steps 600` make it shorter, `--quick` shorter still. Nothing here runs in the "
              "test suite."), ""]
    return "\n".join(lines)


def _meta() -> dict[str, str]:
    import scipy
    import sympy

    try:
        from threadpoolctl import threadpool_info

        blas = ", ".join(f"{i.get('internal_api')} {i.get('version')} ({i.get('num_threads')} threads)"
                         for i in threadpool_info() if i.get("user_api") == "blas")
    except ImportError:  # pragma: no cover
        blas = "unknown"
    from catapult_theory import __version__

    return {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.processor() or platform.platform()}",
        "versions": f"python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, "
                    f"sympy {sympy.__version__}, catapult_theory {__version__}",
        "BLAS": blas,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the suite and write the report; the exit code (0)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="report file (default benchmarks/BENCHMARKS.md)")
    parser.add_argument("--repeats", type=int, default=5, help="runs of each short command (default 5)")
    parser.add_argument("--reproduce", choices=("full", "quick", "skip"), default="full",
                        help="time `catapult reproduce` per section, full size (default) or --quick")
    parser.add_argument("--digits-steps", type=int, default=3000, help="steps of the digits sweep (default 3000)")
    parser.add_argument("--only", nargs="+", choices=("startup", "breakdown", "uv", "batch", "flops", "reproduce"),
                        help="run only these sections")
    parser.add_argument("--quick", action="store_true",
                        help="a short run: 3 repeats, widths to 10^5, 300 digits steps, quick reproduce")
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    raw = list(sys.argv[1:] if argv is None else argv)
    if args.quick:
        args.repeats, args.digits_steps = min(args.repeats, 3), min(args.digits_steps, 300)
        if args.reproduce == "full":
            args.reproduce = "quick"
    want = set(args.only or ("startup", "breakdown", "uv", "batch", "flops", "reproduce"))
    if args.reproduce == "skip":
        want.discard("reproduce")
    meta = _meta()
    meta["load average at start"] = load_average()
    _say(f"load {meta['load average at start']}; writing {args.out}")
    work = Path(tempfile.mkdtemp(prefix="catapult-bench-"))
    try:
        proc = Processes(work)
        st = startup(proc, args.repeats) if "startup" in want else None
        qb = quadratic_breakdown() if "breakdown" in want else None
        widths = [10**3, 10**4, 10**5] + ([] if args.quick else [10**6])
        uv = uv_map_vs_gd(widths, 200) if "uv" in want else None
        batch = batched_vs_loop(200, 30 if args.quick else 100) if "batch" in want else None
        fl = flops_digits(args.digits_steps) if "flops" in want else None
        if "reproduce" in want and "startup" not in want:
            proc.run(proc.catapult(["cache", "build"]))
        rep = reproduce_sections(proc, args.reproduce) if "reproduce" in want else None
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(work)
    meta["load average at end"] = load_average()
    text = render(meta, st, qb, uv, batch, fl, rep, args.reproduce, raw)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(args.out, text)
    _say(f"wrote {args.out}")
    sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
