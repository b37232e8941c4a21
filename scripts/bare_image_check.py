"""On demand: install the autograder zip on bare Debian roots and grade the sample submissions.

What it proves: the zip's own ``setup.sh`` builds a working grader on an image that has
nothing installed (``debootstrap --variant=minbase``: no Python, no CA certificates), with
the Python and pip of that release, and ``run_autograder`` then grades each sample
submission to exactly the scores the self-check expects (question by question, with the
self-check's own comparison). The self-check never runs ``setup.sh``; this does.

Roots (``--roots``, default all):

- ``bookworm``: Debian 12, Python 3.11, pip 23.0 in new venvs;
- ``trixie``: Debian 13, Python 3.13, an externally managed system Python;
- ``bookworm-oldpip``: Debian 12 whose bundled pip wheel (the one ``python3 -m venv``
  installs) is replaced by pip 22.0.4, standing in for Ubuntu 22.04's pip 22.0, which
  predates ``--break-system-packages``.

Each root is a chroot: the sandbox finds no mount namespace there and runs in its degraded
mode (file permissions hide the reference), as in a container that refuses namespaces.

Run as root, from the repository, after ``.venv/bin/ops-lab build``::

    .venv/bin/python scripts/bare_image_check.py [--roots bookworm,trixie] [--samples 'solution-*']

``--cpus 0.5`` grades under a CPU quota, as Gradescope's default share. Pristine roots are
cached as tarballs in ``--cache`` (``/var/tmp/ops-bare-roots``): the first run debootstraps
(half a minute each here), later ones unpack. Every run starts from the pristine root and
deletes it afterwards (``--keep`` keeps it, unmounted). The summary gives per root the
debootstrap, unpack, "prepare" (the old-pip swap) and ``setup.sh`` times, the pip versions
``setup.sh`` printed (the venv's own, then upgraded) and the root's size; per sample the
score, the expected score, the wall time and the peak resident memory of the grading's
process tree. Logs, each ``results.json`` and the summary land in ``CACHE/reports/<time>/``.
Exit status: 0 when every root installed and every sample got its expected scores, 1
otherwise, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import nbformat  # noqa: E402

from labtools.grading.roster import ROSTER_FILE  # noqa: E402
from labtools.grading.variant_codes import (  # noqa: E402
    VARIANTS_FILE,
    read_course_secret,
    write_course_variants,
)
from labtools.paths import DIST, NOTEBOOK_NAME  # noqa: E402
from labtools.selfcheck.run import _mismatches  # noqa: E402
from labtools.selfcheck.samples import (  # noqa: E402
    SAMPLE_ROSTER,
    SAMPLE_SECRET,
    SampleSubmission,
    sample_submissions,
)

DEFAULT_CACHE = Path("/var/tmp/ops-bare-roots")
DEFAULT_MIRROR = "http://deb.debian.org/debian"
OLD_PIP = "22.0.4"
# Inside the root: a login shell's PATH, nothing else from this machine unless passed on.
ROOT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SETUP_TIMEOUT_S = 1800
GRADE_TIMEOUT_S = 1200


@dataclass(frozen=True)
class Target:
    name: str
    suite: str
    old_pip: str | None = None


TARGETS = {
    t.name: t
    for t in (
        Target("bookworm", "bookworm"),
        Target("trixie", "trixie"),
        Target("bookworm-oldpip", "bookworm", old_pip=OLD_PIP),
    )
}


@dataclass
class SampleRun:
    name: str
    score: float | None
    expected: float | None
    elapsed_s: float
    peak_rss_mib: float
    mismatches: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return self.score is not None and not self.mismatches


@dataclass
class RootRun:
    target: Target
    debootstrap_s: float | None = None
    debootstrap_cached: bool = False
    unpack_s: float | None = None
    prepare_s: float | None = None
    setup_s: float | None = None
    setup_rc: int | None = None
    python: str = "?"
    pip_versions: list[str] = field(default_factory=list)
    disk_mib: float | None = None
    problems: list[str] = field(default_factory=list)
    samples: list[SampleRun] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and self.setup_rc == 0 and all(s.ok for s in self.samples)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --------------------------------------------------------------------------- mounts


def mounts_under(path: Path) -> list[str]:
    """Mount points at or below ``path``, in the order they were mounted."""
    prefix = str(path.resolve())
    found = []
    with open("/proc/self/mountinfo") as fh:
        for line in fh:
            target = line.split()[4].replace("\\040", " ")
            if target == prefix or target.startswith(prefix + "/"):
                found.append(target)
    return found


def unmount_all(root: Path) -> list[str]:
    """Unmount everything below ``root``, last mounted first; return what stays mounted."""
    for _ in range(3):
        remaining = mounts_under(root)
        if not remaining:
            break
        for target in reversed(remaining):
            subprocess.run(["umount", target], check=False, capture_output=True)
    left = mounts_under(root)
    for target in left:
        log(f"still mounted, not unmounted: {target}")
    return left


def safe_remove(path: Path) -> None:
    """Delete a root, never while anything below it is mounted (that would be the host's)."""
    if not path.exists():
        return
    if unmount_all(path):
        raise RuntimeError(f"refusing to delete {path}: something below it is still mounted")
    shutil.rmtree(path)


def mount_host_trees(root: Path) -> None:
    """What a container has: /proc, /sys with the cgroup controllers, /dev, /dev/pts, /dev/shm."""

    def bind(source: str, recursive: bool = False) -> None:
        target = root / source.lstrip("/")
        target.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["mount", "--rbind" if recursive else "--bind", source, str(target)], check=True
        )
        # Unmounting our copies must never propagate back to the host's mounts.
        subprocess.run(["mount", "--make-rslave", str(target)], check=True)

    bind("/proc")
    bind("/sys")
    # cgroup v1 mounts each controller under /sys/fs/cgroup: the sandbox's limits need them.
    bind("/sys/fs/cgroup", recursive=True)
    bind("/dev")
    bind("/dev/pts")
    # A private /dev/shm, as docker gives each container (64 MiB by default).
    shm = root / "dev/shm"
    shm.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64m,mode=1777", "shm", str(shm)], check=True
    )


