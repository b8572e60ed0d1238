"""The benchmark suite of ``catapult_theory`` (not part of the test run).

Run from the repository root::

    python -m benchmarks                 # everything; writes benchmarks/BENCHMARKS.md
    python -m benchmarks --reproduce quick --digits-steps 600   # shorter

:mod:`benchmarks.run` measures, in one process and one run, every figure of
``BENCHMARKS.md`` as a ratio against a baseline measured in the same run (see its
docstring); ``python -m benchmarks.bench_two_layer`` is the older stand-alone throughput study of the
batched two-layer engine.
"""
