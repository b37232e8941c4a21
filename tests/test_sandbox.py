"""Tests of labtools.sandbox: real kernels in real namespaces, no mocks.

Two tests simulate a weaker host (Docker without CAP_SYS_ADMIN) by replacing the cached
probe record; the kernels they start are still real.

They need root (to switch user and create namespaces), as on CI; elsewhere they skip. The
kernel venv comes from labtools.sandbox.kernel_env (built once, about 20 s, then reused).
Expected values are plain facts of the scenario (what the cell computes, what JSON makes of
a value) or limits set in the test, never outputs copied from the code under test.
"""

from __future__ import annotations

import dataclasses
import math
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import labtools.sandbox.protections as protections_module
from labtools.sandbox import (
    LAYERS,
    Protections,
    SandboxedKernel,
    SandboxError,
    SandboxLimits,
    SandboxWarning,
    default_hidden_paths,
    probe_protections,
)
from labtools.sandbox._host import processes_of_uid
from labtools.sandbox.kernel_env import KernelEnvError, ensure_kernel_env

ROOT_ONLY = pytest.mark.skipif(
    os.geteuid() != 0, reason="sandboxed kernels need root (switch user, namespaces)"
)
FAST = SandboxLimits(cell_timeout_s=20.0, interrupt_grace_s=2.0)
SECRET = "the-reference-answer-is-42"


@pytest.fixture(scope="session")
def kernel_python() -> Path:
    if os.geteuid() != 0:
        pytest.skip("sandboxed kernels need root (switch user, namespaces)")
    return ensure_kernel_env()


def _new_job(with_helper: bool = False) -> Path:
    # A 0755 parent, as a grader's job root would be; the job folder goes to the sandbox uid.
    base = Path(tempfile.mkdtemp(prefix="ops-sandbox-test-"))
    base.chmod(0o755)
    job = base / "job"
    job.mkdir()
    if with_helper:
        (job / "helper.py").write_text("SHIPPED = 'support file'\n")
    return job


@pytest.fixture
def job() -> Iterator[Path]:
    path = _new_job()
    yield path
    shutil.rmtree(path.parent, ignore_errors=True)


@pytest.fixture(scope="module")
def secret_dir() -> Iterator[Path]:
    # World-readable on purpose: only the sandbox may stand between it and the kernel.
    path = Path(tempfile.mkdtemp(prefix="ops-sandbox-secret-"))
    path.chmod(0o755)
    (path / "answers.txt").write_text(SECRET)
    (path / "answers.txt").chmod(0o644)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def masked_secret(kernel_python: Path) -> Iterator[Path]:
    # A secret inside a tree the kernel does see (its own venv): it must be masked, not just
    # left out of the allow-list.
    path = kernel_python.parent.parent / f"ops-sandbox-test-secret-{os.getpid()}"
    path.mkdir(mode=0o755)
    (path / "answers.txt").write_text(SECRET)
    (path / "answers.txt").chmod(0o644)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def shared(kernel_python: Path, secret_dir: Path, masked_secret: Path) -> Iterator[SandboxedKernel]:
    """One kernel for the tests that leave it healthy."""
    job = _new_job(with_helper=True)
    with SandboxedKernel(
        job, limits=FAST, kernel_python=kernel_python, hidden_paths=[secret_dir, masked_secret]
    ) as kernel:
        yield kernel
    shutil.rmtree(job.parent, ignore_errors=True)


def run_ok(kernel: SandboxedKernel, code: str):
    result = kernel.run_cell(code)
    assert result.status == "ok", result
    return result


# --------------------------------------------------------------------------- plain running


@ROOT_ONLY
def test_cells_keep_state_and_show_outputs(shared: SandboxedKernel) -> None:
    run_ok(shared, "x_state = 20")
    result = run_ok(shared, "y_state = x_state + 22\nprint(y_state)\ny_state")
    # print writes "42\n"; the last expression's repr is the cell's output.
    assert result.stdout == "42\n"
    assert result.outputs == ("42",)
    assert result.error_name is None


