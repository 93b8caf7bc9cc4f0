"""Running an untrusted parse in a child process with a memory and a time limit.

An uploaded spreadsheet is read by native code (python-calamine, Rust). A hostile or merely
broken file can make that code allocate without bound or abort the whole process (a Rust
allocation failure is not an exception: the process ends with SIGABRT). In a web worker or the
scheduler that would take every request or job of the process down with it. So the parse runs
in a child process:

- started from a fork server (or "spawn" where there is none), never by a plain fork of the
  web worker, which may hold threads and locks;
- with an address-space limit (``RLIMIT_AS``) and no core dumps, so a runaway allocation ends
  the child, not the machine;
- with a wall-clock limit enforced by the parent, which kills the child.

The parse is a generator function: each value it yields is sent to the parent as soon as it
is made (pickled), so rows stream in batches and neither side holds a second copy of the whole
sheet. An exception of one of the ``expected`` types raised in the child (e.g. ``SheetError``
with its Chinese message) is raised again in the parent; anything else (a crash, the memory
limit, the time limit, an unexpected exception) becomes a ``SandboxError`` whose message tells
the user what to do.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import resource
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["SandboxError", "run_isolated", "UNREADABLE_HINT"]

logger = logging.getLogger(__name__)

UNREADABLE_HINT = "请另存为标准的 .xlsx 后重试"

# Modules the fork server imports once, so each child starts without importing them again.
_PRELOAD = ["baoxue.lib.sheets"]

_MB = 1024 * 1024
_context_lock = threading.Lock()
_context: Any = None


class SandboxError(ValueError):
    """The child could not finish; str(error) is a Chinese message for the user."""


def _message(reason: str) -> str:
    return f"文件无法读取：{reason}。{UNREADABLE_HINT}"


def _get_context():
    """The fork-server context (one server per parent process, started on first use), else spawn."""
    global _context
    with _context_lock:
        if _context is None:
            if "forkserver" in multiprocessing.get_all_start_methods():
                context = multiprocessing.get_context("forkserver")
                try:
                    context.set_forkserver_preload(_PRELOAD)
                except Exception:  # pragma: no cover - older Pythons
                    pass
            else:  # pragma: no cover - platforms without fork (Windows, some macOS setups)
                context = multiprocessing.get_context("spawn")
            _context = context
        return _context


def _limit_memory(memory_mb: int | None) -> None:
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ValueError, OSError):  # pragma: no cover
        pass
    if memory_mb:
        limit = int(memory_mb) * _MB
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _child(conn, func: Callable[..., Iterator[Any]], args: tuple, memory_mb: int | None,
           expected: tuple[type[BaseException], ...]) -> None:
    """Child side: run the generator and send ("item", value) …, then ("done",) or an error."""
    # A Ctrl-C in a terminal reaches the whole process group: the parent decides, not the child.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    send = conn.send_bytes
    try:
        _limit_memory(memory_mb)
        for value in func(*args):
            send(pickle.dumps(("item", value), protocol=pickle.HIGHEST_PROTOCOL))
        send(pickle.dumps(("done", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)))
    except MemoryError:
        try:
            send(pickle.dumps(("memory",)))
        except BaseException:  # noqa: BLE001 - nothing left to report with
            pass
    except expected as error:
        send(pickle.dumps(("expected", error, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)))
    except BaseException as error:  # noqa: BLE001 - reported to the parent, which logs it
        import traceback

        try:
            send(pickle.dumps(("failed", f"{type(error).__name__}: {error}", traceback.format_exc())))
        except BaseException:  # noqa: BLE001
            pass
    finally:
        conn.close()


def run_isolated(func: Callable[..., Iterator[Any]], *args: Any, memory_mb: int | None = 1024,
                 seconds: float | None = 120, expected: tuple[type[BaseException], ...] = (),
                 stats: dict | None = None) -> Iterator[Any]:
    """Yield the values func(*args) yields, computed in a limited child process.

    func must be a module-level generator function (it is pickled by reference) and its
    arguments and values picklable. The time limit covers the whole run, from start to the last
    value. The child is killed when the caller stops iterating early. When given, stats gets
    "child_peak_mb" (the child's peak resident memory; the child is the fork server's, so
    RUSAGE_CHILDREN of this process does not see it) and "seconds".
    """
    context = _get_context()
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(sender, func, args, memory_mb, expected), daemon=True,
                              name="baoxue-parse")
    started = time.monotonic()
    deadline = started + seconds if seconds else None
    try:
        process.start()
    except Exception as error:  # e.g. the fork server could not start: refuse, do not crash
        logger.exception("could not start the reading process")
        raise SandboxError(_message("服务器无法启动读取进程，请稍后重试")) from error
    sender.close()  # only the child writes: its exit gives the parent an EOF
    try:
        while True:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and (remaining <= 0 or not receiver.poll(remaining)):
                raise SandboxError(_message(f"读取超过 {_seconds(seconds)}，文件可能过大或已损坏"))
            try:
                data = receiver.recv_bytes()
            except (EOFError, OSError):
                raise SandboxError(_crash_message(process, memory_mb)) from None
            message = pickle.loads(data)
            kind = message[0]
            if kind == "item":
                yield message[1]
            elif kind in ("done", "expected"):
                if stats is not None:
                    stats["child_peak_mb"] = message[-1] / 1024
                    stats["seconds"] = time.monotonic() - started
                if kind == "expected":
                    raise message[1]
                return
            elif kind == "memory":
                raise SandboxError(_message(f"读取时占用内存超过 {memory_mb} MB，文件可能过大或已损坏"))
            else:
                logger.error("reading an upload failed in the child process: %s\n%s", message[1], message[2])
                raise SandboxError(_message("读取程序出错"))
    finally:
        receiver.close()
        if process.is_alive():
            process.join(0.5)
        if process.is_alive():
            process.kill()
            process.join(5)
        elif process.exitcode is None:  # pragma: no cover
            process.join(1)


def _seconds(seconds: float | None) -> str:
    if seconds and seconds >= 60 and seconds % 60 == 0:
        return f"{int(seconds // 60)} 分钟"
    return f"{seconds:g} 秒"


def _crash_message(process, memory_mb: int | None) -> str:
    """The child ended without a word: a native crash, typically an allocation over the limit."""
    process.join(5)
    code = process.exitcode
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = str(-code)
        logger.warning("the reading process ended with signal %s", name)
        if -code in (signal.SIGABRT, signal.SIGKILL, signal.SIGSEGV, signal.SIGBUS):
            return _message(f"读取程序异常退出（可能是文件过大、范围过大或已损坏，内存上限 {memory_mb} MB）")
    else:
        logger.warning("the reading process ended with exit code %s", code)
    return _message("读取程序异常退出")


# ---------------------------------------------------------------- test hooks

def _hook_abort(*_args: Any) -> Iterator[Any]:
    """For tests: a reader that dies like calamine on a failed allocation."""
    yield "before"
    os.abort()


def _hook_allocate(megabytes: int) -> Iterator[Any]:
    """For tests: a reader that allocates more than the child may."""
    yield "before"
    blocks = []
    for _ in range(megabytes):
        blocks.append(bytearray(_MB))
    yield len(blocks)


def _hook_sleep(seconds: float) -> Iterator[Any]:
    """For tests: a reader that hangs."""
    yield "before"
    time.sleep(seconds)
    yield "after"


def _hook_values(*values: Any) -> Iterator[Any]:
    """For tests: a reader that yields what it is given."""
    yield from values


def _hook_raise(kind: str) -> Iterator[Any]:
    """For tests: a reader that raises (kind "value": ValueError; else RuntimeError)."""
    yield "before"
    if kind == "value":
        raise ValueError("一条中文说明")
    raise RuntimeError("unexpected")


if __name__ == "__main__":  # pragma: no cover
    sys.exit("baoxue.lib.sandbox is a library")