def processes_in(root: Path) -> list[int]:
    """Processes whose root directory is ``root`` (left behind by a command in the chroot)."""
    found = []
    real = str(root.resolve())
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.readlink(entry / "root") == real:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def end_leftovers(root: Path) -> None:
    for pid in processes_in(root):
        log(f"ending leftover process {pid} in {root}")
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


# --------------------------------------------------------------------------- running


class CpuShare:
    """A cpu cgroup with a quota, standing in for Gradescope's CPU setting (0.5 by default).

    Only gradings run in it. The sandbox moves the kernel into memory and pids cgroups of
    its own, never cpu ones, so the quota covers the grader and the kernel together.
    """

    def __init__(self, cpus: float) -> None:
        base = Path("/sys/fs/cgroup")
        name = f"ops-bare-check-{os.getpid()}"
        period = 100_000
        quota = max(1000, int(cpus * period))
        if (base / "cgroup.controllers").is_file():  # cgroup v2
            self.path = base / name
            self.path.mkdir()
            (self.path / "cpu.max").write_text(f"{quota} {period}")
        else:
            self.path = base / "cpu" / name
            self.path.mkdir()
            (self.path / "cpu.cfs_period_us").write_text(str(period))
            (self.path / "cpu.cfs_quota_us").write_text(str(quota))

    def add(self, pid: int) -> None:
        (self.path / "cgroup.procs").write_text(str(pid))

    def remove(self) -> None:
        try:
            self.path.rmdir()
        except OSError as exc:
            log(f"could not remove {self.path}: {exc}")


def passthrough_env() -> dict[str, str]:
    """This machine's trust and pip settings that the root needs to reach PyPI.

    Variables that name folders of this machine (local wheel folders and indexes) stay out:
    the root has no such folders, and Gradescope reaches PyPI itself.
    """
    keep: dict[str, str] = {}
    for key, value in os.environ.items():
        upper = key.upper()
        local = value.startswith(("/", "file:")) and not value.startswith("/etc/ssl")
        if upper.startswith("PIP_") and upper not in {"PIP_REQUIRE_VIRTUALENV", "PIP_USER"}:
            if not local:
                keep[key] = value
        elif upper in {"SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"}:
            keep[key] = value
        elif upper in {"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"}:
            keep[key] = value
    return keep


