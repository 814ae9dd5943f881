"""Output folders: claim one, then publish a complete result set into it as a whole.

Results must never be lost or mixed. Every command that writes results goes through here:

- :func:`claim` runs before anything is computed: it refuses a file, a folder that already
  holds something (unless ``overwrite``) and a place that cannot be written (by really
  creating and removing a file there), and removes staging left by dead processes;
- :func:`publish` writes a result set into a staging folder beside the target and swaps it
  in whole (an atomic exchange where the file system offers one), so the old set stays
  readable until the new one is complete, and a half-written set is never seen;
- :func:`atomic_file` writes one file by temporary name and rename;
- a write that fails (disk full, read-only) raises :class:`WriteFailed`, whose message is one
  line, after the staging has been removed.

Staging folders are named ``.<target>.staging-<host>-<pid>-<random>``, so a later claim of
the same target knows which ones belong to a process that died (``kill -9``) and removes
them; those of a live process, or of another host, are left alone.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import re
import shutil
import socket
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

PENDING = ".pending"
"""Folder inside a target where a streaming job (a sweep) builds the set that replaces it."""

_HOST = re.sub(r"[^A-Za-z0-9_.]", "_", socket.gethostname()) or "host"
_OWNED = re.compile(r"\.(?:staging|old)-(?P<host>.+)-(?P<pid>\d+)-[A-Za-z0-9_]+$")


class OutputError(Exception):
    """An output folder that cannot be used as asked: a usage error (exit code 2)."""


class WriteFailed(Exception):
    """Writing results failed (disk full, read-only file system): exit code 1."""


def _reason(err: OSError) -> str:
    return err.strerror or str(err)


def _tag(kind: str) -> str:
    return f"{kind}-{_HOST}-{os.getpid()}-"


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _dead_owner(name: str) -> bool:
    """Whether a staging name belongs to a process of this host that no longer runs."""
    match = _OWNED.search(name)
    return bool(match) and match["host"] == _HOST and not _alive(int(match["pid"]))


def clean_stale(out: Path) -> list[Path]:
    """Remove the staging of ``out`` left by dead processes, beside and inside it.

    A previous set moved aside during a swap that was cut short is put back if ``out`` is
    missing, and removed otherwise.

    Returns:
        The paths removed or put back.
    """
    out = Path(out)
    found: list[Path] = []
    places = [(out.parent, f".{out.name}.")]
    if out.is_dir() and not out.is_symlink():
        places.append((out, "."))
    for folder, prefix in places:
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            if not path.name.startswith(prefix) or not _dead_owner(path.name):
                continue
            if ".old-" in path.name and not out.exists():
                os.replace(path, out)
            elif path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            found.append(path)
    return found


def holds_something(out: Path) -> bool:
    """Whether ``out`` is a folder with anything in it."""
    out = Path(out)
    return out.is_dir() and any(out.iterdir())


def _probe(folder: Path) -> None:
    """Create and remove a file in ``folder``; raise :class:`OutputError` if that fails."""
    try:
        handle, name = tempfile.mkstemp(prefix=f".{_tag('staging')}", dir=folder)
        os.close(handle)
        os.unlink(name)
    except OSError as err:
        raise OutputError(f"{folder}: cannot write here ({_reason(err)})") from None


def check_writable(out: Path, *, beside: bool = True) -> None:
    """Check, by writing, that results can go into ``out`` (and beside it, if ``beside``).

    A folder that does not exist yet is checked at its nearest existing parent.

    Raises:
        OutputError: a place that cannot be written.
    """
    out = Path(out)
    if out.is_dir():
        _probe(out)
    if beside or not out.is_dir():
        parent = out.absolute().parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if not parent.is_dir():
            raise OutputError(f"{out}: cannot create the folder ({parent} is not a folder)")
        _probe(parent)


def claim(out: Path, *, overwrite: bool = False) -> None:
    """Make sure a result set can be published to ``out``, before anything is computed.

    Args:
        out: the output folder (it may not exist yet).
        overwrite: let a folder that holds something be replaced as a whole.

    Raises:
        OutputError: ``out`` is a file, holds something and ``overwrite`` is not given, or
            cannot be written. Nothing is touched then.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: --out must be a folder, and a file of that name exists")
    with contextlib.suppress(OSError):
        clean_stale(out)
    full = holds_something(out)
    if full and not overwrite:
        raise OutputError(
            f"{out} is not empty; pass --overwrite to replace its results, or choose another --out"
        )
    check_writable(out, beside=full or not out.exists())


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2(RENAME_EXCHANGE)``); False if unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def swap_in(folder: Path, out: Path) -> None:
    """Put the complete set in ``folder`` (beside ``out``) in place of ``out``'s contents.

    Readers see the old set or the new one, never a mixture: where the file system allows,
    the two folders are exchanged atomically; elsewhere the old folder is renamed aside and
    the new one renamed into place (if killed between the two, the next :func:`claim` puts
    the old one back).
    """
    if not out.exists():
        os.rename(folder, out)
        return
    if _exchange(folder, out):
        shutil.rmtree(folder, ignore_errors=True)
        return
    old = out.with_name(f".{out.name}.{_tag('old')}{os.urandom(4).hex()}")
    os.rename(out, old)
    os.rename(folder, out)
    shutil.rmtree(old, ignore_errors=True)


