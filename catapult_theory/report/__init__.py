"""Reports: figures and the `catapult reproduce` report folder."""

from ._plots import PHASE_COLORS, plot_phase_diagram, plot_trajectories
from ._plots import _pyplot as pyplot
from ._reproduce import (
    BUILTIN_SECTIONS,
    SECTIONS,
    Section,
    SectionOutput,
    register_section,
    reproduce,
    reproduce_cli,
    write_atomic,
)

__all__ = ["pyplot", "PHASE_COLORS", "BUILTIN_SECTIONS", "SECTIONS", "Section", "SectionOutput", "plot_phase_diagram",
           "plot_trajectories", "register_section", "reproduce", "reproduce_cli", "write_atomic"]
