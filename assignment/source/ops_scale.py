# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [raw]
# # ASSIGNMENT CONFIG
# name: ops_scale
# init_cell: true
# check_all_cell: false
# run_tests: false
# strip_solutions_from_all_cells: true
# solutions_pdf: false
# export_cell: false
# files:
#   - opsmodel
#   - ops_lab_submit.py
# tests:
#   files: true
#   ok_format: true

# %% [markdown]
# # Operations at Scale: Fleet Monitoring & Governance
#
# At fleet scale, *manual work is toil*. You audit three decisions an ML platform team makes
# every quarter. **Time budget: 45 minutes.**
#
# | part | question | minutes |
# |---|---|---|
# | 1. Platform ROI audit | when does a \$500k ML platform beat manual operations? | 15 |
# | 2. Canary duration | how long must a new model run in shadow mode, and can a sequential test shorten it? | 15 |
# | 3. Ensemble lockdown | why does a *better* upstream model silently break a downstream one, and which policy prevents it? (with your track's crisis and the ledger) | 15 |
#
# Each part opens with a **Lock**: a prediction you record *before* exploring, graded for
# completion only. `grader.check(...)` cells run the **public** checks; hidden checks run
# after you submit, on your track's numbers and on fresh inputs. Replace every `...` with
# your answer, run the cells in order, and export with the last cell.

# %%
import numpy as np
from scipy import stats

from opsmodel.contracts import contract_hash
from opsmodel.toil_params import ToilParams
from opsmodel.tracks import describe_track
from opsmodel.variants import student_track

# %% [markdown]
# ## Choose your track
#
# Set `TRACK` (a `str`) to the track your instructor assigned you: `"Cloud Titan"`,
# `"Edge Guardian"`, `"Mobile Nomad"` or `"Tiny Pioneer"`. Every number below comes from it.
#
# If your instructor sent you a **variant code**, your numbers are your own: set `STUDENT_ID`
# to the id your course's platform knows you by and `VARIANT_CODE` to the code (both `str`;
# the code looks like `"K7QF-2M9X-0B4T-8RZC"`). Otherwise leave both `None`.

# %%
TRACK = "Cloud Titan"  # SOLUTION
STUDENT_ID = None
VARIANT_CODE = None

# %%
if TRACK is ...:
    raise ValueError('TRACK is not set: in the cell above, replace ... with your track, for example TRACK = "Edge Guardian"')
track = student_track(TRACK, VARIANT_CODE)
print(describe_track(track))

# %% [markdown]
# ---
# # Part 1: The Platform ROI Audit
#
# The **Operations Invariant**: complexity grows super-linearly with the number of models
# $N$ and with their heterogeneity. Per year, with `params` a `ToilParams` record:
#
# | work | grows as | engineer-hours per year |
# |---|---|---|
# | alert triage | $O(N)$ | `alert_hours` $\cdot N$ |
# | deployments | $O(N \log N)$ | `deploy_hours` $\cdot N \log_2 N$ (take $N\log_2 N = 0$ at $N=0$) |
# | dependencies | $O(N^2)$ | `dependency_hours` $\cdot h \cdot N(N-1)/2$ |
#
# Here $h \in [0, 1]$ is the **heterogeneity** of the fleet: the probability that two
# different models are of different types, so $h\,N(N-1)/2$ counts the cross-type pairs
# whose interfaces someone must coordinate (Sculley et al., 2015: *changing anything changes
# everything*).

# %%
print(f"{track.name}: {track.n_models} models, types {dict(zip(track.model_types, track.model_type_counts))}")
print(f"heterogeneity h = {track.heterogeneity:.3f}")
print(track.toil_params)

# %% [raw]
# # BEGIN QUESTION
# name: lock_part1
# points: 1

# %% [markdown]
# **Lock 1.** Before computing anything: at how many concurrent models does the platform
# (CapEx plus its own upkeep) first cost less than running them by hand? Set
# `lock_break_even_models` to a whole number (`int`) from 1 to 1000.

# %% [raw]
# # BEGIN SOLUTION

# %%
lock_break_even_models = 40  # SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 1
failure_message: "lock_break_even_models must be a whole number from 1 to 1000."
""" # END TEST CONFIG
assert isinstance(lock_break_even_models, int) and not isinstance(lock_break_even_models, bool)
assert 1 <= lock_break_even_models <= 1000

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q1a_manual_toil
# points: 3

# %% [markdown]
# **1a.** Implement `manual_toil_hours(n_models, heterogeneity, params)`: the engineer-hours
# per year of manual operations from the table above. `n_models` is a number (return a
# `float`) or a numpy array of numbers (return an array of the same shape).

# %% [raw]
# # BEGIN SOLUTION

# %%
def manual_toil_hours(n_models, heterogeneity, params=ToilParams()):
    """Manual toil in engineer-hours per year for a fleet of ``n_models`` models."""
    # BEGIN SOLUTION
    n = np.asarray(n_models, dtype=float)
    n_log_n = np.where(n > 0, n * np.log2(np.where(n > 0, n, 1.0)), 0.0)
    hours = (
        params.alert_hours * n
        + params.deploy_hours * n_log_n
        + params.dependency_hours * heterogeneity * n * (n - 1) / 2
    )
    return float(hours) if hours.ndim == 0 else hours
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
failure_message: "With no models there is no toil: manual_toil_hours(0, h) must be 0."
""" # END TEST CONFIG
assert manual_toil_hours(0, 0.5, ToilParams()) == 0