#: A figure that counts its renderings (in a file: the kernel's globals are the student's).
RENDER_COUNTER = """
class Figure:
    def _repr_png_(self):
        with open("renders.txt", "a") as f:
            f.write("png\\n")
        return b"\\x89PNG\\r\\n\\x1a\\n"

    def __repr__(self):
        return "<a figure>"

Figure()
"""


@ROOT_ONLY
@pytest.mark.parametrize("images", [True, False])
def test_displays_render_images_only_when_asked(kernel_python: Path, job: Path, images) -> None:
    limits = dataclasses.replace(FAST, display_images=images)
    with SandboxedKernel(job, limits=limits, kernel_python=kernel_python) as kernel:
        result = run_ok(kernel, RENDER_COUNTER)
        assert result.outputs == ("<a figure>",)  # the text repr either way
        renders = run_ok(kernel, "import os\nos.path.exists('renders.txt')").outputs
    assert renders == (str(images),)


def test_display_images_must_be_a_bool() -> None:
    with pytest.raises(ValueError, match="display_images must be True or False"):
        SandboxLimits(display_images="no")


@ROOT_ONLY
def test_exception_is_reported_by_name_and_message(shared: SandboxedKernel) -> None:
    result = shared.run_cell("raise ValueError('bad input 7')")
    assert result.status == "error"
    assert result.error_name == "ValueError"
    assert result.error_value == "bad input 7"
    assert "ValueError" in result.traceback and "\x1b[" not in result.traceback


@ROOT_ONLY
def test_shipped_support_files_are_importable(shared: SandboxedKernel) -> None:
    result = run_ok(shared, "import helper\nprint(helper.SHIPPED)")
    assert result.stdout == "support file\n"


@ROOT_ONLY
def test_call_returns_plain_json_values(shared: SandboxedKernel) -> None:
    run_ok(
        shared,
        "import numpy as np\n"
        "def values():\n"
        "    return {'f': 0.1, 'i': 7, 'l': [1, 'a'], 'd': {'k': None}, 'n': None,\n"
        "            'arr': np.array([1.5, 2.5]), 'm': np.arange(4).reshape(2, 2),\n"
        "            'i64': np.int64(3), 'f32': np.float32(0.5), 'b': np.bool_(True),\n"
        "            't': (1, 2), 'nan': float('nan'), 'inf': -np.inf}\n"
        "def scale(xs, *, k):\n"
        "    return [k * x for x in xs]\n"
        "answer = np.float64(2.5)\n",
    )
    result = shared.call("values")
    assert result.ok, result
    value = result.value
    # JSON keeps these exactly; numpy scalars and arrays and tuples become plain data.
    assert value["f"] == 0.1 and type(value["f"]) is float
    assert value["i"] == 7 and type(value["i"]) is int
    assert value["l"] == [1, "a"] and value["d"] == {"k": None} and value["n"] is None
    assert value["arr"] == [1.5, 2.5] and all(type(v) is float for v in value["arr"])
    assert value["m"] == [[0, 1], [2, 3]] and type(value["m"][0][0]) is int
    assert value["i64"] == 3 and type(value["i64"]) is int
    assert value["f32"] == 0.5 and type(value["f32"]) is float  # 0.5 is exact in float32
    assert value["b"] is True
    assert value["t"] == [1, 2]
    assert math.isnan(value["nan"]) and value["inf"] == -math.inf

    scaled = shared.call("scale", [1, 2.5, -3], k=2)
    assert scaled.ok and scaled.value == [2, 5.0, -6]

    got = shared.get("answer")
    assert got.ok and got.value == 2.5 and type(got.value) is float


@ROOT_ONLY
def test_call_errors_come_back_as_errors(shared: SandboxedKernel) -> None:
    run_ok(shared, "def boom(x):\n    raise KeyError(x)\n")
    result = shared.call("boom", "k")
    assert not result.ok and result.value is None
    assert result.error.startswith("KeyError")
    missing = shared.call("no_such_function")
    assert not missing.ok and "NameError" in missing.error


