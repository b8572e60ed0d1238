"""Reports: figures and the `catapult reproduce` report folder."""

from ._plots import PHASE_COLORS, plot_phase_diagram, plot_trajectories
from ._reproduce import write_atomic

__all__ = ["PHASE_COLORS", "plot_phase_diagram", "plot_trajectories", "write_atomic"]