# %%
""" # BEGIN TEST CONFIG
points: 0
failure_message: "One model has no deployment-scaling or dependency toil: only alert_hours remain."
""" # END TEST CONFIG
assert np.isclose(manual_toil_hours(1, 1.0, ToilParams()), ToilParams().alert_hours)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 1.5
failure_message: "manual_toil_hours disagrees with the reference on your track's fleet. Check each of the three terms and the log base (log2)."
""" # END TEST CONFIG
from labtools.grading.reference_checks import check_toil_on_track
assert check_toil_on_track(manual_toil_hours, TRACK)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 1
failure_message: "manual_toil_hours is wrong on some random fleets (other N, h and params). Use every field of params, not the defaults."
""" # END TEST CONFIG
from labtools.grading.reference_checks import check_toil_random
assert check_toil_random(manual_toil_hours)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 0.5
failure_message: "manual_toil_hours must accept a numpy array of N and return an array of the same shape."
""" # END TEST CONFIG
from labtools.grading.reference_checks import check_toil_vectorised
assert check_toil_vectorised(manual_toil_hours)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q1b_platform_cost
# points: 2

# %% [markdown]
# **1b.** Implement `platform_cost_usd(n_models, params)`: in dollars, the one-off
# `params.platform_capex_usd` plus the platform's upkeep (`platform_hours` per model per year
# at `hourly_cost_usd`) over `horizon_years`. Like 1a: a number gives a `float`, an array an
# array of the same shape.

# %% [raw]
# # BEGIN SOLUTION

# %%
def platform_cost_usd(n_models, params=ToilParams()):
    """Platform CapEx plus platform toil over the horizon, in US dollars."""
    # BEGIN SOLUTION
    n = np.asarray(n_models, dtype=float)
    upkeep = params.platform_hours * n * params.hourly_cost_usd * params.horizon_years
    cost = params.platform_capex_usd + upkeep
    return float(cost) if cost.ndim == 0 else cost
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
failure_message: "With no models the platform still costs its CapEx."
""" # END TEST CONFIG
assert np.isclose(platform_cost_usd(0, ToilParams()), ToilParams().platform_capex_usd)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 2
failure_message: "platform_cost_usd disagrees with the reference. Upkeep is platform_hours x N x hourly_cost_usd x horizon_years, on top of platform_capex_usd."
""" # END TEST CONFIG
from labtools.grading.reference_checks import check_platform_cost
assert check_platform_cost(platform_cost_usd, TRACK)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q1c_platform_roi
# points: 1

# %% [markdown]
# **1c.** Implement `platform_roi_usd(n_models, heterogeneity, params)`, the money the platform
# saves over the horizon:
# $\mathrm{ROI}_{platform} = \mathrm{Toil}_{manual} - (\mathrm{CapEx}_{platform} + \mathrm{Toil}_{platform})$
# in dollars, with manual toil priced at `hourly_cost_usd` over `horizon_years` (the
# workbench's Math Peek shows this formula). A number gives a `float`, an array an array.

# %% [raw]
# # BEGIN SOLUTION

# %%
def platform_roi_usd(n_models, heterogeneity, params=ToilParams()):
    """Money saved by the platform over the horizon (negative: manual is cheaper)."""
    # BEGIN SOLUTION
    manual_usd = (
        np.asarray(manual_toil_hours(n_models, heterogeneity, params))
        * params.hourly_cost_usd
        * params.horizon_years
    )
    roi = manual_usd - np.asarray(platform_cost_usd(n_models, params))
    return float(roi) if roi.ndim == 0 else roi
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
failure_message: "With no models there is no toil to save: the ROI is minus the platform's CapEx."
""" # END TEST CONFIG
assert np.isclose(platform_roi_usd(0, 0.5, ToilParams()), -ToilParams().platform_capex_usd)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 1
failure_message: "platform_roi_usd disagrees with the reference: manual hours x hourly cost x horizon, minus the platform cost."
""" # END TEST CONFIG
from labtools.grading.reference_checks import check_roi
assert check_roi(platform_roi_usd, TRACK)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q1d_break_even
# points: 3

# %% [markdown]
# **1d.** Implement `break_even_models(heterogeneity, params, n_max)`: the smallest whole
# number of models $N^* \ge 1$ (an `int`) at which the platform is **strictly** cheaper
# (ROI > 0), or `None` if there is none up to `n_max`. A tie (ROI = 0) is not break-even.
# Build it on your `platform_roi_usd` from 1c: N* rests on it, so 1d's points need 1c right.

# %% [raw]
# # BEGIN SOLUTION

# %%
def break_even_models(heterogeneity, params=ToilParams(), n_max=1_000_000):
    """Smallest integer N >= 1 with platform_roi_usd(N) > 0, or None up to n_max."""
    # BEGIN SOLUTION
    n = np.arange(1, int(n_max) + 1)
    above = np.flatnonzero(np.asarray(platform_roi_usd(n, heterogeneity, params)) > 0)
    return int(n[above[0]]) if above.size else None
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
failure_message: "With the default parameters the platform pays off: break_even_models must return a whole number (int)."
""" # END TEST CONFIG
_n_star = break_even_models(0.5, ToilParams())
assert isinstance(_n_star, (int, np.integer)) and 1 <= _n_star <= 1000

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 1.5
failure_message: "break_even_models gives the wrong N* for your track's heterogeneity and parameters, or platform_roi_usd (1c), which N* rests on, disagrees with the reference."
""" # END TEST CONFIG
from labtools.grading.reference_checks import check_break_even_on_track, check_roi
assert check_roi(platform_roi_usd, TRACK) and check_break_even_on_track(break_even_models, TRACK)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 1
failure_message: "break_even_models counts an exact tie (ROI = 0) as break-even, or misses None when the platform never pays off (use a strict > 0); or platform_roi_usd (1c), which N* rests on, disagrees with the reference."
""" # END TEST CONFIG
from labtools.grading.reference_checks import check_break_even_edges, check_roi
assert check_roi(platform_roi_usd, TRACK) and check_break_even_edges(break_even_models)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 0.5
failure_message: "break_even_models is wrong for other heterogeneities (N* should fall as h rises), or platform_roi_usd (1c), which N* rests on, disagrees with the reference."
""" # END TEST CONFIG
from labtools.grading.reference_checks import check_break_even_sweep, check_roi
assert check_roi(platform_roi_usd, TRACK) and check_break_even_sweep(break_even_models)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ### OpsBreakEvenPlot
#
# The figure below draws **your** functions at your track's values, with manual toil split
# into its three terms so you can see which one explodes. The workbench after it adds
# sliders for $N$ and $h$ and the Math Peek toggle.

# %%
from opsmodel.instruments import OpsBreakEvenPlot, roi_workbench


def manual_toil_usd(n_models, heterogeneity, params=ToilParams()):
    """Your manual toil in dollars over the horizon, from your ROI (the workbench draws it)."""
    roi = np.asarray(platform_roi_usd(n_models, heterogeneity, params))
    return roi + np.asarray(platform_cost_usd(n_models, params))


your_break_even = break_even_models(track.heterogeneity, track.toil_params)
OpsBreakEvenPlot.for_track(
    track,
    manual_toil_hours=manual_toil_hours,
    platform_cost_usd=platform_cost_usd,
    break_even_models=break_even_models,
)

# %%
roi_workbench(
    track,
    manual_toil_usd=manual_toil_usd,
    platform_cost_usd=platform_cost_usd,
    break_even_models=break_even_models,
)

# %%
print(f"Your lock: {lock_break_even_models} models.  Your function: N* = {your_break_even}.")
for h in (0.0, 0.5, 1.0):
    print(f"  h = {h:.1f}: N* = {break_even_models(h, track.toil_params)}")

# %% [raw]
# # BEGIN QUESTION
# name: r1_heterogeneity
# manual: true
# points: 3

# %% [markdown]
# **Reflection 1.** Patterson asks: *"Why does heterogeneity ($O(N^2)$) kill productivity
# faster than simple scale ($O(N)$)?"* Answer in 3 to 6 sentences, referring to dependency
# entanglement and to what your plot shows for your track.

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# Alert triage grows with each model, but dependencies grow with each *pair* of models of
# different types: at $h$ near 1, $N(N-1)/2$ interfaces must be coordinated, so doubling the
# fleet roughly quadruples that work. Each cross-type pair is a place where changing anything
# changes everything (CACE): a retrained embedding shifts every consumer. In the plot the
# dependency band overtakes alerts within a few dozen models and drives $N^*$ down as $h$
# rises, so a heterogeneous fleet needs the platform sooner than a larger homogeneous one.

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [markdown]
# ---
# # Part 2: The Canary Duration
#
# A new model runs in **shadow mode**: it sees a copy of live traffic, its answers are logged
# but not served. If it fails on none of $n$ requests, how sure can we be that its failure
# rate is below $p$? Each request passes with probability at most $1-p$ if the rate were
# $p$ or worse, so seeing $n$ passes has probability at most $(1-p)^n$. We are confident at
# level $C$ once $(1-p)^n \le 1 - C$.

# %%
print(f"Safety Lead's target for {track.name}: rule out a failure rate above "
      f"{track.p_max:g} with {track.confidence:.1%} confidence.")
print(f"Requests reaching the model: {track.request_rate_per_s:g}/s; "
      f"mirrored to shadow today: {track.shadow_fraction:.2%}; release cycle: {track.release_cycle_hours:g} h.")

# %% [raw]
# # BEGIN QUESTION
# name: lock_part2
# points: 1

# %% [markdown]
# **Lock 2.** To be 95% confident that a new model has not regressed on a 1-in-1,000 edge case,
# how many live requests must it see in shadow mode with no failure? Set
# `lock_shadow_requests` to a whole number (`int`) from 1 to 100,000,000.

# %% [raw]
# # BEGIN SOLUTION

# %%
lock_shadow_requests = 1000  # SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 1
failure_message: "lock_shadow_requests must be a whole number from 1 to 100,000,000."
""" # END TEST CONFIG
assert isinstance(lock_shadow_requests, int) and not isinstance(lock_shadow_requests, bool)
assert 1 <= lock_shadow_requests <= 100_000_000

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q2a_zero_failure
# points: 3

