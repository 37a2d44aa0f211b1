# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backup_report role's step on the controller: get the backups, build the report, write its files.

The module's results stay inside this action: registered, 10,000 backups made every later task
of the role slower (each task's variables hold them) and had to be templated into the filter's
arguments; the report's text went through the copy module's arguments. Here the module runs
with the task's module_defaults (for the module and for group/veeam_em.rest.veeam_em, as a task
of the module would get them), the report is built by the same functions as the
veeam_em.rest.backup_report_data filter, and only the files whose text or mode differ are written.
"""

from __future__ import annotations

import os
import stat
import tempfile
from datetime import datetime, timezone

from ansible.errors import AnsibleActionFail
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

from ansible_collections.veeam_em.rest.plugins.module_utils._client import EMClient
from ansible_collections.veeam_em.rest.plugins.module_utils._connection_options import CONNECTION_ARGUMENT_SPEC, connection_settings
from ansible_collections.veeam_em.rest.plugins.module_utils._errors import VeeamEMError
from ansible_collections.veeam_em.rest.plugins.module_utils._report import (
    ReportError, build_report, collect_backups, earlier_marker, jobs_of_backups, parse_time, report_result)
from ansible_collections.veeam_em.rest.plugins.module_utils._sessions import job_sessions
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
    "max_age": {"type": "str"},
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


def write_file(path: str, content: str, mode) -> bool:
    """Write ``content`` to ``path`` with ``mode`` unless it already holds both; whether anything changed.

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
        os.chmod(path, wanted)
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


class ActionModule(ActionBase):
    """veeam_em.rest.backup_report"""

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        _spec, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        calls = self._get_backups(args, task_vars)
        collected = collect_backups(calls)
        if args["jobs"]:
            collected["jobs"] = self._get_jobs(args, collected["backups"], result)
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
            raise AnsibleActionFail(f"veeam_em.rest.backup_report: {error}") from None
        changed = False
        # The report is written in check mode too: it changes nothing but its own files.
        if not os.path.isdir(args["dest"]):
            os.makedirs(args["dest"], mode=0o755)
            changed = True
        for report_format, path in files.items():
            changed = write_file(path, render(report, report_format), args["mode"]) or changed
        result.update(changed=changed, backup_report_result=as_data(report_result(report, read_at, list(files.values()))))
        return result

    def _get_backups(self, args: dict, task_vars: dict) -> dict:
        """The module calls the role makes, as ``collect_backups`` takes them; fails with EM's messages."""
        freshness = args["max_age"] is not None
        common = {"expand": ["repository", "backup_server"], "latest_restore_point": freshness}
        calls: dict = {}
        if not (args["ids"] or args["names"]):
            calls["all"] = self._backup_info(common, task_vars)
        if args["ids"]:
            calls["by_id"] = self._backup_info({**common, "id": args["ids"]}, task_vars)
        if args["names"]:
            calls["by_name"] = {"results": [{**self._backup_info({**common, "name": name}, task_vars), "item": name}
                                            for name in args["names"]]}
        # A ParentBackup holds no restore points of its own: its ChildBackups are judged instead.
        selected = list(calls.get("by_id", {}).get("backups") or []) + [
            backup for call in calls.get("by_name", {}).get("results", []) for backup in call.get("backups") or []]
        if freshness and any(backup.get("backup_type") == "ParentBackup" for backup in selected):
            calls["children"] = self._backup_info({**common, "latest_restore_point": True}, task_vars)
        every = ([calls["all"]] if "all" in calls else []) + ([calls["by_id"]] if "by_id" in calls else []) \
            + calls.get("by_name", {}).get("results", []) + ([calls["children"]] if "children" in calls else [])
        errors = [call.get("msg", "unknown error") for call in every if "backups" not in call]
        if errors:
            raise AnsibleActionFail("Could not get the backups from Veeam Backup Enterprise Manager: "
                                    + "; ".join(dict.fromkeys(errors)))
        return calls

    def _get_jobs(self, args: dict, backups: list, result: dict) -> list:
        """The newest session of each job, with its tasks: of every job, or (with ids or names) of the jobs the
        reported backups are named after. Read in this process, with the connection the module calls get."""
        names = sorted({backup["name"] for backup in backups if backup.get("name")}) if args["ids"] or args["names"] else []
        if (args["ids"] or args["names"]) and not names:
            return []
        try:
            client = EMClient(connection_settings(self._connection_options()))
            try:
                with client:
                    sessions, _missing = job_sessions(client, job_names=names, latest=True, tasks=True)
            finally:
                result.setdefault("warnings", []).extend(client.warnings)
        except VeeamEMError as error:
            raise AnsibleActionFail(f"Could not get the job sessions from Veeam Backup Enterprise Manager: {error}") from None
        return jobs_of_backups(sessions, backups) if names else sessions

    def _connection_options(self) -> dict:
        """The connection options the module calls get (module_defaults, then VEEAM_EM_* variables, then defaults)."""
        given = _apply_action_arg_defaults(MODULE, self._task, {}, self._templar)
        validated = ArgumentSpecValidator(CONNECTION_ARGUMENT_SPEC).validate({key: given[key] for key in CONNECTION_ARGUMENT_SPEC if key in given})
        if validated.error_messages:
            raise AnsibleActionFail("veeam_em.rest.backup_report: " + "; ".join(validated.error_messages))
        return validated.validated_parameters

    def _backup_info(self, options: dict, task_vars: dict) -> dict:
        """One call of the module, with the task's module_defaults under ``options``."""
        module_args = _apply_action_arg_defaults(MODULE, self._task, options, self._templar)
        return self._execute_module(module_name=MODULE, module_args=module_args, task_vars=task_vars)
