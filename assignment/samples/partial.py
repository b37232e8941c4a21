# A partially right submission of the self-check: these statements replace the student
# notebook's own definitions of the same names (found by name, wherever the cell is).
# Its expected scores, question by question and why, are in partial.toml.

TRACK = "Mobile Nomad"

lock_break_even_models = 25
lock_shadow_requests = 3000
lock_accuracy_change = "drops"


def manual_toil_hours(n_models, heterogeneity, params=ToilParams()):
    n = np.asarray(n_models, dtype=float)
    safe = np.where(n > 0, n, 1.0)
    hours = (
        params.alert_hours * n
        + params.deploy_hours * np.where(n > 0, n * np.log2(safe), 0.0)
        + params.dependency_hours * heterogeneity * n * (n - 1) / 2
    )
    return float(hours) if hours.ndim == 0 else hours


def platform_cost_usd(n_models, params=ToilParams()):
    n = np.asarray(n_models, dtype=float)
    cost = params.platform_capex_usd + params.platform_hours * n * params.hourly_cost_usd * params.horizon_years
    return float(cost) if cost.ndim == 0 else cost


def platform_roi_usd(n_models, heterogeneity, params=ToilParams()):
    manual = np.asarray(manual_toil_hours(n_models, heterogeneity, params))
    roi = manual * params.hourly_cost_usd * params.horizon_years - np.asarray(platform_cost_usd(n_models, params))
    return float(roi) if roi.ndim == 0 else roi


def break_even_models(heterogeneity, params=ToilParams(), n_max=1_000_000):
    n = 1
    while n <= n_max:
        if platform_roi_usd(n, heterogeneity, params) > 0:
            return n
        n += 1
    return None


# The naive bound: right except at exact boundaries, where floating point rounds up.
def zero_failure_sample_size(p_max, confidence):
    return int(np.ceil(np.log(1 - confidence) / np.log(1 - p_max)))


# Forgets the shadow fraction: right only when all traffic is mirrored.
def shadow_hours(n_requests, request_rate_per_s, shadow_fraction=1.0):
    return n_requests / (request_rate_per_s * 3600)


def psi(reference, current, n_bins=10):
    reference = np.asarray(reference, dtype=float)
    current = np.asarray(current, dtype=float)
    edges = np.unique(np.quantile(reference, np.arange(1, n_bins) / n_bins))
    k = edges.size + 1
    e = np.bincount(np.searchsorted(edges, reference, side="right"), minlength=k) / reference.size
    a = np.bincount(np.searchsorted(edges, current, side="right"), minlength=k) / current.size
    e, a = np.clip(e, 1e-4, None), np.clip(a, 1e-4, None)
    return float(np.sum((a - e) * np.log(a / e)))
