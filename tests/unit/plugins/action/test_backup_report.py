# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the backup_report action writes the report files: only what changed, atomically, with the mode asked for,
nothing in check mode, and a failure that names the path; its settings checked before any request; the
connection's environment variables read from the task's environment."""

from __future__ import annotations

import os
import stat

import pytest

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.veeam_em.rest.plugins.action.backup_report import (
    ReportFailed, file_mode, health_settings, read_text, with_environment, write_file, write_report_files)
from ansible_collections.veeam_em.rest.plugins.module_utils._backups import BACKUP_INFO_ARGUMENT_SPEC


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


def test_check_mode_tells_what_would_change_and_writes_nothing(tmp_path):
    path = tmp_path / "report.md"
    assert write_file(str(path), "new\n", "0644", check_mode=True) is True
    assert not path.exists()
    write_file(str(path), "same\n", "0644")
    before = os.stat(path)
    assert write_file(str(path), "same\n", "0644", check_mode=True) is False
    assert write_file(str(path), "other\n", "0644", check_mode=True) is True
    assert write_file(str(path), "same\n", "0600", check_mode=True) is True
    after = os.stat(path)
    assert (after.st_ino, after.st_mtime_ns, mode_of(path)) == (before.st_ino, before.st_mtime_ns, 0o644)
    assert path.read_text() == "same\n" and [entry.name for entry in tmp_path.iterdir()] == ["report.md"]


def test_a_missing_directory_is_created_or_in_check_mode_only_reported(tmp_path):
    dest = tmp_path / "a" / "b"
    files = {str(dest / "r.md"): "x\n", str(dest / "r.json"): "{}\n"}
    assert write_report_files(str(dest), files, "0644", check_mode=True) is True
    assert not (tmp_path / "a").exists()
    assert write_report_files(str(dest), files, "0644", check_mode=False) is True
    assert mode_of(dest) == 0o755 & ~os.umask(os.umask(0)) and sorted(entry.name for entry in dest.iterdir()) == ["r.json", "r.md"]
    assert write_report_files(str(dest), files, "0644", check_mode=False) is False
    assert write_report_files(str(dest), files, "0644", check_mode=True) is False


def test_what_cannot_be_written_is_named(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(ReportFailed) as error:
        write_report_files(str(tmp_path / "file" / "dest"), {}, "0644", check_mode=False)
    assert str(error.value) == f"veeam_em.rest.backup_report: could not create the directory {tmp_path / 'file' / 'dest'}: Not a directory"
    (tmp_path / "r.md").mkdir()
    with pytest.raises(ReportFailed) as error:
        write_report_files(str(tmp_path), {str(tmp_path / "r.md"): "x"}, "0644", check_mode=False)
    assert str(error.value) == f"veeam_em.rest.backup_report: could not write {tmp_path / 'r.md'}: Is a directory"
    assert sorted(entry.name for entry in tmp_path.iterdir()) == ["file", "r.md"], "no temporary file is left behind"


@pytest.mark.parametrize("settings", [{"max_age": "26h", "min_free_percent": 10}, {"max_age": "3600", "min_free_percent": "0"},
                                      {"max_age": 3600, "min_free_percent": 100.0}, {"max_age": None, "min_free_percent": None}])
def test_health_settings_in_every_form_of_the_filters(settings):
    health_settings(settings)


@pytest.mark.parametrize("settings, message", [
    ({"max_age": "yesterday", "min_free_percent": None}, "max_age takes a duration, a whole number followed by m, h, d or w"),
    ({"max_age": "1.5h", "min_free_percent": None}, "not '1.5h'"),
    ({"max_age": None, "min_free_percent": "lots"}, "min_free_percent takes a number from 0 to 100, not 'lots'"),
    ({"max_age": None, "min_free_percent": -1}, "min_free_percent takes a number from 0 to 100, not -1"),
])
def test_bad_health_settings_are_named(settings, message):
    with pytest.raises(ReportFailed) as error:
        health_settings(settings)
    assert str(error.value).startswith("veeam_em.rest.backup_report: ") and message in str(error.value)


def test_the_connection_falls_back_to_the_environment_given_not_to_the_process(monkeypatch):
    monkeypatch.setenv("VEEAM_EM_URL", "https://process:9398")
    monkeypatch.setenv("VEEAM_EM_USERNAME", "process-user")
    spec = with_environment(BACKUP_INFO_ARGUMENT_SPEC, {"VEEAM_EM_URL": "https://task:9398", "VEEAM_EM_TIMEOUT": "7"})
    params = ArgumentSpecValidator(spec).validate({"username": "given"}).validated_parameters
    assert (params["url"], params["username"], params["timeout"], params["password"]) == ("https://task:9398", "given", 7, None)
    assert BACKUP_INFO_ARGUMENT_SPEC["url"]["fallback"][1] == ["VEEAM_EM_URL"], "the module's own spec is left as it is"