@ROOT_ONLY
def test_lying_and_unserialisable_results_do_not_pass(shared: SandboxedKernel) -> None:
    run_ok(
        shared,
        "class Liar:\n"
        "    def __eq__(self, other):\n"
        "        return True\n"
        "class SlyFloat(float):\n"
        "    def __eq__(self, other):\n"
        "        return True\n"
        "    def __float__(self):\n"
        "        return 99.0\n"
        "def liar():\n    return Liar()\n"
        "def sly():\n    return SlyFloat(1.5)\n"
        "def a_set():\n    return {1, 2}\n"
        "def huge():\n    return 'x' * 5_000_000\n",
    )
    lie = shared.call("liar")
    assert not lie.ok and "not JSON-safe" in lie.error
    sly = shared.call("sly")
    # The float's own value, as plain data: the comparison is the grader's, not the class's.
    assert sly.ok and type(sly.value) is float and sly.value == 1.5 and sly.value != 2.0
    assert not shared.call("a_set").ok
    big = shared.call("huge")  # 5 MB of JSON > FAST.max_result_bytes (1 MiB)
    assert not big.ok and "larger than" in big.error


# --------------------------------------------------------------------------- isolation


@ROOT_ONLY
def test_kernel_runs_as_sandbox_user_without_the_reference(shared: SandboxedKernel) -> None:
    result = run_ok(shared, "import os\nprint(os.getuid(), os.getgid(), os.getgroups())")
    uid, gid, groups = result.stdout.split(maxsplit=2)
    assert int(uid) == shared.uid and int(uid) != 0
    assert int(gid) != 0 and groups.strip() == "[]"
    assert shared.run_cell("import opsmodel").error_name == "ModuleNotFoundError"
    # Nor by its path: the trusted package's folder does not exist in the kernel's view.
    repo = default_hidden_paths()[0].parent
    attempt = shared.run_cell(f"import sys\nsys.path.insert(0, {str(repo)!r})\nimport opsmodel")
    assert attempt.error_name == "ModuleNotFoundError"


@ROOT_ONLY
def test_hidden_paths_cannot_be_read(
    shared: SandboxedKernel, secret_dir: Path, masked_secret: Path
) -> None:
    opsmodel_dir = default_hidden_paths()[0]
    for path in (
        secret_dir / "answers.txt",
        masked_secret / "answers.txt",
        opsmodel_dir / "__init__.py",
    ):
        result = shared.run_cell(f"print(open({str(path)!r}).read())")
        assert result.status == "error", (path, result)
        assert result.error_name in ("FileNotFoundError", "PermissionError")
        assert SECRET not in result.stdout
    listing = shared.run_cell(f"import os\nos.listdir({str(masked_secret)!r})")
    assert SECRET not in listing.stdout and "answers.txt" not in "".join(listing.outputs)


@ROOT_ONLY
def test_writing_outside_the_job_folder_fails(shared: SandboxedKernel) -> None:
    outside = [
        str(shared.job_dir.parent / "escape.txt"),
        "/etc/escape.txt",
        "/usr/escape.txt",
        "/escape.txt",
        str(Path(sys.executable).parent / "escape.txt"),
    ]
    code = (
        "import os\nblocked = []\n"
        f"for p in {outside!r}:\n"
        "    try:\n"
        "        open(p, 'w').write('x')\n"
        "    except OSError:\n"
        "        blocked.append(p)\n"
        "open('inside.txt', 'w').write('ok')\n"
        "open('/tmp/private.txt', 'w').write('ok')\n"
        "print(len(blocked))"
    )
    result = run_ok(shared, code)
    assert result.stdout == f"{len(outside)}\n"
    assert (shared.job_dir / "inside.txt").read_text() == "ok"
    for p in outside:
        assert not os.path.exists(p)
    if shared.protections.mount_namespace:
        # The kernel's /tmp is its own tmpfs, not the host's.
        assert not os.path.exists("/tmp/private.txt")


@ROOT_ONLY
def test_no_network_even_to_localhost(shared: SandboxedKernel) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        server.setblocking(False)
        port = server.getsockname()[1]
        result = shared.run_cell(
            f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2)"
        )
        assert result.status == "error"
        assert result.error_name in ("OSError", "ConnectionRefusedError", "TimeoutError")
        with pytest.raises(BlockingIOError):
            server.accept()