# %% [markdown]
# **2a.** Implement `zero_failure_sample_size(p_max, confidence)`: the smallest whole $n \ge 1$
# with $(1 - p_{max})^n \le 1 - C$, returned as a Python `int` (not the `float` that
# `np.ceil` gives). Mind floating point: when $\ln(1-C)/\ln(1-p)$ lies within $10^{-9}$
# (relative) of a whole number, that number is the answer. (`np.log1p(-x)` computes
# $\ln(1-x)$ accurately for small $x$.)

# %% [raw]
# # BEGIN SOLUTION

# %%
def zero_failure_sample_size(p_max, confidence):
    """Smallest n >= 1 with (1 - p_max) ** n <= 1 - confidence."""
    # BEGIN SOLUTION
    ratio = np.log1p(-confidence) / np.log1p(-p_max)
    nearest = round(ratio)
    if nearest >= 1 and abs(ratio - nearest) <= 1e-9 * max(1.0, abs(ratio)):
        return int(nearest)
    return max(1, int(np.ceil(ratio)))
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
failure_message: "zero_failure_sample_size must return a whole number (int) of requests."
""" # END TEST CONFIG
assert isinstance(zero_failure_sample_size(0.01, 0.9), (int, np.integer))

# %%
""" # BEGIN TEST CONFIG
points: 0
failure_message: "The rule of three says about 3/p requests for 95%: your answer is far from it."
""" # END TEST CONFIG
assert 2_500 <= zero_failure_sample_size(0.001, 0.95) <= 3_500

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 1.5
failure_message: "zero_failure_sample_size is wrong for your track's target (p_max, confidence) or for targets next to it."
""" # END TEST CONFIG
from labtools.grading.reference_checks import check_sample_size_on_track
assert check_sample_size_on_track(zero_failure_sample_size, TRACK)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 0.75
failure_message: "zero_failure_sample_size is off by one at an exact boundary (for example p = 0.99, C = 0.9999 needs 2). Snap ratios within 1e-9 of a whole number."
""" # END TEST CONFIG
from labtools.grading.reference_checks import check_sample_size_boundaries
assert check_sample_size_boundaries(zero_failure_sample_size)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 0.75
failure_message: "zero_failure_sample_size is wrong on some random (p_max, confidence) pairs."
""" # END TEST CONFIG
from labtools.grading.reference_checks import check_sample_size_random
assert check_sample_size_random(zero_failure_sample_size)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q2b_shadow_hours
# points: 2

