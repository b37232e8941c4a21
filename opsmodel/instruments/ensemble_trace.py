"""The Ensemble Trace (Part 3): accuracy through an upstream -> downstream handshake.

:class:`EnsembleTrace` runs the seeded ensemble simulation of :mod:`opsmodel.ensemble`
for one upstream extractor version and one retrain choice, and draws

- the accuracy at each stage: the upstream extractor alone (a linear probe fitted on its
  own features, i.e. how good the new extractor is), the deployed downstream model on
  the features serving now, and the baseline (v1 extractor, v1-trained downstream);
- the verdict of the passed skew check (per-feature PSI, the contract check, skewed);
- a verdict line: ``SILENT FAILURE: ...`` when the deployed system falls below the
  baseline, saying whether the skew check caught it.

The skew check is passed in (in the student release, the student's own ``skew_check``).
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping
from dataclasses import KW_ONLY, dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import InvalidInputError, check_int, check_real
from ..contracts import contract_hash
from ..ensemble import UPSTREAM_VERSIONS, EnsembleRun, run_ensemble
from . import _common
from .palette import colour

__all__ = ["EnsembleTrace"]

_SKEW_KEYS = ("psi", "max_psi", "contract_ok", "skewed")
# PSI bands of the spec (Yurdakul 2018): < 0.10 stable, 0.10-0.25 moderate, >= 0.25 significant.
_PSI_MODERATE = 0.10
# Smallest PSI shown on the log axis; a PSI of exactly 0 is drawn there.
_PSI_FLOOR = 1e-3
# Text sizes in points: at 10 inches shown 1000 px wide, 1 pt is 1.39 px on screen, so
# the smallest text (10 pt) is about 14 px.
_TEXT_PT = 10.0
_TITLE_PT = 12.0
# The verdict strip wraps its sentence at this many characters (bold 11 pt, 10 inches).
_VERDICT_WRAP = 96


@dataclass(frozen=True)
class EnsembleTrace:
    """Accuracy at each stage of the ensemble, with the skew check's verdict.

    Parameters
    ----------
    upstream_version : {"v1", "v2", "v1-signflip"}
        The upstream extractor version serving now.
    retrain : bool
        Whether the downstream model was retrained on this version's features.
    skew_check : callable or None, keyword-only
        ``(train_features, serving_features, train_contract, serving_contract,
        psi_threshold=...) -> mapping`` with keys ``psi``, ``max_psi``, ``contract_ok``,
        ``skewed``. None: no check runs (the figure says so).
    seed : int >= 0, default 0, keyword-only
        Seed of the ensemble simulation.
    upstream_name, downstream_name : str, keyword-only
        Names of the two models (the track's), for labels and the contracts.
    psi_threshold : float > 0, default 0.25, keyword-only
        Passed to ``skew_check``; drawn on the PSI panel.
    drop_tolerance : float in [0, 1), default 0.02, keyword-only
        The system counts as "below baseline" when its accuracy is lower by more than
        this (two points: the ensemble's seeded test set of 4,000 examples has a
        standard error of about 0.6 points, so smaller gaps are noise).
    title : str, optional, keyword-only
        Figure title suffix (the track's name).
    figsize : tuple of two floats > 0, default (10.0, 7.8), keyword-only
        Figure size in inches. The text is sized for the default 10-inch width, which a
        notebook shows at 1000 px without scaling.

    Raises
    ------
    InvalidInputError
        If an argument is out of range, ``skew_check`` is not callable, or it returns a
        mapping without the four keys.

    Notes
    -----
    Artists carry ``gid``s: "accuracy_probe", "accuracy_system", "accuracy_baseline",
    "chance", "psi_bars", "psi_threshold", "verdict".

    Examples
    --------
    A lenient check that never flags anything misses the sign flip:

    >>> def lenient(train, serving, train_contract, serving_contract, psi_threshold=0.25):
    ...     return {"psi": [0.0], "max_psi": 0.0, "contract_ok": True, "skewed": False}
    >>> summary = EnsembleTrace("v1-signflip", False, skew_check=lenient).summary()
    >>> summary["verdict"].startswith("SILENT FAILURE"), summary["caught_by_skew_check"]
    (True, False)
    """

    upstream_version: str
    retrain: bool
    _: KW_ONLY
    skew_check: Callable[..., Mapping[str, Any]] | None = None
    seed: int = 0
    upstream_name: str = "feature_extractor"
    downstream_name: str = "classifier"
    psi_threshold: float = 0.25
    drop_tolerance: float = 0.02
    title: str | None = None
    figsize: tuple[float, float] = (_common.FIGURE_WIDTH_IN, 7.8)

    def __post_init__(self) -> None:
        if self.upstream_version not in UPSTREAM_VERSIONS:
            raise InvalidInputError(
                f"upstream_version must be one of {', '.join(UPSTREAM_VERSIONS)}, "
                f"got {self.upstream_version!r}"
            )
        if not isinstance(self.retrain, (bool, np.bool_)):
            raise InvalidInputError(f"retrain must be True or False, got {self.retrain!r}")
        _common.check_callable("skew_check", self.skew_check, required=False)
        for name in ("upstream_name", "downstream_name"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise InvalidInputError(f"{name} must be a non-empty string, got {value!r}")
        values = {
            "retrain": bool(self.retrain),
            "seed": check_int("seed", self.seed, low=0),
            "psi_threshold": check_real(
                "psi_threshold", self.psi_threshold, low=0.0, low_open=True
            ),
            "drop_tolerance": check_real(
                "drop_tolerance", self.drop_tolerance, low=0.0, high=1.0, high_open=True
            ),
            "title": None if self.title is None else str(self.title),
            "figsize": _common.check_figsize(self.figsize),
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)

    @classmethod
    def for_track(
        cls, track: Any, upstream_version: str, retrain: bool, **kwargs: Any
    ) -> EnsembleTrace:
        """The trace with a track's model names and ensemble seed; keywords override them."""
        kwargs.setdefault("seed", track.ensemble_seed)
        kwargs.setdefault("upstream_name", track.upstream_model)
        kwargs.setdefault("downstream_name", track.downstream_model)
        kwargs.setdefault("title", track.name)
        return cls(upstream_version, retrain, **kwargs)

    # ----------------------------------------------------------------------------- numbers

    @cached_property
    def run(self) -> EnsembleRun:
        """The ensemble simulation's result (computed once per trace)."""
        return run_ensemble(
            self.upstream_version,
            self.retrain,
            seed=self.seed,
            upstream_name=self.upstream_name,
            downstream_name=self.downstream_name,
        )

    @cached_property
    def skew_report(self) -> dict[str, Any] | None:
        """The skew check's result as a plain dict, or None when no check is given."""
        if self.skew_check is None:
            return None
        run = self.run
        report = self.skew_check(
            run.train_features,
            run.serving_features,
            run.train_contract,
            run.serving_contract,
            psi_threshold=self.psi_threshold,
        )
        if not isinstance(report, Mapping) or any(key not in report for key in _SKEW_KEYS):
            raise InvalidInputError(
                f"skew_check must return a mapping with keys {', '.join(_SKEW_KEYS)}, "
                f"got {report!r}" + (" (is the function finished?)" if report is None else "")
            )
        psi_values = np.asarray(report["psi"], dtype=float).ravel()
        return {
            "psi": [float(x) for x in psi_values],
            "max_psi": _common.as_real("skew_check", report["max_psi"], "'max_psi'"),
            "contract_ok": bool(report["contract_ok"]),
            "skewed": bool(report["skewed"]),
        }

    def summary(self) -> dict[str, Any]:
        """The trace's numbers and verdict as a plain dict.

        Returns
        -------
        dict
            ``upstream_version``, ``retrained``, ``probe_accuracy``, ``system_accuracy``,
            ``baseline_accuracy``, ``accuracy_drop`` (baseline minus system),
            ``below_baseline`` (drop larger than ``drop_tolerance``), ``max_psi``,
            ``psi``, ``contract_ok``, ``skewed`` (these four None when no skew check is
            given), ``caught_by_skew_check`` (None without a check) and ``verdict``, a
            sentence starting ``SILENT FAILURE:`` when the system fell below the baseline
            and ``OK:`` otherwise.
        """
        run = self.run
        report = self.skew_report
        drop = run.baseline_accuracy - run.system_accuracy
        below = drop > self.drop_tolerance
        skewed = None if report is None else report["skewed"]
        return {
            "upstream_version": run.upstream_version,
            "retrained": run.retrained,
            "probe_accuracy": run.probe_accuracy,
            "system_accuracy": run.system_accuracy,
            "baseline_accuracy": run.baseline_accuracy,
            "accuracy_drop": drop,
            "below_baseline": below,
            "max_psi": None if report is None else report["max_psi"],
            "psi": None if report is None else list(report["psi"]),
            "contract_ok": None if report is None else report["contract_ok"],
            "skewed": skewed,
            "caught_by_skew_check": None if report is None else bool(below and skewed),
            "verdict": self._verdict(run, report, below),
        }

    def _verdict(self, run: EnsembleRun, report: dict[str, Any] | None, below: bool) -> str:
        system, base, probe = run.system_accuracy, run.baseline_accuracy, run.probe_accuracy
        if report is None:
            check = "no skew check ran"
        else:
            causes = []
            if not report["contract_ok"]:
                causes.append("the feature contract changed")
            if report["max_psi"] >= self.psi_threshold:
                causes.append(f"max PSI {report['max_psi']:.2f} >= {self.psi_threshold:g}")
            check = (
                "the skew check flags it (" + " and ".join(causes) + ")"
                if report["skewed"]
                else f"the skew check passes (max PSI {report['max_psi']:.3f}, contract ok)"
            )
            if not report["contract_ok"] and report["max_psi"] < self.psi_threshold:
                # The sign-flip lesson: the distribution looks unchanged, the definition is not.
                check += f"; PSI alone would miss it (max PSI {report['max_psi']:.3f})"
        if below:
            better = (
                f" even though the new extractor alone is better (probe {probe:.1%} > {base:.1%})"
                if probe > base + self.drop_tolerance
                else ""
            )
            head = (
                f"SILENT FAILURE: {self.downstream_name} accuracy fell to {system:.1%} "
                f"from the {base:.1%} baseline{better}, and serving raised no error."
            )
            if report is None:
                return f"{head} No skew check ran: this deploy would go out."
            if report["skewed"]:
                return f"{head} Caught: {check}. Block the deploy; retrain or pin v1."
            return f"{head} Missed: {check}."
        head = f"OK: {self.downstream_name} accuracy {system:.1%} (baseline {base:.1%})."
        if report is not None and report["skewed"]:
            return f"{head} But {check}: re-pin the contract before deploying."
        return f"{head} {check[0].upper()}{check[1:]}."

    # ----------------------------------------------------------------------------- drawing

    def figure(self) -> _common.InstrumentFigure:
        """Draw the accuracies, the PSI per feature and the verdict.

        Returns
        -------
        InstrumentFigure
            A new matplotlib figure (object API, not registered with pyplot): accuracy
            bars and PSI bars side by side with their legend below, then a verdict strip;
            a notebook cell ending with it shows it as an image.
        """
        summary = self.summary()
        fig = _common.new_figure(self.figsize)
        # Two subfigures: the panels with their shared legend (room reserved by the
        # constrained layout, so it covers no bar), then the verdict sentence.
        panels, strip = fig.subfigures(2, 1, height_ratios=(5.9, 1.3))
        spec = panels.add_gridspec(1, 2, width_ratios=(1.15, 1.0))
        self._draw_accuracy(panels.add_subplot(spec[0, 0]))
        self._draw_skew(panels.add_subplot(spec[0, 1]))
        handles = [
            artist
            for ax in panels.axes
            for artist in (*ax.get_lines(), *ax.patches, *ax.collections)
            if artist.get_label() and not artist.get_label().startswith("_")
        ]
        panels.legend(
            handles=handles,
            loc="outside lower center",
            ncol=len(handles),
            fontsize=_TEXT_PT,
            frameon=False,
        )
        self._draw_verdict(strip.add_subplot(), summary)
        heading = (
            f"Ensemble trace: {self.upstream_name} {self.upstream_version} \u2192 "
            f"{self.downstream_name} ({'retrained' if self.retrain else 'trained on v1'})"
        )
        if self.title:
            heading = f"{self.title}, ensemble trace:\n{heading.removeprefix('Ensemble trace: ')}"
        fig.suptitle(heading, fontsize=_TITLE_PT + 1, fontweight="bold")
        return fig

    def _draw_accuracy(self, ax: Any) -> None:
        run = self.run
        stages = (
            (
                "accuracy_probe",
                "probe",
                f"upstream alone\n{self.upstream_version}\n(linear probe)",
                run.probe_accuracy,
            ),
            (
                "accuracy_system",
                "system",
                f"deployed system\n{self.upstream_version} \u2192\n"
                f"{'retrained' if self.retrain else 'v1-trained'}",
                run.system_accuracy,
            ),
            (
                "accuracy_baseline",
                "baseline",
                "baseline\nv1 \u2192\nv1-trained",
                run.baseline_accuracy,
            ),
        )
        x = np.arange(len(stages))
        for i, (gid, role, _label, value) in enumerate(stages):
            failing = gid == "accuracy_system" and (
                run.baseline_accuracy - value > self.drop_tolerance
            )
            ax.bar(
                [x[i]],
                [100.0 * value],
                color=colour("alarm" if failing else role),
                edgecolor="black",
                linewidth=0.8,
                width=0.62,
                gid=gid,
            )
            ax.text(
                x[i],
                100.0 * value + 1.5,
                f"{value:.1%}",
                ha="center",
                va="bottom",
                fontsize=_TEXT_PT + 2,
                fontweight="bold",
            )
        # Named in the legend below the panels: a label on the line hid behind the bars.
        ax.axhline(
            100.0 * run.chance_accuracy,
            color=colour("neutral"),
            linestyle="--",
            linewidth=1.4,
            label=f"chance accuracy ({run.chance_accuracy:.0%})",
            gid="chance",
        )
        ax.set_xticks(x)
        ax.set_xticklabels([label for _gid, _role, label, _value in stages], fontsize=_TEXT_PT)
        ax.set_ylim(0, 108)
        ax.tick_params(axis="y", labelsize=_TEXT_PT)
        ax.set_ylabel("Accuracy on the held-out test set (%)", fontsize=_TEXT_PT)
        ax.set_title("Accuracy at each stage", fontsize=_TITLE_PT)
        ax.grid(True, axis="y", alpha=0.3)

    def _draw_skew(self, ax: Any) -> None:
        report = self.skew_report
        run = self.run
        ax.set_title("Training-serving skew check", fontsize=_TITLE_PT)
        if report is None:
            # Said to the student: their check exists but is switched off here.
            ax.text(
                0.5,
                0.5,
                "Your skew_check is not run here:\n"
                "the feature-store consistency\n"
                "check is off, so nothing compares\n"
                "the serving features with the\n"
                "training ones.",
                transform=ax.transAxes,
                ha="center",
                va="center",
                fontsize=_TEXT_PT + 1,
                fontweight="bold",
                color=colour("alarm"),
                gid="no_skew_check",
            )
            ax.set_xticks([])
            ax.set_yticks([])
            return
        psi_values = np.asarray(report["psi"], dtype=float)
        x = np.arange(psi_values.size)
        shown = np.maximum(psi_values, _PSI_FLOOR)
        bar_colours = [
            colour("alarm") if v >= self.psi_threshold else colour("ok") for v in psi_values
        ]
        bars = ax.bar(
            x, shown, color=bar_colours, edgecolor="black", linewidth=0.8, width=0.6, gid="psi_bars"
        )
        for bar, value in zip(bars, psi_values, strict=True):
            ax.text(
                bar.get_x() + bar.get_width() / 2.0,
                bar.get_height() * 1.15,
                f"{value:.3f}",
                ha="center",
                va="bottom",
                fontsize=_TEXT_PT,
            )
        ax.axhline(
            self.psi_threshold,
            color=colour("threshold"),
            linestyle="--",
            linewidth=1.4,
            label=f"skew threshold: PSI {self.psi_threshold:g}",
            gid="psi_threshold",
        )
        ax.axhspan(
            _PSI_FLOOR,
            _PSI_MODERATE,
            color=colour("ok"),
            alpha=0.12,
            label=f"stable band: PSI < {_PSI_MODERATE:g}",
            gid="psi_stable_band",
            zorder=0,  # behind the bars
        )
        ax.set_yscale("log")
        # Two decades of head room above the highest bar (or the threshold) for the
        # contract box: it never sits on a bar or its number.
        top = max(float(shown.max()), self.psi_threshold) * 150.0
        ax.set_ylim(_PSI_FLOOR, top)
        ax.set_xticks(x)
        ax.set_xticklabels([f"feature {i + 1}" for i in x], fontsize=_TEXT_PT)
        ax.tick_params(axis="y", labelsize=_TEXT_PT)
        ax.set_ylabel("PSI, serving vs. training (log scale)", fontsize=_TEXT_PT)
        ok = report["contract_ok"]
        contract_text = (
            f"trained on: {_contract_label(run.train_contract)}\n"
            f"serving: {_contract_label(run.serving_contract)}\n"
            f"contract {'OK' if ok else 'MISMATCH'}, skewed: "
            + ("YES" if report["skewed"] else "no")
        )
        ax.text(
            0.03,
            0.97,
            contract_text,
            transform=ax.transAxes,
            ha="left",
            va="top",
            fontsize=_TEXT_PT,
            fontweight="bold",
            color=colour("ok" if ok else "alarm"),
            bbox={
                "boxstyle": "round,pad=0.3",
                "facecolor": "white",
                "alpha": 0.9,
                "edgecolor": "none",
            },
            gid="contract",
        )
        ax.grid(True, axis="y", which="major", alpha=0.3)

    def _draw_verdict(self, ax: Any, summary: dict[str, Any]) -> None:
        ax.set_axis_off()
        verdict = summary["verdict"]
        failing = verdict.startswith("SILENT FAILURE")
        wrapped = "\n".join(textwrap.wrap(verdict, width=_VERDICT_WRAP))
        ax.text(
            0.5,
            0.5,
            wrapped,
            transform=ax.transAxes,
            ha="center",
            va="center",
            fontsize=_TEXT_PT + 1,
            fontweight="bold",
            color=colour("alarm" if failing else "ok"),
            bbox={
                "boxstyle": "round,pad=0.5",
                "facecolor": "white",
                "edgecolor": colour("alarm" if failing else "ok"),
                "linewidth": 1.5,
            },
            gid="verdict",
        )

    def save(self, path: str | Path, *, dpi: float = 150) -> Path:
        """Draw the figure and save it (format from the suffix, PNG by default)."""
        return _common.save_figure(self.figure(), path, dpi=dpi)

    def _repr_png_(self) -> bytes:
        return _common.figure_png(self.figure())


def _contract_label(contract: Any) -> str:
    # The simulation's contracts are schema dicts with a version; a bare hash also works.
    if isinstance(contract, Mapping):
        version = contract.get("version")
        digest = contract_hash(dict(contract))[:8]
        return f"{version} #{digest}" if version is not None else f"#{digest}"
    return f"#{str(contract)[:8]}"