def _rss_of_tree(top: int, page: int) -> int:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            parents[int(entry)] = int(fields[1])
        except (OSError, IndexError, ValueError):
            continue
    tree, frontier = {top}, [top]
    children: dict[int, list[int]] = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    while frontier:
        for child in children.get(frontier.pop(), []):
            if child not in tree:
                tree.add(child)
                frontier.append(child)
    total = 0
    for pid in tree:
        try:
            with open(f"/proc/{pid}/statm") as fh:
                total += int(fh.read().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue
    return total


def run_in_root(
    root: Path,
    script: str,
    env: dict[str, str],
    log_path: Path,
    *,
    timeout_s: float,
    echo: tuple[str, ...] = (),
    cpu: CpuShare | None = None,
) -> tuple[int, float, float, list[str]]:
    """Run ``bash -c script`` in the chroot with a clean environment.

    Returns the exit status, the wall time, the peak resident memory of the whole process
    tree in MiB (sampled every 0.2 s, shared pages counted once per process: an upper
    bound) and the output's lines. Lines starting with one of ``echo`` are shown as they come.
    """
    cmd = [
        "chroot",
        str(root),
        "/usr/bin/env",
        "-i",
        f"PATH={ROOT_PATH}",
        "HOME=/root",
        "LANG=C.UTF-8",
        *(f"{k}={v}" for k, v in sorted(env.items())),
        "/bin/bash",
        "-c",
        script,
    ]
    page = os.sysconf("SC_PAGE_SIZE")
    lines: list[str] = []
    peak = 0
    start = time.monotonic()
    with open(log_path, "w") as out:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            start_new_session=True,
        )
        if cpu is not None:  # before it execs bash: everything it starts inherits the quota
            cpu.add(proc.pid)

        def reader() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                out.write(line)
                lines.append(line.rstrip("\n"))
                if echo and line.startswith(echo):
                    log("   " + line.rstrip())

        thread = threading.Thread(target=reader, daemon=True)
        thread.start()
        while proc.poll() is None:
            peak = max(peak, _rss_of_tree(proc.pid, page))
            if time.monotonic() - start > timeout_s:
                log(f"timed out after {timeout_s:.0f} s; ending process group {proc.pid}")
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                break
            time.sleep(0.2)
        thread.join(timeout=10)
    return proc.returncode, time.monotonic() - start, peak / 2**20, lines


# --------------------------------------------------------------------------- roots