# %% [markdown]
# **2b.** Implement `shadow_hours(n_requests, request_rate_per_s, shadow_fraction)`: the hours
# (a `float`) of shadow mode needed to see `n_requests` when a fraction `shadow_fraction` of
# the `request_rate_per_s` requests per second is mirrored to the new model.

# %% [raw]
# # BEGIN SOLUTION

# %%
def shadow_hours(n_requests, request_rate_per_s, shadow_fraction=1.0):
    """Hours of shadow traffic needed to observe n_requests."""
    # BEGIN SOLUTION
    return float(n_requests / (request_rate_per_s * 3600.0 * shadow_fraction))
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
failure_message: "3600 requests at 1 request per second, all mirrored, take one hour."
""" # END TEST CONFIG
assert np.isclose(shadow_hours(3600, 1.0, 1.0), 1.0)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 2
failure_message: "shadow_hours disagrees with the reference: hours = n / (rate x 3600 x fraction)."
""" # END TEST CONFIG
from labtools.grading.reference_checks import check_shadow_hours
assert check_shadow_hours(shadow_hours, TRACK)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ### The 10-iteration rule
#
# The Safety Lead wants your track's confidence target; Product wants a release every week.
# Shadow mode exposes no user, but your track can mirror at most `track.max_shadow_fraction`
# of its traffic, and at that cap shadow alone takes longer than the week. A staged live
# rollout (1% → 5% → 25% → 100%, 24 h a stage) after a shadow window is much faster, but if
# the new model fails at `p_max`, about `p_max × live requests` users meet a failure, and the
# Safety Lead accepts at most `track.live_failure_budget` of them. So the shadow window must
# be long enough for the Safety Lead and short enough for the week.
#
# Each `planner.try_plan(shadow_fraction=..., staged=StagedRollout(start_hours=...))` (leave
# out `staged` for shadow only; `start_hours` is the shadow duration) prints its verdict:
# FEASIBLE, or OVER CAPACITY / TOO SLOW / TOO RISKY. The cell below prints your rules and
# tries the starting plan (try 1 of 10).

# %%
from opsmodel.canary_planner import CanaryPlanner, StagedRollout

planner = CanaryPlanner(
    track, zero_failure_sample_size=zero_failure_sample_size, shadow_hours=shadow_hours
)
print(planner.rules())
planner.try_plan(shadow_fraction=track.shadow_fraction)

# %% [raw]
# # BEGIN QUESTION
# name: q2c_canary_plan
# points: 2

# %% [markdown]
# **2c.** Find the shadow duration: try plans (at most 10 tries in all, the starting plan
# included) until one is FEASIBLE, then set `canary_plan = planner.final_plan()` (a dict: the
# first feasible try). A systematic search beats guessing: at the capacity cap, a start that is
# TOO RISKY needs a longer shadow window, one that is TOO SLOW a shorter one.

# %% [raw]
# # BEGIN SOLUTION

# %%
# BEGIN SOLUTION
cap = track.max_shadow_fraction
low, high = 0.0, track.release_cycle_hours
while not planner.attempts[-1].feasible and len(planner.attempts) < 10:
    start = (low + high) / 2
    attempt = planner.try_plan(shadow_fraction=cap, staged=StagedRollout(start_hours=start))
    if attempt.expected_live_failures > track.live_failure_budget:
        low = start  # too risky: more evidence from shadow before going live
    elif attempt.hours > track.release_cycle_hours:
        high = start  # too slow: go live earlier
# END SOLUTION
canary_plan = planner.final_plan()
canary_plan

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
failure_message: "canary_plan must be the dict returned by planner.final_plan()."
""" # END TEST CONFIG
assert isinstance(canary_plan, dict) and {"shadow_fraction", "requests", "hours", "iteration"} <= set(canary_plan)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 2
failure_message: "Your canary plan is not feasible when checked with the reference sample size and shadow hours (the target within one release cycle, the shadow fraction within capacity, the expected live failures within budget), or took more than 10 tries."
""" # END TEST CONFIG
from labtools.grading.reference_checks import check_canary_plan
assert check_canary_plan(canary_plan, TRACK)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ### ShadowModeDashboard
#
# The Confidence Clock shows the confidence reached hour by hour at your starting shadow
# fraction, and for a staged rollout that goes live at once (fast; the live failure budget
# rules it out). The Risk-vs-Velocity Radar compares the fractions you tried as shadow alone.
# The last panel shows the sequential test of the next section beside the fixed-$n$ bound.

