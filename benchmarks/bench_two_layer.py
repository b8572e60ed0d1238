"""Throughput of the batched two-layer GD engine against this machine's matmul.

Run as ``python -m benchmarks.bench_two_layer [--steps N] [--quick]`` (from the repository root). In one
process it measures

(a) the float64 matmul rate of this machine (square ``dgemm``, best of a few);
(b) the digits sweep of issue 11 (the digits figure's sweep as first written;
    ``catapult reproduce`` now runs a lighter one): "digits01 (128
    training images, d = 64, 232 test images), width 1024, ReLU, 28 learning
    rates ``η = k/λ0``, ``k = 0.5, 1.0, ..., 14``, fixed step budget (no stop
    rule)", as one batched call, with ``lam`` every step and the test loss at
    the end (the figure plots final test losses);
(b') the same with the test loss every step as well;
(c) the same 28 rates as a Python loop of single-rate calls of the same
    engine (configuration (b)), for fewer steps, scaled linearly;
(d) the batched sweep again with ``lam`` evaluated every ``--lam-every``
    steps only (skipped with ``--lam-every 1``);

and prints wall times, the level-3 FLOP count of the sweep (the engine's own
exact count of the GEMM/syrk work it executed; formula printed below), the
achieved GFLOP/s, its ratio to the matmul rate (target >= 0.40) and the speed
ratio batched/loop. The machine load is printed at the start and the end:
other processes on the machine make every number here lower.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

import numpy as np

from catapult_theory.engine import train_two_layer, two_layer_init, two_layer_observables
from catapult_theory.experiments import digits01

from .run import MATMUL_TARGET as TARGET
from .run import load_average, matmul_gflops, two_layer_traffic


def flops_per_step(n: int, d: int, B: int, B_test: int, R: int) -> tuple[int, str]:
    """Level-3 FLOPs of one full step (forward, lam, gradient) for ``R`` active rates
    (:func:`benchmarks.run.two_layer_traffic`), plus the test forward pass ``2 n d B_test``
    at test steps (``B_test = 0`` for the others)."""
    per_rate = int(two_layer_traffic(n, d, B)[0]) + 2 * n * d * B_test
    formula = (
        "per active rate and step: 2ndB (Z = XᵀUᵀ) [+ 2ndB_test (test forward) at test steps] + n(B+1)(B+2) "
        "(syrk [A; vᵀ]) + nB(B+1) (syrk W) + 2ndB (gradient of U; not at the last step)"
    )
    return R * per_rate, formula


def _report(label: str, run, seconds: float, steps: int, peak: float) -> float:
    achieved = run.gemm_flops / seconds / 1e9
    ratio = achieved / peak
    print(f"{label}: {seconds:.2f} s wall, {1e3 * seconds / steps:.2f} ms/step, "
          f"{run.gemm_flops / 1e9:.1f} GFLOP executed (engine count), {achieved:.1f} GFLOP/s = {ratio:.2f} of matmul "
          f"({'meets' if ratio >= TARGET else 'BELOW'} target {TARGET:.2f})")
    return ratio


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000, help="steps of the batched sweep (default 3000)")
    parser.add_argument("--loop-steps", type=int, default=None,
                        help="steps per single-rate run of the loop, scaled to --steps (default steps/10)")
    parser.add_argument("--lam-every", type=int, default=10,
                        help="also time the sweep with lam every this many steps (1: skip; default 10)")
    parser.add_argument("--quick", action="store_true", help="short run: 100 batched steps, 20 loop steps")
    parser.add_argument("--width", type=int, default=1024)
    args = parser.parse_args(argv)
    steps = 100 if args.quick else args.steps
    loop_steps = args.loop_steps or (20 if args.quick else max(steps // 10, 1))
    if steps < 1 or loop_steps < 1 or args.lam_every < 1:
        parser.error("step counts and --lam-every must be positive")

    print(f"python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} CPUs, load {load_average()}")
    peak = matmul_gflops()
    print(f"(a) float64 matmul 2000x2000, best of 5: {peak:.1f} GFLOP/s")

    data = digits01(train_size=128, seed=0)
    n, d, B, Bt = args.width, data.d, data.B, data.B_test
    init = two_layer_init(n, d, seed=0)
    lam0 = float(two_layer_observables(init, data.X, data.y, 0.0).lam)
    k = np.arange(1, 29) * 0.5
    eta = k / lam0
    R = k.size
    print(f"sweep: {data.name}, B = {B}, d = {d}, B_test = {Bt}, width n = {n}, ReLU, R = {R} rates "
          f"k = {k[0]}..{k[-1]}, lam0 = {lam0:.6f}, {steps} steps, tol = None, lam every step")
    full, formula = flops_per_step(n, d, B, 0, R)
    print(f"FLOP count: {formula}")
    print(f"  = {full / R / 1e6:.2f} MFLOP per rate and step without the test forward "
          f"({flops_per_step(n, d, B, Bt, R)[0] / R / 1e6:.2f} with it)")

    t0 = time.perf_counter()
    run = train_two_layer(init, data, 0.0, eta, steps, test_every=steps)
    t_batch = time.perf_counter() - t0
    _report("(b)  batched, test loss at the end", run, t_batch, steps, peak)
    reasons = {str(r): int(np.count_nonzero(run.stop_reason == r)) for r in np.unique(run.stop_reason)}
    phases = {str(p): int(np.count_nonzero(run.phase == p)) for p in np.unique(run.phase)}
    print(f"     outcomes: {reasons}; phases: {phases}; lam fallbacks: {run.lam_fallbacks}")

    t0 = time.perf_counter()
    every = train_two_layer(init, data, 0.0, eta, steps)
    t_every = time.perf_counter() - t0
    _report("(b') batched, test loss every step", every, t_every, steps, peak)

    t0 = time.perf_counter()
    loop_flops = 0
    for e in eta:
        single = train_two_layer(init, data, 0.0, e, loop_steps, test_every=loop_steps)
        loop_flops += single.gemm_flops
    t_loop_raw = time.perf_counter() - t0
    t_loop = t_loop_raw * steps / loop_steps
    print(f"(c)  loop of {R} single-rate runs as (b): {t_loop_raw:.2f} s for {loop_steps} steps each, "
          f"scaled x{steps / loop_steps:g} to {steps} steps: {t_loop:.1f} s "
          f"({loop_flops / t_loop_raw / 1e9:.1f} GFLOP/s)")
    print(f"     speed ratio batched/loop: {t_loop / t_batch:.2f}x")

    if args.lam_every > 1:
        t0 = time.perf_counter()
        sparse = train_two_layer(init, data, 0.0, eta, steps, lam_every=args.lam_every, test_every=steps)
        t_sparse = time.perf_counter() - t0
        _report(f"(d)  as (b), lam every {args.lam_every} steps", sparse, t_sparse, steps, peak)
        print(f"     {t_batch / t_sparse:.2f}x faster than (b)")
    print(f"load at end {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