@ROOT_ONLY
def test_protections_are_probed_and_recorded(shared: SandboxedKernel) -> None:
    host = probe_protections()
    assert probe_protections() is host  # probed once
    assert shared.protections.switch_user and shared.protections.rlimits
    assert shared.protections.per_job_uid
    for layer in LAYERS[:-1]:  # the cgroup may fail per job; every other layer is as probed
        assert getattr(shared.protections, layer) == getattr(host, layer), layer
    assert "active:" in shared.protections.summary()


# --------------------------------------------------------------------------- misbehaviour


@ROOT_ONLY
def test_timeouts_interrupt_then_kill_restart_and_replay(kernel_python: Path, job: Path) -> None:
    limits = SandboxLimits(cell_timeout_s=1.0, interrupt_grace_s=1.0)
    with SandboxedKernel(job, limits=limits, kernel_python=kernel_python) as kernel:
        run_ok(kernel, "a = 1")
        loop = kernel.run_cell("while True:\n    pass")
        assert loop.status == "timeout" and not loop.restarted
        assert loop.elapsed_s < 1.0 + 1.0  # back within the grace period after SIGINT
        assert run_ok(kernel, "a").outputs == ("1",)

        stubborn = kernel.run_cell(
            "while True:\n    try:\n        while True:\n            pass\n"
            "    except KeyboardInterrupt:\n        pass"
        )
        assert stubborn.status == "timeout" and stubborn.restarted
        assert kernel.restarts == 1
        # The definitions before it were replayed into the new kernel; it was not.
        assert run_ok(kernel, "a + 1").outputs == ("2",)
        assert kernel.history == ("a = 1", "a", "a + 1")


@ROOT_ONLY
def test_dead_kernel_is_detected_quickly_and_restarted(kernel_python: Path, job: Path) -> None:
    with SandboxedKernel(job, limits=FAST, kernel_python=kernel_python) as kernel:
        run_ok(kernel, "c = 3")
        first_uid = kernel.uid
        result = kernel.run_cell("import os\nos._exit(0)")
        assert result.status == "dead" and result.restarted
        # Far below the 20 s cell timeout: death is noticed, not waited out.
        assert result.elapsed_s < 2.0
        assert run_ok(kernel, "c * 2").outputs == ("6",)
        assert kernel.uid == first_uid


@ROOT_ONLY
def test_memory_bomb_fails_without_harming_the_host(kernel_python: Path, job: Path) -> None:
    limits = SandboxLimits(cell_timeout_s=20.0, memory_bytes=2 * 2**30)
    with SandboxedKernel(job, limits=limits, kernel_python=kernel_python) as kernel:
        run_ok(kernel, "import numpy as np\nkept = 5")
        for code in ("x = np.ones(50 * 2**30 // 8)", "b = bytearray(50 * 2**30)"):
            result = kernel.run_cell(code)
            assert result.status in ("error", "dead"), result
            if result.status == "error":
                assert result.error_name == "MemoryError"
        assert run_ok(kernel, "kept").outputs == ("5",)


@ROOT_ONLY
def test_fork_bomb_is_contained_and_cleaned_up(kernel_python: Path, job: Path) -> None:
    limits = SandboxLimits(cell_timeout_s=5.0, interrupt_grace_s=1.0, max_processes=32)
    kernel = SandboxedKernel(job, limits=limits, kernel_python=kernel_python).start()
    try:
        uid = kernel.uid
        result = kernel.run_cell(
            "import os, time\nchildren = 0\n"
            "try:\n"
            "    while True:\n"
            "        if os.fork() == 0:\n"
            "            time.sleep(60)\n"
            "            os._exit(0)\n"
            "        children += 1\n"
            "except OSError as exc:\n"
            "    print(type(exc).__name__, children)"
        )
        assert result.status == "ok", result
        name, children = result.stdout.split()
        # RLIMIT_NPROC counts the kernel's own threads as well: fewer than 32 children.
        assert name == "BlockingIOError" and 0 < int(children) < 32
        assert len(processes_of_uid(uid)) <= 32
        # The classic bomb: every copy forks again.
        classic = kernel.run_cell("import os\nwhile True:\n    os.fork()")
        assert classic.status in ("error", "timeout", "dead")
        assert len(processes_of_uid(uid)) <= 32
        assert kernel.run_cell("1 + 1").outputs == ("2",)
    finally:
        kernel.shutdown()
    assert processes_of_uid(uid) == []