# %%
from opsmodel.instruments import CanaryPlan, ShadowModeDashboard, canary_workbench

your_plans = tuple(
    CanaryPlan(f"try {a.iteration}", a.shadow_fraction, track.confidence, track.p_max,
               track.request_rate_per_s)
    for a in planner.attempts
)
ShadowModeDashboard.for_track(
    track,
    zero_failure_sample_size=zero_failure_sample_size,
    shadow_hours=shadow_hours,
    plans=your_plans,
)

# %%
canary_workbench(track, zero_failure_sample_size=zero_failure_sample_size, shadow_hours=shadow_hours)

# %%
print(f"Your lock: {lock_shadow_requests} requests.  "
      f"Your function: {zero_failure_sample_size(0.001, 0.95)} (the rule of three says 3/p = 3000).")

# %% [markdown]
# ### Sequential validation (Wald's SPRT)
#
# A fixed-$n$ test waits for all $n$ requests. Wald's sequential probability ratio test looks
# after every request: with $d$ failures in $n$ requests, it rolls back when the
# log-likelihood ratio of "regressed" ($p_1$) against "fine" ($p_0$) crosses
# $\ln\frac{1-\beta}{\alpha}$ and promotes when it falls below $\ln\frac{\beta}{1-\alpha}$.
# In failure counts these are two parallel lines.

# %%
from opsmodel.sprt import sprt_boundaries, sprt_decision, sprt_simulate

boundaries = sprt_boundaries(track.p0, track.p1)
print(boundaries)
for p_true in (track.p0, track.p1):
    sim = sprt_simulate(p_true, track.p0, track.p1, runs=20_000, seed=1)
    print(f"true p = {p_true:g}: {sim.summary()}")

# %% [raw]
# # BEGIN QUESTION
# name: q2d_sprt_lines
# points: 2

# %% [markdown]
# **2d.** At the checkpoint of `sprt_checkpoint` requests (the cell below sets it to
# `track.sprt_checkpoint_requests`, about $k/p_0$: the requests by which a fine model expects
# $k$ = `track.sprt_checkpoint_failures` failures), set two `int`s for the SPRT with
# `alpha=0.05, beta=0.20`:
# - `sprt_promote_max_failures`: the **largest** number of failures at which it promotes
#   (`-1` if no failure count promotes);
# - `sprt_rollback_min_failures`: the **smallest** number at which it rolls back.
#
# Use `boundaries` (above) or `sprt_decision(failures, n, p0, p1, alpha=0.05, beta=0.20)`,
# which returns `"promote"`, `"rollback"` or `"continue"`.

# %% [raw]
# # BEGIN SOLUTION

# %%
sprt_checkpoint = track.sprt_checkpoint_requests
# BEGIN SOLUTION
decisions = [sprt_decision(d, sprt_checkpoint, track.p0, track.p1) for d in range(0, 200)]
sprt_promote_max_failures = max([d for d, v in enumerate(decisions) if v == "promote"], default=-1)
sprt_rollback_min_failures = min(d for d, v in enumerate(decisions) if v == "rollback")
# END SOLUTION
print(sprt_checkpoint, sprt_promote_max_failures, sprt_rollback_min_failures)

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
failure_message: "The rollback count must be larger than the promote count."
""" # END TEST CONFIG
assert int(sprt_rollback_min_failures) > int(sprt_promote_max_failures)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 2
failure_message: "The promote/rollback failure counts disagree with the SPRT decision at the checkpoint for your track's p0 and p1."
""" # END TEST CONFIG
from labtools.grading.reference_checks import check_sprt_lines
assert check_sprt_lines(sprt_promote_max_failures, sprt_rollback_min_failures, TRACK)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: r2_sequential
# manual: true
# points: 3

# %% [markdown]
# **Reflection 2.** Jeff Dean observes: *"Your shadow window is longer than your release
# cycle. By the time you deploy, the world has already drifted."* Propose a
# sequential-validation strategy that speeds up the loop. Name the test, its error rates,
# when it stops, and what it costs you.

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# Replace the fixed window with Wald's SPRT on shadow failures: H0 p = p0, H1 p = p1, alpha
# 5%, beta 20%. After each request compare the LLR with ln((1-beta)/alpha) and
# ln(beta/(1-alpha)): a good model is promoted after about half the fixed-n requests on
# average, a regressed one is rolled back early. Combine it with the staged rollout
# (1% -> 5% -> 25% -> 100%) so exposure grows only as evidence accrues. The cost: a
# variable, sometimes longer, window and a guarantee only for the p0/p1 pair chosen.

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [markdown]
# ---
# # Part 3: The Ensemble Lockdown
#
# In your track's ensemble an upstream model feeds features to a downstream one (the next cell
# names both). The Software Lead wants to deploy a new upstream version tonight without
# retraining downstream.

# %%
print(f"Upstream: {track.upstream_model}  ->  downstream: {track.downstream_model}")

# %% [raw]
# # BEGIN QUESTION
# name: lock_part3
# points: 1

# %% [markdown]
# **Lock 3.** If you update the upstream extractor to a version that is better on its own,
# without retraining the downstream classifier, what happens to system accuracy? Set
# `lock_accuracy_change` to `"drops"`, `"stays"` or `"rises"`.

# %% [raw]
# # BEGIN SOLUTION

