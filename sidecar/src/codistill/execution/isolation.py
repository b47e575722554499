"""What keeps a sample in, from the kernel's own mechanisms, and the name of what it got.

Each sample's child (worker.py) takes, in this order and each only where the kernel allows it:

- **namespaces**: a new network, mount and PID namespace; when not root, inside a new user
  namespace (unprivileged user namespaces), so a normal user gets them too. The PID namespace's
  init is the sample's parent: when the sample ends, init exits and the kernel kills every
  process left in the namespace, daemons after ``setsid`` and double forks included, and the
  sample cannot see or signal any process outside it. No network namespace: no network at all.
- **a uid of its own** when the worker runs as root (as before), so file permissions and
  RLIMIT_NPROC apply to it alone.
- **Landlock** (Linux 5.13+, ABI detected at run time): the sample may write only inside its
  own temporary folder; it may read and execute only the system's folders and the
  interpreter's own, not the user's home (``~/.ssh``, ``~/.config``), the workspace or the run
  folders. Since ABI 4 it may neither connect nor bind TCP; since ABI 6 it may not signal, nor
  reach abstract Unix sockets of, processes outside its domain. Landlock also forbids ptrace of
  processes outside the sandbox, and mounts.
- **no privileges**: no_new_privs, and no capabilities left from the user namespace.

The isolation a sample got is named like ``landlock-v7+userns+netns+pidns``, or
``rlimits-only`` when the kernel allowed none of these (the resource limits always apply). Only
the standard library: this runs in the sandbox's fork children, before the sample.
"""

from __future__ import annotations

import ctypes
import os
import sys
from dataclasses import dataclass, field
from typing import Any

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REC = 0x4000
MS_PRIVATE = 1 << 18

PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4

# The Landlock system calls have the same numbers on every architecture.
SYS_LANDLOCK_CREATE_RULESET = 444
SYS_LANDLOCK_ADD_RULE = 445
SYS_LANDLOCK_RESTRICT_SELF = 446
LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_RULE_PATH_BENEATH = 1

# Landlock's file system rights, bit by bit in the kernel's order: ABI 1 has the first 13,
# ABI 2 adds REFER, ABI 3 TRUNCATE, ABI 5 IOCTL_DEV.
FS_ACCESS = (
    "EXECUTE", "WRITE_FILE", "READ_FILE", "READ_DIR", "REMOVE_DIR", "REMOVE_FILE", "MAKE_CHAR",
    "MAKE_DIR", "MAKE_REG", "MAKE_SOCK", "MAKE_FIFO", "MAKE_BLOCK", "MAKE_SYM", "REFER",
    "TRUNCATE", "IOCTL_DEV",
)  # fmt: skip
FS = {name: 1 << bit for bit, name in enumerate(FS_ACCESS)}
FS_RIGHTS_BY_ABI = {1: 13, 2: 14, 3: 15, 4: 15, 5: 16}  # how many of FS_ACCESS each ABI knows
NET_BIND_TCP = 1 << 0  # ABI 4
NET_CONNECT_TCP = 1 << 1  # ABI 4
SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0  # ABI 6
SCOPE_SIGNAL = 1 << 1  # ABI 6

# Rights a rule may grant on a file (not a folder).
FILE_RIGHTS = FS["EXECUTE"] | FS["WRITE_FILE"] | FS["READ_FILE"] | FS["TRUNCATE"] | FS["IOCTL_DEV"]
READ_ONLY = FS["EXECUTE"] | FS["READ_FILE"] | FS["READ_DIR"]
DEVICE_RIGHTS = FS["READ_FILE"] | FS["WRITE_FILE"] | FS["TRUNCATE"] | FS["IOCTL_DEV"]

# What the sample may read and execute: the system and the interpreter. Everything else (the
# user's home, the workspace, other users' files) is out of reach.
SYSTEM_FOLDERS = (
    "/usr",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/bin",
    "/sbin",
    "/etc",
    "/opt",
    "/proc",
    "/sys",
    "/dev",
)
WRITABLE_DEVICES = ("/dev/null", "/dev/zero", "/dev/full")


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


_LINUX_CAPABILITY_VERSION_3 = 0x20080522
_SYS_CAPSET = {"x86_64": 126, "aarch64": 91}


def _libc() -> Any:
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


LIBC = _libc()


@dataclass
class Isolation:
    """What one sample's child got."""

    landlock: int = 0  # the Landlock ABI applied, 0: none
    userns: bool = False
    own_uid: bool = False
    netns: bool = False
    pidns: bool = False
    seccomp: bool = False  # socket families other than AF_UNIX refused (without netns)
    problems: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        parts = [f"landlock-v{self.landlock}"] if self.landlock else []
        parts += [
            part
            for part, on in (
                ("userns", self.userns),
                ("uid", self.own_uid),
                ("netns", self.netns),
                ("pidns", self.pidns),
                ("seccomp", self.seccomp),
            )
            if on
        ]
        return "+".join(parts) or "rlimits-only"


# --- levels ------------------------------------------------------------------------------------

