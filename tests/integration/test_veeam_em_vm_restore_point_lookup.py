# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The veeam_em_vm_restore_point lookup end to end: the module's items, one session per call, keywords
checked, and EM's texts kept as data (a VM named like a template)."""

from __future__ import annotations

import pytest

import emulator as data
from conftest import EM_PASSWORD, connection_to


def run_lookup(run_playbook, em, names, **options):
    return run_playbook("lookup_vm_restore_point.yml", {"vm_names": names, "lookup_options": {**connection_to(em), **options}})


def test_items_for_every_term_in_order_in_one_session(em, run_playbook):
    names = [data.VM_UNICODE, "unknown-vm", data.VM_QUOTED, "web01"]
    run = run_lookup(run_playbook, em, names)
    assert run.returncode == 0, run.output
    items = run.result["items"]
    assert [(item["name"], item["found"]) for item in items] == [(names[0], True), ("unknown-vm", False), (names[2], True), ("web01", True)]
    assert items[0]["latest_restore_point"]["backup"]["name"] == data.ESCAPE_BACKUP_NAME, "5 h old there, 20 days in the other backup"
    assert items[2]["latest_restore_point"]["vm_name"] == data.VM_QUOTED
    stats = em.stats()
    assert (stats["logons"], stats["connections"]) == (1, 1)
    # logon, one query for the newest points of the last day, one for the unknown name alone, one for the backups, logoff
    assert stats["requests"] == 5, em.request_log()


def test_one_vm_takes_four_requests(em, run_playbook):
    run = run_lookup(run_playbook, em, ["app01"], latest=True)
    assert run.returncode == 0, run.output
    [item] = run.result["items"]
    assert item["latest_restore_point"]["backup"]["id"] == data.CHILD_BACKUP_ID
    assert em.stats()["requests"] == 4


@pytest.mark.parametrize("keyword", ["lastest", "since_when", "vm_names"])
def test_unknown_keyword_fails_before_any_request_naming_it(em, run_playbook, keyword):
    run = run_lookup(run_playbook, em, ["web01"], **{keyword: True})
    assert run.result["failed"] is True
    assert f"Unknown option '{keyword}' for the veeam_em.rest.veeam_em_vm_restore_point lookup" in run.result["msg"]
    for known in ("latest", "since", "url", "ca_path"):
        assert known in run.result["msg"].split("options are:", 1)[1]
    assert EM_PASSWORD not in run.output
    assert em.stats()["requests"] == 0


def test_bad_name_fails_before_any_request(em, run_playbook):
    run = run_lookup(run_playbook, em, ["web01", " "])
    assert run.result["failed"] is True and "Invalid VM name ' '" in run.result["msg"]
    assert em.stats()["requests"] == 0


def test_texts_from_em_are_never_templated_again(em, run_playbook):
    """On ansible-core 2.16 to 2.18 a plain string holding {{ }} is templated when used: EM's must not be."""
    run = run_playbook("vm_restore_point_template_name.yml", {"connection": connection_to(em)})
    assert run.returncode == 0, run.output
    point = max((point for point in em.data.vm_restore_points.values() if point.vm_name == data.VM_TEMPLATE),
                key=lambda point: point.creation_time)
    assert run.result == {"module_vm_name": data.VM_TEMPLATE, "module_name": point.name, "lookup_vm_name": data.VM_TEMPLATE,
                          "lookup_name": point.name, "module_vm_name_alone": data.VM_TEMPLATE,
                          "module_alone": data.VM_TEMPLATE, "lookup_alone": data.VM_TEMPLATE,
                          "lookup_in_vars": data.VM_TEMPLATE, "lookup_text_alone": data.VM_TEMPLATE}
    # The point's name ends in its creation time, whose digits may spell "49": the template must be kept, not looked for.
    assert all(value.startswith(data.VM_TEMPLATE) for value in run.result.values())
