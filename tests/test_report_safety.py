"""The report never loses a user's files (issue 12): each rule of survkit.report.destination."""

import os
import signal
import stat
import subprocess
import sys
import textwrap
import time

import pandas as pd
import pytest
from click.testing import CliRunner

from survkit.cli import main
from survkit.report import write_atomically
from survkit.report.content import Report, Section, Table
from survkit.report.destination import MARKER


def _report(text="first", extra_table=False):
    tables = [Table("t", pd.DataFrame({"a": [1.0]}), "c")] if extra_table else []
    return Report("t", "s", [Section("a", [text], tables=tables)])


def test_user_files_in_a_non_report_folder_survive(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.docx").write_text("precious")
    with pytest.raises(ValueError, match=r"not a survkit report.*--force"):
        write_atomically(_report(), out)
    assert os.listdir(out) == ["thesis.docx"]
    # with force: the report's files are added, the user's file is untouched
    write_atomically(_report(), out, force=True)
    assert (out / "thesis.docx").read_text() == "precious"
    assert (out / "report.html").exists() and (out / MARKER).exists()
    # rewriting that report later keeps the user's file too
    write_atomically(_report("second"), out)
    assert (out / "thesis.docx").read_text() == "precious"
    assert "second" in (out / "report.html").read_text()


def test_force_never_overwrites_a_user_file_of_the_same_name(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "report.html").write_text("my own page")
    with pytest.raises(ValueError, match=r"would overwrite.*report\.html"):
        write_atomically(_report(), out, force=True)
    assert (out / "report.html").read_text() == "my own page"
    assert not (out / MARKER).exists()
    assert sorted(os.listdir(tmp_path)) == ["mine"]  # no temporary folder left


def test_a_previous_report_is_replaced_file_by_file(tmp_path):
    out = tmp_path / "rep"
    write_atomically(_report(extra_table=True), out)
    assert (out / "tables" / "t.csv").exists()
    (out / "notes.txt").write_text("my notes on the report")
    write_atomically(_report("second"), out)
    assert "second" in (out / "report.html").read_text()
    assert not (out / "tables" / "t.csv").exists()  # the old report's file, no longer written
    assert (out / "notes.txt").read_text() == "my notes on the report"


def test_out_equal_to_cwd_or_a_parent_is_refused(tmp_path, monkeypatch):
    work = tmp_path / "project" / "sub"
    work.mkdir(parents=True)
    (work / "data.csv").write_text("x\n1\n")
    monkeypatch.chdir(work)
    for target in [".", "..", str(tmp_path)]:
        with pytest.raises(ValueError, match="current directory"):
            write_atomically(_report(), target)
    assert os.listdir(work) == ["data.csv"]
    result = CliRunner().invoke(main, ["report", "--out", "."])
    assert result.exit_code != 0 and "current directory" in result.output
    assert os.listdir(work) == ["data.csv"]


def test_the_input_files_folder_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "study" / "cohort.csv"
    data.parent.mkdir()
    data.write_text("time,event,age\n1,1,50\n2,0,60\n")
    for target in [data.parent, tmp_path / "study" / ".." / "study"]:
        with pytest.raises(ValueError, match="holds the input file"):
            write_atomically(_report(), target, inputs=[data])
    args = ["report", "--data", str(data), "--duration-col", "time", "--event-col", "event"]
    result = CliRunner().invoke(main, [*args, "--formula", "age", "--out", str(data.parent)])
    assert result.exit_code != 0 and "holds the input file" in result.output
    assert os.listdir(data.parent) == ["cohort.csv"]


def test_folder_permissions_are_kept(tmp_path):
    out = tmp_path / "shared"
    out.mkdir()
    out.chmod(0o775)
    write_atomically(_report(), out)
    write_atomically(_report("second"), out)
    assert stat.S_IMODE(out.stat().st_mode) == 0o775
    # a new folder gets the usual mode (0o777 less the umask), not mkdtemp's 0o700
    umask = os.umask(0)
    os.umask(umask)
    fresh = tmp_path / "fresh"
    write_atomically(_report(), fresh)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o777 & ~umask


def test_a_killed_run_leaves_nothing_behind_on_the_next_run(tmp_path):
    out = tmp_path / "rep"
    script = textwrap.dedent(
        f"""
        import time
        from survkit.report import write_atomically
        from survkit.report.content import Figure, Report, Section

        class Slow:
            def savefig(self, *a, **k):
                time.sleep(60)

        write_atomically(Report("t", "s", [Section("a", figures=[Figure("f", Slow(), "c")])]),
                         {str(out)!r})
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.time() + 60
        while not list(tmp_path.glob(".rep.survkit-tmp-*")) and time.time() < deadline:
            time.sleep(0.1)
        time.sleep(0.3)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert list(tmp_path.glob(".rep.survkit-tmp-*"))  # the killed run left its folder
    assert not out.exists()
    # a user's folder that merely looks like a temporary one is never touched
    lookalike = tmp_path / ".rep.survkit-tmp-mine"
    lookalike.mkdir()
    write_atomically(_report(), out)
    assert sorted(os.listdir(tmp_path)) == [".rep.survkit-tmp-mine", "rep"]
    assert (out / "report.html").exists()
