"""Shared fixtures, built once per test run, and how the suite is split between processes.

The suite runs under pytest-xdist (``-n auto --dist loadgroup``, see pyproject.toml).
Session fixtures belong to one worker process each, so the expensive shared results (the
build of the assignment, the self-check's graded samples) are made once per run by whichever
worker asks first, under a file lock, and read back by the others from a folder of the run's
base temporary directory (or of ``$OPS_LAB_TEST_CACHE``, kept between runs, where a run
reuses the results of the same sources: keyed by a hash of the master, the samples, the
committed notebooks and the code).

Tests that share a module-scoped fixture stay in one process (an ``xdist_group`` per
module), so the fixture runs once; tests that must not run beside each other share a group;
the longest groups are handed out first.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import pickle
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import settings

from labtools.paths import REPO

T = TypeVar("T")

# The property tests draw the same examples on every run (derandomized): the suite fails for a
# change of the code, never for a lucky draw. `pytest --hypothesis-profile=explore` draws
# fresh examples each run, to search further; a failure it finds becomes a fixed test.
settings.register_profile("suite", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile("suite")

#: What a build and the graded samples are made from (the samples read the committed
#: solution notebook): a change here makes them again.
SOURCES = ("assignment", "solutions", "labtools", "opsmodel", "pyproject.toml")

#: Modules whose tests are independent and cheap to set up: their tests are spread over the
#: workers one by one. Every other module keeps its tests in one worker.
SPREAD = {
    "test_instruments",
    "test_sprt",
    "test_reference_checks",
    "test_test_runner",
    "test_kernel_calls",
    "test_opsmodel_doctests",
    "test_sample_size",
    "test_divergence",
    "test_population_stability",
    "test_contracts",
    "test_canary_planner",
    "test_crises",
    "test_crisis_data",
    "test_tracks",
    "test_toil",
    "test_bounds",
    "test_ensemble",
    "test_feature_store",
    "test_fleet_mix",
    "test_rollout",
    "test_shadow",
    "test_skew",
    "test_degraded_hosts",
}

#: Modules that run in the same worker, one after the other (none at present: a module is a
#: group of its own). Sandboxes beside each other are safe (per-job uids under file locks,
#: a cgroup each), so the degraded hosts' gradings, whose refusals are set per process,
#: spread; the sandbox's own timing tests stay together in their module's worker.
SHARED_GROUPS: dict[str, str] = {}

#: Rough seconds of each group under a parallel run's load on 2 cores: the longest are handed
#: out first, so that none starts last. Groups not named here are short.
GROUP_SECONDS = {
    # The two share the autograded course (conftest's nbgrader_autograded): the cycle makes it
    # first; the other module's regrade starts later, when it is there to copy.
    "test_nbgrader_course": 185,
    "test_nbgrader_autograde": 30,
    "test_adversarial": 160,
    "test_nbgrader_exchange": 150,
    "test_browser": 110,
    "test_impostor_audit": 80,
    "test_ta_workflow": 50,
    "test_roster": 50,
    "test_batch": 45,
    "test_selfcheck": 40,
    "test_sandbox": 25,
}


# --------------------------------------------------------------------------- once per run


def source_hash() -> str:
    """A digest of every file a build or a grading of the samples is made from."""
    digest = hashlib.sha256()
    for top in SOURCES:
        path = REPO / top
        files = [path] if path.is_file() else sorted(path.rglob("*"))
        for file in files:
            if file.is_file() and "__pycache__" not in file.parts:
                digest.update(str(file.relative_to(REPO)).encode() + b"\0")
                digest.update(file.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def shared_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder every worker of this run sees (the run's base temporary directory)."""
    kept = os.environ.get("OPS_LAB_TEST_CACHE")
    if kept:
        folder = Path(kept)
    else:
        base = tmp_path_factory.getbasetemp()
        # Under xdist each worker's base is a subfolder of the run's.
        folder = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder = folder / "shared"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def once_per_run(
    tmp_path_factory: pytest.TempPathFactory, name: str, make: Callable[[Path], T]
) -> T:
    """``make(folder)``'s result, made by the first worker that asks and read by the rest.

    ``make`` writes what it needs into ``folder`` and returns a picklable value. A worker
    that finds the lock held waits for it; one that finds no result (the first, or after a
    worker failed midway) makes it again in a fresh folder.
    """
    root = shared_folder(tmp_path_factory)
    folder, result = root / name, root / f"{name}.pickle"
    with (root / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not result.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            value = make(folder)
            partial = result.with_suffix(".partial")
            partial.write_bytes(pickle.dumps(value))
            partial.replace(result)
        return pickle.loads(result.read_bytes())


@pytest.fixture(scope="session")
def sources_key() -> str:
    return source_hash()


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory, sources_key: str):
    """A fresh build into a temporary dist (committed files untouched, no PDF, no run, no
    impostor audit: tests/test_impostor_audit.py runs that on this build), once per run.

    Tests read it and never write into it.
    """

    def make(folder: Path) -> Any:
        from labtools.release.pipeline import build

        return build(folder / "dist", write_committed=False, execute=False, pdf=False, audit=False)

    return once_per_run(tmp_path_factory, f"build-{sources_key}", make)


