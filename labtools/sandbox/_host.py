"""Host-side helpers of the sandbox: sandbox identities, process lookup, cgroups.

All of this runs in the trusted grader process as root. Nothing here reads a file that the
sandbox could have written.
"""

from __future__ import annotations

import fcntl
import grp
import os
import pwd
import secrets
import shutil
import signal
import stat
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

#: Per-job uids are drawn from [UID_BASE, UID_BASE + UID_SPAN): far above login users (1000+),
#: systemd's dynamic users (61184-65519) and the usual subordinate-id ranges (100000 + 65536 n
#: for the first few thousand users), and below 2**31 so that no tool reads them as negative.
UID_BASE = 0x30000000
UID_SPAN = 1 << 20


@dataclass
class Identity:
    """The uid/gid a kernel runs as, and the lock that reserves a per-job uid."""

    uid: int
    gid: int
    name: str
    per_job: bool
    lock: IO[str] | None = None

    def release(self) -> None:
        """Give a per-job uid back: remove its lock file, then drop the lock."""
        if self.lock is not None:
            try:
                # Unlink while still holding the lock; a waiter that opened the old file
                # notices (see allocate_job_identity) and tries another uid.
                os.unlink(self.lock.name)
            except OSError:
                pass
            try:
                fcntl.flock(self.lock, fcntl.LOCK_UN)
                self.lock.close()
            finally:
                self.lock = None


