"""Output folders: results are never lost or mixed (refusal, overwrite, failures, kills)."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from normsim import outdir
from normsim.cli import main
from normsim.experiments import executors
from normsim.results import ResultsError, read_results

RUN = ["run", "asean-2024", "-n", "6", "--steps", "3", "-q"]
SWEEP = {
    "name": "small",
    "scenario": "asean-2024",
    "overrides": {"end_year": 2027},
    "seed": 3,
    "replicates": 2,
    "levers": {"parameters": {"framing": {"lever": "framing",
                                          "values": ["standard", "localized"]}}},
}
RUN_FILES = ["agents.parquet", "metadata.json", "runs.parquet", "steps.parquet"]


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones too), by relative path."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def hidden(folder: Path) -> list[str]:
    """Hidden entries directly in ``folder``: staging, temporary files."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def sweep_file(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(SWEEP, sort_keys=False))
    return path


def dead_pid() -> int:
    """The PID of a process that has exited (and been reaped)."""
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    return int(done.stdout)


# --------------------------------------------------------------------------- item 1


def test_run_into_a_folder_holding_results_is_refused_and_nothing_is_touched(
        tmp_path, capsys):
    out = tmp_path / "o"
    assert main([*RUN, "--out", str(out)]) == 0
    before = snapshot(out)
    capsys.readouterr()
    assert main([*RUN, "--no-agents", "--seed", "5", "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # refused before computing: no summary
    lines = captured.err.splitlines()
    assert len(lines) == 1 and "is not empty" in lines[0] and "--overwrite" in lines[0]
    assert snapshot(out) == before and hidden(tmp_path) == []


def test_overwrite_replaces_the_set_as_a_whole_and_wrote_lists_what_was_written(
        tmp_path, capsys):
    out = tmp_path / "o"
    assert main([*RUN, "--out", str(out)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"wrote {', '.join(RUN_FILES)} to {out}"
    (out / "figures").mkdir()
    (out / "figures" / "old.png").write_bytes(b"a figure of the old results")
    assert main([*RUN, "--no-agents", "--seed", "5", "--out", str(out), "--overwrite"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"wrote metadata.json, runs.parquet, steps.parquet to {out}")
    assert sorted(p.name for p in out.iterdir()) == [
        "metadata.json", "runs.parquet", "steps.parquet"]  # no stray agents.parquet
    results = read_results(out)
    assert results.agents is None and results.metadata["master_seed"] == 5
    assert results.metadata["files"] == ["metadata.json", "runs.parquet", "steps.parquet"]
    assert hidden(tmp_path) == []


def test_read_results_refuses_tables_that_do_not_belong_together(tmp_path):
    full, lean = tmp_path / "full", tmp_path / "lean"
    assert main([*RUN, "--out", str(full)]) == 0
    assert main([*RUN, "--no-agents", "--out", str(lean)]) == 0
    (lean / "agents.parquet").write_bytes((full / "agents.parquet").read_bytes())
    with pytest.raises(ResultsError, match=r"agents\.parquet does not belong"):
        read_results(lean)
    (full / "steps.parquet").unlink()
    with pytest.raises(ResultsError, match=r"steps\.parquet missing"):
        read_results(full)
    with pytest.raises(ResultsError, match=r"metadata\.json is missing"):
        read_results(tmp_path)


def test_run_into_a_sweep_folder_is_refused_and_overwrite_leaves_no_sweep_behind(
        tmp_path, capsys):
    out = tmp_path / "sw"
    path = sweep_file(tmp_path)
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1", "-q"]) == 0
    before = snapshot(out)
    assert main([*RUN, "--out", str(out)]) == 2
    assert snapshot(out) == before
    assert main([*RUN, "--out", str(out), "--overwrite"]) == 0
    assert sorted(p.name for p in out.iterdir()) == RUN_FILES  # no sweep.json, points.parquet
    capsys.readouterr()
    assert main(["sweep", str(path), "--out", str(out), "--resume", "-q"]) == 2
    assert main(["sensitivity", str(out)]) == 2
    err = capsys.readouterr().err
    assert "holds no sweep to resume" in err and "Traceback" not in err


def test_sweep_without_resume_into_a_full_folder_is_refused(tmp_path, capsys):
    out = tmp_path / "o"
    path = sweep_file(tmp_path)
    assert main([*RUN, "--out", str(out)]) == 0
    before = snapshot(out)
    capsys.readouterr()
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and "is not empty" in lines[0] and "--overwrite" in lines[0]
    assert main(["sweep", str(path), "--out", str(out), "--resume", "--overwrite"]) == 2
    assert snapshot(out) == before


def test_an_overwriting_sweep_keeps_the_old_results_until_complete_and_resumes(
        tmp_path, monkeypatch, capsys):
    out = tmp_path / "o"
    path = sweep_file(tmp_path)
    assert main([*RUN, "--out", str(out)]) == 0
    old = snapshot(out)
    real, calls = executors.run_task, []

    def interrupted(spec):
        calls.append(spec)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(spec)

    monkeypatch.setattr(executors, "run_task", interrupted)
    argv = ["sweep", str(path), "--out", str(out), "--workers", "1", "--task-runs", "1", "-q"]
    assert main([*argv, "--overwrite"]) == 130
    assert "rerun with --resume" in capsys.readouterr().err
    assert read_results(out).agents is not None  # the old set, intact and readable
    assert {k: v for k, v in snapshot(out).items() if not k.startswith(".pending")} == old
    assert len(list((out / ".pending" / "chunks").glob("runs-*.parquet"))) == 2
    monkeypatch.setattr(executors, "run_task", real)
    assert main([*argv, "--resume"]) == 0
    assert "resumed: ran 2 of 4 tasks" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == [
        "metadata.json", "points.parquet", "runs.parquet", "steps.parquet", "sweep.json"]
    assert len(read_results(out).runs) == 4 and hidden(tmp_path) == []


# --------------------------------------------------------------------------- item 2


def _read_only(monkeypatch, root: Path) -> None:
    """Make creating files under ``root`` fail as on a read-only mount (EROFS).

    As root, permissions do not stop writes, so the kernel's answer is simulated where
    files are created (``os.open`` with ``O_CREAT``, ``os.mkdir``).
    """
    real_open, real_mkdir = os.open, os.mkdir

    def inside(path) -> bool:
        return Path(os.fsdecode(path)).absolute().is_relative_to(root)

    def fake_open(path, flags, *args, **kwargs):
        if flags & os.O_CREAT and inside(path):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fsdecode(path))
        return real_open(path, flags, *args, **kwargs)

    def fake_mkdir(path, *args, **kwargs):
        if inside(path):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fsdecode(path))
        return real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", fake_open)
    monkeypatch.setattr(os, "mkdir", fake_mkdir)


def _no_computing(monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("computed before checking --out")

    monkeypatch.setattr("normsim.experiments.replicates.run_scenario", refuse)
    monkeypatch.setattr(executors, "run_task", refuse)


@pytest.mark.parametrize("existing", [False, True])
def test_an_unwritable_out_is_refused_before_any_computation(
        tmp_path, monkeypatch, capsys, existing):
    mount = tmp_path / "mount"
    mount.mkdir()
    out = mount / "o"
    if existing:
        out.mkdir()
    _read_only(monkeypatch, mount)
    _no_computing(monkeypatch)
    assert main([*RUN, "--out", str(out)]) == 2
    assert main(["sweep", str(sweep_file(tmp_path)), "--out", str(out), "--workers", "1"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2 and all("cannot write here (Read-only file system)" in line
                                   for line in lines)
    assert list(mount.rglob("*")) == ([out] if existing else [])


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="permissions do not stop root from writing")
def test_a_folder_without_write_permission_is_refused(tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        assert main([*RUN, "--out", str(locked / "o")]) == 2
    finally:
        locked.chmod(0o700)
    assert "cannot write here" in capsys.readouterr().err


def _disk_full_after(monkeypatch, calls: int) -> None:
    """Let ``to_parquet`` write ``calls`` files, then fail half-way as on a full disk."""
    real, count = pd.DataFrame.to_parquet, []

    def full(self, path, *args, **kwargs):
        count.append(path)
        if len(count) > calls:
            Path(path).write_bytes(b"PAR1 half a table")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real(self, path, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_parquet", full)


def test_a_failed_write_exits_1_with_one_line_and_leaves_nothing(tmp_path, monkeypatch, capsys):
    fresh, kept = tmp_path / "fresh", tmp_path / "kept"
    assert main([*RUN, "--out", str(kept)]) == 0
    old = snapshot(kept)
    capsys.readouterr()
    _disk_full_after(monkeypatch, 1)
    assert main([*RUN, "--out", str(fresh)]) == 1
    assert main([*RUN, "--no-agents", "--out", str(kept), "--overwrite"]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2 and all("No space left on device" in line and
                                   "nothing was written" in line for line in lines)
    assert not fresh.exists() and snapshot(kept) == old and hidden(tmp_path) == []


def test_a_failed_sweep_write_exits_1_and_keeps_what_can_be_resumed(
        tmp_path, monkeypatch, capsys):
    out = tmp_path / "sw"
    argv = ["sweep", str(sweep_file(tmp_path)), "--out", str(out), "--workers", "1",
            "--task-runs", "1", "-q"]
    real, count = Path.write_bytes, []

    def full(self, data):
        count.append(self)
        if len(count) > 3:  # the manifest, then one task's two chunks
            real(self, data[:10])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", full)
    assert main(argv) == 1
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and "No space left on device" in lines[0]
    assert "--resume" in lines[0]
    assert hidden(out / "chunks") == [] and hidden(tmp_path) == []
    monkeypatch.setattr(Path, "write_bytes", real)
    assert main([*argv, "--resume"]) == 0
    assert len(read_results(out).runs) == 4


# --------------------------------------------------------------------------- item 3


def test_stale_staging_of_a_dead_process_is_removed_by_the_next_run(tmp_path):
    out = tmp_path / "o"
    host = outdir._HOST
    stale = tmp_path / f".o.staging-{host}-{dead_pid()}-1a2b"
    stale.mkdir()
    (stale / "agents.parquet").write_bytes(b"x" * 1_000_000)
    live = tmp_path / f".o.staging-{host}-{os.getppid()}-3c4d"  # a process still running
    live.mkdir()
    other = tmp_path / f".o.staging-another_host-{dead_pid()}-5e6f"
    other.mkdir()
    assert main([*RUN, "--out", str(out)]) == 0
    assert hidden(tmp_path) == sorted([live.name, other.name])
    assert sorted(p.name for p in out.iterdir()) == RUN_FILES


KILLED_DURING_WRITE = textwrap.dedent("""
    import sys, time
    import pandas as pd
    from normsim.cli import main

    real = pd.DataFrame.to_parquet

    def slow(self, path, *args, **kwargs):
        real(self, path, *args, **kwargs)
        print("writing", flush=True)
        time.sleep(60)

    pd.DataFrame.to_parquet = slow
    sys.exit(main(sys.argv[1:]))
""")


@pytest.mark.skipif(os.name != "posix", reason="kill -9 is POSIX")
@pytest.mark.parametrize("existing", [False, True])
def test_kill_9_during_the_final_write_leaves_staging_that_the_next_run_cleans(
        tmp_path, existing):
    out = tmp_path / "o"
    if existing:
        out.mkdir()  # an empty folder: staged inside it
    process = subprocess.Popen([sys.executable, "-c", KILLED_DURING_WRITE, *RUN,
                                "--out", str(out)], stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        for line in process.stdout:
            if line.strip() == "writing" or time.monotonic() > deadline:
                break
        assert line.strip() == "writing"
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait(timeout=30)
        process.stdout.close()
    left = hidden(out) if existing else hidden(tmp_path)
    assert len(left) == 1 and ".staging-" in left[0]  # the kill left its staging
    assert not (out / "runs.parquet").exists()
    assert main([*RUN, "--out", str(out)]) == 0
    assert hidden(tmp_path) == [] and hidden(out) == []
    assert sorted(p.name for p in out.iterdir()) == RUN_FILES


def test_an_old_set_moved_aside_by_a_killed_swap_is_put_back(tmp_path):
    out = tmp_path / "o"
    assert main([*RUN, "--out", str(out)]) == 0
    before = snapshot(out)
    aside = tmp_path / f".o.old-{outdir._HOST}-{dead_pid()}-9f9f"
    out.rename(aside)  # as a swap without atomic exchange, killed between its renames
    assert main([*RUN, "--out", str(out)]) == 2  # claimed: the old set is back, so refused
    assert snapshot(out) == before and hidden(tmp_path) == []


def test_publish_swaps_without_exchange_too(tmp_path, monkeypatch):
    out = tmp_path / "o"
    assert main([*RUN, "--out", str(out)]) == 0
    monkeypatch.setattr(outdir, "_exchange", lambda a, b: False)
    assert main([*RUN, "--no-agents", "--out", str(out), "--overwrite"]) == 0
    assert json.loads((out / "metadata.json").read_text())["files"] == [
        "metadata.json", "runs.parquet", "steps.parquet"]
    assert hidden(tmp_path) == []