def pristine_tarball(suite: str, cache: Path, mirror: str) -> tuple[Path, float, bool]:
    """A minbase root of ``suite`` as a tarball: (path, debootstrap seconds, was cached)."""
    tarball = cache / f"{suite}-minbase.tar"
    meta = cache / f"{suite}-minbase.json"
    if tarball.exists() and meta.exists():
        return tarball, float(json.loads(meta.read_text())["debootstrap_s"]), True
    build = cache / f"build-{suite}"
    safe_remove(build)
    log(f"debootstrap --variant=minbase {suite} (once; cached in {tarball})")
    start = time.monotonic()
    try:
        subprocess.run(
            ["debootstrap", "--variant=minbase", suite, str(build), mirror],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        elapsed = time.monotonic() - start
        partial = tarball.with_suffix(".tar.part")
        subprocess.run(
            ["tar", "-C", str(build), "--numeric-owner", "-cpf", str(partial), "."], check=True
        )
        partial.rename(tarball)
    finally:
        safe_remove(build)
    meta.write_text(
        json.dumps(
            {"debootstrap_s": round(elapsed, 1), "built": datetime.now(timezone.utc).isoformat()}
        )
    )
    return tarball, elapsed, False


def seed_trust(root: Path) -> list[str]:
    """Copy in what lets this machine reach the registries: DNS, local CAs, global pip config.

    The CA files go where ``update-ca-certificates`` finds them, so the bundle that
    setup.sh's ``apt-get install ca-certificates`` builds includes them. The user-level pip
    config is left out: it names wheel folders and indexes on this machine's disk.
    """
    copied = []
    for src in ("/etc/resolv.conf", "/etc/pip.conf"):
        if Path(src).is_file():
            dst = root / src.lstrip("/")
            if dst.is_symlink():
                dst.unlink()
            shutil.copy2(src, dst)
            copied.append(src)
    local_cas = Path("/usr/local/share/ca-certificates")
    if local_cas.is_dir():
        shutil.copytree(local_cas, root / str(local_cas).lstrip("/"), dirs_exist_ok=True)
        copied.append(f"{local_cas}/*")
    xdg = Path("/etc/xdg/pip")
    if xdg.is_dir():
        shutil.copytree(xdg, root / "etc/xdg/pip", dirs_exist_ok=True)
        copied.append(f"{xdg}/*")
    return copied


def unpack_zip(zip_path: Path, root: Path) -> None:
    """Lay the zip out as Gradescope does: /autograder/source, run_autograder copied up."""
    autograder = root / "autograder"
    source = autograder / "source"
    source.mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as archive:
        for info in archive.infolist():
            path = Path(archive.extract(info, source))
            mode = (info.external_attr >> 16) & 0o777
            if mode and not info.is_dir():
                path.chmod(mode)
    shutil.copy2(source / "run_autograder", autograder / "run_autograder")
    (autograder / "run_autograder").chmod(0o755)


def old_pip_wheel(cache: Path, version: str) -> Path:
    wheels = cache / "wheels"
    wheel = wheels / f"pip-{version}-py3-none-any.whl"
    if not wheel.exists():
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
            + ["-d", str(wheels), f"pip=={version}"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return wheel


def install_old_pip(
    root: Path, env: dict[str, str], wheel: Path, expected: str, report: Path
) -> str:
    """Make ``python3 -m venv`` in the root install ``wheel``'s pip; return its version line.

    python3-venv is installed first (setup.sh then finds it installed and keeps the swap):
    Debian's ensurepip takes the pip wheel it finds in /usr/share/python-wheels.
    """
    rc, _, _, lines = run_in_root(
        root,
        "apt-get update -q && DEBIAN_FRONTEND=noninteractive "
        "apt-get install -y -q --no-install-recommends python3-venv",
        env,
        report / "prepare-apt.log",
        timeout_s=900,
    )
    if rc != 0:
        raise RuntimeError("installing python3-venv failed:\n" + "\n".join(lines[-20:]))
    wheel_dir = root / "usr/share/python-wheels"
    for bundled in wheel_dir.glob("pip-*.whl"):
        bundled.unlink()
    shutil.copy2(wheel, wheel_dir / wheel.name)
    rc, _, _, lines = run_in_root(
        root,
        "python3 -m venv /tmp/pip-probe && /tmp/pip-probe/bin/pip --version; "
        "status=$?; rm -rf /tmp/pip-probe; exit $status",
        env,
        report / "prepare-pip-probe.log",
        timeout_s=300,
    )
    version = next((ln for ln in lines if ln.startswith("pip ")), "")
    if rc != 0 or not version.startswith(f"pip {expected} "):
        raise RuntimeError(f"a new venv's pip is not pip {expected}: {lines[-5:]}")
    return version


def system_pip_installs(root: Path) -> list[str]:
    """Distributions that pip (not apt) installed into the system Python: there must be none."""
    found = []
    for base in ("usr/lib", "usr/local/lib"):
        for installer in (root / base).glob("python3*/*-packages/*.dist-info/INSTALLER"):
            if installer.read_text().strip() == "pip":
                found.append(str(installer.parent.relative_to(root)))
    return found


def check_modes(root: Path) -> list[str]:
    problems = []
    for private in ("autograder/source", "autograder/venv"):
        path = root / private
        if not path.is_dir():
            problems.append(f"/{private} is missing")
        elif stat.S_IMODE(path.stat().st_mode) & 0o077:
            problems.append(f"/{private} is readable by others ({oct(path.stat().st_mode)})")
    kernel = root / "opt/ops-scale-lab/kernel-venv/bin/python"
    if not kernel.exists():
        problems.append("the kernel venv is missing")
    return problems


def disk_usage_mib(root: Path) -> float:
    out = subprocess.run(
        ["du", "-sxm", str(root)], capture_output=True, text=True, check=False
    ).stdout
    return float(out.split()[0]) if out else float("nan")


def submission_metadata(sample: SampleSubmission, number: int) -> dict[str, Any]:
    if sample.metadata is not None:  # a roster student of the sample class
        return {**sample.metadata, "id": 1000 + number}
    return {
        "id": 1000 + number,
        "created_at": datetime.now(timezone.utc).isoformat(),
        "assignment": {"title": "Operations at Scale (bare-root check)", "id": 1},
        "users": [{"email": f"{sample.name}@example.edu", "id": 2000 + number, "name": "Check"}],
        "previous_submissions": [],
    }


def expected_total(sample: SampleSubmission, results: dict[str, Any]) -> float:
    # As the self-check's comparison reckons it: full marks, or the listed questions.
    graded = [t for t in results.get("tests", []) if "max_score" in t]
    if sample.full_marks:
        return sum(float(t["max_score"]) for t in graded)
    return sum((sample.expected or {}).get(t["name"], 0.0) for t in graded)


def missing_questions(results: dict[str, Any], questions: dict[str, float]) -> list[str]:
    """Questions of the zip's config that the results do not grade with their points.

    The self-check's comparison takes the questions from the results themselves, so a
    results.json with no tests at all (the grader's "could not start" fallback) would pass
    for a full-marks sample; this closes that hole.
    """
    graded = {t.get("name"): t.get("max_score") for t in results.get("tests", [])}
    return [
        f"{q}: not graded (max {points:g} expected)"
        for q, points in questions.items()
        if graded.get(q) is None or float(graded[q]) != float(points)
    ]


def grade_samples(
    root: Path,
    env: dict[str, str],
    samples: list[SampleSubmission],
    questions: dict[str, float],
    report: Path,
    cpu: CpuShare | None,
) -> list[SampleRun]:
    runs = []
    autograder = root / "autograder"
    for number, sample in enumerate(samples):
        for folder in ("submission", "results"):
            shutil.rmtree(autograder / folder, ignore_errors=True)
        (autograder / "submission").mkdir()
        # Per-student variants on for the variant samples, as `ops-lab build --variants
        # per-student` would have shipped them with the sample class's roster and secret.
        source = autograder / "source"
        if sample.variants:
            shutil.copy2(SAMPLE_ROSTER, source / ROSTER_FILE)
            write_course_variants(source, read_course_secret(SAMPLE_SECRET))
        else:
            for name in (ROSTER_FILE, VARIANTS_FILE):
                (source / name).unlink(missing_ok=True)
        nbformat.write(sample.notebook, autograder / "submission" / NOTEBOOK_NAME)
        (autograder / "submission_metadata.json").write_text(
            json.dumps(submission_metadata(sample, number))
        )
        out = report / sample.name
        out.mkdir(parents=True)
        rc, elapsed, peak, lines = run_in_root(
            root,
            "cd /autograder && exec /autograder/run_autograder",
            env,
            out / "run_autograder.log",
            timeout_s=GRADE_TIMEOUT_S,
            cpu=cpu,
        )
        end_leftovers(root)
        results_file = autograder / "results" / "results.json"
        if not results_file.exists():
            tail = " | ".join(lines[-3:])
            runs.append(SampleRun(sample.name, None, None, elapsed, peak, (f"no results: {tail}",)))
            log(f"  {sample.name}: NO results.json (exit {rc}) in {elapsed:.1f} s")
            continue
        shutil.copy2(results_file, out / "results.json")
        results = json.loads(results_file.read_text())
        run = SampleRun(
            sample.name,
            float(results.get("score", 0)),
            expected_total(sample, results),
            elapsed,
            peak,
            (*missing_questions(results, questions), *_mismatches(sample, results)),
        )
        runs.append(run)
        verdict = "ok" if run.ok else "WRONG: " + "; ".join(run.mismatches)
        log(
            f"  {sample.name}: {run.score:g}/{run.expected:g} in {elapsed:.1f} s, "
            f"peak {peak:.0f} MiB: {verdict}"
        )
    return runs


def check_root(
    target: Target,
    args: argparse.Namespace,
    samples: list[SampleSubmission],
    report: Path,
) -> RootRun:
    run = RootRun(target)
    report.mkdir(parents=True)
    tarball, run.debootstrap_s, run.debootstrap_cached = pristine_tarball(
        target.suite, args.cache, args.mirror
    )
    root = args.cache / "roots" / target.name
    safe_remove(root)
    root.mkdir(parents=True)
    start = time.monotonic()
    subprocess.run(["tar", "-C", str(root), "--numeric-owner", "-xpf", str(tarball)], check=True)
    run.unpack_s = time.monotonic() - start
    env = passthrough_env()
    try:
        copied = seed_trust(root)
        log(f"{target.name}: copied in {', '.join(copied)}; passing {', '.join(sorted(env))}")
        mount_host_trees(root)
        if target.old_pip:
            start = time.monotonic()
            wheel = old_pip_wheel(args.cache, target.old_pip)
            probe = install_old_pip(root, env, wheel, target.old_pip, report)
            run.prepare_s = time.monotonic() - start
            log(f"{target.name}: a new venv now gets {probe}")
        unpack_zip(args.zip, root)
        log(f"{target.name}: setup.sh ...")
        run.setup_rc, run.setup_s, _, lines = run_in_root(
            root,
            "cd /autograder/source && exec bash ./setup.sh",
            env,
            report / "setup.log",
            timeout_s=SETUP_TIMEOUT_S,
            echo=("== setup.sh", "pip "),
        )
        end_leftovers(root)
        run.pip_versions = [" ".join(ln.split()[:2]) for ln in lines if ln.startswith("pip ")]
        run.python = next(
            (m.group(1) for ln in lines if (m := re.search(r"\(Python ([\d.]+)\)", ln))), "?"
        )
        log(f"{target.name}: setup.sh exit {run.setup_rc} in {run.setup_s:.0f} s")
        if run.setup_rc != 0:
            run.problems.append(f"setup.sh failed (exit {run.setup_rc}): {lines[-1:]}")
            return run
        if target.old_pip and not (run.pip_versions and run.pip_versions[0] == f"pip {OLD_PIP}"):
            run.problems.append(f"the venv did not start with pip {OLD_PIP}: {run.pip_versions}")
        run.problems += [f"pip installed into the system: {p}" for p in system_pip_installs(root)]
        run.problems += check_modes(root)
        run.disk_mib = disk_usage_mib(root)
        questions = json.loads((root / "autograder/source/ops_lab.json").read_text())["questions"]
        cpu = CpuShare(args.cpus) if args.cpus else None
        try:
            run.samples = grade_samples(root, env, samples, questions, report, cpu)
        finally:
            if cpu is not None:
                end_leftovers(root)
                cpu.remove()
    except Exception as exc:  # recorded: one broken root must not hide the others' results
        run.problems.append(f"{type(exc).__name__}: {exc}")
        log(f"{target.name}: {type(exc).__name__}: {exc}")
    finally:
        end_leftovers(root)
        left = unmount_all(root)
        if left:
            run.problems.append(f"could not unmount {left}; {root} kept")
        elif not args.keep:
            safe_remove(root)
    return run


# --------------------------------------------------------------------------- report


def _s(value: float | None, cached: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:.0f} s" + (" (cached)" if cached else "")


def format_summary(runs: list[RootRun]) -> str:
    lines = []
    header = (
        f"{'root':<16} {'python':<7} {'pip (venv -> upgraded)':<24} {'debootstrap':<16} "
        f"{'unpack':>7} {'prepare':>8} {'setup.sh':>9} {'disk':>9}  verdict"
    )
    lines += [header, "-" * len(header)]
    for r in runs:
        pips = " -> ".join(v.removeprefix("pip ") for v in r.pip_versions[:2]) or "-"
        disk = f"{r.disk_mib:.0f} MiB" if r.disk_mib else "-"
        lines.append(
            f"{r.target.name:<16} {r.python:<7} {pips:<24} "
            f"{_s(r.debootstrap_s, r.debootstrap_cached):<16} {_s(r.unpack_s):>7} "
            f"{_s(r.prepare_s):>8} {_s(r.setup_s):>9} {disk:>9}  {'ok' if r.ok else 'FAILED'}"
        )
        for p in r.problems:
            lines.append(f"{'':<16} problem: {p}")
    lines.append("")
    header = (
        f"{'root':<16} {'sample':<24} {'score':>7} {'expected':>9} {'time':>7} "
        f"{'peak RSS':>9}  verdict"
    )
    lines += [header, "-" * len(header)]
    for r in runs:
        for s in r.samples:
            score = "-" if s.score is None else f"{s.score:g}"
            expected = "-" if s.expected is None else f"{s.expected:g}"
            verdict = "ok" if s.ok else "WRONG: " + "; ".join(s.mismatches)
            lines.append(
                f"{r.target.name:<16} {s.name:<24} {score:>7} {expected:>9} "
                f"{s.elapsed_s:>6.1f}s {s.peak_rss_mib:>6.0f} MiB  {verdict}"
            )
    return "\n".join(lines)


def summary_json(runs: list[RootRun], args: argparse.Namespace) -> dict[str, Any]:
    return {
        "zip": str(args.zip),
        "cpus_for_gradings": args.cpus,
        "when": datetime.now(timezone.utc).isoformat(),
        "roots": [
            {
                "root": r.target.name,
                "suite": r.target.suite,
                "python": r.python,
                "pip_versions": r.pip_versions,
                "debootstrap_s": r.debootstrap_s,
                "debootstrap_cached": r.debootstrap_cached,
                "unpack_s": r.unpack_s,
                "prepare_s": r.prepare_s,
                "setup_s": r.setup_s,
                "setup_rc": r.setup_rc,
                "disk_mib": r.disk_mib,
                "problems": r.problems,
                "ok": r.ok,
                "samples": [
                    {
                        "sample": s.name,
                        "score": s.score,
                        "expected": s.expected,
                        "elapsed_s": round(s.elapsed_s, 1),
                        "peak_rss_mib": round(s.peak_rss_mib),
                        "mismatches": list(s.mismatches),
                        "ok": s.ok,
                    }
                    for s in r.samples
                ],
            }
            for r in runs
        ],
    }


def _pick(names: str | None, known: list[str], what: str) -> list[str]:
    if not names:
        return known
    picked = [k for k in known if any(fnmatch.fnmatch(k, p) for p in names.split(","))]
    if not picked:
        raise SystemExit(f"no {what} matches {names!r}; known: {', '.join(known)}")
    return picked


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Install the autograder zip on bare Debian roots and grade the samples."
    )
    parser.add_argument("--zip", type=Path, default=DIST / "ops_scale-autograder.zip")
    parser.add_argument("--roots", help=f"comma-separated, globs allowed: {', '.join(TARGETS)}")
    parser.add_argument("--samples", help="comma-separated sample names, globs allowed")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--mirror", default=DEFAULT_MIRROR)
    parser.add_argument("--keep", action="store_true", help="keep each root (unmounted)")
    parser.add_argument(
        "--cpus",
        type=float,
        help="grade with this CPU share (cgroup quota), e.g. 0.5 as Gradescope's default",
    )
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        parser.error("run as root: it debootstraps, mounts and chroots")
    if not args.zip.is_file():
        parser.error(f"{args.zip} is missing: run .venv/bin/ops-lab build first")
    args.zip = args.zip.resolve()
    args.cache = args.cache.resolve()
    if shutil.which("debootstrap") is None:
        log("installing debootstrap")
        subprocess.run(["apt-get", "install", "-y", "-q", "debootstrap"], check=True)

    all_samples = sample_submissions()
    wanted = _pick(args.samples, [s.name for s in all_samples], "sample")
    samples = [s for s in all_samples if s.name in wanted]
    targets = [TARGETS[n] for n in _pick(args.roots, list(TARGETS), "root")]

    # A stop (Ctrl-C, kill) must still unmount: turn SIGTERM and SIGHUP into an exit.
    def stop(signum: int, _frame: object) -> None:
        raise SystemExit(f"stopped by signal {signum}")

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)

    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    report = args.cache / "reports" / stamp
    report.mkdir(parents=True)
    cpus = f"; {args.cpus:g} CPU for gradings" if args.cpus else ""
    log(f"zip {args.zip}; samples {', '.join(wanted)}{cpus}; report in {report}")
    runs = []
    for target in targets:
        log(f"== {target.name}")
        try:
            runs.append(check_root(target, args, samples, report / target.name))
        except Exception as exc:  # one broken root must not hide the others' results
            failed = RootRun(target)
            failed.problems.append(f"{type(exc).__name__}: {exc}")
            runs.append(failed)
            log(f"{target.name}: {type(exc).__name__}: {exc}")
    text = format_summary(runs)
    (report / "summary.txt").write_text(text + "\n")
    (report / "summary.json").write_text(json.dumps(summary_json(runs, args), indent=2) + "\n")
    print("\n" + text)
    print(f"\nlogs and results: {report}")
    return 0 if runs and all(r.ok for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
