"""Root-side helper process of one sandboxed kernel: namespaces, launch, ZMQ relay.

Run by :class:`labtools.sandbox.SandboxedKernel` as ``python -I _supervisor.py run`` (or
``probe``). It is trusted code, kept to the standard library and pyzmq, and it is a separate
process on purpose:

* it creates the namespaces (network, mount, IPC, UTS, PID) with ``unshare(2)``, builds the
  kernel's file system view (an allow-list root: ``/usr``, ``/etc``, the kernel venv, the job
  folder, the socket folder, private ``/tmp`` and ``/dev/shm``, a minimal ``/dev`` and the
  namespace's own ``/proc``), and forks an init process (PID 1 of the new PID namespace) that
  reaps orphans, forwards SIGINT to the kernel and, by dying, kills every process of the job;
* the init forks the kernel, which sets its rlimits, drops to the sandbox uid (no groups, no
  new privileges) and execs ``ipykernel``;
* it then connects to the kernel's ZMQ sockets and relays messages to the grader as lines of
  JSON over a pipe. ZMQ buffers whole multipart messages in the receiving process before
  anyone can look at them, so a hostile kernel can make its peer allocate without bound; here
  that peer is this process, under its own address-space limit, not the grader. Frames over
  the size cap are refused by libzmq, which then closes the connection for good: the relay
  notices (socket monitor), reports the loss and reconnects.

Protocol (one JSON object per line). In: first the launch configuration, then commands
``{"op": "execute" | "kernel_info" | "interrupt" | "kill", ...}``; end of input kills the
job. Out: ``started`` (with the init's host PID and the layers applied), ``ready``, ``msg``
(channel, type, parent id, content), ``garbage`` (a message that failed to verify or parse),
``lost`` (a connection closed by the size cap), ``exit`` and ``error``.
"""

from __future__ import annotations

import ctypes
import datetime
import errno
import hashlib
import hmac
import json
import os
import platform
import resource
import select
import shutil
import signal
import sys
import tempfile
import time
import uuid

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
NAMESPACE_FLAGS = {
    "net": CLONE_NEWNET,
    "mount": CLONE_NEWNS,
    "ipc": CLONE_NEWIPC,
    "uts": CLONE_NEWUTS,
    "pid": CLONE_NEWPID,
}
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_MOVE = 8192
MS_REC = 16384
MS_PRIVATE = 1 << 18
MNT_DETACH = 2
PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
# pivot_root has no glibc wrapper; syscall numbers per architecture (others use MS_MOVE).
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41, "ppc64le": 203, "s390x": 217}
RLIMITS = {
    "AS": resource.RLIMIT_AS,
    "NPROC": resource.RLIMIT_NPROC,
    "FSIZE": resource.RLIMIT_FSIZE,
    "CPU": resource.RLIMIT_CPU,
    "CORE": resource.RLIMIT_CORE,
    "NOFILE": resource.RLIMIT_NOFILE,
}
SOCKET_PORTS = ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")
DEVICES = ("null", "zero", "full", "random", "urandom")

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [
    ctypes.c_char_p,
    ctypes.c_char_p,
    ctypes.c_char_p,
    ctypes.c_ulong,
    ctypes.c_char_p,
]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
_libc.unshare.argtypes = [ctypes.c_int]
_libc.prctl.argtypes = [
    ctypes.c_int,
    ctypes.c_ulong,
    ctypes.c_ulong,
    ctypes.c_ulong,
    ctypes.c_ulong,
]
_libc.sethostname.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
_libc.setns.argtypes = [ctypes.c_int, ctypes.c_int]


def _check(rc: int, what: str) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _b(path: str | None) -> bytes | None:
    return None if path is None else os.fsencode(path)


def mount(src: str | None, target: str, fstype: str | None, flags: int, data: str | None) -> None:
    """Call mount(2); raise OSError naming the target on failure."""
    _check(
        _libc.mount(_b(src), _b(target), _b(fstype), flags, _b(data)),
        f"mount {fstype or src} on {target}",
    )


def unshare(flags: int) -> None:
    """Call unshare(2)."""
    _check(_libc.unshare(flags), f"unshare({flags:#x})")


def prctl(option: int, arg: int) -> None:
    """Call prctl(2) with one argument."""
    _check(_libc.prctl(option, arg, 0, 0, 0), f"prctl({option})")