def processes_of_uid(uid: int) -> list[int]:
    """Return the host PIDs whose real, effective, saved or file-system uid is ``uid``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status", "rb") as fh:
                for line in fh:
                    if line.startswith(b"Uid:"):
                        if str(uid).encode() in line.split()[1:]:
                            found.append(int(entry))
                        break
        except OSError:
            continue
    return found


def _start_time(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Field 22 (starttime) counts after the ")" that closes the command name.
    return int(stat.rsplit(")", 1)[1].split()[19])


def kill_all_but_oldest(uid: int) -> list[int]:
    """SIGKILL every process of ``uid`` except the one that started first; return the killed.

    With a per-job uid the oldest process is the job's kernel: anything younger was started
    by the student's code and outlived the cell that started it.
    """
    started = {pid: t for pid in processes_of_uid(uid) if (t := _start_time(pid)) is not None}
    if len(started) <= 1:
        return []
    oldest = min(started, key=lambda pid: (started[pid], pid))
    killed = []
    for pid in started:
        if pid == oldest:
            continue
        try:
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
        except ProcessLookupError:
            pass
    return killed


def kill_uid(uid: int, *, timeout_s: float = 5.0) -> list[int]:
    """SIGKILL every process of ``uid`` until none is left; return the survivors (if any)."""
    end = time.monotonic() + timeout_s
    while True:
        pids = processes_of_uid(uid)
        if not pids or time.monotonic() > end:
            return pids
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.01)


def secure_dir(path: Path, *, mode: int) -> Path:
    """Create ``path`` if missing and check that only root can change it.

    Raises
    ------
    PermissionError
        If it is a symlink, not a folder, not owned by root, or writable by group or others
        (someone could have prepared it to redirect root's writes).
    """
    try:
        path.mkdir(mode=mode)
    except FileExistsError:
        pass
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != 0 or st.st_mode & 0o022:
        raise PermissionError(
            f"{path} must be a root-owned folder not writable by others "
            f"(found uid {st.st_uid}, mode {stat.filemode(st.st_mode)})"
        )
    return path


def allocate_job_identity(lock_dir: Path) -> Identity:
    """Reserve a fresh uid (and the gid of the same number) for one job.

    The uid has no passwd entry, owns no process, and is held by an ``flock`` on a file in
    ``lock_dir`` for as long as the returned identity lives (the lock dies with the grader).
    """
    secure_dir(lock_dir, mode=0o700)
    for _ in range(64):
        uid = UID_BASE + secrets.randbelow(UID_SPAN)
        try:
            pwd.getpwuid(uid)
            continue
        except KeyError:
            pass
        try:
            grp.getgrgid(uid)
            continue
        except KeyError:
            pass
        path = lock_dir / f"{uid}.lock"
        fh = open(path, "a")  # held for the job's life
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            continue
        try:
            same_file = os.stat(path).st_ino == os.fstat(fh.fileno()).st_ino
        except FileNotFoundError:
            same_file = False
        if not same_file or processes_of_uid(uid):
            fcntl.flock(fh, fcntl.LOCK_UN)
            fh.close()
            continue
        return Identity(uid=uid, gid=uid, name=f"sandbox-{uid}", per_job=True, lock=fh)
    raise RuntimeError("could not find a free per-job uid")


def named_identity(user: str | int) -> Identity:
    """Return the identity of an existing user or uid, creating a named system user if missing."""
    if isinstance(user, int):
        try:
            entry = pwd.getpwuid(user)
            return Identity(uid=user, gid=entry.pw_gid, name=entry.pw_name, per_job=False)
        except KeyError:
            return Identity(uid=user, gid=user, name=f"uid-{user}", per_job=False)
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        useradd = shutil.which("useradd", path="/usr/sbin:/sbin:/usr/bin:/bin")
        if useradd is None:
            raise RuntimeError(f"user {user!r} does not exist and useradd is missing") from None
        nologin = "/usr/sbin/nologin" if os.path.exists("/usr/sbin/nologin") else "/bin/false"
        proc = subprocess.run(
            [
                useradd,
                "--system",
                "--user-group",
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "--shell",
                nologin,
                user,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        # exit 9: created meanwhile by a concurrent grader, which is as good.
        if proc.returncode not in (0, 9):
            raise RuntimeError(f"useradd {user} failed: {proc.stderr.strip()}") from None
        entry = pwd.getpwnam(user)
    if entry.pw_uid == 0:
        raise RuntimeError(f"user {user!r} is root; the sandbox needs an unprivileged user")
    return Identity(uid=entry.pw_uid, gid=entry.pw_gid, name=entry.pw_name, per_job=False)


# --------------------------------------------------------------------------- cgroups

_CGROUP_ROOT = Path("/sys/fs/cgroup")
_PARENT = "ops-sandbox"


def _write(path: Path, value: str) -> None:
    with open(path, "w") as fh:
        fh.write(value)


def cgroup_version() -> str | None:
    """Return ``"v2"``, ``"v1"`` (with memory and pids hierarchies) or ``None``."""
    if (_CGROUP_ROOT / "cgroup.controllers").is_file():
        return "v2"
    if (_CGROUP_ROOT / "memory" / "memory.limit_in_bytes").is_file() and (
        _CGROUP_ROOT / "pids" / "cgroup.procs"
    ).is_file():
        return "v1"
    return None


@dataclass
class JobCgroup:
    """One job's cgroup(s): a memory limit over all its processes and a task limit."""

    version: str
    dirs: tuple[Path, ...]

    @property
    def procs_files(self) -> tuple[str, ...]:
        """The ``cgroup.procs`` files the job's init joins."""
        return tuple(str(d / "cgroup.procs") for d in self.dirs)

    @classmethod
    def create(cls, name: str, *, memory_bytes: int, max_tasks: int) -> JobCgroup:
        """Create the cgroup(s) with the limits set; raise OSError when the host refuses."""
        version = cgroup_version()
        if version == "v2":
            parent = _CGROUP_ROOT / _PARENT
            controllers = (_CGROUP_ROOT / "cgroup.controllers").read_text().split()
            if not {"memory", "pids"} <= set(controllers):
                raise OSError("cgroup v2 lacks the memory or pids controller")
            _write(_CGROUP_ROOT / "cgroup.subtree_control", "+memory +pids")
            parent.mkdir(exist_ok=True)
            _write(parent / "cgroup.subtree_control", "+memory +pids")
            job = parent / name
            job.mkdir()
            _write(job / "memory.max", str(memory_bytes))
            if (job / "memory.swap.max").exists():
                _write(job / "memory.swap.max", "0")
            _write(job / "pids.max", str(max_tasks))
            return cls("v2", (job,))
        if version == "v1":
            mem = _CGROUP_ROOT / "memory" / _PARENT / name
            pids = _CGROUP_ROOT / "pids" / _PARENT / name
            mem.mkdir(parents=True)
            try:
                pids.mkdir(parents=True)
                _write(mem / "memory.limit_in_bytes", str(memory_bytes))
                if (mem / "memory.memsw.limit_in_bytes").exists():
                    _write(mem / "memory.memsw.limit_in_bytes", str(memory_bytes))
                _write(pids / "pids.max", str(max_tasks))
            except OSError:
                cls("v1", (mem, pids)).remove()
                raise
            return cls("v1", (mem, pids))
        raise OSError("no usable cgroup hierarchy (memory and pids)")

    def pids(self) -> set[int]:
        """Return the PIDs currently in the job's cgroup(s)."""
        found: set[int] = set()
        for d in self.dirs:
            try:
                found.update(int(x) for x in (d / "cgroup.procs").read_text().split())
            except OSError:
                pass
        return found

    def kill(self, *, timeout_s: float = 5.0) -> set[int]:
        """SIGKILL every process in the cgroup until it is empty; return survivors."""
        kill_file = self.dirs[0] / "cgroup.kill"
        end = time.monotonic() + timeout_s
        while True:
            pids = self.pids()
            if not pids or time.monotonic() > end:
                return pids
            if kill_file.exists():
                try:
                    _write(kill_file, "1")
                except OSError:
                    pass
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.01)

    def remove(self) -> None:
        """Remove the (empty) cgroup directories; ignore ones already gone."""
        for d in self.dirs:
            for _ in range(100):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.01)


def probe_cgroup() -> tuple[bool, str]:
    """Check that a job cgroup with memory and pids limits can be created here."""
    if os.geteuid() != 0:
        return False, "not root"
    name = f"probe-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        cg = JobCgroup.create(name, memory_bytes=1 << 30, max_tasks=64)
    except OSError as exc:
        return False, str(exc)
    cg.remove()
    return True, cg.version