# %%
lock_accuracy_change = "rises"  # SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 1
failure_message: "lock_accuracy_change must be one of 'drops', 'stays', 'rises'."
""" # END TEST CONFIG
assert lock_accuracy_change in ("drops", "stays", "rises")

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q3a_psi
# points: 3

# %% [markdown]
# **3a.** Implement the Population Stability Index `psi(reference, current, n_bins=10)` of one
# feature, returned as a `float`:
# - bin edges from the **reference** only: the inner edges are the unique values of the
#   reference's quantiles at $k/n_{bins}$, $k = 1..n_{bins}-1$; the outer bins are open to
#   $\pm\infty$; a value $x$ falls in bin `np.searchsorted(edges, x, side="right")`;
# - $e_i$, $a_i$: the share of reference and current values in bin $i$, clipped below at
#   `eps = 1e-4` (not renormalised);
# - $\mathrm{PSI} = \sum_i (a_i - e_i) \ln(a_i / e_i)$.

# %% [raw]
# # BEGIN SOLUTION

# %%
def psi(reference, current, n_bins=10):
    """Population Stability Index of one feature, bins from the reference."""
    # BEGIN SOLUTION
    reference = np.asarray(reference, dtype=float)
    current = np.asarray(current, dtype=float)
    edges = np.unique(np.quantile(reference, np.arange(1, n_bins) / n_bins))
    n_cells = edges.size + 1
    expected = np.bincount(np.searchsorted(edges, reference, side="right"), minlength=n_cells)
    actual = np.bincount(np.searchsorted(edges, current, side="right"), minlength=n_cells)
    e = np.clip(expected / reference.size, 1e-4, None)
    a = np.clip(actual / current.size, 1e-4, None)
    return float(np.sum((a - e) * np.log(a / e)))
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
failure_message: "A feature compared with itself has PSI 0."
""" # END TEST CONFIG
_x = np.linspace(0, 1, 500)
assert abs(psi(_x, _x)) < 1e-12

# %%
""" # BEGIN TEST CONFIG
points: 0
failure_message: "A shifted feature must have a positive PSI."
""" # END TEST CONFIG
assert psi(np.arange(1, 101), np.arange(31, 131), n_bins=4) > 0.1

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 1.5
failure_message: "psi disagrees with the reference on a worked example. Check the bin edges (reference quantiles, unique), side='right', and the eps clipping."
""" # END TEST CONFIG
from labtools.grading.reference_checks import check_psi_examples
assert check_psi_examples(psi)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 1.5
failure_message: "psi disagrees with the reference on random features (other sizes, shifts and n_bins)."
""" # END TEST CONFIG
from labtools.grading.reference_checks import check_psi_random
assert check_psi_random(psi)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q3b_skew_check
# points: 3

# %% [markdown]
# **3b.** Implement `skew_check(train_features, serving_features, train_contract,
# serving_contract, psi_threshold=0.25)` for 2-D feature arrays (rows are requests, columns
# features). Return a dict with keys `"psi"` (list of per-feature PSI), `"max_psi"`,
# `"contract_ok"` (the contracts' `contract_hash` values agree) and `"skewed"` (any PSI at or
# above the threshold, or a contract mismatch).

# %% [raw]
# # BEGIN SOLUTION