LEVELS = ("none", "partial", "full")


def level_of(name: str) -> str:
    """``full``: files (Landlock), network (a network namespace) and processes (a PID
    namespace) are all kept in; ``none``: only the resource limits; ``partial``: the rest."""
    parts = set(name.split("+"))
    files = any(part.startswith("landlock-v") for part in parts)
    if files and {"netns", "pidns"} <= parts:
        return "full"
    return "none" if name == "rlimits-only" else "partial"


def meets(name: str, minimum: str) -> bool:
    return LEVELS.index(level_of(name)) >= LEVELS.index(minimum)


# --- namespaces --------------------------------------------------------------------------------


def _write(path: str, text: str) -> None:
    with open(path, "w", encoding="ascii") as handle:
        handle.write(text)


PR_SET_PDEATHSIG = 1


def enter_namespaces(isolation: Isolation) -> None:
    """Moves the calling worker into a new network, mount and PID namespace (inside a new user
    namespace when not root), as the PID namespace's init: the process that called this waits
    outside for that init and exits as it exits. Records what it got; with nothing, the caller
    goes on as it was."""
    if LIBC is None:
        isolation.problems.append("no libc: no namespaces")
        return
    uid, gid = os.getuid(), os.getgid()
    flags = CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWPID
    if os.geteuid() != 0:
        flags |= CLONE_NEWUSER
    if LIBC.unshare(flags) != 0:
        isolation.problems.append(f"unshare: {os.strerror(ctypes.get_errno())}")
        return
    if flags & CLONE_NEWUSER:
        # The same ids inside as outside: the files the worker and the samples make are the
        # user's own.
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{uid} {uid} 1")
        _write("/proc/self/gid_map", f"{gid} {gid} 1")
        isolation.userns = True
    isolation.netns = True
    init = os.fork()
    if init:
        _exit_as(init)
    isolation.pidns = True
    LIBC.prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0)  # SIGKILL: never outlive the process outside
    _mount_private_proc(isolation)


def _exit_as(pid: int) -> None:
    """Outside the namespace: wait for its init and end the same way."""
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))


def _mount_private_proc(isolation: Isolation) -> None:
    """Mounts stay in this namespace, and /proc shows only its own processes: a sample cannot
    see, let alone read, the user's other processes. Without it /proc still lists the host's,
    which Landlock keeps the sample from reading the secrets of (its ptrace checks)."""
    if LIBC.mount(None, b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        isolation.problems.append(f"mount --make-rprivate /: {os.strerror(ctypes.get_errno())}")
        return
    if LIBC.mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None) != 0:
        isolation.problems.append(f"mount proc: {os.strerror(ctypes.get_errno())}")


# --- privileges --------------------------------------------------------------------------------


def drop_privileges(isolation: Isolation) -> None:
    """no_new_privs, and none of the capabilities a new user namespace gives its creator (the
    worker keeps them: it kills what a sample leaves in the namespace)."""
    if LIBC is None:
        return
    LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    if not isolation.userns:
        return
    LIBC.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    number = _SYS_CAPSET.get(os.uname().machine)
    if number is None:
        isolation.problems.append("capset: unknown architecture")
        return
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    if LIBC.syscall(number, ctypes.byref(header), ctypes.byref(data)) != 0:
        isolation.problems.append(f"capset: {os.strerror(ctypes.get_errno())}")


# --- seccomp ----------------------------------------------------------------------------------

# Where there is no network namespace: a seccomp filter refuses every socket family but
# AF_UNIX (Landlock covers TCP only, not UDP or raw sockets), and io_uring, whose socket
# operations a filter on system calls would not see.
_SECCOMP_ARCH = {
    # machine: (AUDIT_ARCH_*, socket, socketpair, io_uring_setup)
    "x86_64": (0xC000003E, 41, 53, 425),
    "aarch64": (0xC00000B7, 198, 199, 425),
}
_X32_SYSCALL_BIT = 0x40000000
_AF_UNIX = 1
_EAFNOSUPPORT = 97
_ENOSYS = 38
_SECCOMP_RET_ALLOW = 0x7FFF0000
_SECCOMP_RET_ERRNO = 0x00050000
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2


class _SockFilter(ctypes.Structure):
    _fields_ = [
        ("code", ctypes.c_uint16),
        ("jt", ctypes.c_uint8),
        ("jf", ctypes.c_uint8),
        ("k", ctypes.c_uint32),
    ]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_uint16), ("filter", ctypes.POINTER(_SockFilter))]


