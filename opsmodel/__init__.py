"""opsmodel: the reference model of the "Operations at Scale" lab.

Every number the lab shows and every expected value its graders compare against is
computed here, once. The contract is ``shared/spec/opsmodel.md``; the module map is in
``docs/architecture.md``.

Public names are resolved lazily, so that the package imports in a student release that
ships only the support modules (tracks, instruments, simulations) and not the reference
implementations of graded functions.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> submodule that defines it
_EXPORTS: dict[str, str] = {
    "InvalidInputError": "_validation",
    "heterogeneity": "fleet_mix",
    "cross_type_pairs": "fleet_mix",
    "ToilParams": "toil_params",
    "manual_toil_hours": "toil",
    "manual_toil_breakdown_hours": "toil",
    "ToilBreakdown": "toil",
    "platform_toil_hours": "toil",
    "manual_toil_usd": "toil",
    "platform_cost_usd": "toil",
    "platform_roi_usd": "toil",
    "break_even_models": "toil",
    "break_even_point": "toil",
    "zero_failure_sample_size": "sample_size",
    "failure_tolerant_sample_size": "sample_size",
    "clopper_pearson_upper": "bounds",
    "clopper_pearson_lower": "bounds",
    "zero_failure_confidence": "bounds",
    "RELEASE_CYCLE_HOURS": "shadow",
    "shadow_hours": "shadow",
    "RolloutStage": "rollout",
    "staged_rollout": "rollout",
    "SPRTBoundaries": "sprt",
    "SPRTSimulation": "sprt",
    "sprt_boundaries": "sprt",
    "sprt_llr": "sprt",
    "sprt_decision": "sprt",
    "sprt_simulate": "sprt",
    "fixed_n_for_errors": "sprt",
    "psi": "population_stability",
    "psi_from_proportions": "population_stability",
    "psi_band": "population_stability",
    "js_divergence": "divergence",
    "contract_hash": "contracts",
    "SkewReport": "skew",
    "skew_check": "skew",
    "UPSTREAM_VERSIONS": "ensemble",
    "CHANCE_ACCURACY": "ensemble",
    "EnsembleRun": "ensemble",
    "run_ensemble": "ensemble",
    "upstream_contract": "ensemble",
    "FeatureStore": "feature_store",
    "FeatureVersion": "feature_store",
    "Pin": "feature_store",
    "PinMismatch": "feature_store",
    "ImmutableVersionError": "feature_store",
    "canonical_json": "contracts",
    "CanaryPlanner": "canary_planner",
    "describe_track": "tracks",
    "TRACK_KEYS": "tracks",
    "CloudTitanCrisis": "tracks",
    "EdgeGuardianCrisis": "tracks",
    "MobileNomadCrisis": "tracks",
    "TinyPioneerCrisis": "tracks",
    "crisis_inputs": "crisis_data",
    "describe_crisis": "crisis_data",
    "edge_latency_samples": "crisis_data",
    "edge_over_budget_counts": "crisis_data",
    "nomad_fps_samples": "crisis_data",
    "pioneer_feature_store": "crisis_data",
    "ThresholdResult": "crises",
    "threshold_discovery": "crises",
    "false_alerts_per_day": "crises",
    "rollback_decision": "crises",
    "fleet_rollback": "crises",
    "regressed_regions": "crises",
    "stale_pins": "crises",
    "crisis_answer": "crises",
    "Track": "tracks",
    "TRACKS": "tracks",
    "get_track": "tracks",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'opsmodel' has no attribute {name!r}")
    try:
        module = importlib.import_module(f".{module_name}", __name__)
    except ModuleNotFoundError as exc:
        # In the student release the reference-only modules are not shipped.
        raise AttributeError(
            f"opsmodel.{name} is not part of this release: implement it yourself in the notebook"
        ) from exc
    return getattr(module, name)


def __dir__() -> list[str]:
    return __all__
