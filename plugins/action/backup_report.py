# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backup_report role's step on the controller: get the backups, build the report, write its files.

Everything happens in this action's own process, on the controller, whatever the task's host,
connection and ``become``: the backups come through the same module_utils functions as
veeam_em.rest.veeam_em_backup_info's (one EM session for every call the report needs), with the
options a task of that module would get - the task's module_defaults (for the module and for
group/veeam_em.rest.veeam_em), then the VEEAM_EM_* environment variables (the controller's, with
the task's ``environment``) - checked against the module's argument spec. The report is built by
the same functions as the veeam_em.rest.backup_report_data filter, and only the files whose text
or mode differ are written; in check mode nothing is written and ``changed`` tells whether
anything would be.

A failure is a failed result with a message that says why (EM's reason, never a password), so
that it shows on every ansible-core without ``no_log`` and is subject to ``failed_when``. The
result is marked as the setup module marks its facts, so that ``-v`` does not print the whole report.
"""

from __future__ import annotations

import os
import stat
import tempfile
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Iterator

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import env_fallback, remove_values
from ansible.module_utils.errors import AnsibleFallbackNotFound
from ansible.plugins.action import ActionBase

from ansible_collections.veeam_em.rest.plugins.module_utils._backups import (
    BACKUP_INFO_ARGUMENT_SPEC, BACKUP_INFO_MUTUALLY_EXCLUSIVE, BackupSelection, backup_info, backup_selection)
from ansible_collections.veeam_em.rest.plugins.module_utils._client import EMClient, missing_libraries
from ansible_collections.veeam_em.rest.plugins.module_utils._connection_options import connection_settings
from ansible_collections.veeam_em.rest.plugins.module_utils._errors import VeeamEMError
from ansible_collections.veeam_em.rest.plugins.module_utils._report import (
    ReportError, build_report, collect_backups, duration_seconds, earlier_marker, jobs_of_backups, parse_time, percent,
    report_result)
from ansible_collections.veeam_em.rest.plugins.module_utils._sessions import job_sessions
from ansible_collections.veeam_em.rest.plugins.module_utils._signals import logged_off_on_signals
from ansible_collections.veeam_em.rest.plugins.plugin_utils._render import render
from ansible_collections.veeam_em.rest.plugins.plugin_utils._untrusted import as_data

try:  # ansible-core 2.19+
    from ansible.executor.module_common import _apply_action_arg_defaults
except ImportError:  # ansible-core 2.16-2.18
    from ansible.executor.module_common import get_action_args_with_defaults

    def _apply_action_arg_defaults(action, task, action_args, templar):
        return get_action_args_with_defaults(action, action_args, task.module_defaults, templar,
                                             action_groups=task._parent._play._action_groups)

MODULE = "veeam_em.rest.veeam_em_backup_info"
EXTENSIONS = {"json": "json", "markdown": "md", "html": "html", "junit": "xml"}
#: The format whose earlier file is read for the fingerprint: every format carries it, so the smallest.
MARKER_FORMATS = ("markdown", "junit", "html", "json")
FAILED_TO_GET = "Could not get the backups from Veeam Backup Enterprise Manager: "


class ReportFailed(Exception):
    """The report cannot be made; the message says why, for the task's failed result."""


ARGUMENT_SPEC = {
    "dest": {"type": "path", "required": True},
    "basename": {"type": "str", "default": "backup_report"},
    "mode": {"type": "raw", "default": "0644"},
    "formats": {"type": "list", "elements": "str", "default": ["json", "markdown", "html"],
                "choices": list(EXTENSIONS)},
    "title": {"type": "str", "default": "Veeam backup report"},
    "ids": {"type": "list", "elements": "str", "default": []},
    "names": {"type": "list", "elements": "str", "default": []},
    "expect": {"type": "list", "elements": "dict", "default": []},
    "max_age": {"type": "raw"},
    "min_free_percent": {"type": "raw"},
    "fail_on": {"type": "list", "elements": "str", "default": ["missing", "stale", "low_space"],
                "choices": ["missing", "stale", "low_space", "failed_job", "warning_job"]},
    "jobs": {"type": "bool", "default": True},
}


def file_mode(mode, path_stat) -> int:
    """The permission bits ``mode`` asks for (octal as 0644 or "0644", or symbolic as u=rw,g=r,o=r)."""
    if isinstance(mode, int):
        return mode
    text = str(mode)
    if text.isdigit():
        return int(text, 8)
    return AnsibleModule._symbolic_mode_to_octal(path_stat, text)  # pylint: disable=protected-access


def write_file(path: str, content: str, mode, check_mode: bool = False) -> bool:
    """Write ``content`` to ``path`` with ``mode`` unless it already holds both; whether anything changed
    (in check mode: would change, and nothing is written).

    A new text goes to a temporary file in the same directory first, renamed over ``path``:
    a reader never sees half a report.
    """
    data = content.encode("utf-8")
    try:
        with open(path, "rb") as current:
            same = current.read() == data
        existing = os.stat(path)
    except FileNotFoundError:
        same, existing = False, None
    if same:
        wanted = file_mode(mode, existing)
        if stat.S_IMODE(existing.st_mode) == wanted:
            return False
        if not check_mode:
            os.chmod(path, wanted)
        return True
    if check_mode:
        return True
    handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path) or ".", prefix=f".{os.path.basename(path)}.")
    try:
        with os.fdopen(handle, "wb") as written:
            written.write(data)
        os.chmod(temporary, file_mode(mode, existing or os.stat(temporary)))
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
    return True


