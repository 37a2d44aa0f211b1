# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backup_report role end to end: real ansible-playbook runs against the EM emulator,
the HTML report rendered in headless chromium.

`make report` runs this file (after `make browser` has installed Debian's chromium) and
keeps the screenshot and the report in build/backup_report/ (BACKUP_REPORT_ARTIFACTS).
Without chromium, the browser test fails: it is never skipped.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path

from junitparser import Failure, JUnitXml

import emulator as data
from conftest import EM_PASSWORD

CHROMIUM = os.environ.get("BACKUP_REPORT_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("BACKUP_REPORT_ARTIFACTS", Path(__file__).resolve().parents[2] / "build" / "backup_report"))
SCREEN = (1280, 1600)
#: Colours of the fullness bars (report.html.j2): below 75 %, and from 90 % used.
GREEN, RED = (0x2F, 0x9E, 0x44), (0xE0, 0x31, 0x31)

#: The jobs of the emulator that have a session (all but the one that never ran).
JOBS_THAT_RAN = [data.SQL_JOB_ID, *data.DUPLICATE_JOB_IDS, data.ESCAPE_JOB_ID, data.RUNNING_JOB_ID, data.UNICODE_JOB_ID]

NAMES_THAT_NEED_CARE = [
    data.ESCAPE_BACKUP_NAME,
    data.UNICODE_BACKUP_NAME,
    data.SPACES_BACKUP_NAME,
    data.SLASH_BACKUP_NAME,
    data.FILTER_CHARS_BACKUP_NAME,
]


# --- helpers ------------------------------------------------------------------------------
def connection_vars(connection: dict) -> dict:
    """The role's connection variables for the emulator."""
    return {f"backup_report_{key}": connection[key] for key in ("url", "username", "password", "ca_path")}


def run_report(run_playbook, tmp_path, role_vars: dict, *args: str, env: dict | None = None):
    """Run the role; returns the run and the report directory."""
    dest = tmp_path / "report"
    run = run_playbook("backup_report.yml", {"backup_report_dest": str(dest), **role_vars}, *args, env=env)
    assert run.result is not None, run.output
    return run, dest


def expected_groups(dataset, backup_ids) -> dict:
    """{server name: {repository name (or "No repository"): sorted backup ids}} from the data set."""
    groups: dict = {}
    for backup_id in backup_ids:
        backup = dataset.backups[backup_id]
        server = dataset.backup_servers[backup.server_id].name
        repository = dataset.repositories[backup.repository_id].name if backup.repository_id else "No repository"
        groups.setdefault(server, {}).setdefault(repository, []).append(backup_id)
    return {server: {repository: sorted(ids) for repository, ids in repositories.items()} for server, repositories in groups.items()}


def report_groups(report: dict) -> dict:
    """The same shape, from the JSON report."""
    return {
        server["name"]: {repository["name"]: sorted(backup["id"] for backup in repository["backups"]) for repository in server["repositories"]}
        for server in report["backup_servers"]
    }


class Page(HTMLParser):
    """What the tests look for in an HTML page: tags, and the text of elements by class
    and by data-* attributes."""

    VOID = {"meta", "br", "col", "img", "input", "hr", "link", "source", "wbr", "area", "base", "embed", "track"}

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.elements: list[dict] = []  # {"tag", "attrs", "text"}
        self._open: list[dict] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        element = {"tag": tag, "attrs": dict(attrs), "text": ""}
        self.elements.append(element)
        if tag not in self.VOID:
            self._open.append(element)

    def handle_endtag(self, tag):
        while self._open:
            if self._open.pop()["tag"] == tag:
                break

    def handle_data(self, data):
        for element in self._open:
            element["text"] += data

    def with_class(self, name: str) -> list[dict]:
        return [element for element in self.elements if name in element["attrs"].get("class", "").split()]

    def with_attribute(self, name: str) -> list[dict]:
        return [element for element in self.elements if name in element["attrs"]]


def assert_self_contained(html: str) -> None:
    page = Page(html)
    assert html.startswith("<!DOCTYPE html>")
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", html, re.IGNORECASE), "no external reference"
    assert "script" not in page.tags and "link" not in page.tags and "iframe" not in page.tags and "img" not in page.tags
    assert not re.search(r"\b(src|href)\s*=|@import|url\(", html, re.IGNORECASE)
    assert page.tags.count("style") == 1


def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess:
    """Headless Debian chromium with a new empty profile, no network activity of its own."""
    assert Path(CHROMIUM).is_file(), f"{CHROMIUM} is missing: `make browser` installs it (`make report` does that first)"
    profile.mkdir()
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile}", f"--window-size={SCREEN[0]},{SCREEN[1]}", *args,
    ]
    process = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert process.returncode == 0, process.stderr
    return process


