"""Grading on hosts that refuse sandbox layers, as Gradescope's containers may.

Each degraded mode grades a solution through the real autograder zip in a Gradescope layout
that other users can reach (as ``/autograder`` is), with the layers turned off through
``OPS_SANDBOX_REFUSE``: the grader must make its own folders private, grade in full, and say
in its log which layers were missing. Where no safe mode exists (no other uid, no rlimits),
it must write no results at all, so that no student reads a 0 for the host's fault.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from labtools.grading.host import HostCannotGrade, check_host, make_private
from labtools.sandbox import protections as protections_module
from labtools.sandbox import refused_layers
from labtools.selfcheck.run import _mismatches, grade_in_gradescope_layout
from labtools.selfcheck.samples import sample_submissions

ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="the sandbox switches user: run as root")

# One mode per layer a container may refuse, then all of them at once (a chroot, or a
# container without CAP_SYS_ADMIN and without cgroup delegation).
DEGRADED_MODES = {
    "no-mount-namespace": ("mount_namespace",),
    "no-pid-namespace": ("pid_namespace",),
    "no-network-namespace": ("network_namespace",),
    "no-cgroups": ("cgroup",),
    "uid-and-rlimits-only": (
        "mount_namespace",
        "pid_namespace",
        "network_namespace",
        "ipc_namespace",
        "uts_namespace",
        "cgroup",
    ),
}


@pytest.fixture
def open_workdir() -> Iterator[Path]:
    # pytest's own folders are private (0700), which would hide the layout by accident:
    # open the path to it the way /autograder is open on a real image.
    base = Path(tempfile.mkdtemp(prefix="ops-open-layout-"))
    try:
        base.chmod(0o755)
        for folder in base.parents:
            if not folder.stat().st_mode & stat.S_IXOTH:
                pytest.skip(f"{folder} is not searchable by others; cannot model /autograder")
        yield base / "autograder"
    finally:
        shutil.rmtree(base)


@pytest.fixture(autouse=True)
def _fresh_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    # The probe is cached per process; these tests change what it must report.
    monkeypatch.setattr(protections_module, "_probe_cache", None)


def _solutions() -> list:
    # Graded with the plain autograder: the per-student variant samples need variants on.
    return [s for s in sample_submissions() if s.full_marks and not s.variants]


@ROOT_ONLY
@pytest.mark.slow
@pytest.mark.parametrize("mode", list(DEGRADED_MODES))
def test_each_degraded_mode_grades_the_solution_in_full(
    mode: str, built, open_workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = DEGRADED_MODES[mode]
    monkeypatch.setenv("OPS_SANDBOX_REFUSE", ",".join(refused))
    solutions = _solutions()
    sample = solutions[list(DEGRADED_MODES).index(mode) % len(solutions)]

    results = grade_in_gradescope_layout(built.autograder_zip, sample.notebook, open_workdir)

    assert _mismatches(sample, results) == (), results["output"]
    assert results["score"] == sum(t["max_score"] for t in results["tests"]) > 0
    log = (open_workdir / "run_autograder.log").read_text()
    missing = log.split("missing:", 1)[1].splitlines()[0]
    for layer in refused:
        assert f"{layer} (turned off by OPS_SANDBOX_REFUSE)" in missing, log
    # The grader took the others' permissions on its own folders before the kernel started.
    for folder in ("source", "results"):
        assert stat.S_IMODE((open_workdir / folder).stat().st_mode) & 0o077 == 0, folder


@ROOT_ONLY
@pytest.mark.slow
@pytest.mark.parametrize("layer", ["switch_user", "rlimits"])
def test_no_safe_mode_writes_no_results_and_tells_the_instructor(
    layer: str, built, open_workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPS_SANDBOX_REFUSE", layer)
    sample = _solutions()[0]
    with pytest.raises(HostCannotGrade, match=f"cannot grade safely.*without {layer}"):
        grade_in_gradescope_layout(built.autograder_zip, sample.notebook, open_workdir)
    # No results.json: Gradescope shows "the autograder failed", never a score of 0.
    assert not (open_workdir / "results" / "results.json").exists()


@ROOT_ONLY
def test_without_a_mount_namespace_a_readable_hidden_path_stops_grading(
    open_workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPS_SANDBOX_REFUSE", "mount_namespace")
    secret = open_workdir.parent / "tests"
    secret.mkdir(mode=0o755)
    (secret / "q1.py").write_text("hidden = 1\n")
    # This repository's own opsmodel is world-readable here, as in any clone: it must count.
    with pytest.raises(HostCannotGrade, match="other users can read") as raised:
        check_host([secret])
    assert str(secret) in str(raised.value)
    assert "chmod o-rwx" in str(raised.value)


@ROOT_ONLY
def test_with_a_mount_namespace_permissions_do_not_matter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPS_SANDBOX_REFUSE", raising=False)
    tmp_path.chmod(0o755)
    host = check_host([tmp_path])
    if not host.mount_namespace:
        pytest.skip("this host has no mount namespace")
    assert host.switch_user and host.rlimits


def test_make_private_takes_group_and_other_bits_only(tmp_path: Path) -> None:
    folder = tmp_path / "results"
    folder.mkdir(mode=0o755)
    folder.chmod(0o775)
    file = tmp_path / "ops_lab.json"
    file.write_text("{}")
    file.chmod(0o664)
    make_private([folder, file, tmp_path / "missing"])
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(file.stat().st_mode) == 0o600


def test_refused_layers_reads_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPS_SANDBOX_REFUSE", " cgroup, mount_namespace ,")
    assert refused_layers() == ("mount_namespace", "cgroup")  # in LAYERS order
    monkeypatch.setenv("OPS_SANDBOX_REFUSE", "mount_namespace,magic")
    with pytest.raises(ValueError, match="OPS_SANDBOX_REFUSE.*magic"):
        refused_layers()
    monkeypatch.delenv("OPS_SANDBOX_REFUSE")
    assert refused_layers() == ()


@ROOT_ONLY
def test_refused_layers_are_reported_missing_with_the_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPS_SANDBOX_REFUSE", "network_namespace")
    host = protections_module.probe_protections(refresh=True)
    assert not host.network_namespace
    assert dict(host.reasons)["network_namespace"] == "turned off by OPS_SANDBOX_REFUSE"