def read_text(path: str) -> str:
    """The text of ``path``, or "" when it cannot be read (no earlier report)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as earlier:
            return earlier.read()
    except OSError:
        return ""


def health_settings(args: dict) -> None:
    """Refuse ``max_age`` and ``min_free_percent`` that the checks cannot use, naming them, before any request."""
    try:
        if args["max_age"] is not None:
            duration_seconds(args["max_age"])
        if args["min_free_percent"] is not None:
            percent(args["min_free_percent"], "min_free_percent")
    except ReportError as error:
        raise ReportFailed(f"veeam_em.rest.backup_report: {error}") from None


def with_environment(argument_spec: dict, environment: dict) -> dict:
    """``argument_spec`` whose ``env_fallback`` options read ``environment`` instead of this process's."""
    def from_environment(*names):
        for name in names:
            if name in environment:
                return environment[name]
        raise AnsibleFallbackNotFound

    return {name: {**option, "fallback": (from_environment, *option["fallback"][1:])}
            if option.get("fallback", (None,))[0] is env_fallback else option
            for name, option in argument_spec.items()}


def write_report_files(dest: str, files: dict, mode, check_mode: bool) -> bool:
    """Write each ``{path: text}`` of ``files`` into ``dest`` (created when missing, mode 0755); whether
    anything changed (in check mode: would change, and nothing is written). Fails naming the path
    that cannot be written."""
    if not os.path.isdir(dest):
        if check_mode:
            return True
        try:
            os.makedirs(dest, mode=0o755)
        except OSError as error:
            raise ReportFailed(f"veeam_em.rest.backup_report: could not create the directory {dest}: {error.strerror or error}") from None
        changed = True
    else:
        changed = False
    for path, text in files.items():
        try:
            changed = write_file(path, text, mode, check_mode) or changed
        except OSError as error:
            raise ReportFailed(f"veeam_em.rest.backup_report: could not write {path}: {error.strerror or error}") from None
    return changed


def newest_job_sessions(client: EMClient, backups: list, selected: bool) -> list:
    """The newest session of each job, with its tasks: of every job, or (``selected`` backups) of the jobs
    the backups are named after, each on its backup's server."""
    if not selected:
        return job_sessions(client, latest=True, tasks=True)[0]
    names = sorted({backup["name"] for backup in backups if backup.get("name")})
    if not names:
        return []
    sessions, _missing = job_sessions(client, job_names=names, latest=True, tasks=True)
    return jobs_of_backups(sessions, backups)


