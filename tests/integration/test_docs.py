# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ansible-doc shows every option of the modules, the lookups and the inventory plugin, the same connection options for all."""

from __future__ import annotations

import json
import re
import subprocess

import yaml

from ansible_collections.veeam_em.rest.plugins.module_utils._backups import BACKUP_SELECTION_ARGUMENT_SPEC
from ansible_collections.veeam_em.rest.plugins.module_utils._connection_options import CONNECTION_ARGUMENT_SPEC
from ansible_collections.veeam_em.rest.plugins.module_utils._sessions import SESSION_SELECTION_ARGUMENT_SPEC
from ansible_collections.veeam_em.rest.plugins.module_utils._vm_restore_points import VM_POINT_SELECTION_ARGUMENT_SPEC

from conftest import BIN_DIR

SHARED_OPTIONS = {*CONNECTION_ARGUMENT_SPEC, *BACKUP_SELECTION_ARGUMENT_SPEC}


def documentation(ansible_env, plugin_type, name):
    process = subprocess.run([str(BIN_DIR / "ansible-doc"), "-t", plugin_type, "--json", name],
                             env=ansible_env, capture_output=True, text=True, timeout=120, check=False)
    assert process.returncode == 0, process.stderr
    assert "[WARNING]" not in process.stderr and "[ERROR]" not in process.stderr, process.stderr
    return json.loads(process.stdout)[name]


def test_module_documents_every_option_and_return_key(ansible_env):
    doc = documentation(ansible_env, "module", "veeam_em.rest.veeam_em_backup_info")
    assert set(doc["doc"]["options"]) == SHARED_OPTIONS | {"id"}
    assert doc["doc"]["options"]["password"]["type"] == "str"
    backup_keys = set(doc["return"]["backups"]["contains"])
    assert {"id", "uid", "name", "href", "platform", "backup_type", "repository", "backup_server", "parent_backup", "links", "restore_points",
            "latest_restore_point"} == backup_keys
    assert set(doc["return"]["backups"]["contains"]["latest_restore_point"]["contains"]) == {"id", "uid", "name", "href", "backup_date_utc"}
    assert (doc["doc"]["options"]["id"]["type"], doc["doc"]["options"]["id"]["elements"]) == ("list", "str")
    assert doc["doc"]["options"]["id"]["aliases"] == ["ids", "uid"]
    assert (doc["return"]["missing"]["type"], doc["return"]["missing"]["returned"]) == ("list", "when O(id) is given")
    assert doc["doc"]["attributes"]["check_mode"]["support"] == "full"
    assert doc["doc"]["attributes"]["action_group"]["membership"] == ["veeam_em.rest.veeam_em"]


def test_lookup_documents_the_same_options_with_variables_and_environment(ansible_env):
    doc = documentation(ansible_env, "lookup", "veeam_em.rest.veeam_em_backup")
    options = doc["doc"]["options"]
    assert set(options) == SHARED_OPTIONS | {"_terms", "on_missing"}
    for name in CONNECTION_ARGUMENT_SPEC:
        assert options[name]["env"] == [{"name": f"VEEAM_EM_{name.upper()}"}]
        assert options[name]["vars"] == [{"name": f"veeam_em_{name}"}]


def test_session_module_and_lookup_document_every_option_and_return_key(ansible_env):
    doc = documentation(ansible_env, "module", "veeam_em.rest.veeam_em_backup_session_info")
    assert set(doc["doc"]["options"]) == {*CONNECTION_ARGUMENT_SPEC, *SESSION_SELECTION_ARGUMENT_SPEC, "job_names", "job_ids"}
    assert doc["doc"]["options"]["job_names"]["aliases"] == ["job_name"]
    sessions = doc["return"]["sessions"]["contains"]
    assert set(sessions) == {"id", "uid", "name", "job", "job_type", "backup_server", "creation_time_utc", "end_time_utc", "state", "result",
                             "progress", "is_retry", "href", "tasks"}
    assert set(sessions["tasks"]["contains"]) == {"id", "vm_name", "state", "result", "reason", "creation_time_utc", "end_time_utc", "total_size"}
    assert doc["doc"]["attributes"]["check_mode"]["support"] == "full"
    assert doc["doc"]["attributes"]["action_group"]["membership"] == ["veeam_em.rest.veeam_em"]
    lookup = documentation(ansible_env, "lookup", "veeam_em.rest.veeam_em_backup_session")["doc"]["options"]
    assert set(lookup) == {*CONNECTION_ARGUMENT_SPEC, *SESSION_SELECTION_ARGUMENT_SPEC, "_terms"}
    vm_doc = documentation(ansible_env, "module", "veeam_em.rest.veeam_em_vm_restore_point_info")
    assert set(vm_doc["return"]["vms"]["contains"]["last_task"]["contains"]) == set(sessions["tasks"]["contains"]) | {"session"}


