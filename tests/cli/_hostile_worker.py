"""A worker process for the CLI fuzz test: runs ``catapult`` commands in-process, one per line.

It reads JSON lines ``["run", "uv", ...]`` from stdin and answers each with a JSON line
``{"code", "out", "err", "seconds", "crash"}``: ``crash`` is the traceback of any
exception that escaped :func:`catapult_theory.cli.main` (a bug), including warnings,
which are errors here (``-W error``). The parent starts it under a memory limit
(RLIMIT_AS) so that an allocation the size checks missed fails visibly.
"""

import contextlib
import io
import json
import sys
import time
import traceback
import warnings

from threadpoolctl import threadpool_limits

warnings.simplefilter("error")
threadpool_limits(limits=1)

from catapult_theory.cli import main  # noqa: E402


def _serve() -> None:
    for line in sys.stdin:
        argv = json.loads(line)
        out, err = io.StringIO(), io.StringIO()
        crash = None
        code = None
        t0 = time.perf_counter()
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                if argv == ["__raise__"]:  # the test that a crash is reported
                    raise RuntimeError("a deliberate crash")
                code = main(argv)
        except BaseException:  # noqa: BLE001 - reported to the parent, which fails the test
            crash = traceback.format_exc()
        reply = {"code": code, "out": out.getvalue(), "err": err.getvalue(),
                 "seconds": time.perf_counter() - t0, "crash": crash}
        sys.__stdout__.write(json.dumps(reply) + "\n")
        sys.__stdout__.flush()


if __name__ == "__main__":
    sys.__stdout__.write("ready\n")
    sys.__stdout__.flush()
    _serve()