def _socket_filter(arch: int, socket_nr: int, socketpair_nr: int, io_uring_nr: int) -> list[tuple]:
    """The BPF program: (code, jt, jf, k) each; jumps count the instructions they skip."""
    load_word, jeq, jge, ret = 0x20, 0x15, 0x35, 0x06
    deny = _SECCOMP_RET_ERRNO | _EAFNOSUPPORT
    return [
        (load_word, 0, 0, 4),  # 0: the architecture
        (jeq, 1, 0, arch),  # 1: ours? on to 3
        (ret, 0, 0, _SECCOMP_RET_ERRNO | _ENOSYS),  # 2: another ABI's system calls: none
        (load_word, 0, 0, 0),  # 3: the system call number
        (jge, 7, 0, _X32_SYSCALL_BIT),  # 4: x32 calls: deny (12)
        (jeq, 3, 0, socket_nr),  # 5: socket: check the family (9)
        (jeq, 2, 0, socketpair_nr),  # 6: socketpair: check the family (9)
        (jeq, 4, 0, io_uring_nr),  # 7: io_uring_setup: deny (12)
        (ret, 0, 0, _SECCOMP_RET_ALLOW),  # 8
        (load_word, 0, 0, 16),  # 9: the family (args[0], low word)
        (jeq, 0, 1, _AF_UNIX),  # 10: AF_UNIX? allow (11), else deny (12)
        (ret, 0, 0, _SECCOMP_RET_ALLOW),  # 11
        (ret, 0, 0, deny),  # 12
    ]


def load_seccomp_filter(program: list[tuple[int, int, int, int]]) -> str | None:
    """Puts a BPF program, (code, jt, jf, k) each, on this process and all it starts (it needs
    no_new_privs). Returns why it could not, or None."""
    if LIBC is None:
        return "no libc"
    filters = (_SockFilter * len(program))(*(_SockFilter(*line) for line in program))
    fprog = _SockFprog(len(program), filters)
    if LIBC.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        return os.strerror(ctypes.get_errno())
    return None


def refuse_socket_families(isolation: Isolation) -> None:
    """No sockets but AF_UNIX, for this process and all it starts (needs no_new_privs)."""
    numbers = _SECCOMP_ARCH.get(os.uname().machine)
    if numbers is None:
        isolation.problems.append("seccomp: unknown architecture")
        return
    problem = load_seccomp_filter(_socket_filter(*numbers))
    if problem:
        isolation.problems.append(f"seccomp: {problem}")
        return
    isolation.seccomp = True


# --- Landlock ----------------------------------------------------------------------------------


def landlock_abi() -> int:
    """The Landlock ABI this kernel offers; 0 when it has none (or it is disabled)."""
    if LIBC is None:
        return 0
    abi = LIBC.syscall(SYS_LANDLOCK_CREATE_RULESET, None, 0, LANDLOCK_CREATE_RULESET_VERSION)
    return max(0, abi)


def _fs_rights(abi: int) -> int:
    """Every file system right the kernel's Landlock ABI knows: all of them are handled, so
    whatever no rule grants is denied."""
    return (1 << FS_RIGHTS_BY_ABI[min(abi, 5)]) - 1


def readable_folders() -> list[str]:
    """The system's folders and the interpreter's (its prefixes, its own folder, and the
    sandbox's package, which the child has imported already)."""
    package = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    interpreter = os.path.dirname(os.path.realpath(sys.executable))
    folders = [*SYSTEM_FOLDERS, sys.prefix, sys.base_prefix, sys.exec_prefix, interpreter, package]
    return list(dict.fromkeys(os.path.realpath(folder) for folder in folders))


def _add_path_rule(ruleset: int, path: str, rights: int) -> bool:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return False  # not there, or not ours to reach: nothing to grant
    try:
        if not os.path.isdir(path):
            rights &= FILE_RIGHTS
        rule = _PathBeneathAttr(rights, fd)
        return (
            LIBC.syscall(
                SYS_LANDLOCK_ADD_RULE, ruleset, LANDLOCK_RULE_PATH_BENEATH, ctypes.byref(rule), 0
            )
            == 0
        )
    finally:
        os.close(fd)


def restrict_with_landlock(isolation: Isolation, writable: str) -> None:
    """Only `writable` may be written; the system and the interpreter may be read; no TCP
    (ABI 4+); no signals or abstract Unix sockets out of the sandbox (ABI 6+)."""
    abi = landlock_abi()
    if abi == 0:
        isolation.problems.append("Landlock: not offered by this kernel")
        return
    fs = _fs_rights(abi)
    attr = _RulesetAttr(fs, NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 else 0, 0)
    if abi >= 6:
        attr.scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL
    ruleset = LIBC.syscall(SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr), ctypes.sizeof(attr), 0)
    if ruleset < 0:
        isolation.problems.append(f"Landlock: {os.strerror(ctypes.get_errno())}")
        return
    try:
        for folder in readable_folders():
            _add_path_rule(ruleset, folder, READ_ONLY & fs)
        for device in WRITABLE_DEVICES:
            _add_path_rule(ruleset, device, DEVICE_RIGHTS & fs)
        if not _add_path_rule(ruleset, writable, fs):
            isolation.problems.append(f"Landlock: cannot grant {writable}")
            return
        LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        if LIBC.syscall(SYS_LANDLOCK_RESTRICT_SELF, ruleset, 0) != 0:
            isolation.problems.append(f"Landlock: {os.strerror(ctypes.get_errno())}")
            return
        isolation.landlock = abi
    finally:
        os.close(ruleset)
