# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the backup_report action writes the report files: only what changed, atomically, with the mode asked for."""

from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.veeam_em.rest.plugins.action.backup_report import file_mode, read_text, write_file


def mode_of(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_new_file_is_written_with_the_mode(tmp_path):
    path = tmp_path / "report.md"
    assert write_file(str(path), "# Report ü\n", "0640") is True
    assert path.read_text(encoding="utf-8") == "# Report ü\n"
    assert mode_of(path) == 0o640
    assert [entry.name for entry in tmp_path.iterdir()] == ["report.md"], "no temporary file is left behind"


def test_the_same_text_and_mode_change_nothing(tmp_path):
    path = tmp_path / "report.md"
    write_file(str(path), "same\n", "0644")
    before = os.stat(path)
    assert write_file(str(path), "same\n", "0644") is False
    after = os.stat(path)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_a_new_text_replaces_the_file(tmp_path):
    path = tmp_path / "report.md"
    write_file(str(path), "old\n", "0644")
    assert write_file(str(path), "new\n", "0644") is True
    assert path.read_text() == "new\n"


def test_only_the_mode_is_changed_when_the_text_is_the_same(tmp_path):
    path = tmp_path / "report.md"
    write_file(str(path), "same\n", "0644")
    inode = os.stat(path).st_ino
    assert write_file(str(path), "same\n", "u=rw,g=,o=") is True
    assert mode_of(path) == 0o600
    assert os.stat(path).st_ino == inode


@pytest.mark.parametrize("mode, wanted", [("0644", 0o644), ("600", 0o600), (0o640, 0o640), ("u=rw,g=r,o=r", 0o644)])
def test_file_mode_takes_octal_and_symbolic_modes(tmp_path, mode, wanted):
    path = tmp_path / "f"
    path.write_text("")
    assert file_mode(mode, os.stat(path)) == wanted


def test_a_missing_earlier_report_reads_as_empty(tmp_path):
    assert read_text(str(tmp_path / "missing.md")) == ""
    (tmp_path / "earlier.md").write_text("<!-- fingerprint -->\n", encoding="utf-8")
    assert read_text(str(tmp_path / "earlier.md")) == "<!-- fingerprint -->\n"
