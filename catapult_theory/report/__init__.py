"""Reports: figures and the `catapult reproduce` report folder."""

from ._plots import PHASE_COLORS, plot_phase_diagram, plot_trajectories

__all__ = ["PHASE_COLORS", "plot_phase_diagram", "plot_trajectories"]