@pytest.fixture(scope="session")
def autograder_tests(built) -> Path:
    """The autograder's test folder (every case, hidden included)."""
    return built.autograder_source / "tests"


@pytest.fixture(scope="session")
def graded_samples(built, tmp_path_factory: pytest.TempPathFactory, sources_key: str):
    """The self-check: every sample submission graded by the built autograder zip, in a
    simulated Gradescope layout, two at a time (:func:`labtools.selfcheck.run.run_selfcheck`),
    once per run. The nbgrader course's parity test compares its scores with these."""

    def make(folder: Path) -> Any:
        from labtools.selfcheck.run import run_selfcheck

        return run_selfcheck(built.dist, build_result=built, jobs=2)

    return once_per_run(tmp_path_factory, f"selfcheck-{sources_key}", make)


@pytest.fixture(scope="session")
def nbgrader_autograded(
    autograder_tests: Path, tmp_path_factory: pytest.TempPathFactory, sources_key: str
):
    """The nbgrader course with every sample student autograded by plain ``nbgrader
    autograde`` (:func:`nbgrader_cycle.autograde_samples`), once per run. Tests copy it
    (:func:`nbgrader_cycle.copy_course`) before changing anything."""
    from nbgrader_cycle import autograde_samples

    def make(folder: Path) -> Any:
        return autograde_samples(folder / "course", autograder_tests)

    return once_per_run(tmp_path_factory, f"nbgrader-{sources_key}", make)


# --------------------------------------------------------------------------- layout


def group_of(nodeid: str) -> str | None:
    """The group a test runs in (all of a group in one worker), or None: anywhere."""
    module = nodeid.split("::", 1)[0].rsplit("/", 1)[-1].removesuffix(".py")
    if module in SPREAD:
        return None
    return SHARED_GROUPS.get(module, module)


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which reads the marks
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    groups = {id(item): group_of(item.nodeid) for item in items}
    for item in items:
        group = groups[id(item)]
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))
    # Longest groups first (a stable sort keeps each module's own order): every worker
    # collects in this order and the scheduler hands the groups out in it.
    items.sort(key=lambda item: -GROUP_SECONDS.get(groups[id(item)] or "", 0))


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: one worker a core (``$OPS_LAB_TEST_WORKERS`` overrides).

    Two a core finish no sooner on a 2-core machine (measured: the graders' kernels keep the
    cores busy) and slow the impostor audit, which must finish within its wall-time budget.
    """
    chosen = os.environ.get("OPS_LAB_TEST_WORKERS")
    return int(chosen) if chosen else len(os.sched_getaffinity(0))


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadgroup`` that reads the groups from the node ids.

    xdist (3.8) marks a group by appending ``@group`` to the node ids, through an attribute
    that pytest 9.2 no longer reads, so its own loadgroup runs every test anywhere; this
    scheduler asks :func:`group_of` instead (and still honours an ``@group`` suffix).
    """
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class GroupsByModule(LoadGroupScheduling):
        def _split_scope(self, nodeid: str) -> str:
            if nodeid.rfind("@") > nodeid.rfind("]"):
                return nodeid.rsplit("@", 1)[-1]
            return group_of(nodeid) or nodeid

    return GroupsByModule(config, log)