# %%
def skew_check(train_features, serving_features, train_contract, serving_contract,
               psi_threshold=0.25):
    """Training-serving skew: per-feature PSI plus the feature contract check."""
    # BEGIN SOLUTION
    train = np.asarray(train_features, dtype=float).reshape(len(train_features), -1)
    serving = np.asarray(serving_features, dtype=float).reshape(len(serving_features), -1)
    values = [psi(train[:, j], serving[:, j]) for j in range(train.shape[1])]
    contract_ok = contract_hash(train_contract) == contract_hash(serving_contract)
    max_psi = max(values)
    return {
        "psi": values,
        "max_psi": max_psi,
        "contract_ok": contract_ok,
        "skewed": (max_psi >= psi_threshold) or not contract_ok,
    }
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
failure_message: "skew_check must return a dict with keys psi, max_psi, contract_ok, skewed."
""" # END TEST CONFIG
_f = np.random.default_rng(0).normal(size=(300, 2))
_r = skew_check(_f, _f, {"v": 1}, {"v": 1})
assert {"psi", "max_psi", "contract_ok", "skewed"} <= set(_r)
assert _r["skewed"] is False or _r["skewed"] == False  # noqa: E712

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 2
failure_message: "skew_check gives the wrong PSI values or verdict on the ensemble's features (rotated upstream, sign flip, identical)."
""" # END TEST CONFIG
from labtools.grading.reference_checks import check_skew_on_ensemble
assert check_skew_on_ensemble(skew_check, TRACK)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 1
failure_message: "skew_check must flag a contract mismatch even when every PSI is tiny, and use the psi_threshold it is given."
""" # END TEST CONFIG
from labtools.grading.reference_checks import check_skew_contracts
assert check_skew_contracts(skew_check)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ### Ensemble Trace: proving the silent failure
#
# Pick the upstream version and whether downstream is retrained. The trace shows the accuracy
# at each stage and your `skew_check`'s verdict. `v1-signflip` is a "harmless refactor"
# that flips the sign of every feature.

# %%
from opsmodel.ensemble import run_ensemble
from opsmodel.instruments import EnsembleTrace, ensemble_workbench

for version in ("v1", "v2", "v1-signflip"):
    print(EnsembleTrace.for_track(track, version, False, skew_check=skew_check).summary()["verdict"])

# %%
EnsembleTrace.for_track(track, "v2", False, skew_check=skew_check)

# %%
_v2 = run_ensemble("v2", retrain=False, seed=track.ensemble_seed)
print(f"Your lock: accuracy {lock_accuracy_change}.  The trace: v2 alone probes at "
      f"{_v2.probe_accuracy:.1%}, yet the un-retrained system falls from "
      f"{_v2.baseline_accuracy:.1%} to {_v2.system_accuracy:.1%}.")

# %%
ensemble_workbench(track, skew_check=skew_check)

# %% [raw]
# # BEGIN QUESTION
# name: q3c_verdicts
# points: 2

# %% [markdown]
# **3c.** For each upstream change deployed **without** retraining, record what happens as a
# dict `{"silent_failure": True or False, "caught_by": "..."}` (`verdict_v2` and
# `verdict_signflip`; the cell collects them in the dict `ensemble_verdicts`).
# `silent_failure`: does system accuracy fall below the v1 baseline by more than 5 points?
# `caught_by`: which check flags it: `"psi"` (some PSI >= 0.25 while the contract matches),
# `"contract"` (only the contract check), `"both"` or `"neither"`.

# %% [raw]
# # BEGIN SOLUTION

# %%
# BEGIN SOLUTION
def _verdict(version):
    run = run_ensemble(version, retrain=False, seed=track.ensemble_seed,
                       upstream_name=track.upstream_model, downstream_name=track.downstream_model)
    report = skew_check(run.train_features, run.serving_features,
                        run.train_contract, run.serving_contract)
    drifted = report["max_psi"] >= 0.25
    caught = {(True, False): "both", (True, True): "psi",
              (False, False): "contract", (False, True): "neither"}[(drifted, report["contract_ok"])]
    return {"silent_failure": run.system_accuracy < run.baseline_accuracy - 0.05, "caught_by": caught}
# END SOLUTION
verdict_v2 = _verdict("v2")  # SOLUTION
verdict_signflip = _verdict("v1-signflip")  # SOLUTION
ensemble_verdicts = {"v2": verdict_v2, "v1-signflip": verdict_signflip}
ensemble_verdicts

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
failure_message: "ensemble_verdicts needs the keys 'v2' and 'v1-signflip', each a dict with silent_failure and caught_by."
""" # END TEST CONFIG
assert set(ensemble_verdicts) == {"v2", "v1-signflip"}
assert all({"silent_failure", "caught_by"} <= set(v) for v in ensemble_verdicts.values())

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 2
failure_message: "At least one verdict disagrees with what the reference ensemble and skew check show for your track."
""" # END TEST CONFIG
from labtools.grading.reference_checks import check_ensemble_verdicts
assert check_ensemble_verdicts(ensemble_verdicts, TRACK)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ---
# # Your track's ops crisis

# %%
from opsmodel.crisis_data import describe_crisis

print(describe_crisis(track))

# %% [raw]
# # BEGIN QUESTION
# name: q4_crisis
# points: 3

# %% [markdown]
# **4.** Resolve your track's crisis as `describe_crisis` (printed above) asks, and store the
# answer in `crisis_answer`, in the type and form it names. The data come from
# `crisis_inputs(track)` in `opsmodel.crisis_data` (a dict); `opsmodel.bounds` has
# `clopper_pearson_upper(k, n, confidence)` and `clopper_pearson_lower(k, n, confidence)`,
# and `scipy.stats` is imported as `stats`.

# %% [raw]
# # BEGIN SOLUTION

# %%
# BEGIN SOLUTION
from opsmodel.crisis_data import crisis_inputs
from opsmodel.bounds import clopper_pearson_lower, clopper_pearson_upper

inputs = crisis_inputs(track)
if track.key == "cloud_titan":
    q = inputs["false_alerts_per_day_budget"] / (
        inputs["n_models"] * inputs["metrics_per_model"] * inputs["checks_per_day"])
    crisis_answer = float(stats.norm.isf(q))
elif track.key == "edge_guardian":
    def _decide(k, n):
        if clopper_pearson_upper(k, n, inputs["confidence"]) <= inputs["exceedance_max"]:
            return "promote"
        if clopper_pearson_lower(k, n, inputs["confidence"]) > inputs["exceedance_max"]:
            return "rollback"
        return "rollback"  # still undecided at the end of the window: fail safe
    decisions = {hw: _decide(k, n) for hw, (k, n) in inputs["over_budget_counts"].items()}
    crisis_answer = {"decisions": decisions,
                     "fleet_rollback": any(v == "rollback" for v in decisions.values())}
elif track.key == "mobile_nomad":
    regions = inputs["fps_samples"]
    k = len(regions)
    crisis_answer = sorted(
        name for name, (before, after) in regions.items()
        if np.mean(after) <= (1 - inputs["regression_fraction"]) * np.mean(before)
        and stats.ttest_ind(before, after, equal_var=False, alternative="greater").pvalue
        <= inputs["alpha"] / k
    )
else:
    crisis_answer = sorted(m.consumer for m in inputs["feature_store"].consistency_check())
# END SOLUTION
crisis_answer

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
failure_message: "crisis_answer is not set yet, or not in the form describe_crisis names."
""" # END TEST CONFIG
assert crisis_answer is not None and crisis_answer is not Ellipsis

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 3
failure_message: "crisis_answer disagrees with the reference analysis of your track's crisis data."
""" # END TEST CONFIG
from labtools.grading.reference_checks import check_crisis_answer
assert check_crisis_answer(crisis_answer, TRACK)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ---
# # The Governance Ledger
#
# Defend your final governance policy: **loose versioning** (consumers follow the latest
# upstream) or **strict immutable contracts** (every feature version is immutable, consumers
# pin the contract hash they were trained on, serving refuses a mismatch).

# %% [raw]
# # BEGIN QUESTION
# name: r3_ledger
# manual: true
# points: 4

# %% [markdown]
# **Ledger justification.** In 60 to 200 words, justify your policy with the
# **Training-Serving Skew Invariant** (*a model is only valid on the feature distribution and
# definition it was trained on*), citing your own evidence: your N*, your canary plan, and
# the ensemble trace.

# %% [raw]
# # BEGIN SOLUTION

# %%
ledger_justification = """
# BEGIN SOLUTION
I choose strict immutable contracts. The Training-Serving Skew Invariant says a model is
only valid on the feature distribution and the feature definition it was trained on. The
ensemble trace shows both ways to break it: the v2 extractor is better on its own, yet the
classifier that was not retrained drops to near chance, and PSI flags the shift. The
sign-flip refactor is worse: every feature keeps its marginal distribution, PSI stays near
zero, and only the contract hash catches the change. Loose versioning would have shipped
both silently. Pinning (feature, version, hash) per consumer turns a silent failure into a
refused deployment, and the feature store's consistency check lists every stale consumer
before release. The policy costs little at our scale: we are already past the break-even
point where the platform pays for itself, and a sequential shadow test keeps the release
inside one weekly cycle, so retraining and re-pinning downstream models is affordable.
# END SOLUTION
"""

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q5_ledger
# points: 4

# %% [markdown]
# **5. The structured ledger.** Fill in every `ledger_...` field from your own results above;
# the cell collects them in the dict `governance_ledger`. `ledger_policy` is
# `"loose_versioning"` or `"strict_immutable_contracts"`; `ledger_sequential_strategy` is
# `"sprt"`, `"staged_rollout"` or `"fixed_n"`; the numbers are your `int` N*, and your canary
# plan's shadow fraction, staged rollout (`canary_plan["staged"]`, `None` for shadow only),
# requests (`int`) and hours until the target is met (`float`); `ledger_release_feasible` is a
# `bool`: whether those hours fit in one release cycle.

# %% [raw]
# # BEGIN SOLUTION

# %%
ledger_policy = "strict_immutable_contracts"  # SOLUTION
ledger_break_even_models = your_break_even  # SOLUTION
ledger_shadow_fraction = canary_plan["shadow_fraction"]  # SOLUTION
ledger_staged = canary_plan["staged"]  # SOLUTION
ledger_shadow_requests = canary_plan["requests"]  # SOLUTION
ledger_shadow_hours = canary_plan["hours"]  # SOLUTION
ledger_release_feasible = canary_plan["hours"] <= track.release_cycle_hours  # SOLUTION
ledger_sequential_strategy = "sprt"  # SOLUTION

governance_ledger = {
    "track": TRACK,
    "policy": ledger_policy,
    "break_even_models": ledger_break_even_models,
    "shadow_fraction": ledger_shadow_fraction,
    "staged": ledger_staged,
    "shadow_requests": ledger_shadow_requests,
    "shadow_hours": ledger_shadow_hours,
    "release_feasible": ledger_release_feasible,
    "sequential_strategy": ledger_sequential_strategy,
    "skew_evidence": ensemble_verdicts,
    "justification": ledger_justification,
}

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0.5
failure_message: "policy must be 'loose_versioning' or 'strict_immutable_contracts', and sequential_strategy one of 'sprt', 'staged_rollout', 'fixed_n'."
""" # END TEST CONFIG
assert governance_ledger["policy"] in ("loose_versioning", "strict_immutable_contracts")
assert governance_ledger["sequential_strategy"] in ("sprt", "staged_rollout", "fixed_n")

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 2
failure_message: "A number in the ledger (N*, shadow requests or hours, release feasibility) disagrees with the reference for your track and your canary plan."
""" # END TEST CONFIG
from labtools.grading.reference_checks import check_ledger_numbers
assert check_ledger_numbers(governance_ledger, TRACK)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 1
failure_message: "The policy is not consistent with your evidence: a silent failure that only a contract catches calls for strict immutable contracts."
""" # END TEST CONFIG
from labtools.grading.reference_checks import check_ledger_policy
assert check_ledger_policy(governance_ledger, TRACK)