@ROOT_ONLY
def test_output_floods_are_capped(kernel_python: Path, job: Path) -> None:
    cap = 64 * 1024
    limits = SandboxLimits(cell_timeout_s=20.0, max_output_bytes=cap)
    with SandboxedKernel(job, limits=limits, kernel_python=kernel_python) as kernel:
        printed = kernel.run_cell("print('x' * 50_000_000)")
        assert printed.status == "ok" and printed.truncated
        assert cap <= len(printed.stdout.encode()) <= cap + 200  # the kept part and a marker
        assert "truncated" in printed.stdout
        # One 50 MB message, past the output cap of the kernel: over the message size cap.
        huge = kernel.run_cell(
            "from IPython.display import publish_display_data\n"
            "publish_display_data({'text/plain': 'y' * 50_000_000})"
        )
        assert huge.status == "output_limit" and huge.truncated
        # Many small messages: interrupted once eight times the cap has arrived.
        many = kernel.run_cell(
            "from IPython.display import publish_display_data\n"
            "for _ in range(10**7):\n"
            "    publish_display_data({'text/plain': 'z' * 1000})"
        )
        assert many.status == "output_limit" and many.elapsed_s < 10.0
        assert len("".join(many.outputs).encode()) <= cap + 200
        # The channels were reconnected: the kernel still answers, with its output.
        after = run_ok(kernel, "print('still here')")
        assert after.stdout == "still here\n"
        # 3 GB in one multipart message of 1 MB frames (each under the frame cap): ZMQ would
        # buffer it whole; the supervisor does, under its memory limit, not this process.
        rss_before_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        frames = kernel.run_cell(
            "s = get_ipython().kernel.iopub_thread.socket\n"
            "s.send_multipart([b'x' * 1_000_000] * 3000, copy=False)"
        )
        assert frames.status in ("output_limit", "dead"), frames
        rss_after_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        assert rss_after_kib - rss_before_kib < 100 * 1024
        # Frames still in flight may cost the next cell its output too; then it recovers.
        statuses = []
        for _ in range(3):
            again = kernel.run_cell("print('still here')")
            statuses.append(again.status)
            if again.status == "ok":
                break
        assert again.stdout == "still here\n", statuses


@ROOT_ONLY
def test_patched_json_gives_errors_not_a_crashed_grader(kernel_python: Path, job: Path) -> None:
    limits = SandboxLimits(cell_timeout_s=3.0, interrupt_grace_s=1.0)
    with SandboxedKernel(job, limits=limits, kernel_python=kernel_python) as kernel:
        run_ok(
            kernel,
            "import json\n"
            "def good():\n    return 5\n"
            "def sabotage():\n"
            "    json.dumps = lambda *a, **k: 'garbage'\n"
            "    return 1\n",
        )
        broken = kernel.call("sabotage")
        assert not broken.ok and broken.status == "dead"
        assert broken.elapsed_s < 3.0  # malformed messages end the call early
        assert kernel.call("good").value == 5  # restarted, definitions replayed

        cell = kernel.run_cell("import json\njson.dumps = lambda *a, **k: 'garbage'")
        assert cell.status == "dead"
        assert kernel.call("good").value == 5

        # Patching builtins the helper uses: whatever comes back is plain data or an error.
        kernel.run_cell("import builtins\nbuiltins.isinstance = lambda *a: True")
        result = kernel.call("good")
        assert result.ok is False or result.value == 5


