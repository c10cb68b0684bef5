"""A worker process that cannot open network connections: the last line behind the SERVICE ban.

kg.sparql.policy refuses SERVICE calls before pyoxigraph sees a query, but it reads the query
with its own tokenizer, and one disagreement with the engine's parser is enough for pyoxigraph to
make an HTTP request on a client's behalf (SSRF). In embedded mode (no `--store`, no
`--allow-service-host`) a worker never needs an outbound connection, so it installs a seccomp
filter once the app is built: from then on socket(2) for IPv4 and IPv6 fails with EACCES in every
thread of the process, whatever asks for it (pyoxigraph's HTTP client, DNS lookups). Serving is
unaffected: the listening socket is inherited and accept(2) creates no socket. Unix-domain sockets
stay allowed. io_uring_setup(2) is refused too, as io_uring can create sockets without socket(2).

The filter is a few lines of classic BPF loaded with the seccomp(2) system call through ctypes, with
SECCOMP_FILTER_FLAG_TSYNC so that threads already running get it too; no library is needed beyond
libc. It knows the system call numbers of x86_64 and aarch64; on any other architecture, or a
kernel without seccomp, it logs a warning once and the worker runs without it (the query policy
still refuses SERVICE calls).
"""
from __future__ import annotations

import ctypes
import errno
import logging
import os
import platform
import socket

from kg.server.settings import ServerSettings

log = logging.getLogger(__name__)

PR_SET_NO_NEW_PRIVS = 38
SECCOMP_SET_MODE_FILTER = 1
SECCOMP_FILTER_FLAG_TSYNC = 1
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000
X32_SYSCALL_BIT = 0x40000000


class _Architecture:
    def __init__(self, audit_arch: int, seccomp: int, socket_: int, io_uring_setup: int, x32: bool) -> None:
        self.audit_arch, self.seccomp, self.socket, self.io_uring_setup, self.x32 = (
            audit_arch, seccomp, socket_, io_uring_setup, x32)


# audit architecture (linux/audit.h) and system call numbers, by platform.machine()
ARCHITECTURES = {
    "x86_64": _Architecture(0xC000003E, seccomp=317, socket_=41, io_uring_setup=425, x32=True),
    "aarch64": _Architecture(0xC00000B7, seccomp=277, socket_=198, io_uring_setup=425, x32=False),
}

# classic BPF opcodes (linux/filter.h)
_LOAD_WORD = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JUMP_EQUAL = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JUMP_AT_LEAST = 0x35  # BPF_JMP | BPF_JGE | BPF_K
_RETURN = 0x06  # BPF_RET | BPF_K
# offsets in struct seccomp_data: nr, arch, instruction_pointer, args[6] (low half first: little-endian)
_NR, _ARCH, _FIRST_ARGUMENT = 0, 4, 16


class _Instruction(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint32)]


class _Program(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_Instruction))]


_warned = False


def forbid_network_sockets() -> bool:
    """Make socket(AF_INET/AF_INET6) fail with EACCES in every thread of this process, for good.

    True once installed; False (with one warning in the log) where seccomp filters are not available.
    """
    global _warned
    architecture = ARCHITECTURES.get(platform.machine())
    if architecture is None or not platform.system() == "Linux":
        if not _warned:
            log.warning("no seccomp filter on %s %s: this worker can still open network connections",
                        platform.system(), platform.machine())
            _warned = True
        return False
    instructions = _filter(architecture)
    program = _Program(len(instructions), (_Instruction * len(instructions))(*instructions))
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 or libc.syscall(
            architecture.seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, ctypes.byref(program)) != 0:
        if not _warned:
            log.warning("cannot install the seccomp filter (%s): this worker can still open network connections",
                        os.strerror(ctypes.get_errno()))
            _warned = True
        return False
    return True


def sandbox_worker(settings: ServerSettings) -> bool:
    """Forbid network sockets in an embedded-mode worker (no `--store`, no `--allow-service-host`).

    Call once the app is built and the listening socket inherited. True when the filter is installed.
    """
    if settings.store is not None or settings.allow_service_hosts:
        return False  # the worker queries a remote store, or its operator allowed some SERVICE hosts
    return forbid_network_sockets()


def _filter(architecture: _Architecture) -> list[_Instruction]:
    """The BPF program: deny socket(2) for IPv4/IPv6, io_uring_setup(2), and other ABIs; allow the rest."""
    deny = SECCOMP_RET_ERRNO | errno.EACCES
    program = [
        (_LOAD_WORD, 0, 0, _ARCH),
        (_JUMP_EQUAL, 1, 0, architecture.audit_arch),
        (_RETURN, 0, 0, deny),  # a system call of another ABI (32-bit): this process makes none
        (_LOAD_WORD, 0, 0, _NR),
    ]
    if architecture.x32:  # x32 system calls (numbers with bit 30 set) reach the same kernel functions
        program += [(_JUMP_AT_LEAST, 0, 1, X32_SYSCALL_BIT), (_RETURN, 0, 0, deny)]
    program += [
        (_JUMP_EQUAL, 0, 1, architecture.io_uring_setup),
        (_RETURN, 0, 0, deny),
        (_JUMP_EQUAL, 1, 0, architecture.socket),
        (_RETURN, 0, 0, SECCOMP_RET_ALLOW),
        (_LOAD_WORD, 0, 0, _FIRST_ARGUMENT),  # the address family
        (_JUMP_EQUAL, 2, 0, socket.AF_INET),
        (_JUMP_EQUAL, 1, 0, socket.AF_INET6),
        (_RETURN, 0, 0, SECCOMP_RET_ALLOW),
        (_RETURN, 0, 0, deny),
    ]
    return [_Instruction(*instruction) for instruction in program]