def _new_dir(parent: Path, prefix: str) -> Path:
    """A new folder ``parent/<prefix><random>``, with the permissions the umask gives.

    (Unlike :func:`tempfile.mkdtemp`, which makes it private: the published folder keeps
    the mode a plain ``mkdir`` would give it.)
    """
    while True:
        path = parent / f"{prefix}{os.urandom(4).hex()}"
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path


def promote_pending(out: Path) -> None:
    """Swap the complete set built in ``out/.pending`` in place of ``out``'s contents.

    Raises:
        WriteFailed: the swap failed; ``out`` is as it was.
    """
    out = Path(out)
    staging = out.with_name(f".{out.name}.{_tag('staging')}{os.urandom(4).hex()}")
    try:
        os.rename(out / PENDING, staging)
        swap_in(staging, out)
    except OSError as err:
        if staging.is_dir() and not (out / PENDING).exists():
            with contextlib.suppress(OSError):
                os.rename(staging, out / PENDING)  # keep it to resume
        raise WriteFailed(f"{out}: cannot put the new results in place ({_reason(err)}); "
                          "the old ones are kept") from None


def publish(out: Path, write: Callable[[Path], None], *, last: str = "metadata.json") -> list[str]:
    """Write a result set with ``write(staging)`` and publish it to ``out`` as a whole.

    A missing ``out`` is created by renaming the staging folder; an existing, empty ``out``
    (which may carry its own permissions, or be a mount point) receives the files one by
    one, ``last`` at the end; an ``out`` that holds something (the caller has claimed it
    with ``overwrite``) is replaced whole by :func:`swap_in`.

    Args:
        out: the output folder.
        write: writes the files of the set into the folder it is given.
        last: the file that marks a set complete, moved last.

    Returns:
        The names of the files written, sorted.

    Raises:
        WriteFailed: writing or moving failed; the staging is removed and ``out`` is as it
            was.
    """
    out = Path(out)
    inside = out.is_dir() and not holds_something(out)
    staging: Path | None = None
    try:
        if inside:
            staging = _new_dir(out, f".{_tag('staging')}")
        else:
            out.parent.mkdir(parents=True, exist_ok=True)
            staging = _new_dir(out.parent, f".{out.name}.{_tag('staging')}")
        write(staging)
        names = sorted(p.name for p in staging.iterdir())
        if inside:
            for name in sorted(names, key=lambda n: n == last):
                os.replace(staging / name, out / name)
            staging.rmdir()
        else:
            swap_in(staging, out)
        staging = None
    except OSError as err:
        raise WriteFailed(f"{out}: cannot write the results ({_reason(err)}); "
                          "nothing was written") from None
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    return names


@contextlib.contextmanager
def atomic_file(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it to ``path``.

    On any failure the temporary file is removed; an :class:`OSError` becomes
    :class:`WriteFailed`.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise WriteFailed(f"{path}: cannot write ({_reason(err)})") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_file`)."""
    with atomic_file(path) as tmp:
        tmp.write_bytes(data)