@ROOT_ONLY
def test_shutdown_leaves_no_process_of_the_sandbox_user(kernel_python: Path, job: Path) -> None:
    kernel = SandboxedKernel(job, limits=FAST, kernel_python=kernel_python).start()
    uid = kernel.uid
    # A child, and a daemon that left the session: both must die with the job.
    run_ok(
        kernel,
        "import subprocess, os\n"
        "p = subprocess.Popen(['sleep', '300'])\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        import time; time.sleep(300)\n"
        "    os._exit(0)\n",
    )
    assert len(processes_of_uid(uid)) >= 3
    kernel.shutdown()
    assert processes_of_uid(uid) == []
    kernel.shutdown()  # idempotent
    with pytest.raises(SandboxError, match="not running"):
        kernel.run_cell("1")


@ROOT_ONLY
def test_total_budget_stops_further_work(kernel_python: Path, job: Path) -> None:
    limits = SandboxLimits(cell_timeout_s=1.5, total_timeout_s=2.0, interrupt_grace_s=1.0)
    with SandboxedKernel(job, limits=limits, kernel_python=kernel_python) as kernel:
        run_ok(kernel, "def f():\n    return 1")
        assert kernel.run_cell("import time\ntime.sleep(5)").status == "timeout"  # 1.5 s spent
        rest = kernel.run_cell("import time\ntime.sleep(5)")  # only ~0.5 s of budget left
        assert rest.status == "timeout" and rest.elapsed_s < 1.5  # cut before the cell limit
        spent = kernel.run_cell("f()")
        assert spent.status == "timeout" and "budget" in spent.error_value
        assert spent.elapsed_s == 0.0  # not even sent
        # Calls are not charged to the notebook's budget: the grader budgets them per
        # question, so a slow notebook still lets its functions be tested.
        call = kernel.call("f")
        assert call.ok and call.value == 1


@ROOT_ONLY
def test_weaker_host_degrades_loudly(
    kernel_python: Path, job: Path, secret_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What a Docker container without CAP_SYS_ADMIN allows: another uid and rlimits only.
    weak = Protections(
        switch_user=True,
        rlimits=True,
        no_new_privs=True,
        per_job_uid=True,
        reasons=tuple((name, "refused (simulated)") for name in LAYERS[3:]),
    )
    monkeypatch.setattr(protections_module, "_probe_cache", weak)
    # Without a mount namespace only permissions guard hidden paths: a world-readable secret
    # (and this repository's world-readable opsmodel) must stop the start.
    with pytest.raises(SandboxError, match="can read hidden paths"):
        SandboxedKernel(job, kernel_python=kernel_python, hidden_paths=[secret_dir]).start()

    # With a mount namespace but no PID namespace, network namespace or cgroup: it starts,
    # warns, records what is missing, and still leaves no process behind.
    monkeypatch.setattr(
        protections_module, "_probe_cache", dataclasses.replace(weak, mount_namespace=True)
    )
    with pytest.warns(SandboxWarning, match="network_namespace \\(refused"):
        kernel = SandboxedKernel(job, limits=FAST, kernel_python=kernel_python).start()
    try:
        uid = kernel.uid
        assert kernel.protections.missing() == (
            "network_namespace",
            "pid_namespace",
            "ipc_namespace",
            "uts_namespace",
            "cgroup",
        )
        run_ok(
            kernel,
            "import os, subprocess\n"
            "p = subprocess.Popen(['sleep', '300'])\n"
            "if os.fork() == 0:\n"
            "    os.setsid()\n"
            "    if os.fork() == 0:\n"
            "        import time; time.sleep(300)\n"
            "    os._exit(0)\n",
        )
    finally:
        kernel.shutdown()
    assert processes_of_uid(uid) == []


@ROOT_ONLY
def test_hiding_the_kernel_venv_is_refused(kernel_python: Path, job: Path) -> None:
    with pytest.raises(ValueError, match="hidden_paths must not contain the kernel venv"):
        SandboxedKernel(
            job, kernel_python=kernel_python, hidden_paths=[kernel_python.parent.parent]
        ).start()


# --------------------------------------------------------------------------- bad input


def test_limits_reject_bad_values() -> None:
    for name, bad in [
        ("cell_timeout_s", 0),
        ("cell_timeout_s", float("nan")),
        ("total_timeout_s", "60"),
        ("interrupt_grace_s", float("inf")),
        ("memory_bytes", 2**20),
        ("memory_bytes", True),
        ("max_processes", 8),
        ("max_output_bytes", 1.5e6 + 0.5),
        ("max_message_bytes", None),
    ]:
        with pytest.raises(ValueError, match=name):
            SandboxLimits(**{name: bad})
    assert SandboxLimits(memory_bytes=2.0**31).memory_bytes == 2**31


def test_kernel_rejects_bad_arguments(tmp_path: Path) -> None:
    job = tmp_path / "job"
    job.mkdir()
    with pytest.raises(ValueError, match="job_dir"):
        SandboxedKernel(tmp_path / "missing")
    with pytest.raises(ValueError, match="job_dir"):
        SandboxedKernel(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="hidden_paths"):
        SandboxedKernel(job, hidden_paths=[tmp_path])
    with pytest.raises(ValueError, match="hidden_paths"):
        SandboxedKernel(job, hidden_paths=str(tmp_path))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="require"):
        SandboxedKernel(job, require=["magic"])
    with pytest.raises(ValueError, match="user"):
        SandboxedKernel(job, user="Bad Name")
    with pytest.raises(ValueError, match="limits"):
        SandboxedKernel(job, limits={"cell_timeout_s": 1})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="kernel_python"):
        SandboxedKernel(job, kernel_python=tmp_path / "nope")
    kernel = SandboxedKernel(job)
    with pytest.raises(ValueError, match="name"):
        kernel.call("not an identifier")
    with pytest.raises(ValueError, match="args"):
        kernel.call("f", {1, 2})
    with pytest.raises(ValueError, match="code"):
        kernel.run_cell(b"1")  # type: ignore[arg-type]
    with pytest.raises(SandboxError, match="not running"):
        kernel.call("f")