class ActionModule(ActionBase):
    """veeam_em.rest.backup_report"""

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        warnings: list[str] = []
        try:
            _spec, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
            health_settings(args)
            collected = self._get_data(args, warnings)
            result.update(self._write_report(args, collected))
        except ReportFailed as failure:
            result.update(failed=True, msg=str(failure))
        if warnings:
            result["warnings"] = result.get("warnings", []) + warnings
        return result

    # --- the data: EM's backups, on the controller ---------------------------------------
    def _get_data(self, args: dict, warnings: list) -> dict:
        """What the report shows, as ``collect_backups`` gives it, read in one EM session: every backup, or
        those of ``ids`` and of each of ``names``, the ChildBackups of selected ParentBackups and, with
        ``jobs``, the newest session of each job. Every call's options are checked before the session is opened."""
        freshness = args["max_age"] is not None
        common = {"expand": ["repository", "backup_server"], "latest_restore_point": freshness}
        environment = self._environment()
        every = self._backup_info_call(common, environment)
        by_id = self._backup_info_call({**common, "id": args["ids"]}, environment) if args["ids"] else None
        by_name = [(name, self._backup_info_call({**common, "name": name}, environment)) for name in args["names"]]
        calls: dict = {}
        with self._em_session(every[0], warnings) as client:
            if not (by_id or by_name):
                calls["all"] = backup_info(client, *every[1:])
            if by_id:
                calls["by_id"] = backup_info(client, *by_id[1:])
            if by_name:
                calls["by_name"] = {"results": [{**backup_info(client, *call[1:]), "item": name} for name, call in by_name]}
            # A ParentBackup holds no restore points of its own: its ChildBackups are judged instead.
            selected = list(calls.get("by_id", {}).get("backups") or []) + [
                backup for call in calls.get("by_name", {}).get("results", []) for backup in call["backups"]]
            if freshness and any(backup.get("backup_type") == "ParentBackup" for backup in selected):
                calls["children"] = backup_info(client, *every[1:])
            collected = collect_backups(calls)
            if args["jobs"]:
                collected["jobs"] = newest_job_sessions(client, collected["backups"], selected=bool(args["ids"] or args["names"]))
        return collected

    @contextmanager
    def _em_session(self, params: dict, warnings: list) -> Iterator[EMClient]:
        """A client logged on to EM with the connection options of ``params`` for the body, logged off after
        it, also on failure. Fails with EM's reason; the client's warnings go to ``warnings``."""
        for library, _error in missing_libraries():
            raise ReportFailed(f"veeam_em.rest.backup_report: {missing_required_lib(library)} (on the controller)")
        client = None
        try:
            client = EMClient(connection_settings(params))
            with logged_off_on_signals(client):
                yield client
        except VeeamEMError as error:
            raise ReportFailed(FAILED_TO_GET + str(error)) from None
        finally:
            if client is not None:
                warnings.extend(client.warnings)

    def _environment(self) -> dict:
        """The environment a module task would run in: the controller's, with the task's ``environment``."""
        task_environment: dict = {}
        self._compute_environment_string(task_environment)
        return {**os.environ, **{key: str(value) for key, value in task_environment.items()}}

    def _backup_info_call(self, options: dict, environment: dict) -> tuple[dict, list, BackupSelection]:
        """A veeam_em_backup_info call with ``options``, checked: its parameters (the task's module_defaults
        added, then the VEEAM_EM_* variables of ``environment``, checked against the module's argument spec),
        the ids as given and the selection, as ``backup_info`` takes them."""
        module_args = _apply_action_arg_defaults(MODULE, self._task, options, self._templar)
        spec = with_environment(BACKUP_INFO_ARGUMENT_SPEC, environment)
        validated = ArgumentSpecValidator(spec, mutually_exclusive=BACKUP_INFO_MUTUALLY_EXCLUSIVE).validate(module_args)
        if validated.error_messages:
            errors = remove_values("; ".join(validated.error_messages), validated._no_log_values)  # pylint: disable=protected-access
            raise ReportFailed(f"{FAILED_TO_GET}the options of {MODULE} are not valid: {errors}")
        params = validated.validated_parameters
        try:
            return params, params["id"] or [], backup_selection(params["id"] or [], params)
        except VeeamEMError as error:
            raise ReportFailed(FAILED_TO_GET + str(error)) from None

    # --- the report and its files ----------------------------------------------------------
    def _write_report(self, args: dict, collected: dict) -> dict:
        """Build the report from the calls, write the files that differ; ``changed`` and ``backup_report_result``."""
        formats = list(dict.fromkeys(args["formats"]))
        files = {report_format: os.path.join(args["dest"], f"{args['basename']}.{EXTENSIONS[report_format]}")
                 for report_format in formats}
        marker_format = next((report_format for report_format in MARKER_FORMATS if report_format in formats), "json")
        earlier = read_text(files[marker_format]) if formats else ""
        read_at = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        settings = {key: args[key] for key in ("title", "ids", "names", "expect", "max_age", "min_free_percent", "fail_on")}
        try:
            report = build_report(collected, settings, parse_time(read_at), earlier_marker(earlier, marker_format))
        except (ReportError, ValueError, KeyError) as error:
            raise ReportFailed(f"veeam_em.rest.backup_report: {error}") from None
        texts = {path: render(report, report_format) for report_format, path in files.items()}
        changed = write_report_files(args["dest"], texts, args["mode"], bool(self._task.check_mode))
        return {"changed": changed, "backup_report_result": as_data(report_result(report, read_at, list(files.values()))),
                # As the setup module's facts: -v shows the task's status, not the whole report.
                "_ansible_verbose_override": True}