def pivot_root(new_root: str) -> None:
    """Make ``new_root`` the root of this mount namespace and detach the old root."""
    os.chdir(new_root)
    number = SYS_PIVOT_ROOT.get(platform.machine())
    if number is not None:
        # pivot_root(".", ".") stacks the old root on the new one; unmounting "." then
        # drops the old root entirely (the runc idiom), so no path leads back to it.
        _check(_libc.syscall(number, b".", b"."), "pivot_root")
        _check(_libc.umount2(b".", MNT_DETACH), "umount old root")
    else:
        mount(new_root, "/", None, MS_MOVE, None)
        os.chroot(".")
    os.chdir("/")


# --------------------------------------------------------------------------- file system


def _bind(root: str, src: str, *, readonly: bool) -> None:
    dst = root + src
    if os.path.isdir(src):
        os.makedirs(dst, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        with open(dst, "a"):
            pass
    mount(src, dst, None, MS_BIND | MS_REC, None)
    flags = MS_BIND | MS_REMOUNT | MS_NOSUID | (MS_RDONLY if readonly else 0)
    if readonly or src.startswith("/dev/"):
        mount(None, dst, None, flags | (0 if src.startswith("/dev/") else MS_NODEV), None)
    else:
        mount(None, dst, None, flags | MS_NODEV, None)


def build_root(cfg: dict) -> int:
    """Build the allow-list root in ``cfg["root_dir"]`` and pivot into it.

    Returns the number of hidden paths that had to be masked because they lay inside a
    bound tree (the others are simply absent from the new root).
    """
    root = cfg["root_dir"]
    tmp_opts = f"size={int(cfg['tmp_bytes'])},mode=1777"
    mount(None, "/", None, MS_REC | MS_PRIVATE, None)
    mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=4m,mode=0755")
    # Private /tmp and /dev/shm first: a job folder under /tmp is bound on top of them.
    for sub in ("/tmp", "/dev/shm"):
        os.makedirs(root + sub, exist_ok=True)
        mount("tmpfs", root + sub, "tmpfs", MS_NOSUID | MS_NODEV, tmp_opts)
    for dev in DEVICES:
        if os.path.exists("/dev/" + dev):
            _bind(root, "/dev/" + dev, readonly=False)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0")):
        os.symlink(target, f"{root}/dev/{name}")
    os.symlink("/proc/self/fd/1", f"{root}/dev/stdout")
    os.symlink("/proc/self/fd/2", f"{root}/dev/stderr")
    os.makedirs(root + "/proc", exist_ok=True)
    # Merged-/usr systems have /bin, /lib, ... as relative symlinks into /usr: copy them.
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        src = "/" + name
        if os.path.islink(src):
            os.symlink(os.readlink(src), root + src)
        elif os.path.isdir(src):
            _bind(root, src, readonly=True)
    for src in cfg["ro_binds"]:
        if os.path.exists(src):
            _bind(root, src, readonly=True)
    for src in cfg["rw_binds"]:
        _bind(root, src, readonly=False)
    masked = 0
    for path in cfg["hidden"]:
        dst = root + path
        if os.path.isdir(dst):
            mount("tmpfs", dst, "tmpfs", MS_NOSUID | MS_NODEV | MS_RDONLY, "size=4k,mode=0000")
            masked += 1
        elif os.path.lexists(dst):
            mount("/dev/null", dst, None, MS_BIND, None)
            mount(None, dst, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID, None)
            masked += 1
    mount(None, root, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4m,mode=0755")
    pivot_root(root)
    return masked


# --------------------------------------------------------------------------- processes


def _write_err(text: str) -> None:
    try:
        os.write(2, (text.rstrip() + "\n").encode("utf-8", "replace"))
    except OSError:
        pass


def run_kernel(cfg: dict) -> None:
    """In the kernel process (forked by init): limits, drop privileges, exec. Never returns."""
    try:
        os.setsid()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        for name, (soft, hard) in cfg["rlimits"].items():
            resource.setrlimit(RLIMITS[name], (soft, hard))
        uid, gid = cfg["uid"], cfg["gid"]
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
        prctl(PR_SET_NO_NEW_PRIVS, 1)
        # Set after the uid change, which clears the parent-death signal.
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        os.umask(0o077)
        # Created as the sandbox user, so a symlink planted by an earlier incarnation of the
        # kernel can only lead where that user could write anyway.
        for path in cfg["home_dirs"]:
            os.makedirs(path, exist_ok=True)
        src, dst = cfg.get("mpl_cache_src"), cfg.get("mpl_cache_dst")
        if src and dst and os.path.isdir(src):
            for name in os.listdir(src):
                if not os.path.exists(os.path.join(dst, name)):
                    shutil.copyfile(os.path.join(src, name), os.path.join(dst, name))
        os.chdir(cfg["cwd"])
        os.closerange(3, 1 << 16)
        argv = cfg["kernel_argv"]
        os.execve(argv[0], argv, cfg["kernel_env"])
    except BaseException as exc:  # anything here means the kernel cannot start
        _write_err(f"ops-sandbox: kernel setup failed: {type(exc).__name__}: {exc}")
    os._exit(127)


def run_init(cfg: dict, applied: dict, log_fd: int, devnull_fd: int, cgroup_fds: list) -> None:
    """PID 1 of the job: join the cgroup, mount /proc, fork the kernel, reap. Never returns."""
    try:
        # The grader's pipes are fds 0 and 1 here: the kernel must never inherit them, or it
        # could write forged events into the grader's channel.
        os.dup2(devnull_fd, 0)
        os.dup2(devnull_fd, 1)
        os.dup2(log_fd, 2)
        for fd in cgroup_fds:
            os.write(fd, b"0")
            os.close(fd)
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if applied.get("pid_namespace") and applied.get("mount_namespace"):
            mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
        if not applied.get("pid_namespace"):
            # Without a PID namespace, orphans of the kernel still come back here to be reaped.
            prctl(PR_SET_CHILD_SUBREAPER, 1)
        kernel_pid = 0

        def forward(signum: int, _frame: object) -> None:
            if kernel_pid:
                try:
                    os.kill(
                        kernel_pid, signal.SIGINT if signum == signal.SIGINT else signal.SIGKILL
                    )
                except OSError:
                    pass

        signal.signal(signal.SIGINT, forward)
        signal.signal(signal.SIGTERM, forward)
        kernel_pid = os.fork()
        if kernel_pid == 0:
            run_kernel(cfg)
        while True:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                os._exit(0)
            if pid == kernel_pid:
                code = os.waitstatus_to_exitcode(status)
                os._exit(code if code >= 0 else 128 - code)
    except BaseException as exc:
        _write_err(f"ops-sandbox: init failed: {type(exc).__name__}: {exc}")
    os._exit(126)


# --------------------------------------------------------------------------- wire protocol


class Wire:
    """Minimal Jupyter wire protocol (v5.3) with HMAC-SHA256 signatures, JSON only."""

    DELIM = b"<IDS|MSG>"

    def __init__(self, key: bytes) -> None:
        self.key = key
        self.session = uuid.uuid4().hex

    def sign(self, parts: list[bytes]) -> bytes:
        mac = hmac.new(self.key, digestmod=hashlib.sha256)
        for part in parts:
            mac.update(part)
        return mac.hexdigest().encode()

    def frames(self, msg_type: str, msg_id: str, content: dict) -> list[bytes]:
        header = {
            "msg_id": msg_id,
            "msg_type": msg_type,
            "username": "grader",
            "session": self.session,
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            "version": "5.3",
        }
        parts = [json.dumps(x).encode() for x in (header, {}, {}, content)]
        return [self.DELIM, self.sign(parts), *parts]

    def parse(self, frames: list[bytes]) -> tuple[str, str | None, dict]:
        """Return (msg_type, parent msg_id, content); raise ValueError on anything odd."""
        try:
            i = frames.index(self.DELIM)
        except ValueError:
            raise ValueError("no delimiter frame") from None
        if len(frames) < i + 6:
            raise ValueError("too few frames")
        sig, parts = frames[i + 1], frames[i + 2 : i + 6]
        if not hmac.compare_digest(sig, self.sign(parts)):
            raise ValueError("bad signature")
        header, parent, _meta, content = (json.loads(p) for p in parts)
        if not (isinstance(header, dict) and isinstance(parent, dict)):
            raise ValueError("header is not an object")
        if not isinstance(content, dict):
            raise ValueError("content is not an object")
        msg_type = header.get("msg_type")
        parent_id = parent.get("msg_id")
        if not isinstance(msg_type, str) or not (parent_id is None or isinstance(parent_id, str)):
            raise ValueError("header fields have wrong types")
        return msg_type, parent_id, content


class Lines:
    """Newline-delimited reader on a raw fd, with a cap on line length."""

    def __init__(self, fd: int, max_line: int) -> None:
        self.fd, self.max_line, self.buf, self.eof = fd, max_line, b"", False

    def feed(self) -> list[bytes]:
        data = os.read(self.fd, 1 << 16)
        if not data:
            self.eof = True
        self.buf += data
        *lines, self.buf = self.buf.split(b"\n")
        if len(self.buf) > self.max_line:
            raise ValueError("line too long")
        return lines

    def line(self, timeout_s: float) -> bytes:
        end = time.monotonic() + timeout_s
        while b"\n" not in self.buf:
            left = end - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                raise TimeoutError("no input")
            data = os.read(self.fd, 1 << 16)
            if not data:
                raise EOFError("input closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line


def emit(event: dict) -> None:
    """Write one event line to the grader (fd 1); ASCII-only JSON, so lines never break."""
    data = (json.dumps(event, ensure_ascii=True, separators=(",", ":")) + "\n").encode()
    view = memoryview(data)
    while view:
        n = os.write(1, view)
        view = view[n:]


# --------------------------------------------------------------------------- run


def run() -> int:
    """Launch one kernel from the configuration on stdin and relay until told to stop."""
    reader = Lines(0, 1 << 26)
    cfg = json.loads(reader.line(30.0))
    # Everything imported after the pivot must already be loaded: the trusted venv is not
    # visible from inside the new root.
    import zmq
    import zmq.utils.monitor

    applied = {name: False for name in ("net", "mount", "ipc", "uts", "pid")}
    log_fd = os.open(cfg["log_path"], os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
    devnull_fd = os.open("/dev/null", os.O_RDWR | os.O_CLOEXEC)
    cgroup_fds = [os.open(p, os.O_WRONLY | os.O_CLOEXEC) for p in cfg["cgroup_procs"]]
    masked = 0
    # unshare(CLONE_NEWPID) affects only children, and until this process goes back to its
    # own PID namespace for them it cannot start threads (clone fails with EINVAL), which
    # libzmq needs: keep a handle on the current namespace to return to after the fork.
    own_pid_ns = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
    try:
        flags = 0
        for name in cfg["namespaces"]:
            flags |= NAMESPACE_FLAGS[name]
        if flags:
            unshare(flags)
        for name in cfg["namespaces"]:
            applied[name] = True
        if applied["uts"]:
            _check(_libc.sethostname(b"sandbox", 7), "sethostname")
        if applied["mount"]:
            masked = build_root(cfg)
            if not applied["pid"]:
                mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
    except Exception as exc:  # reported to the grader, which raises
        emit({"ev": "error", "error": f"sandbox setup failed: {exc}"})
        return 1
    record = {
        "network_namespace": applied["net"],
        "mount_namespace": applied["mount"],
        "ipc_namespace": applied["ipc"],
        "uts_namespace": applied["uts"],
        "pid_namespace": applied["pid"],
        "hidden_masked": masked,
    }
    init_pid = os.fork()
    if init_pid == 0:
        os.close(own_pid_ns)
        run_init(
            cfg, {f"{k}_namespace": v for k, v in applied.items()}, log_fd, devnull_fd, cgroup_fds
        )
    for fd in (log_fd, devnull_fd, *cgroup_fds):
        os.close(fd)
    if applied["pid"]:
        _check(_libc.setns(own_pid_ns, CLONE_NEWPID), "setns back to the own PID namespace")
    os.close(own_pid_ns)
    emit({"ev": "started", "init_pid": init_pid, "applied": record})
    # From here on this process holds whatever the kernel sends: bound its memory.
    limit = int(cfg["supervisor_memory_bytes"])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    return relay(cfg, reader, init_pid, zmq)


def relay(cfg: dict, reader: Lines, init_pid: int, zmq) -> int:
    """Connect to the kernel and pass messages both ways until the kernel or grader goes."""
    conn = cfg["connection"]
    wire = Wire(conn["key"].encode())
    paths = {p: f"{conn['ip']}-{conn[p]}" for p in SOCKET_PORTS}
    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    deadline = time.monotonic() + float(cfg["startup_timeout_s"])

    def init_exit_code() -> int | None:
        try:
            pid, status = os.waitpid(init_pid, os.WNOHANG)
        except ChildProcessError:
            return -1
        return os.waitstatus_to_exitcode(status) if pid else None

    def kill_all() -> None:
        try:
            os.kill(init_pid, signal.SIGKILL)
        except OSError:
            pass

    # Wait for the kernel to bind its sockets before connecting: a connect to a missing ipc
    # path would be retried silently, and the folder must be handed back to root only after.
    while not all(os.path.exists(p) for p in paths.values()):
        code = init_exit_code()
        if code is not None:
            emit({"ev": "exit", "code": code, "phase": "startup"})
            return 0
        if time.monotonic() > deadline:
            emit({"ev": "error", "error": "kernel did not bind its sockets in time"})
            kill_all()
            return 1
        time.sleep(0.005)

    ctx = zmq.Context()
    ctx.setsockopt(zmq.MAXMSGSIZE, int(cfg["max_message_bytes"]))
    ctx.setsockopt(zmq.RCVHWM, 1000)
    ctx.setsockopt(zmq.LINGER, 0)
    socks: dict[str, object] = {}
    monitors: dict[object, str] = {}
    poller = zmq.Poller()

    def connect(channel: str) -> None:
        old = socks.get(channel)
        if old is not None:
            for mon, ch in list(monitors.items()):
                if ch == channel:
                    poller.unregister(mon)
                    del monitors[mon]
                    old.disable_monitor()
                    mon.close()
            poller.unregister(old)
            old.close()
        sock = ctx.socket(zmq.DEALER if channel == "shell" else zmq.SUB)
        if channel == "iopub":
            sock.setsockopt(zmq.SUBSCRIBE, b"")
        mon = sock.get_monitor_socket(zmq.EVENT_DISCONNECTED)
        sock.connect(f"ipc://{paths['shell_port' if channel == 'shell' else 'iopub_port']}")
        socks[channel] = sock
        monitors[mon] = channel
        poller.register(sock, zmq.POLLIN)
        poller.register(mon, zmq.POLLIN)

    connect("shell")
    connect("iopub")
    poller.register(0, zmq.POLLIN)
    poller.register(wake_r, zmq.POLLIN)
    ready = False
    got_info = got_iopub = False
    info_id = "ops-sandbox-ready-" + uuid.uuid4().hex
    last_info = 0.0

    def send(msg_type: str, msg_id: str, content: dict) -> None:
        socks["shell"].send_multipart(wire.frames(msg_type, msg_id, content))

    while True:
        now = time.monotonic()
        if not ready:
            if now > deadline:
                emit({"ev": "error", "error": "kernel did not answer kernel_info in time"})
                kill_all()
                return 1
            if now - last_info > 1.0:
                send("kernel_info_request", info_id, {})
                last_info = now
        events = dict(poller.poll(200 if not ready else 1000))
        if wake_r in events:
            try:
                while os.read(wake_r, 512):
                    pass
            except BlockingIOError:
                pass
        code = init_exit_code()
        if code is not None:
            emit({"ev": "exit", "code": code, "phase": "run" if ready else "startup"})
            return 0
        if 0 in events:
            try:
                lines = reader.feed()
            except ValueError:
                kill_all()
                return 1
            for line in lines:
                cmd = json.loads(line)
                op = cmd.get("op")
                if op == "execute":
                    content = {
                        "code": cmd["code"],
                        "silent": bool(cmd.get("silent", False)),
                        "store_history": bool(cmd.get("store_history", True)),
                        "user_expressions": {},
                        "allow_stdin": False,
                        "stop_on_error": False,
                    }
                    send("execute_request", cmd["msg_id"], content)
                elif op == "kernel_info":
                    send("kernel_info_request", cmd["msg_id"], {})
                elif op == "interrupt":
                    try:
                        os.kill(init_pid, signal.SIGINT)
                    except OSError:
                        pass
                elif op == "kill":
                    kill_all()
            if reader.eof:
                kill_all()
                return 0
        for mon, channel in list(monitors.items()):
            if mon in events:
                try:
                    event = zmq.utils.monitor.recv_monitor_message(mon, zmq.NOBLOCK)
                except zmq.Again:
                    continue
                if event["event"] == zmq.EVENT_DISCONNECTED and init_exit_code() is None:
                    # libzmq closed the connection for good (a frame over MAXMSGSIZE):
                    # say so, and connect a fresh socket for what comes next.
                    emit({"ev": "lost", "ch": channel})
                    connect(channel)
        for channel in ("shell", "iopub"):
            sock = socks[channel]
            if sock not in events:
                continue
            # A bounded batch, so that a flood cannot keep commands (interrupt, kill) and the
            # init's exit from being seen.
            for _ in range(256):
                try:
                    frames = sock.recv_multipart(zmq.NOBLOCK)
                except zmq.Again:
                    break
                try:
                    msg_type, parent_id, content = wire.parse(frames)
                    line = {
                        "ev": "msg",
                        "ch": channel,
                        "type": msg_type,
                        "parent": parent_id,
                        "content": content,
                    }
                    if not ready:
                        if channel == "shell" and parent_id == info_id:
                            got_info = True
                        if channel == "iopub":
                            got_iopub = True
                        if got_info and got_iopub:
                            # Hand the socket folder back to root: from now on nothing the
                            # sandbox does can plant a symlink where this process reconnects.
                            os.chown(cfg["socket_dir"], 0, 0)
                            os.chmod(cfg["socket_dir"], 0o711)
                            ready = True
                            emit({"ev": "ready"})
                        continue
                    emit(line)
                except BrokenPipeError:
                    kill_all()
                    return 0
                except Exception as exc:  # any malformed message
                    emit({"ev": "garbage", "ch": channel, "error": f"{type(exc).__name__}"})


# --------------------------------------------------------------------------- probe


def _trial(fn) -> tuple[bool, str]:
    pid = os.fork()
    if pid == 0:
        try:
            fn()
            os._exit(0)
        except OSError as exc:
            os._exit(min(exc.errno or 1, 125))
        except BaseException:
            os._exit(126)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code == 0:
        return True, ""
    if 0 < code < 126:
        return False, os.strerror(code)
    return False, f"exit status {code}"


def probe() -> dict:
    """Try each protection layer in a throwaway child; return {layer: [ok, reason]}."""
    results: dict[str, tuple[bool, str]] = {}
    nobody = 65534

    def switch_user() -> None:
        os.setgroups([])
        os.setresgid(nobody, nobody, nobody)
        os.setresuid(nobody, nobody, nobody)

    def rlimits() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 32, 1 << 32))
        resource.setrlimit(resource.RLIMIT_NPROC, (64, 64))
        resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 26, 1 << 26))

    def no_new_privs() -> None:
        prctl(PR_SET_NO_NEW_PRIVS, 1)

    scratch = tempfile.mkdtemp(prefix="ops-sandbox-probe-")

    def mount_ns() -> None:
        unshare(CLONE_NEWNS)
        mount(None, "/", None, MS_REC | MS_PRIVATE, None)
        mount("tmpfs", scratch, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755")
        _bind(scratch, "/usr", readonly=True)
        os.makedirs(scratch + "/tmp")
        pivot_root(scratch)
        if not os.path.isdir("/usr/bin") or os.path.exists(scratch):
            raise OSError(errno.EIO, "pivot_root did not take")

    def pid_ns() -> None:
        unshare(CLONE_NEWPID | CLONE_NEWNS)
        mount(None, "/", None, MS_REC | MS_PRIVATE, None)
        child = os.fork()
        if child == 0:
            try:
                ok = os.getpid() == 1
                mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
                os._exit(0 if ok and os.listdir("/proc") else 126)
            except OSError as exc:
                os._exit(min(exc.errno or 1, 125))
        _, status = os.waitpid(child, 0)
        code = os.waitstatus_to_exitcode(status)
        if code:
            raise OSError(code if code < 126 else errno.EPERM, "pid namespace")

    try:
        results["switch_user"] = _trial(switch_user)
        results["rlimits"] = _trial(rlimits)
        results["no_new_privs"] = _trial(no_new_privs)
        results["network_namespace"] = _trial(lambda: unshare(CLONE_NEWNET))
        results["ipc_namespace"] = _trial(lambda: unshare(CLONE_NEWIPC))
        results["uts_namespace"] = _trial(lambda: unshare(CLONE_NEWUTS))
        results["mount_namespace"] = _trial(mount_ns)
        results["pid_namespace"] = _trial(pid_ns)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return {k: list(v) for k, v in results.items()}


def main() -> int:
    """Entry point: ``probe`` or ``run``."""
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode == "probe":
        emit(probe())
        return 0
    if mode == "run":
        return run()
    _write_err("usage: _supervisor.py probe|run")
    return 2


if __name__ == "__main__":
    sys.exit(main())
