"""Shared helper of the CLI tests."""

from catapult_theory.cli import main


def run_cli(capsys, *argv):
    """Run ``catapult argv...`` in-process: ``(exit code, stdout, stderr)``."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err