# %%
""" # BEGIN TEST CONFIG
hidden: true
points: 0.5
failure_message: "The justification must be 60 to 200 words."
""" # END TEST CONFIG
from labtools.grading.reference_checks import check_ledger_length
assert check_ledger_length(governance_ledger)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## Sources
#
# Beyer et al., *Site Reliability Engineering* (2016), ch. 5 "Eliminating Toil";
# Sculley et al., "Hidden Technical Debt in Machine Learning Systems", NeurIPS 2015;
# Hanley and Lippman-Hand, "If nothing goes wrong, is everything all right?", JAMA 1983;
# Clopper and Pearson, Biometrika 1934; Wald, Ann. Math. Stat. 1945;
# Breck et al., "The ML Test Score", 2017; Dean and Barroso, "The Tail at Scale", CACM 2013;
# Yurdakul, "Statistical Properties of Population Stability Index", 2018.

# %% [markdown]
# ## Submit
# <!-- gradescope-only -->
#
# Run the cell below last. It saves the notebook, checks that the saved file is what you ran,
# and writes `ops_scale-submission.zip` (replacing any earlier one): upload that file to the
# Gradescope assignment "Operations at Scale (code)". Your written answers go to
# "Operations at Scale (written)" as the PDF your instructor describes.

# %%
import ops_lab_submit

ops_lab_submit.export(grader)