def test_inventory_documents_the_connection_options_from_the_environment_and_examples_of_each(ansible_env):
    doc = documentation(ansible_env, "inventory", "veeam_em.rest.veeam_em")
    options = doc["doc"]["options"]
    own = set(CONNECTION_ARGUMENT_SPEC) | {"plugin", "backups"}
    constructed = {"compose", "groups", "keyed_groups", "strict", "cache", "cache_plugin", "cache_connection", "cache_timeout", "cache_prefix"}
    assert own | constructed <= set(options)
    for name in CONNECTION_ARGUMENT_SPEC:
        # An inventory source has no variables: only the environment, as an AWX credential injects it.
        assert options[name]["env"] == [{"name": f"VEEAM_EM_{name.upper()}"}]
        assert "vars" not in options[name]
    assert options["plugin"]["choices"] == ["veeam_em.rest.veeam_em"]
    # One configuration (ansible-core 2.16's yamllint takes one YAML document); the others are comments.
    examples = doc["examples"]
    configuration = yaml.safe_load(examples.replace("!vault", ""))
    assert configuration["plugin"] == "veeam_em.rest.veeam_em"
    shown = set(configuration) | set(re.findall(r"^#\s+(\w+):", examples, re.MULTILINE))
    assert not [name for name in own | constructed - {"cache_prefix"} if name not in shown and f"VEEAM_EM_{name.upper()}" not in examples]


def test_role_documents_the_health_variables(ansible_env):
    process = subprocess.run([str(BIN_DIR / "ansible-doc"), "-t", "role", "--json", "veeam_em.rest.backup_report"],
                             env=ansible_env, capture_output=True, text=True, timeout=120, check=False)
    assert process.returncode == 0, process.stderr
    options = json.loads(process.stdout)["veeam_em.rest.backup_report"]["entry_points"]["main"]["options"]
    assert {"backup_report_max_age", "backup_report_min_free_percent", "backup_report_fail_on", "backup_report_jobs"} <= set(options)
    assert options["backup_report_fail_on"]["choices"] == ["missing", "stale", "low_space", "failed_job", "warning_job"]
    assert options["backup_report_fail_on"]["default"] == ["missing", "stale", "low_space"], "job findings fail a play only when asked"
    assert options["backup_report_jobs"]["default"] is True
    assert "junit" in options["backup_report_formats"]["choices"]


def test_vm_restore_point_module_and_lookup_document_the_same_options(ansible_env):
    module = documentation(ansible_env, "module", "veeam_em.rest.veeam_em_vm_restore_point_info")
    lookup = documentation(ansible_env, "lookup", "veeam_em.rest.veeam_em_vm_restore_point")
    shared = {*CONNECTION_ARGUMENT_SPEC, *VM_POINT_SELECTION_ARGUMENT_SPEC}
    assert set(module["doc"]["options"]) == shared | {"vm_names"}
    assert set(lookup["doc"]["options"]) == shared | {"_terms"}
    assert module["doc"]["options"]["vm_names"]["aliases"] == ["vm_name"] and module["doc"]["options"]["vm_names"]["required"]
    for name in VM_POINT_SELECTION_ARGUMENT_SPEC:
        assert module["doc"]["options"][name] == lookup["doc"]["options"][name]
    for name in CONNECTION_ARGUMENT_SPEC:
        assert lookup["doc"]["options"][name]["env"] == [{"name": f"VEEAM_EM_{name.upper()}"}]
    point_keys = {"id", "uid", "name", "vm_name", "creation_time_utc", "algorithm", "point_type", "hierarchy_obj_ref",
                  "backup_server", "restore_point", "backup", "href"}
    vms = module["return"]["vms"]["contains"]
    assert set(vms) == {"name", "found", "latest_restore_point", "restore_points", "last_task"}
    assert set(vms["latest_restore_point"]["contains"]) == point_keys
    assert module["return"]["missing"]["returned"] == "success"
    assert module["doc"]["attributes"]["check_mode"]["support"] == "full"
    assert module["doc"]["attributes"]["action_group"]["membership"] == ["veeam_em.rest.veeam_em"]