def test_missing_required_layer_refuses_to_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = tmp_path / "job"
    job.mkdir()
    # A host that refuses namespaces (simulated): a grader that requires them gets an error.
    refused = Protections(
        switch_user=True, rlimits=True, reasons=(("network_namespace", "EPERM (simulated)"),)
    )
    monkeypatch.setattr(protections_module, "_probe_cache", refused)
    with pytest.raises(SandboxError, match="network_namespace: EPERM"):
        SandboxedKernel(job, require=("switch_user", "network_namespace")).start()
    assert not any(job.iterdir()) and job.stat().st_uid == os.geteuid()  # left untouched


@ROOT_ONLY
def test_degraded_host_warns(kernel_python: Path, job: Path) -> None:
    # A shared named user is a weaker set-up than a per-job uid: it must say so.
    with pytest.warns(SandboxWarning, match="shared uid"):
        with SandboxedKernel(
            job, limits=FAST, kernel_python=kernel_python, user="ops-sandbox"
        ) as k:
            assert run_ok(k, "import os\nprint(os.getuid())").stdout.strip() == str(k.uid)
            assert not k.protections.per_job_uid


# --------------------------------------------------------------------------- kernel env


@ROOT_ONLY
def test_kernel_env_cli_reuses_the_venv_and_cannot_import_the_reference(
    kernel_python: Path,
) -> None:
    venv = kernel_python.parent.parent
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "labtools.sandbox.kernel_env", "--path", str(venv)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert proc.stdout.strip() == str(kernel_python)
    assert time.monotonic() - t0 < 10.0  # reused, not rebuilt
    leak = subprocess.run(
        [str(kernel_python), "-I", "-c", "import opsmodel"], capture_output=True, cwd="/"
    )
    assert leak.returncode != 0
    mode = os.stat(kernel_python.resolve()).st_mode
    assert mode & 0o005 == 0o005  # readable and executable by others


def test_kernel_env_refuses_a_folder_others_cannot_reach(tmp_path: Path) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    with pytest.raises(KernelEnvError, match="reachable by other users"):
        ensure_kernel_env(private / "venv")