def render(html_file: Path, name: str, tmp_path: Path) -> tuple[Path, str]:
    """Render a report in chromium: (its screenshot, kept with a copy of the page in ARTIFACTS as
    <name>.png and <name>.html, and the rendered DOM)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / f"{name}.png"
    screenshot.unlink(missing_ok=True)
    shutil.copyfile(html_file, ARTIFACTS / f"{name}.html")
    dom = chromium(f"--screenshot={screenshot}", "--dump-dom", html_file.as_uri(), profile=tmp_path / "profile").stdout
    return screenshot, dom


def png_pixels(png: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and RGB(A) rows of an 8-bit, non-interlaced PNG (what chromium writes)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    position, idat, header = 8, b"", None
    while position < len(png):
        length, kind = struct.unpack(">I4s", png[position:position + 8])
        chunk = png[position + 8:position + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        position += 12 + length
    width, height, depth, colour, _compression, _filter, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, header
    channels = 4 if colour == 6 else 3
    stride = width * channels
    raw = zlib.decompress(idat)
    rows, previous = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        if kind == 1:  # Sub
            for x in range(channels, stride):
                line[x] = (line[x] + line[x - channels]) & 0xFF
        elif kind == 2:  # Up
            line = bytearray((value + up) & 0xFF for value, up in zip(line, previous))
        elif kind == 3:  # Average
            for x in range(stride):
                line[x] = (line[x] + ((line[x - channels] if x >= channels else 0) + previous[x]) // 2) & 0xFF
        elif kind == 4:  # Paeth
            for x in range(stride):
                left, up = (line[x - channels], previous[x]) if x >= channels else (0, previous[x])
                corner = previous[x - channels] if x >= channels else 0
                estimate = left + up - corner
                to_left, to_up, to_corner = abs(estimate - left), abs(estimate - up), abs(estimate - corner)
                line[x] = (line[x] + (left if to_left <= to_up and to_left <= to_corner else up if to_up <= to_corner else corner)) & 0xFF
        rows.append(line)
        previous = line
    return width, height, [bytes(row[i:i + 3]) for row in rows for i in range(0, stride, channels)]


# --- tests --------------------------------------------------------------------------------
def test_all_backups_in_all_three_formats(em, connection, run_playbook, tmp_path):
    run, dest = run_report(run_playbook, tmp_path, connection_vars(connection))
    assert run.returncode == 0, run.output
    assert sorted(path.name for path in dest.iterdir()) == ["backup_report.html", "backup_report.json", "backup_report.md"]
    assert (em.stats()["logons"], em.stats()["logoffs"]) == (1, 1), "one EM session for the backups and the jobs"

    # JSON: grouped by server, then repository, counts and sizes as in the data set.
    report = json.loads((dest / "backup_report.json").read_text(encoding="utf-8"))
    assert report == run.result["backup_report_result"]["report"]
    assert sorted(run.result["backup_report_result"]["files"]) == sorted(str(path) for path in dest.iterdir())
    backup_ids = em.backup_ids()
    assert report_groups(report) == expected_groups(em.data, backup_ids)
    assert [server["name"] for server in report["backup_servers"]] == sorted(server.name for server in em.data.backup_servers.values())
    assert report["totals"]["backups"] == len(backup_ids) == sum(server["backup_count"] for server in report["backup_servers"])
    assert report["totals"]["repositories"] == len(em.data.repositories)
    assert report["totals"]["backup_servers"] == len(em.data.backup_servers)
    for platform, count in report["totals"]["platforms"].items():
        assert count == sum(1 for backup_id in backup_ids if em.data.backups[backup_id].platform == platform)
    for server in report["backup_servers"]:
        expected = em.data.backup_servers[server["id"]]
        assert (server["version"], server["port"]) == (expected.version, expected.port)
        assert server["backup_count"] == sum(repository["backup_count"] for repository in server["repositories"])
        assert server["repository_count"] == len([repository for repository in server["repositories"] if repository["id"]])
        for repository in server["repositories"]:
            assert repository["backup_count"] == len(repository["backups"])
            assert sum(repository["backup_types"].values()) == sum(repository["platforms"].values()) == repository["backup_count"]
            if repository["id"] is None:
                assert repository["name"] == "No repository" and repository["capacity"] is None
                continue
            expected = em.data.repositories[repository["id"]]
            assert (repository["capacity"], repository["free_space"], repository["kind"]) == (expected.capacity, expected.free_space, expected.kind)
            assert repository["used_percent"] == round(100 * (expected.capacity - expected.free_space) / expected.capacity, 1)
            assert re.fullmatch(r"\d+\.\d\d (Bytes|KB|MB|GB|TB|PB)", repository["free_space_human"])
    no_repository = [repository for server in report["backup_servers"] for repository in server["repositories"] if repository["id"] is None]
    assert [backup["name"] for repository in no_repository for backup in repository["backups"]] == [data.NO_REPOSITORY_BACKUP_NAME]
    names = {backup["name"] for server in report["backup_servers"] for repository in server["repositories"] for backup in repository["backups"]}
    assert set(NAMES_THAT_NEED_CARE) <= names, "names kept exactly in JSON"

    # Markdown: the overview table and one backup table per repository, names escaped.
    markdown = (dest / "backup_report.md").read_text(encoding="utf-8")
    assert "| Backup server | Repository | Kind | Capacity | Free space | Used | Backups |" in markdown
    assert markdown.count("| Backup | Platform | Type | Parent backup |") == sum(len(server["repositories"]) for server in report["backup_servers"])
    assert "| vbr01.lab.local | Default Backup Repository | WindowsLocal | 10.91 TB | 0.00 Bytes | 100.0 % | 5 |" in markdown
    for server in report["backup_servers"]:
        assert f"## Backup server {server['name']}\n" in markdown
    assert "| Backup \\& \\<Restore\\> \"Daily\" 'Ops' |" in markdown
    assert "| &nbsp;&nbsp;&nbsp;Leading spaces&nbsp;&nbsp; |" in markdown
    assert r"| Finance/Payroll \\ Monthly |" in markdown
    assert f"| {data.UNICODE_BACKUP_NAME} |" in markdown

    # HTML: self-contained, every name escaped and shown exactly.
    html = (dest / "backup_report.html").read_text(encoding="utf-8")
    assert_self_contained(html)
    assert "<Restore>" not in html and "Backup &amp; &lt;Restore&gt; &#34;Daily&#34; &#39;Ops&#39;" in html
    page = Page(html)
    shown = sorted(cell["text"] for cell in page.with_class("backup-name"))
    assert shown == sorted(em.data.backups[backup_id].name for backup_id in backup_ids)
    assert [section["attrs"]["data-backup-server"] for section in page.with_attribute("data-backup-server")] == [
        server["name"] for server in report["backup_servers"]]


def test_html_renders_in_headless_chromium(em, em_environment, run_playbook, tmp_path):
    # The connection from the environment, as an AWX credential injects it; HTML only.
    run, dest = run_report(run_playbook, tmp_path, {"backup_report_formats": ["html"]}, env=em_environment)
    assert run.returncode == 0, run.output
    assert [path.name for path in dest.iterdir()] == ["backup_report.html"]
    report = run.result["backup_report_result"]["report"]
    html_file = dest / "backup_report.html"

    screenshot, dom = render(html_file, "backup_report", tmp_path)

    # The rendered DOM: one section per backup server with its counts, every backup name exact.
    page = Page(dom)
    sections = page.with_attribute("data-backup-server")
    assert [(section["attrs"]["data-backup-server"], int(section["attrs"]["data-backups"])) for section in sections] == [
        (server.name, sum(1 for backup_id in em.backup_ids() if em.data.backups[backup_id].server_id == server.id))
        for server in sorted(em.data.backup_servers.values(), key=lambda server: server.name)]
    for section in sections:
        assert section["text"].count("Backup server") == 1
    assert sorted(cell["text"] for cell in page.with_class("backup-name")) == sorted(em.data.backups[backup_id].name for backup_id in em.backup_ids())
    assert [int(element["attrs"]["data-backups"]) for element in page.with_attribute("data-repository")] == [
        repository["backup_count"] for server in report["backup_servers"] for repository in server["repositories"]]
    assert "100.0 %" in dom and "No repository" in dom

    # The screenshot: the full window, not blank, with green and red fullness bars.
    width, height, pixels = png_pixels(screenshot.read_bytes())
    assert (width, height) == SCREEN
    colours = set(pixels)
    assert len(colours) > 50, "a page, not a blank screen"
    white = sum(1 for pixel in pixels if pixel == b"\xff\xff\xff")
    assert white < 0.9 * len(pixels)

    def close(pixel: bytes, colour: tuple) -> bool:
        return all(abs(channel - wanted) <= 6 for channel, wanted in zip(pixel, colour))

    assert sum(1 for pixel in colours if close(pixel, GREEN)) and sum(1 for pixel in pixels if close(pixel, GREEN)) > 500
    assert sum(1 for pixel in pixels if close(pixel, RED)) > 500, "the full repository's bar is red"


def test_selection_by_ids_and_names(em, connection, run_playbook, tmp_path):
    # module_defaults for the action group carry the connection but for the password, which
    # the role's variable adds; -vvvv shows every task.
    unknown_id = "00000000-0000-4000-8000-000000000000"
    ids = [data.SQL_BACKUP_ID, f"urn:veeam:Backup:{data.SEED_BACKUP_ID.upper()}", unknown_id]
    names = [data.DUPLICATE_BACKUP_NAME, data.ESCAPE_BACKUP_NAME, data.SPACES_BACKUP_NAME.strip(), data.SQL_BACKUP_NAME]
    module_defaults = {key: value for key, value in connection.items() if key != "password"}
    run, dest = run_report(run_playbook, tmp_path, {"em_module_defaults": module_defaults, "backup_report_password": EM_PASSWORD,
                                                    "backup_report_ids": ids, "backup_report_names": names,
                                                    "backup_report_formats": ["json"]}, "-vvvv")
    assert run.returncode == 0, run.output
    assert EM_PASSWORD not in run.output
    report = json.loads((dest / "backup_report.json").read_text(encoding="utf-8"))
    selected = {data.SQL_BACKUP_ID, data.SEED_BACKUP_ID, *data.DUPLICATE_BACKUP_IDS, data.ESCAPE_BACKUP_ID}
    assert report_groups(report) == expected_groups(em.data, selected), "each backup once, SQL Backup by id and by name"
    assert report["totals"]["backups"] == len(selected)
    assert report["missing"] == {"ids": [unknown_id], "names": [data.SPACES_BACKUP_NAME.strip()]}
    assert report["selection"] == {"all": False, "ids": ids, "names": names}
    assert (em.stats()["logons"], em.stats()["logoffs"]) == (1, 1), "one EM session for the ids, each name and the jobs"


def test_twenty_ids_in_one_session(em, connection, run_playbook, tmp_path):
    known = em.backup_ids()
    unknown = [f"00000000-0000-4000-8000-{n:012d}" for n in range(20 - len(known))]
    ids = [*unknown[:3], *known, *unknown[3:]]
    run, dest = run_report(run_playbook, tmp_path, {**connection_vars(connection), "backup_report_ids": ids, "backup_report_formats": ["json"]})
    assert run.returncode == 0, run.output
    report = json.loads((dest / "backup_report.json").read_text(encoding="utf-8"))
    assert report["totals"]["backups"] == len(known)
    assert report["missing"] == {"ids": unknown, "names": []}, "in the order given"
    assert (em.stats()["logons"], em.stats()["logoffs"]) == (1, 1), "one EM session for the 20 ids (was one each) and the jobs"


EXPECTATIONS_MET = [
    {"name": data.SQL_BACKUP_NAME},
    {"name": data.SQL_BACKUP_NAME, "repository": data.SQL_REPOSITORY_NAME, "backup_server": data.SQL_SERVER_NAME},
    {"id": f"urn:veeam:Backup:{data.SEED_BACKUP_ID.upper()}", "repository": data.SEED_REPOSITORY_ID},
    {"name": data.DUPLICATE_BACKUP_NAME, "backup_server": data.SEED_SERVER_NAME},
    {"name": data.ESCAPE_BACKUP_NAME, "backup_server": data.SQL_SERVER_ID},
]


def test_met_expectations_pass(em, connection, run_playbook, tmp_path):
    run, dest = run_report(run_playbook, tmp_path, {**connection_vars(connection), "backup_report_expect": EXPECTATIONS_MET,
                                                    "backup_report_formats": ["markdown"]})
    assert run.returncode == 0, run.output
    assert [path.name for path in dest.iterdir()] == ["backup_report.md"]
    assert f"## Expectations: {len(EXPECTATIONS_MET)} of {len(EXPECTATIONS_MET)} met" in (dest / "backup_report.md").read_text(encoding="utf-8")
    result = run.result["backup_report_result"]
    assert result["unmet"] == []
    assert result["report"]["expectations"]["met"] == len(EXPECTATIONS_MET)
    assert all(entry["met"] and entry["reason"] is None for entry in result["report"]["expectations"]["results"])


def test_unmet_expectations_fail_once_with_all_of_them_after_the_report(em, connection, run_playbook, tmp_path):
    unmet = [
        ({"name": "No such backup"}, "backup 'No such backup': not found"),
        ({"id": "00000000-0000-4000-8000-000000000000"}, "backup 00000000-0000-4000-8000-000000000000: not found"),
        ({"name": data.SQL_BACKUP_NAME, "repository": data.SEED_REPOSITORY_NAME},
         f"backup 'SQL Backup' in repository '{data.SEED_REPOSITORY_NAME}': found only in repository "
         f"'{data.SQL_REPOSITORY_NAME}' on backup server '{data.SQL_SERVER_NAME}'"),
        ({"name": data.DUPLICATE_BACKUP_NAME, "backup_server": data.LEGACY_SERVER_NAME},
         f"backup 'Exchange Backup' on backup server '{data.LEGACY_SERVER_NAME}': found only in repository "
         f"'{data.SEED_REPOSITORY_NAME}' on backup server '{data.SEED_SERVER_NAME}'; repository '{data.SQL_REPOSITORY_NAME}' "
         f"on backup server '{data.SQL_SERVER_NAME}'"),
        ({"name": data.NO_REPOSITORY_BACKUP_NAME, "repository": data.LINUX_REPOSITORY_NAME},
         f"backup '{data.NO_REPOSITORY_BACKUP_NAME}' in repository '{data.LINUX_REPOSITORY_NAME}': found only in no repository "
         f"on backup server '{data.LEGACY_SERVER_NAME}'"),
    ]
    expect = [EXPECTATIONS_MET[0], *(expectation for expectation, _message in unmet), EXPECTATIONS_MET[1]]
    run, dest = run_report(run_playbook, tmp_path, {**connection_vars(connection), "backup_report_expect": expect})
    assert run.returncode != 0
    assert run.result["failed"]
    message = run.result["msg"]
    assert message.splitlines() == [f"{len(unmet)} of {len(expect)} expected backups are not there:", *(f"- {line}" for _e, line in unmet)]
    assert run.output.count("TASK [veeam_em.rest.backup_report : Fail on findings]") == 1
    assert "expected backups are not there" in run.output

    # The report was written first, all three files, with the expectations in it.
    report = json.loads((dest / "backup_report.json").read_text(encoding="utf-8"))
    assert report["totals"]["backups"] == len(em.backup_ids())
    assert [entry["met"] for entry in report["expectations"]["results"]] == [True, *([False] * len(unmet)), True]
    assert [entry["expectation"] for entry in run.result["backup_report_result"]["unmet"]] == [expectation for expectation, _m in unmet]
    html = (dest / "backup_report.html").read_text(encoding="utf-8")
    assert len(Page(html).with_class("unmet")) == len(unmet)
    assert "❌ | backup 'No such backup' | not found |" in (dest / "backup_report.md").read_text(encoding="utf-8")


def failed_task(output: str) -> tuple[str, dict]:
    """The name of the first task that failed, and its result as the output shows it (on one line, or
    indented with -v and more on ansible-core 2.19+)."""
    fatal = output.index("fatal: [localhost]: FAILED! => ")
    task = re.findall(r"^TASK \[(.*)\] \*+$", output[:fatal], re.MULTILINE)[-1]
    return task, json.JSONDecoder().raw_decode(output, fatal + len("fatal: [localhost]: FAILED! => "))[0]


def test_em_error_is_shown_by_the_failed_task_without_the_password(em, connection, run_playbook, tmp_path):
    # What the user sees, on every ansible-core: the task that failed says why, in EM's words.
    run, dest = run_report(run_playbook, tmp_path, {**connection_vars(connection), "backup_report_password": "wrong password"}, "-vvv")
    assert run.returncode != 0
    task, result = failed_task(run.output)
    assert task == "veeam_em.rest.backup_report : Write the report with the backup_report_* connection variables"
    assert result["msg"] == run.result["msg"]
    assert result["msg"].startswith("Could not get the backups from Veeam Backup Enterprise Manager: EM at 127.0.0.1:"), result["msg"]
    assert "refused the logon of user 'svc-ansible' (HTTP 401)" in result["msg"]
    assert "censored" not in run.output
    assert "wrong password" not in run.output and EM_PASSWORD not in run.output
    assert not dest.exists(), "no report without data"
    assert em.stats()["logons"] == 0


def test_a_forged_id_is_refused_by_the_failed_task_before_any_request(em, connection, run_playbook, tmp_path):
    forged = "../sessionMngr/?v=latest"
    run, dest = run_report(run_playbook, tmp_path, {**connection_vars(connection), "backup_report_ids": [data.SQL_BACKUP_ID, forged]})
    task, result = failed_task(run.output)
    assert task.endswith("Write the report with the backup_report_* connection variables")
    assert result["msg"].startswith(f"Could not get the backups from Veeam Backup Enterprise Manager: Invalid backup id {forged!r}: "), result["msg"]
    assert em.stats()["requests"] == 0 and not dest.exists()


def test_unreachable_em_is_shown_by_the_failed_task(em, connection, run_playbook, tmp_path):
    closed = {**connection_vars(connection), "backup_report_url": "https://127.0.0.1:9"}
    run, dest = run_report(run_playbook, tmp_path, {**closed, "em_module_defaults": {"timeout": 5, "retries": 0}}, "-v")
    task, result = failed_task(run.output)
    assert task.endswith("Write the report with the backup_report_* connection variables")
    assert result["msg"].startswith("Could not get the backups from Veeam Backup Enterprise Manager: "), result["msg"]
    assert "127.0.0.1:9" in result["msg"] and "censored" not in run.output and EM_PASSWORD not in run.output
    assert not dest.exists()


def test_check_mode_writes_nothing_and_tells_what_would_change(em, connection, run_playbook, tmp_path):
    # The playbook with the role alone: the recap's changed= count is the role's.
    dest = tmp_path / "report"
    role_vars = {"em_module_defaults": connection, "backup_report_dest": str(dest), "backup_report_formats": ["json", "markdown", "html", "junit"]}

    def run(*args: str, **more_vars) -> int:
        done = run_playbook("backup_report_module_defaults.yml", {**role_vars, **more_vars}, *args)
        assert done.returncode == 0, done.output
        return recap_changed(done.output)

    assert run("--check") == 1
    assert not dest.exists(), "no directory, no file"
    assert run() == 1
    files = {path.name: path.read_bytes() for path in dest.iterdir()}
    assert len(files) == 4
    assert run("--check") == 0, "the same data: nothing would change"
    assert run("--check", backup_report_title="Another title") == 1, "another title would change the files"
    (dest / "backup_report.md").chmod(0o600)
    assert run("--check") == 1, "a mode that differs would change"
    assert {path.name: path.read_bytes() for path in dest.iterdir()} == files
    assert (dest / "backup_report.md").stat().st_mode & 0o777 == 0o600
    assert em.stats()["logons"] == 5


def test_a_file_that_cannot_be_written_is_named(em, connection, run_playbook, tmp_path):
    in_the_way = tmp_path / "a file"
    in_the_way.write_text("")
    run = run_playbook("backup_report.yml", {**connection_vars(connection), "backup_report_dest": str(in_the_way / "report")})
    assert run.result["msg"] == f"veeam_em.rest.backup_report: could not create the directory {in_the_way / 'report'}: Not a directory"
    dest = tmp_path / "report"
    (dest / "backup_report.md").mkdir(parents=True)
    run, _dest = run_report(run_playbook, tmp_path, connection_vars(connection))
    assert run.result["msg"] == f"veeam_em.rest.backup_report: could not write {dest / 'backup_report.md'}: Is a directory"
    assert failed_task(run.output)[1]["msg"] == run.result["msg"] and "Traceback" not in run.output
    assert [path.name for path in dest.iterdir() if path.name.startswith(".")] == [], "no temporary file is left behind"


def test_the_clients_warnings_reach_the_user(em, connection, run_playbook, tmp_path):
    run, dest = run_report(run_playbook, tmp_path, {**connection_vars(connection), "backup_report_validate_certs": False,
                                                    "backup_report_formats": ["json"]})
    assert run.returncode == 0, run.output
    assert f"[WARNING]: validate_certs is false: the TLS certificate of EM at {connection['url'].split('://')[1]} is not verified" in run.unwrapped


def test_the_action_works_for_a_host_whose_python_lacks_requests_and_under_become(em, connection, run_playbook, tmp_path):
    # A bare venv: no requests, whatever the test's own Python has. The host connects locally with it,
    # with become (to "nobody", through sudo, which this machine does not even have): the action uses neither.
    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    assert subprocess.run([str(bare / "bin" / "python"), "-c", "import requests"], capture_output=True, check=False).returncode != 0
    inventory = tmp_path / "inventory.ini"
    inventory.write_text(f"target ansible_connection=local ansible_python_interpreter={bare / 'bin' / 'python'}\n")
    dest = tmp_path / "report"
    run = run_playbook("backup_report_action.yml", {"em_module_defaults": connection, "report_dest": str(dest)}, "-i", str(inventory))
    assert run.returncode == 0, run.output
    assert not run.result.get("failed"), run.result
    assert run.result["changed"] and sorted(path.name for path in dest.iterdir()) == ["backup_report.json", "backup_report.md"]
    assert {path.stat().st_uid for path in dest.iterdir()} == {os.getuid()}, "written by the user that runs Ansible"
    assert run.result["backup_report_result"]["report"]["totals"]["backups"] == len(em.backup_ids())
    assert (em.stats()["logons"], em.stats()["logoffs"]) == (1, 1)


def test_the_action_reads_the_connection_from_the_tasks_environment(em, connection, run_playbook, tmp_path):
    # As the module would: VEEAM_EM_* variables of the task's `environment` fill what module_defaults leave out.
    inventory = tmp_path / "inventory.ini"
    inventory.write_text(f"target ansible_connection=local ansible_python_interpreter={sys.executable}\n")
    module_defaults = {key: value for key, value in connection.items() if key != "password"}
    run = run_playbook("backup_report_action.yml", {"em_module_defaults": module_defaults, "em_environment": {"VEEAM_EM_PASSWORD": EM_PASSWORD},
                                                    "report_dest": str(tmp_path / "report")}, "-i", str(inventory))
    assert run.returncode == 0 and not run.result.get("failed"), run.output
    assert em.stats()["logons"] == 1 and EM_PASSWORD not in run.output


def test_expectations_are_validated(run_playbook, tmp_path):
    expect = [{"repository": "x"}, {"name": "a", "id": "b"}, {"name": "a", "repo": "x"}]
    run, dest = run_report(run_playbook, tmp_path, {"backup_report_url": "https://127.0.0.1:9", "backup_report_expect": expect})
    assert run.returncode != 0
    message = run.result["msg"]
    assert message.startswith("Validation of arguments failed"), message
    assert "one of the following is required: name, id found in backup_report_expect" in message
    assert "parameters are mutually exclusive: name|id found in backup_report_expect" in message
    assert "backup_report_expect.repo. Supported parameters include: backup_server, id, name, repository." in message
    assert not dest.exists()


# --- health: freshness and free space -----------------------------------------------------
def expected_stale(dataset, backup_ids, max_age) -> set:
    """Backups (not ParentBackups) whose newest point is older than max_age, or that have none."""
    stale = set()
    for backup_id in backup_ids:
        if dataset.backups[backup_id].backup_type == "ParentBackup":
            continue
        points = dataset.restore_points_of(backup_id)
        if not points or datetime.now(timezone.utc) - max(point.backup_date for point in points) > max_age:
            stale.add(backup_id)
    return stale


def report_backups(report: dict) -> list:
    return [backup for server in report["backup_servers"] for repository in server["repositories"] for backup in repository["backups"]]


def test_max_age_between_two_ages_flags_the_older_and_fail_on_missing_passes(em, connection, run_playbook, tmp_path):
    # SQL Backup's newest point is 2 h old, the ChildBackup's 30 h: 26h lies between.
    run, dest = run_report(run_playbook, tmp_path, {
        **connection_vars(connection), "backup_report_names": [data.SQL_BACKUP_NAME, data.CHILD_BACKUP_NAME],
        "backup_report_max_age": "26h", "backup_report_fail_on": ["missing"], "backup_report_jobs": False,
        "backup_report_formats": ["json", "markdown", "html", "junit"]})
    assert run.returncode == 0, run.output
    assert sorted(path.name for path in dest.iterdir()) == ["backup_report.html", "backup_report.json", "backup_report.md", "backup_report.xml"]
    report = json.loads((dest / "backup_report.json").read_text(encoding="utf-8"))
    findings = run.result["backup_report_result"]["findings"]
    assert findings == report["findings"]
    assert [(finding["kind"], finding["id"], finding["name"]) for finding in findings] == [("stale", data.CHILD_BACKUP_ID, data.CHILD_BACKUP_NAME)]
    assert "is 30." in findings[0]["message"] and "more than 26h" in findings[0]["message"]
    backups = {backup["id"]: backup for backup in report_backups(report)}
    assert {backup_id: backup["stale"] for backup_id, backup in backups.items()} == {data.SQL_BACKUP_ID: False, data.CHILD_BACKUP_ID: True}
    newest = em.data.restore_points_of(data.SQL_BACKUP_ID)[-1]
    assert backups[data.SQL_BACKUP_ID]["latest_restore_point"]["id"] == newest.id
    assert 7200 <= backups[data.SQL_BACKUP_ID]["age_seconds"] < 7200 + 900 and re.fullmatch(r"2\.[0-2] h", backups[data.SQL_BACKUP_ID]["age"])
    assert report["checks"]["max_age"] == "26h" and report["totals"]["stale"] == 1

    markdown = (dest / "backup_report.md").read_text(encoding="utf-8")
    assert "## Findings: 1" in markdown and markdown.count("| ❌ Stale |") == 1 and markdown.count("stale |") == 1
    page = Page((dest / "backup_report.html").read_text(encoding="utf-8"))
    assert [row["attrs"]["data-backup-id"] for row in page.with_class("stale")] == [data.CHILD_BACKUP_ID]
    suites = JUnitXml.fromfile(str(dest / "backup_report.xml"))
    cases = [case for suite in suites for case in suite]
    assert len(cases) == 2 and [case.name for case in cases if not case.is_passed] == [f"{data.CHILD_BACKUP_NAME} ({data.CHILD_BACKUP_ID})"]
    assert all(isinstance(result, Failure) for case in cases for result in case.result)


def test_parent_backups_are_not_judged_their_children_are(em, connection, run_playbook, tmp_path):
    run, _dest = run_report(run_playbook, tmp_path, {**connection_vars(connection), "backup_report_ids": [data.SEED_BACKUP_ID],
                                                     "backup_report_max_age": "26h", "backup_report_formats": ["json"]})
    report = run.result["backup_report_result"]["report"]
    backups = {backup["id"]: backup for backup in report_backups(report)}
    assert set(backups) == {data.SEED_BACKUP_ID, data.CHILD_BACKUP_ID}, "the selected parent's child is added"
    assert backups[data.SEED_BACKUP_ID]["stale"] is None and backups[data.SEED_BACKUP_ID]["latest_restore_point"] is None
    assert backups[data.CHILD_BACKUP_ID]["stale"] is True
    assert run.returncode != 0 and run.result["msg"].splitlines()[0] == "1 backups have no restore point within 26h:"


def test_default_fail_on_fails_after_writing_every_format_naming_each_finding(em, connection, run_playbook, tmp_path):
    expect = [{"name": "No such backup"}]
    run, dest = run_report(run_playbook, tmp_path, {
        **connection_vars(connection), "backup_report_max_age": "26h", "backup_report_min_free_percent": 41,
        "backup_report_expect": expect, "backup_report_formats": ["json", "markdown", "html", "junit"]})
    assert run.returncode != 0 and run.result["failed"]
    assert len(list(dest.iterdir())) == 4, "every format is written before the play fails"
    report = json.loads((dest / "backup_report.json").read_text(encoding="utf-8"))
    stale = expected_stale(em.data, em.backup_ids(), timedelta(hours=26))
    # Free space: the seed's repository has 42.95 %, the Linux one 40 %, SQL Backup's 0 %.
    low = {data.SQL_REPOSITORY_ID, data.LINUX_REPOSITORY_ID}
    kinds = {}
    for finding in report["findings"]:
        kinds.setdefault(finding["kind"], set()).add(finding["id"])
    assert kinds == {"missing": {None}, "stale": stale, "low_space": low, "failed_job": {data.SQL_JOB_ID, data.ESCAPE_JOB_ID},
                     "warning_job": {data.DUPLICATE_JOB_IDS[1]}}
    assert data.SQL_BACKUP_ID not in stale and data.CHILD_BACKUP_ID in stale and data.SPACES_BACKUP_ID in stale
    repositories = {repository["id"]: repository for server in report["backup_servers"] for repository in server["repositories"] if repository["id"]}
    assert {repository_id for repository_id, repository in repositories.items() if repository["low_space"]} == low
    assert repositories[data.SEED_REPOSITORY_ID]["free_percent"] == 43.0

    message = run.result["msg"]
    assert message.splitlines()[0] == "1 of 1 expected backups are not there:"
    assert f"{len(stale)} backups have no restore point within 26h:" in message.splitlines()
    assert "2 repositories have less than 41 % free space:" in message.splitlines()
    failing = [finding for finding in report["findings"] if not finding["kind"].endswith("_job")]
    for finding in failing:
        assert f"- {finding['message']}" in message.splitlines()
    assert len([line for line in message.splitlines() if line.startswith("- ")]) == len(failing), "job findings fail only when in fail_on"
    assert "in their last run" not in message

    suites = JUnitXml.fromfile(str(dest / "backup_report.xml"))
    failures = [result for suite in suites for case in suite for result in case.result if isinstance(result, Failure)]
    assert len(failures) == len(report["findings"]) == suites.failures
    assert sorted(failure.type for failure in failures) == sorted(finding["kind"] for finding in report["findings"])
    judged = [backup_id for backup_id in em.backup_ids() if em.data.backups[backup_id].backup_type != "ParentBackup"]
    assert {suite.name: suite.tests for suite in suites} == {"expectations": 1, "freshness": len(judged), "capacity": len(em.data.repositories),
                                                             "jobs": len(JOBS_THAT_RAN)}
    page = Page((dest / "backup_report.html").read_text(encoding="utf-8"))
    assert {row["attrs"]["data-backup-id"] for row in page.with_class("stale")} == stale
    assert len(page.with_class("low-space")) == len(low)
    assert len(page.with_class("finding")) == len(report["findings"])


def test_health_settings_are_checked_before_any_request(em, connection, run_playbook, tmp_path):
    for settings, message in (({"backup_report_max_age": "yesterday"}, "max_age takes a duration, a whole number followed by m, h, d or w"),
                              ({"backup_report_max_age": "-3h"}, "or a whole number of seconds (such as 3600), not '-3h'"),
                              ({"backup_report_min_free_percent": 120}, "min_free_percent takes a number from 0 to 100, not 120")):
        run, dest = run_report(run_playbook, tmp_path, {**connection_vars(connection), **settings})
        assert run.returncode != 0 and message in run.result["msg"], run.result["msg"]
        assert failed_task(run.output)[1]["msg"] == run.result["msg"]
        assert em.stats()["requests"] == 0 and not dest.exists()


def test_max_age_takes_the_forms_of_the_filter(em, connection, run_playbook, tmp_path):
    # Whole seconds, as a number or as text, as veeam_em.rest.stale_backups takes them.
    settings = {**connection_vars(connection), "backup_report_fail_on": [], "backup_report_formats": ["json"], "backup_report_jobs": False}
    by_duration, _dest = run_report(run_playbook, tmp_path, {**settings, "backup_report_max_age": "26h"})
    for seconds in (93600, "93600"):
        run, _dest = run_report(run_playbook, tmp_path, {**settings, "backup_report_max_age": seconds})
        assert run.returncode == 0, run.output
        findings = run.result["backup_report_result"]["findings"]
        assert [finding["id"] for finding in findings] == [finding["id"] for finding in by_duration.result["backup_report_result"]["findings"]]
        assert findings and all(finding["message"].endswith(("more than 93600 s", "no restore point")) for finding in findings), findings


def test_html_marks_stale_backups_and_low_space_in_headless_chromium(em, connection, run_playbook, tmp_path):
    run, dest = run_report(run_playbook, tmp_path, {**connection_vars(connection), "backup_report_max_age": "26h",
                                                    "backup_report_min_free_percent": 41, "backup_report_fail_on": [],
                                                    "backup_report_formats": ["html"]})
    assert run.returncode == 0, run.output
    html_file = dest / "backup_report.html"
    assert_self_contained(html_file.read_text(encoding="utf-8"))
    screenshot, dom = render(html_file, "backup_report_health", tmp_path)
    page = Page(dom)
    stale = expected_stale(em.data, em.backup_ids(), timedelta(hours=26))
    assert {row["attrs"]["data-backup-id"] for row in page.with_class("stale")} == stale
    assert all("STALE" in row["text"] for row in page.with_class("stale"))
    assert sorted(row["text"].count("LOW SPACE") for row in page.with_class("low-space")) == [1, 1]
    _width, _height, pixels = png_pixels(screenshot.read_bytes())
    tint = sum(1 for pixel in pixels if pixel == bytes((0xFF, 0xF0, 0xF0)))
    assert tint > 5000, "low-space rows stand out with a red tint"


# --- module_defaults, idempotence, Markdown structure ------------------------------------
def recap_changed(output: str) -> int:
    match = re.search(r"^localhost\s*:.*\bchanged=(\d+)", output, re.MULTILINE)
    assert match, output
    return int(match.group(1))


def test_module_defaults_for_the_module_and_a_second_run_changes_nothing(em, connection, run_playbook, tmp_path):
    dest = tmp_path / "report"
    role_vars = {"em_module_defaults": connection, "backup_report_dest": str(dest), "backup_report_max_age": "26h",
                 "backup_report_min_free_percent": 50, "backup_report_fail_on": [],
                 "backup_report_formats": ["markdown", "json", "html", "junit"]}
    first = run_playbook("backup_report_module_defaults.yml", role_vars)
    assert first.returncode == 0, first.output
    assert recap_changed(first.output) > 0
    files = {path.name: path.read_bytes() for path in dest.iterdir()}
    assert set(files) == {"backup_report.md", "backup_report.json", "backup_report.html", "backup_report.xml"}
    report = json.loads(files["backup_report.json"])
    assert report["totals"]["backups"] == len(em.data.backups) and report["findings"]
    assert len(report["jobs"]) == len(JOBS_THAT_RAN), "with each job's last run (backup_report_jobs: true by default)"

    second = run_playbook("backup_report_module_defaults.yml", role_vars)
    assert second.returncode == 0, second.output
    assert recap_changed(second.output) == 0, second.output
    assert {path.name: path.read_bytes() for path in dest.iterdir()} == files

    retitled = run_playbook("backup_report_module_defaults.yml", {**role_vars, "backup_report_title": "Another title"})
    assert recap_changed(retitled.output) > 0
    again = json.loads((dest / "backup_report.json").read_text())
    assert again["title"] == "Another title" and again["generated_at"] >= report["generated_at"]
    assert em.stats()["logons"] == 3, "each run: one EM session for the backups and the jobs"


def test_the_time_the_data_was_read_stays_in_the_result(em, connection, run_playbook, tmp_path):
    first, dest = run_report(run_playbook, tmp_path, connection_vars(connection))
    second, _dest = run_report(run_playbook, tmp_path, connection_vars(connection))
    earlier, later = first.result["backup_report_result"], second.result["backup_report_result"]
    assert later["report"]["generated_at"] == earlier["report"]["generated_at"] == earlier["read_at"]
    assert later["read_at"] >= earlier["read_at"]
    assert json.loads((dest / "backup_report.json").read_text())["generated_at"] == earlier["read_at"]


def test_names_and_descriptions_cannot_break_the_markdown(em, connection, run_playbook, tmp_path):
    backup = em.data.backups[data.SQL_BACKUP_ID]
    server = em.data.backup_servers[em.data.backups[data.SQL_BACKUP_ID].server_id]
    em.data.backups[backup.id] = replace(backup, name="line1\n# heading | not a cell\r\n- item")
    em.data.backup_servers[server.id] = replace(server, description="first\n\n## injected\n| a | b |")
    try:
        run, dest = run_report(run_playbook, tmp_path, connection_vars(connection))
    finally:
        em.data.backups[backup.id], em.data.backup_servers[server.id] = backup, server
    assert run.returncode == 0, run.output
    markdown = (dest / "backup_report.md").read_text()
    headings = [line for line in markdown.splitlines() if line.startswith("#")]
    assert not [line for line in headings if "heading" in line or "injected" in line], headings
    assert not re.search(r"^- item|^\| a \| b \|", markdown, re.MULTILINE)
    assert "line1 # heading \\| not a cell - item" in markdown
    assert "first ## injected \\| a \\| b \\|" in markdown
    # Every row of the backup's table has the header's number of cells.
    row = next(line for line in markdown.splitlines() if "line1 # heading" in line)
    table = markdown[: markdown.index(row)].rsplit("\n\n", 1)[-1].splitlines()
    assert len(re.findall(r"(?<!\\)\|", row)) == len(re.findall(r"(?<!\\)\|", table[0]))


# --- EM's text is data, on every supported ansible-core (run this file on 2.16 and 2.21) ---
#: A name that would add a passing JUnit test case if the report did not escape it.
FORGED = 'x"></testcase><testcase classname="forged" name="all good'
TEMPLATED = "{{ 7*7 }}"


def test_text_from_em_is_never_templated_and_escaped_in_every_format(em, connection, run_playbook, tmp_path):
    pwned = tmp_path / "pwned"
    piped = "{{ lookup('pipe', 'touch %s') }}" % pwned
    # SQL Backup is fresh (2 h), the ChildBackup and the spaced one stale; SQL Backup's repository (0 % free) is low.
    names = {data.SQL_BACKUP_ID: FORGED, data.CHILD_BACKUP_ID: TEMPLATED, data.SPACES_BACKUP_ID: piped}
    repository_name = f"{FORGED} {TEMPLATED}"
    saved = {backup_id: em.data.backups[backup_id] for backup_id in names}
    repository = em.data.repositories[data.SQL_REPOSITORY_ID]
    server = em.data.backup_servers[data.SQL_SERVER_ID]
    for backup_id, name in names.items():
        em.data.backups[backup_id] = replace(saved[backup_id], name=name)
    em.data.repositories[repository.id] = replace(repository, name=repository_name)
    em.data.backup_servers[server.id] = replace(server, description=piped)
    try:
        run, dest = run_report(run_playbook, tmp_path, {
            **connection_vars(connection), "backup_report_max_age": "26h", "backup_report_min_free_percent": 41,
            "backup_report_fail_on": ["stale", "low_space"], "backup_report_formats": ["json", "markdown", "html", "junit"],
            "backup_report_jobs": False})
    finally:
        em.data.backups.update(saved)
        em.data.repositories[repository.id], em.data.backup_servers[server.id] = repository, server
    assert not pwned.exists(), "EM's text ran a command on the controller"
    assert run.returncode != 0 and run.result["failed"], run.output

    # The failure message and the JSON report hold EM's text exactly.
    message = run.result["msg"].splitlines()
    assert any(line.startswith(f"- backup '{TEMPLATED}' ({data.CHILD_BACKUP_ID}): latest restore point ") for line in message), message
    assert f"- backup '{piped}' ({data.SPACES_BACKUP_ID}): no restore point" in message
    assert any(line.startswith(f"- repository '{repository_name}' ({data.SQL_REPOSITORY_ID}): 0.0 % free") for line in message), message
    text = (dest / "backup_report.json").read_text(encoding="utf-8")
    report = json.loads(text)
    assert report == run.result["backup_report_result"]["report"]
    assert text.rstrip("\n") == json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False), "the report's JSON, as written"
    shown = {backup["id"]: backup["name"] for backup in report_backups(report)}
    assert {backup_id: shown[backup_id] for backup_id in names} == names
    repositories = {group["id"]: group["name"] for server in report["backup_servers"] for group in server["repositories"]}
    assert repositories[data.SQL_REPOSITORY_ID] == repository_name
    assert {server["id"]: server["description"] for server in report["backup_servers"]}[data.SQL_SERVER_ID] == piped

    # JUnit: exactly the test cases of the checks, the forged name one case's name and nothing more.
    suites = JUnitXml.fromfile(str(dest / "backup_report.xml"))
    cases = [case for suite in suites for case in suite]
    judged = [backup_id for backup_id in em.backup_ids() if em.data.backups[backup_id].backup_type != "ParentBackup"]
    assert {suite.name: suite.tests for suite in suites} == {"freshness": len(judged), "capacity": len(em.data.repositories)}
    assert len(cases) == len(judged) + len(em.data.repositories)
    assert not [case for case in cases if case.classname == "forged"]
    case_names = {case.name for case in cases}
    assert {f"{FORGED} ({data.SQL_BACKUP_ID})", f"{TEMPLATED} ({data.CHILD_BACKUP_ID})", f"{piped} ({data.SPACES_BACKUP_ID})",
            f"{repository_name} ({data.SQL_REPOSITORY_ID})"} <= case_names
    assert [case.name for case in cases if not case.is_passed and case.name.startswith(FORGED)] == [f"{repository_name} ({data.SQL_REPOSITORY_ID})"]

    # Markdown: escaped, literal; HTML: escaped, shown exactly.
    markdown = (dest / "backup_report.md").read_text(encoding="utf-8")
    assert "</testcase>" not in markdown and "| {{ 7\\*7 }} |" in markdown
    assert "| x\"\\>\\</testcase\\>\\<testcase classname=\"forged\" name=\"all good |" in markdown
    html = (dest / "backup_report.html").read_text(encoding="utf-8")
    assert "<testcase" not in html and "&lt;/testcase&gt;" in html
    page = Page(html)
    cells = [cell["text"] for cell in page.with_class("backup-name")]
    assert {FORGED, TEMPLATED, piped} <= set(cells)
    assert piped in [element["text"] for element in page.with_class("name")], "the server's description, literally"


def test_a_second_run_with_backups_listed_in_another_order_changes_nothing(em, connection, run_playbook, tmp_path):
    dest = tmp_path / "report"
    role_vars = {"em_module_defaults": connection, "backup_report_dest": str(dest), "backup_report_max_age": "26h",
                 "backup_report_min_free_percent": 41, "backup_report_fail_on": [],
                 "backup_report_formats": ["junit", "json", "markdown", "html"]}
    first = run_playbook("backup_report_module_defaults.yml", role_vars)
    assert first.returncode == 0, first.output
    files = {path.name: path.read_bytes() for path in dest.iterdir()}
    assert len(files) == 4 and json.loads(files["backup_report.json"])["findings"]

    # EM lists every kind of entity in the opposite order now.
    listings = (em.data.backups, em.data.repositories, em.data.backup_servers)
    orders = [list(listing.items()) for listing in listings]
    for listing, order in zip(listings, orders):
        listing.clear()
        listing.update(reversed(order))
    try:
        second = run_playbook("backup_report_module_defaults.yml", role_vars)
    finally:
        for listing, order in zip(listings, orders):
            listing.clear()
            listing.update(order)
    assert second.returncode == 0, second.output
    assert recap_changed(second.output) == 0, second.output
    assert {path.name: path.read_bytes() for path in dest.iterdir()} == files


# --- jobs (issue 21) ----------------------------------------------------------------------
def session_requests(em) -> list:
    """The requests that read jobs, job sessions or task sessions."""
    return [entry for entry in em.request_log()
            if re.search(r"(^|&)type=(Job|BackupJobSession|BackupTaskSession)(&|$)", entry["query"] or "")
            or re.search(r"/(jobs|backupSessions|backupTaskSessions)\b", entry["path"], re.IGNORECASE)]


def test_jobs_in_every_format_failing_only_on_failed_job(em, connection, run_playbook, tmp_path):
    pwned = Path("veeam_em_pwned_by_reason")
    run, dest = run_report(run_playbook, tmp_path, {
        **connection_vars(connection), "backup_report_fail_on": ["failed_job"], "backup_report_formats": ["json", "markdown", "html", "junit"]})
    assert not pwned.exists() and not (tmp_path / pwned).exists(), "EM's reason ran a command on the controller"
    assert run.returncode != 0 and run.result["failed"], run.output

    # JSON: the newest session of every job that ran, with its tasks, as the module returns them.
    report = json.loads((dest / "backup_report.json").read_text(encoding="utf-8"))
    assert report == run.result["backup_report_result"]["report"]
    jobs = {session["job"]["id"]: session for session in report["jobs"]}
    assert sorted(jobs) == sorted(JOBS_THAT_RAN) and len(report["jobs"]) == len(JOBS_THAT_RAN)
    sql = jobs[data.SQL_JOB_ID]
    assert (sql["result"], sql["is_retry"], sql["backup_server"]["name"]) == ("Failed", True, data.SQL_SERVER_NAME), "the failed retry is the newest"
    assert [(task["vm_name"], task["result"], task["reason"]) for task in sql["tasks"]] == [(data.VM_WEB, "Failed", data.RETRY_REASON)]
    running = jobs[data.RUNNING_JOB_ID]
    assert (running["result"], running["end_time_utc"]) == (None, None)
    assert {task["reason"] for task in jobs[data.ESCAPE_JOB_ID]["tasks"]} == {data.MARKUP_REASON, data.TEMPLATE_REASON}, "EM's text exactly"
    assert set(report["jobs"][0]) == {"id", "uid", "name", "job", "job_type", "backup_server", "creation_time_utc", "end_time_utc", "state",
                                      "result", "progress", "is_retry", "href", "tasks"}
    findings = [(finding["kind"], finding["id"]) for finding in report["findings"]]
    assert sorted(findings) == sorted([("failed_job", data.SQL_JOB_ID), ("failed_job", data.ESCAPE_JOB_ID),
                                       ("warning_job", data.DUPLICATE_JOB_IDS[1])])
    assert (report["totals"]["jobs"], report["totals"]["failed_jobs"], report["totals"]["warning_jobs"]) == (6, 2, 1)
    assert not [entry for entry in session_requests(em) if entry["method"] == "GET" and entry["path"] != "/api/query"], "no GET per session"

    # The play fails for the failed jobs, naming each VM's reason; the warning is reported, not failed on.
    message = run.result["msg"]
    assert message.splitlines()[0] == "2 jobs failed in their last run:"
    assert data.RETRY_REASON in message and data.TEMPLATE_REASON in message and "warning" not in message

    # Markdown: one row per job, EM's text escaped on one line.
    markdown = (dest / "backup_report.md").read_text(encoding="utf-8")
    assert "## Jobs: 6 jobs, 2 failed, 1 with a warning\n" in markdown
    rows = [line for line in markdown.split("## Jobs:", 1)[1].split("\n## ", 1)[0].splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == 1 + len(JOBS_THAT_RAN)
    assert "<script>" not in markdown and "\\<script\\>alert('x')\\</script\\>" in markdown
    assert "{{ lookup('pipe', 'touch veeam\\_em\\_pwned\\_by\\_reason') }} {{ 7\\*7 }} \\| line one line two" in markdown
    assert any(row.startswith("| ⏳ running |") and "| running |" in row for row in rows)

    # HTML: the section, every reason escaped and shown exactly.
    html = (dest / "backup_report.html").read_text(encoding="utf-8")
    assert_self_contained(html)
    page = Page(html)
    assert [row["attrs"]["data-job-id"] for row in page.with_attribute("data-job-id")] == [session["job"]["id"] for session in report["jobs"]]
    assert {data.MARKUP_REASON, data.TEMPLATE_REASON, data.RETRY_REASON} <= {element["text"] for element in page.with_class("reason")}

    # JUnit: one case per job, failing for its finding.
    suites = JUnitXml.fromfile(str(dest / "backup_report.xml"))
    cases = [case for suite in suites if suite.name == "jobs" for case in suite]
    assert len(cases) == len(JOBS_THAT_RAN) and {case.classname for case in cases} == {"backup_report.jobs"}
    failed = sorted((result.type, case.name) for case in cases for result in case.result if isinstance(result, Failure))
    assert [kind for kind, _name in failed] == ["failed_job", "failed_job", "warning_job"]
    assert f"job {data.SQL_BACKUP_NAME} on {data.SQL_SERVER_NAME} ({data.SQL_JOB_ID})" in [name for _kind, name in failed]


def test_jobs_do_not_fail_the_play_by_default_and_are_not_read_when_off(em, connection, run_playbook, tmp_path):
    run, dest = run_report(run_playbook, tmp_path, {**connection_vars(connection), "backup_report_formats": ["json"]})
    assert run.returncode == 0, run.output
    assert [finding["kind"] for finding in run.result["backup_report_result"]["findings"]] == ["failed_job", "failed_job", "warning_job"]
    assert session_requests(em)

    em.reset_stats()
    off, _dest = run_report(run_playbook, tmp_path, {**connection_vars(connection), "backup_report_formats": ["json", "markdown", "junit"],
                                                     "backup_report_jobs": False})
    assert off.returncode == 0, off.output
    assert session_requests(em) == [], "no job or session read"
    report = off.result["backup_report_result"]["report"]
    assert (report["jobs"], report["checks"]["jobs"], report["findings"]) == (None, False, [])
    assert "## Jobs" not in (dest / "backup_report.md").read_text(encoding="utf-8")
    assert "jobs" not in {suite.name for suite in JUnitXml.fromfile(str(dest / "backup_report.xml"))}
    assert em.stats()["logons"] == 1, "one EM session, for the backups only"


def test_jobs_of_the_selected_backups_only(em, connection, run_playbook, tmp_path):
    # One of the two Exchange Backups by id, SQL Backup by name: their jobs, not the other Exchange job.
    exchange = em.data.backups[data.DUPLICATE_BACKUP_IDS[1]]
    run, _dest = run_report(run_playbook, tmp_path, {**connection_vars(connection), "backup_report_ids": [exchange.id],
                                                     "backup_report_names": [data.SQL_BACKUP_NAME], "backup_report_formats": ["json"]})
    assert run.returncode == 0, run.output
    report = run.result["backup_report_result"]["report"]
    assert [session["job"]["id"] for session in report["jobs"]] == [em.data.job_of_backup(exchange).id, data.SQL_JOB_ID]
    assert [session["job"]["id"] for session in report["jobs"]] == [data.DUPLICATE_JOB_IDS[1], data.SQL_JOB_ID]


def test_a_title_with_characters_xml_forbids_gives_well_formed_junit(em, connection, run_playbook, tmp_path):
    title = "Nightly\x1b[31m report\x0c of \x00EM\tone"
    run, dest = run_report(run_playbook, tmp_path, {**connection_vars(connection), "backup_report_title": title,
                                                    "backup_report_formats": ["junit", "json"], "backup_report_jobs": False})
    assert run.returncode == 0, run.output
    suites = JUnitXml.fromfile(str(dest / "backup_report.xml"))  # a parse error if the XML were not well-formed
    assert suites.name == "Nightly\ufffd[31m report\ufffd of \ufffdEM\tone", "forbidden characters replaced, the tab kept"
    assert json.loads((dest / "backup_report.json").read_text(encoding="utf-8"))["title"] == title
