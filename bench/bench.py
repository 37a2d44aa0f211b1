# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make bench`: what getting EM backups into Ansible costs, side by side with the floor.

Against EM emulators over HTTPS on loopback (50, 1,000 and 10,000 backups), in one
run: HTTP requests and connections of each kind of call; the lookup and the module
against a hand-written ``ansible.builtin.uri`` playbook and against plain
``requests``; the module process listing 10,000 backups (time, peak RSS) against
the floor; normalization against ``ElementTree`` and bare expat; the emulator's own
time per request; each backup's latest restore point against every restore point
(10,000 backups, 300,000 points) and the backup_report role's health checks over
them and their jobs' newest sessions, beside its data as module tasks; each job's newest
session against every session (1,000 jobs, 30,000 sessions) and
the request counts of the job-session cost bounds. Each time is the median of several runs,
with min and max; ratios compare figures of the same run. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from xml.etree import ElementTree
from xml.parsers import expat

ROOT = Path(__file__).resolve().parents[1]
COLLECTIONS = Path(os.environ.get("ANSIBLE_COLLECTIONS_PATH", ROOT / "build" / "collections"))
sys.path[:0] = [str(ROOT / "tests"), str(COLLECTIONS)]

from emulator import Emulator  # noqa: E402
from emulator.data import build_dataset  # noqa: E402

from ansible_collections.veeam_em.rest.plugins.module_utils import _backups  # noqa: E402
from ansible_collections.veeam_em.rest.plugins.module_utils._normalize import normalize_backup, query_entities  # noqa: E402
from ansible_collections.veeam_em.rest.plugins.module_utils._xml import parse_document  # noqa: E402

MODULE = COLLECTIONS / "ansible_collections/veeam_em/rest/plugins/modules/veeam_em_backup_info.py"
SESSION_MODULE = COLLECTIONS / "ansible_collections/veeam_em/rest/plugins/modules/veeam_em_backup_session_info.py"
USERNAME, PASSWORD = "bench", "bench-Passw0rd"

FLOOR_SCRIPT = textwrap.dedent("""
    import json, sys, time
    from xml.etree import ElementTree
    import requests
    url, ca_path, user, password, page_size = sys.argv[1:6]
    started = time.perf_counter()
    with requests.Session() as http:
        logon = http.post(f"{url}/api/sessionMngr/?v=latest", auth=(user, password), verify=ca_path)
        http.headers["X-RestSvcSessionId"] = logon.headers["X-RestSvcSessionId"]
        http.cookies.clear()
        session_id = ElementTree.fromstring(logon.content).find("{http://www.veeam.com/ent/v1.0}SessionId").text
        page, count, size = 1, 0, 0
        while True:
            body = http.get(f"{url}/api/query", params={"type": "Backup", "format": "Entities", "pageSize": page_size, "page": page}, verify=ca_path).content
            size += len(body)
            root = ElementTree.fromstring(body)
            count += len(root.findall(".//{http://www.veeam.com/ent/v1.0}Backup"))
            paging = root.find("{http://www.veeam.com/ent/v1.0}PagingInfo")
            if int(paging.get("PageNum")) >= int(paging.get("PagesCount")):
                break
            page += 1
        http.delete(f"{url}/api/logonSessions/{session_id}", verify=ca_path)
    print(json.dumps({"seconds": time.perf_counter() - started, "backups": count, "xml_bytes": size}))
""")

# Peak RSS is read from /proc/self/status (VmHWM) at exit: getrusage's ru_maxrss of
# a child also counts the memory of the bench process it was forked from.
PEAK_RSS_LAUNCHER = textwrap.dedent("""
    import atexit, runpy, sys

    def report_peak_rss():
        with open("/proc/self/status") as status:
            peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
        sys.stderr.write(f"\\nVmHWM_kB={peak}\\n")

    atexit.register(report_peak_rss)
    sys.argv = sys.argv[1:]
    runpy.run_path(sys.argv[0], run_name="__main__")
""")

IMPORT_ONLY_SCRIPT = textwrap.dedent("""
    from ansible.module_utils.basic import AnsibleModule
    from ansible_collections.veeam_em.rest.plugins.module_utils import _backups, _client
""")


def summary(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def run_child(script: str, args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall time, peak RSS (MB) and stdout of a Python script run in a process of its own.

    Output goes to files: a module printing 10 MB of JSON would fill a pipe
    that nobody reads while we wait for it.
    """
    with tempfile.NamedTemporaryFile("w", suffix=".py") as launched, \
            tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        launched.write(script)
        launched.flush()
        started = time.perf_counter()
        returncode = subprocess.run([sys.executable, "-c", PEAK_RSS_LAUNCHER, launched.name, *args],
                                    env=env, stdout=stdout, stderr=stderr, check=False).returncode
        seconds = time.perf_counter() - started
        stdout.seek(0)
        stderr.seek(0)
        output, errors = stdout.read(), stderr.read()
    if returncode != 0:
        raise RuntimeError(f"{script[:60]!r} failed: {output[-2000:]} {errors[-2000:]}")
    peak_kb = int(errors.rsplit("VmHWM_kB=", 1)[1].split()[0])
    return seconds, peak_kb / 1024, output


def bench_module_listing(em: Emulator, env: dict[str, str], runs: int) -> dict:
    args = {"ANSIBLE_MODULE_ARGS": {"url": em.url, "username": USERNAME, "password": PASSWORD, "ca_path": em.ca_path}}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as args_file:
        json.dump(args, args_file)
    seconds, rss, requests_made, connections = [], [], [], []
    for _run in range(runs):
        em.reset_stats()
        took, peak, stdout = run_child(MODULE.read_text(), [args_file.name], env)
        result = json.loads(stdout)
        assert len(result["backups"]) == len(em.data.backups), "the module listed every backup"
        seconds.append(took)
        rss.append(peak)
        requests_made.append(em.stats()["requests"])
        connections.append(em.stats()["connections"])
    os.unlink(args_file.name)
    return {"seconds": summary(seconds), "peak_rss_mb": summary(rss), "requests": requests_made[-1], "connections": connections[-1]}


def bench_floor(em: Emulator, env: dict[str, str], runs: int) -> dict:
    seconds, rss, xml_bytes = [], [], 0
    for _run in range(runs):
        em.reset_stats()
        took, peak, stdout = run_child(FLOOR_SCRIPT, [em.url, em.ca_path, USERNAME, PASSWORD, str(_backups.PAGE_SIZE)], env)
        result = json.loads(stdout)
        seconds.append(took)
        rss.append(peak)
        xml_bytes = result["xml_bytes"]
    return {"seconds": summary(seconds), "peak_rss_mb": summary(rss), "requests": em.stats()["requests"], "xml_bytes": xml_bytes}


def bench_import_only(env: dict[str, str], runs: int) -> dict:
    rss = [run_child(IMPORT_ONLY_SCRIPT, [], env)[1] for _run in range(runs)]
    return {"peak_rss_mb": summary(rss)}


def bench_parsing(em: Emulator, runs: int) -> dict:
    """Normalizing one query result holding every backup, against the parsers' raw speed."""
    import requests  # the bench's own fetch, not measured

    with requests.Session() as http:
        logon = http.post(f"{em.url}/api/sessionMngr/?v=latest", auth=(USERNAME, PASSWORD), verify=em.ca_path)
        headers = {"X-RestSvcSessionId": logon.headers["X-RestSvcSessionId"]}
        params = {"type": "Backup", "format": "Entities", "pageSize": str(len(em.data.backups))}
        body = http.get(f"{em.url}/api/query", params=params, headers=headers, verify=em.ca_path).content
        session_id = ElementTree.fromstring(logon.content).find("{http://www.veeam.com/ent/v1.0}SessionId").text
        http.delete(f"{em.url}/api/logonSessions/{session_id}", headers=headers, verify=em.ca_path)

    def normalize() -> None:
        _root, content = parse_document(body)
        backups = [normalize_backup(entity) for entity in query_entities(content, "Backups", "Backup")]
        assert len(backups) == len(em.data.backups)

    def expat_pass() -> None:
        expat.ParserCreate().Parse(body, True)

    timings: dict[str, list[float]] = {"normalize": [], "elementtree": [], "expat": []}
    for _run in range(runs):
        for name, work in (("normalize", normalize), ("elementtree", lambda: ElementTree.fromstring(body)), ("expat", expat_pass)):
            started = time.perf_counter()
            work()
            timings[name].append(time.perf_counter() - started)
    ratios = {
        "normalize_vs_elementtree": [n / e for n, e in zip(timings["normalize"], timings["elementtree"])],
        "normalize_vs_expat": [n / x for n, x in zip(timings["normalize"], timings["expat"])],
    }
    return {"xml_bytes": len(body), **{f"{name}_seconds": summary(values) for name, values in timings.items()},
            **{name: summary(values) for name, values in ratios.items()}}


BENCH_DIR = ROOT / "bench"
REQUESTS_FLOOR_SCRIPT = textwrap.dedent("""
    import json, sys, time
    from xml.etree import ElementTree
    import requests
    url, ca_path, user, password, *ids = sys.argv[1:]
    started = time.perf_counter()
    with requests.Session() as http:
        logon = http.post(f"{url}/api/sessionMngr/?v=latest", auth=(user, password), verify=ca_path)
        http.headers["X-RestSvcSessionId"] = logon.headers["X-RestSvcSessionId"]
        http.cookies.clear()
        gets_started = time.perf_counter()
        for backup_id in ids:
            ElementTree.fromstring(http.get(f"{url}/api/backups/{backup_id}", params={"format": "Entity"}, verify=ca_path).content)
        gets = time.perf_counter() - gets_started
        session_id = ElementTree.fromstring(logon.content).find("{http://www.veeam.com/ent/v1.0}SessionId").text
        http.delete(f"{url}/api/logonSessions/{session_id}", verify=ca_path)
    print(json.dumps({"seconds": time.perf_counter() - started, "per_get": gets / len(ids)}))
""")


def bench_in_process(em: Emulator, runs: int) -> dict:
    """The collection's own work listing every backup (HTTP, parsing, normalizing), in this
    process, against plain requests + ElementTree over the same pages, also in this process;
    and what Ansible's module result handling (no_log scrubbing, JSON) then costs on top."""
    import requests
    from ansible.module_utils.basic import AnsibleModule  # noqa: F401  (Ansible's module-side JSON set-up)
    from ansible.module_utils.common.parameters import remove_values

    from ansible_collections.veeam_em.rest.plugins.module_utils._client import EMClient
    from ansible_collections.veeam_em.rest.plugins.module_utils._connection_options import connection_settings

    settings = connection_settings({"url": em.url, "username": USERNAME, "password": PASSWORD, "ca_path": em.ca_path})
    ours, floor, result_handling = [], [], []
    for _run in range(runs):
        started = time.perf_counter()
        with EMClient(settings) as client:
            backups = _backups.list_backups(client)
        ours.append(time.perf_counter() - started)
        started = time.perf_counter()
        json.dumps(remove_values({"changed": False, "backups": backups}, {PASSWORD}))
        result_handling.append(time.perf_counter() - started)
        started = time.perf_counter()
        with requests.Session() as http:
            logon = http.post(f"{em.url}/api/sessionMngr/?v=latest", auth=(USERNAME, PASSWORD), verify=em.ca_path)
            http.headers["X-RestSvcSessionId"] = logon.headers["X-RestSvcSessionId"]
            http.cookies.clear()
            page = 1
            while True:
                params = {"type": "Backup", "format": "Entities", "pageSize": str(_backups.PAGE_SIZE), "page": str(page)}
                root = ElementTree.fromstring(http.get(f"{em.url}/api/query", params=params, verify=em.ca_path).content)
                paging = root.find("{http://www.veeam.com/ent/v1.0}PagingInfo")
                if int(paging.get("PageNum")) >= int(paging.get("PagesCount")):
                    break
                page += 1
            session_id = ElementTree.fromstring(logon.content).find("{http://www.veeam.com/ent/v1.0}SessionId").text
            http.delete(f"{em.url}/api/logonSessions/{session_id}", verify=em.ca_path)
        floor.append(time.perf_counter() - started)
    return {"ours_seconds": summary(ours), "floor_seconds": summary(floor), "ansible_result_handling_seconds": summary(result_handling),
            "ours_vs_floor": summary([mine / base for mine, base in zip(ours, floor)])}


#: Runs a command and reports the peak RSS of the largest process of its tree (getrusage of the
#: waited-for descendants), from a small process: the bench's own memory is not inherited.
PEAK_RSS_OF_TREE = textwrap.dedent("""
    import resource, subprocess, sys
    returncode = subprocess.call(sys.argv[1:])
    sys.stderr.write(f"\\nMaxRSS_kB={resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}\\n")
    sys.exit(returncode)
""")


def run_playbook(playbook: str, em: Emulator, env: dict[str, str], **variables) -> dict[str, float]:
    """Run a bench playbook against ``em``; the task wall times its callback recorded."""
    return run_playbook_measured(playbook, em, env, **variables)["tasks"]


def run_playbook_measured(playbook: str, em: Emulator, env: dict[str, str], **variables) -> dict:
    """Run a bench playbook against ``em``: its task wall times, its wall time, the peak RSS (MB) of
    the largest controller process (ansible-playbook, its workers and the modules they run), and
    the number of tasks that reported a change."""
    with tempfile.TemporaryDirectory() as scratch:
        vars_file, timings = Path(scratch, "vars.json"), Path(scratch, "timings.json")
        vars_file.write_text(json.dumps({"em_url": em.url, "em_username": USERNAME, "em_password": PASSWORD,
                                         "em_ca_path": em.ca_path, **variables}))
        started = time.perf_counter()
        process = subprocess.run(
            [sys.executable, "-c", PEAK_RSS_OF_TREE,
             str(Path(sys.executable).parent / "ansible-playbook"), str(BENCH_DIR / "playbooks" / playbook), "-e", f"@{vars_file}"],
            env={**env, "BENCH_TIMINGS": str(timings), "ANSIBLE_CALLBACK_PLUGINS": str(BENCH_DIR / "callback_plugins"),
                 "ANSIBLE_CALLBACKS_ENABLED": "bench_timer", "ANSIBLE_LOCALHOST_WARNING": "False"},
            capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - started
        if process.returncode != 0:
            raise RuntimeError(f"{playbook} failed: {process.stdout[-3000:]}{process.stderr[-2000:]}")
        changed = re.search(r"^localhost\s*:.*\bchanged=(\d+)", process.stdout, re.MULTILINE)
        return {"tasks": json.loads(timings.read_text()), "seconds": seconds, "changed": int(changed.group(1)),
                "peak_rss_mb": int(process.stderr.rsplit("MaxRSS_kB=", 1)[1].split()[0]) / 1024}


def bench_round_trips(emulators: dict[int, Emulator], env: dict[str, str]) -> list[dict]:
    """Requests and connections of each kind of call (deterministic: measured once)."""
    small, thousand, ten_thousand = emulators[50], emulators[1000], emulators[10_000]
    ids = list(ten_thousand.data.backups)
    cases = [
        ("module, one id", ten_thousand, {"case": "module_id", "backup_ids": ids[:1]}),
        *((f"lookup, {n} ids", ten_thousand, {"case": "lookup", "backup_ids": ids[:n]}) for n in (1, 10, 100)),
        ("module, listing 50", small, {"case": "listing"}),
        ("module, listing 1,000", thousand, {"case": "listing"}),
        ("module, listing 1,000, expand", thousand, {"case": "listing", "expand": ["repository", "backup_server"]}),
        ("module, listing 10,000", ten_thousand, {"case": "listing"}),
        ("module, listing 10,000, expand", ten_thousand, {"case": "listing", "expand": ["repository", "backup_server"]}),
    ]
    rows = []
    for label, em, variables in cases:
        em.reset_stats()
        run_playbook("round_trip.yml", em, env, **variables)
        stats = em.stats()
        rows.append({"call": label, "requests": stats["requests"], "connections": stats["connections"]})
    return rows


def lookup_work_in_process(em: Emulator, ids: list[str]) -> float:
    """What the lookup itself does for ``ids`` (logon, queries, normalizing, logoff), timed
    in this process, where its libraries are already imported."""
    from ansible_collections.veeam_em.rest.plugins.module_utils._client import EMClient
    from ansible_collections.veeam_em.rest.plugins.module_utils._connection_options import connection_settings

    started = time.perf_counter()
    with EMClient(connection_settings({"url": em.url, "username": USERNAME, "password": PASSWORD, "ca_path": em.ca_path})) as client:
        found = _backups.get_backups(client, _backups.backup_selection(ids, {}), on_missing=lambda backup_id: None)
    seconds = time.perf_counter() - started
    assert len(found) == len(ids)
    return seconds


def bench_versus_baseline(em: Emulator, env: dict[str, str], runs: int) -> dict:
    """The same 50 backups: lookup, module listing, hand-written uri playbook, plain requests."""
    ids = list(em.data.backups)
    assert len(ids) == 50
    figures: dict[str, list[float]] = {}
    for _run in range(runs):
        baseline = run_playbook("baseline_uri.yml", em, env, backup_ids=ids)
        collection = run_playbook("collection.yml", em, env, backup_ids=ids)
        _seconds, _rss, output = run_child(REQUESTS_FLOOR_SCRIPT, [em.url, em.ca_path, USERNAME, PASSWORD, *ids], env)
        floor = json.loads(output)
        run_figures = {
            "baseline_uri_tasks": sum(baseline.values()),
            "lookup_task": collection["Lookup of every id"],
            "set_fact_task": collection["Ansible's own cost of a set_fact task"],
            "lookup_work_in_process": lookup_work_in_process(em, ids),
            "module_listing_task": collection["Module listing every backup"],
            "requests_floor": floor["seconds"],
            "emulator_round_trip_per_get": floor["per_get"],
            "uri_get_task": collection["Bare uri GET of one backup"],
            "module_one_id_session_task": collection["Module for one id with that session"],
            "module_one_id_logon_task": collection["Module for one id with its own logon and logoff"],
        }
        run_figures["baseline_vs_lookup"] = run_figures["baseline_uri_tasks"] / run_figures["lookup_task"]
        run_figures["baseline_vs_module_listing"] = run_figures["baseline_uri_tasks"] / run_figures["module_listing_task"]
        run_figures["lookup_vs_requests_floor"] = run_figures["lookup_task"] / run_figures["requests_floor"]
        run_figures["lookup_work_vs_requests_floor"] = run_figures["lookup_work_in_process"] / run_figures["requests_floor"]
        run_figures["module_session_vs_uri_get"] = run_figures["module_one_id_session_task"] / run_figures["uri_get_task"]
        run_figures["module_logon_vs_uri_get"] = run_figures["module_one_id_logon_task"] / run_figures["uri_get_task"]
        for name, value in run_figures.items():
            figures.setdefault(name, []).append(value)
    return {name: summary(values) for name, values in figures.items()}


def bench_listing_task(em: Emulator, env: dict[str, str], runs: int) -> dict:
    """The module's task time listing every backup, inside ansible-playbook."""
    return summary([run_playbook("round_trip.yml", em, env, case="listing")["Module listing every backup"] for _run in range(runs)])


#: The restore-point data set: backups, daily points each (19 in 20 backups have one in the last day);
#: a job for each generated backup (named after it), with daily runs of 2 VMs each, for the role's jobs.
POINT_BACKUPS, POINTS_PER_BACKUP, POINT_JOB_SESSIONS = 10_000, 30, 3


def module_process(em: Emulator, env: dict[str, str], options: dict, module: Path = MODULE, returned: str = "backups") -> dict:
    """A module run once as Ansible runs it on localhost: wall time, peak RSS, requests (and their
    routes) and bytes of XML EM sent, and the ``returned`` key of its result."""
    args = {"ANSIBLE_MODULE_ARGS": {"url": em.url, "username": USERNAME, "password": PASSWORD, "ca_path": em.ca_path, **options}}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as args_file:
        json.dump(args, args_file)
    try:
        em.reset_stats()
        seconds, peak, stdout = run_child(module.read_text(), [args_file.name], env)
    finally:
        os.unlink(args_file.name)
    stats = em.stats()
    return {"seconds": seconds, "peak_rss_mb": peak, "requests": stats["requests"], "xml_bytes": stats["bytes_sent"],
            "routes": sorted(stats["requests_by_route"]), returned: json.loads(stdout)[returned]}


def bench_restore_points(em: Emulator, env: dict[str, str], runs: int, all_points_runs: int) -> dict:
    """latest_restore_point against restore_points over every backup: the task time inside
    ansible-playbook, and the module process's peak RSS, requests and XML bytes; the latest
    points checked against the newest of all points."""
    module_process(em, env, {"latest_restore_point": True})  # builds the emulator's indexes: not measured
    processes = {"all_points": module_process(em, env, {"restore_points": True}),
                 "latest": module_process(em, env, {"latest_restore_point": True})}
    every, latest = processes["all_points"].pop("backups"), processes["latest"].pop("backups")
    newest = [max(backup["restore_points"], key=lambda point: datetime.fromisoformat(point["backup_date_utc"]), default=None)
              for backup in every]
    assert [backup["latest_restore_point"] for backup in latest] == newest, "the latest point is the newest of all"
    tasks = {
        "all_points": summary([run_playbook("restore_points.yml", em, env, case="all_points")["Module with every restore point"]
                               for _run in range(all_points_runs)]),
        "latest": summary([run_playbook("restore_points.yml", em, env, case="latest")["Module with each latest restore point"]
                           for _run in range(runs)]),
    }
    ratios = {
        "bytes": processes["latest"]["xml_bytes"] / processes["all_points"]["xml_bytes"],
        "task_time": tasks["latest"]["median"] / tasks["all_points"]["median"],
        "requests": processes["latest"]["requests"] / processes["all_points"]["requests"],
        "peak_rss": processes["latest"]["peak_rss_mb"] / processes["all_points"]["peak_rss_mb"],
    }
    return {"backups": len(every), "restore_points": len(em.data.restore_points), "processes": processes, "tasks": tasks,
            "latest_vs_all_points": ratios}


def bench_role_health(em: Emulator, env: dict[str, str], runs: int) -> dict:
    """The backup_report role over every backup, both health checks, all four formats, every job's
    newest session with its tasks, beside its data: the module task with latest_restore_point over
    the same backups (alone, and with the role's expand) and the session module task reading every
    job's newest session with its tasks, in the same run: wall time of the role's whole ansible-playbook run (a first run
    into an empty directory, then a second with the data unchanged, which must change nothing),
    and the peak RSS of the controller during the role and during the module's playbook."""
    figures: dict[str, list[float]] = {key: [] for key in (
        "first", "second", "first_rss", "second_rss", "module_task", "module_play", "module_rss", "role_data_task",
        "session_task", "data_tasks")}
    requests_made = 0
    for _run in range(runs):
        module = run_playbook_measured("restore_points.yml", em, env, case="latest")
        figures["module_task"].append(module["tasks"]["Module with each latest restore point"])
        figures["module_play"].append(module["seconds"])
        figures["module_rss"].append(module["peak_rss_mb"])
        role_data = run_playbook_measured("restore_points.yml", em, env, case="role_data")
        figures["role_data_task"].append(role_data["tasks"]["Module as the backup_report role calls it"])
        sessions = run_playbook_measured("restore_points.yml", em, env, case="job_sessions")
        figures["session_task"].append(sessions["tasks"]["Module with each job's newest session and its tasks"])
        figures["data_tasks"].append(figures["module_task"][-1] + figures["session_task"][-1])
        with tempfile.TemporaryDirectory() as dest:
            em.reset_stats()
            role = run_playbook_measured("backup_report.yml", em, env, report_dest=dest)
            requests_made = em.stats()["requests"]
            written = sorted(path.name for path in Path(dest).iterdir())
            assert written == ["backup_report.html", "backup_report.json", "backup_report.md", "backup_report.xml"], written
            again = run_playbook_measured("backup_report.yml", em, env, report_dest=dest)
            assert again["changed"] == 0, f"a second run with unchanged data changed {again['changed']} tasks"
        figures["first"].append(role["seconds"])
        figures["first_rss"].append(role["peak_rss_mb"])
        figures["second"].append(again["seconds"])
        figures["second_rss"].append(again["peak_rss_mb"])
    slowest = max(role["tasks"], key=role["tasks"].get)

    def ratios(numerators: list[float], denominators: list[float]) -> dict:
        return summary([numerator / denominator for numerator, denominator in zip(numerators, denominators)])

    return {"seconds": summary(figures["first"]), "second_run_seconds": summary(figures["second"]),
            "peak_rss_mb": summary(figures["first_rss"]), "second_run_peak_rss_mb": summary(figures["second_rss"]),
            "module_task_seconds": summary(figures["module_task"]), "module_playbook_seconds": summary(figures["module_play"]),
            "module_peak_rss_mb": summary(figures["module_rss"]), "role_data_task_seconds": summary(figures["role_data_task"]),
            "session_task_seconds": summary(figures["session_task"]), "data_tasks_seconds": summary(figures["data_tasks"]),
            "requests": requests_made, "jobs": len(em.data.jobs), "job_sessions": len(em.data.job_sessions),
            "role_vs_data_tasks": ratios(figures["first"], figures["data_tasks"]),
            "second_vs_data_tasks": ratios(figures["second"], figures["data_tasks"]),
            "role_vs_module_task": ratios(figures["first"], figures["module_task"]),
            "role_vs_role_data_task": ratios(figures["first"], figures["role_data_task"]),
            "role_vs_module_playbook": ratios(figures["first"], figures["module_play"]),
            "second_vs_first": ratios(figures["second"], figures["first"]),
            "peak_rss_role_vs_module": ratios(figures["first_rss"], figures["module_rss"]),
            "role_tasks": role["tasks"], "slowest_task": slowest, "slowest_task_seconds": role["tasks"][slowest]}


#: The job-session data set: generated jobs, daily sessions each (of 2 VMs); every 20th job last ran days ago.
SESSION_JOBS, SESSIONS_PER_JOB = 1_000, 30
#: The issue's cost bounds: (what, generated jobs, sessions per job, module options, at most this many requests).
SESSION_BOUNDS = (
    ("one job's newest session, by name", 0, 0, {"job_names": ["SQL Backup"]}, 4),
    ("100 jobs x 30 sessions, by name, with tasks", 100, 30, {"job_names": [f"Bulk Backup {index:05d}" for index in range(100)], "tasks": True}, 15),
    ("every job: 112 jobs, 3,057 sessions, with tasks", 105, 29, {"tasks": True}, 40),
)


def bench_job_sessions(state_dir: str, env: dict[str, str], runs: int) -> dict:
    """Each job's newest session (with and without tasks) against every session, over every job of a
    large EM, from module processes: requests, XML bytes, wall time, peak RSS; the newest sessions checked
    against the newest of every session. And the request counts of the issue's bounds, each on its own
    emulator; a GET per session is never made (only logon, queries and logoff)."""
    bounds = []
    for label, jobs, per_job, options, limit in SESSION_BOUNDS:
        with Emulator(state_dir, username=USERNAME, password=PASSWORD, bulk_jobs=jobs, bulk_job_sessions=per_job) as em:
            process = module_process(em, env, options, SESSION_MODULE, "sessions")
            assert process["requests"] <= limit, f"{label}: {process['requests']} requests, more than {limit}"
            assert not [route for route in process["routes"] if "backupsessions" in route or "tasksessions" in route], process["routes"]
            bounds.append({"call": label, "requests": process["requests"], "limit": limit, "sessions": len(em.data.job_sessions)})
    with Emulator(state_dir, username=USERNAME, password=PASSWORD, bulk_jobs=SESSION_JOBS, bulk_job_sessions=SESSIONS_PER_JOB) as em:
        cases = {"latest": {}, "latest_tasks": {"tasks": True}, "every_session": {"latest": False, "since": "400d"}}
        module_process(em, env, {}, SESSION_MODULE, "sessions")  # builds the emulator's indexes: not measured
        processes = {case: [module_process(em, env, options, SESSION_MODULE, "sessions") for _run in range(runs)]
                     for case, options in cases.items()}
        latest, every = processes["latest"][0]["sessions"], processes["every_session"][0]["sessions"]
        newest: dict[str, dict] = {}
        for session in every:
            newest.setdefault(session["job"]["id"], session)  # a job's sessions come newest first
        assert [session["id"] for session in latest] == [session["id"] for session in newest.values()], "each newest is the newest of all"
        figures = {case: {"requests": runs_[0]["requests"], "xml_bytes": runs_[0]["xml_bytes"], "sessions": len(runs_[0]["sessions"]),
                          "seconds": summary([run["seconds"] for run in runs_]),
                          "peak_rss_mb": summary([run["peak_rss_mb"] for run in runs_])} for case, runs_ in processes.items()}
        return {"jobs": len(em.data.jobs), "job_sessions": len(em.data.job_sessions), "task_sessions": len(em.data.task_sessions),
                "cases": figures, "bounds": bounds,
                "latest_vs_every": {"requests": figures["latest"]["requests"] / figures["every_session"]["requests"],
                                    "bytes": figures["latest"]["xml_bytes"] / figures["every_session"]["xml_bytes"],
                                    "seconds": figures["latest"]["seconds"]["median"] / figures["every_session"]["seconds"]["median"]}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per timed figure (default 3)")
    parser.add_argument("--all-points-runs", type=int, default=1,
                        help="runs of the slow task that reads all 300,000 restore points (default 1)")
    parser.add_argument("--output", type=Path, default=BENCH_DIR / "results.json")
    parser.add_argument("--only-role", action="store_true",
                        help="only section 7 (the role beside its data), printed, not written to --output")
    options = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(COLLECTIONS), os.environ.get("PYTHONPATH", "")])}
    fixed = len(build_dataset(0).backups)
    points_emulator = {"bulk": POINT_BACKUPS - fixed, "bulk_restore_points": POINTS_PER_BACKUP,
                       "bulk_jobs": POINT_BACKUPS - fixed, "bulk_job_sessions": POINT_JOB_SESSIONS}
    if options.only_role:
        with tempfile.TemporaryDirectory() as state_dir, \
                Emulator(state_dir, username=USERNAME, password=PASSWORD, **points_emulator) as points:
            print_role(bench_role_health(points, env, options.runs))
        return 0
    with tempfile.TemporaryDirectory() as state_dir, ExitStack() as stack:
        emulators = {size: stack.enter_context(Emulator(state_dir, username=USERNAME, password=PASSWORD, bulk=size - fixed))
                     for size in (50, 1000, 10_000)}
        big = emulators[10_000]
        results = {
            "round_trips": bench_round_trips(emulators, env),
            "versus_baseline": bench_versus_baseline(emulators[50], env, options.runs),
            "module_listing_process": bench_module_listing(big, env, options.runs),
            "floor_listing": bench_floor(big, env, options.runs),
            "module_listing_task": bench_listing_task(big, env, options.runs),
            "import_only": bench_import_only(env, options.runs),
            "parsing": bench_parsing(big, options.runs),
            "in_process_listing": bench_in_process(big, options.runs),
        }
        with Emulator(state_dir, username=USERNAME, password=PASSWORD, **points_emulator) as points:
            results["restore_points"] = bench_restore_points(points, env, options.runs, options.all_points_runs)
            results["role_health"] = bench_role_health(points, env, options.runs)
        results["job_sessions"] = bench_job_sessions(state_dir, env, options.runs)
    floor = results["floor_listing"]["seconds"]["median"]
    results["module_listing_task_vs_floor"] = results["module_listing_task"]["median"] / floor
    results["module_listing_process_vs_floor"] = results["module_listing_process"]["seconds"]["median"] / floor
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(json.dumps(results, indent=2) + "\n")
    print_table(results)
    return 0


def print_table(results: dict) -> None:
    versus, listing, floor, parsing, in_process = (results[key] for key in (
        "versus_baseline", "module_listing_process", "floor_listing", "parsing", "in_process_listing"))
    print("\n1. Round trips (requests / TCP connections)")
    for row in results["round_trips"]:
        print(f"   {row['call']:<34} {row['requests']:>5} / {row['connections']}")
    print("\n2. The same 50 backups: task wall time (median, min-max)")
    rows = [
        ("hand-written uri playbook (all tasks)", versus["baseline_uri_tasks"], "s", ""),
        ("lookup of 50 ids", versus["lookup_task"], "s", f"baseline / lookup = {versus['baseline_vs_lookup']['median']:.0f}x"),
        ("module listing all 50", versus["module_listing_task"], "s", f"baseline / module = {versus['baseline_vs_module_listing']['median']:.0f}x"),
        ("plain requests: logon + 50 GETs + logoff", versus["requests_floor"], "s",
         f"lookup task / requests = {versus['lookup_vs_requests_floor']['median']:.2f}x"),
        ("lookup's own work, in process", versus["lookup_work_in_process"], "s",
         f"/ requests = {versus['lookup_work_vs_requests_floor']['median']:.2f}x"),
        ("Ansible's own set_fact task (a constant)", versus["set_fact_task"], "s", "the per-task floor"),
        ("emulator round trip per GET (client-side)", versus["emulator_round_trip_per_get"], "s", ""),
    ]
    rows_4 = [
        ("uri GET with a valid session", versus["uri_get_task"], "s", ""),
        ("module, one id, with that session", versus["module_one_id_session_task"], "s", f"{versus['module_session_vs_uri_get']['median']:.2f}x the uri task"),
        ("module, one id, own logon/logoff", versus["module_one_id_logon_task"], "s", f"{versus['module_logon_vs_uri_get']['median']:.2f}x the uri task"),
    ]
    rows_3 = [
        ("normalize 10,000 (parse + normalize)", parsing["normalize_seconds"], "s", f"{parsing['normalize_vs_elementtree']['median']:.2f}x ElementTree"),
        ("ElementTree.fromstring", parsing["elementtree_seconds"], "s", f"normalize = {parsing['normalize_vs_expat']['median']:.1f}x bare expat"),
        ("bare expat pass", parsing["expat_seconds"], "s", f"XML: {parsing['xml_bytes'] / 2**20:.1f} MB"),
    ]
    rows_5 = [
        ("module listing 10,000: task time", results["module_listing_task"], "s", f"{results['module_listing_task_vs_floor']:.2f}x the floor"),
        ("module listing 10,000: module process", listing["seconds"], "s", f"{results['module_listing_process_vs_floor']:.2f}x the floor"),
        ("floor: requests + ElementTree, all pages", floor["seconds"], "s", f"{floor['requests']} requests"),
        ("module listing 10,000: peak RSS", listing["peak_rss_mb"], "MB", f"XML received: {floor['xml_bytes'] / 2**20:.1f} MB"),
        ("process importing the module's libraries", results["import_only"]["peak_rss_mb"], "MB", ""),
        ("in process: veeam_em.rest listing 10,000", in_process["ours_seconds"], "s", f"{in_process['ours_vs_floor']['median']:.2f}x the floor"),
        ("in process: requests + ElementTree", in_process["floor_seconds"], "s", ""),
        ("Ansible's result handling (no_log scrub, JSON)", in_process["ansible_result_handling_seconds"], "s", "in the module process, not ours"),
    ]
    for title, block in (("", rows), ("\n3. Parsing floor", rows_3), ("\n4. Module overhead, one id", rows_4),
                         ("\n5. Listing 10,000 backups: time and memory", rows_5)):
        if title:
            print(title)
        for name, figure, unit, note in block:
            print(f"   {name:<42} {_fmt(figure, unit):<30} {note}")
    print_restore_points(results["restore_points"], results["role_health"])
    print_job_sessions(results["job_sessions"])


def print_restore_points(points: dict, role: dict) -> None:
    every, latest = points["processes"]["all_points"], points["processes"]["latest"]
    tasks, ratios = points["tasks"], points["latest_vs_all_points"]
    print(f"\n6. {points['backups']:,} backups, {points['restore_points']:,} restore points: latest_restore_point vs restore_points"
          " (targets: bytes <= 1/10, task time <= 1/5)")
    print(f"   {'':<34} {'restore_points: true':>22} {'latest_restore_point':>22}   latest / all")
    print(f"   {'requests':<34} {every['requests']:>22,} {latest['requests']:>22,}   {ratios['requests']:.3f}")
    print(f"   {'XML received (MB)':<34} {every['xml_bytes'] / 2**20:>22.1f} {latest['xml_bytes'] / 2**20:>22.1f}   {ratios['bytes']:.3f}")
    print(f"   {'module task time (s, median)':<34} {tasks['all_points']['median']:>22.2f} {tasks['latest']['median']:>22.2f}   {ratios['task_time']:.3f}")
    print(f"   {'module process peak RSS (MB)':<34} {every['peak_rss_mb']:>22.0f} {latest['peak_rss_mb']:>22.0f}   {ratios['peak_rss']:.3f}")
    print(f"   {'module process wall time (s)':<34} {every['seconds']:>22.2f} {latest['seconds']:>22.2f}")
    print_role(role)


def print_role(role: dict) -> None:
    print(f"\n7. Role backup_report over those backups and {role['jobs']:,} jobs ({role['job_sessions']:,} sessions), max_age 26h,"
          " min_free_percent 41, all four formats, beside its data: the module task with latest_restore_point and"
          " the session module task (target: role / data tasks <= 2)")
    rows = [
        ("role: ansible-playbook wall time, 1st run", role["seconds"], "s",
         f"{role['requests']} requests; slowest task: {role['slowest_task']} ({role['slowest_task_seconds']:.1f} s)"),
        ("role: 2nd run, data unchanged (changed=0)", role["second_run_seconds"], "s",
         f"2nd / 1st = {role['second_vs_first']['median']:.2f}"),
        ("module task, latest_restore_point", role["module_task_seconds"], "s", ""),
        ("module task, as the role calls it (+expand)", role["role_data_task_seconds"], "s", "expand: [repository, backup_server]"),
        ("session module task, newest + tasks", role["session_task_seconds"], "s", "veeam_em_backup_session_info, tasks: true"),
        ("data tasks: backup + session module tasks", role["data_tasks_seconds"], "s", "summed per run"),
        ("module: ansible-playbook wall time", role["module_playbook_seconds"], "s", ""),
        ("ROLE / DATA TASKS (backups + sessions)", role["role_vs_data_tasks"], "x", "target <= 2"),
        ("role 2nd run / data tasks", role["second_vs_data_tasks"], "x", ""),
        ("role / module task (latest_restore_point)", role["role_vs_module_task"], "x", ""),
        ("role / module task as the role calls it", role["role_vs_role_data_task"], "x", ""),
        ("role / module's ansible-playbook", role["role_vs_module_playbook"], "x", ""),
        ("controller peak RSS, role (1st run)", role["peak_rss_mb"], "MB",
         f"largest process of the tree; role / module = {role['peak_rss_role_vs_module']['median']:.2f}"),
        ("controller peak RSS, role (2nd run)", role["second_run_peak_rss_mb"], "MB", ""),
        ("controller peak RSS, module's playbook", role["module_peak_rss_mb"], "MB", "latest_restore_point"),
    ]
    for name, figure, unit, note in rows:
        print(f"   {name:<42} {_fmt(figure, unit):<30} {note}")
    print("   role tasks (last run): " + ", ".join(f"{name.split(' : ')[-1]} {seconds:.1f} s"
                                                   for name, seconds in sorted(role["role_tasks"].items(), key=lambda item: -item[1])[:6]))


def print_job_sessions(sessions: dict) -> None:
    cases = sessions["cases"]
    print(f"\n8. Job sessions: {sessions['jobs']:,} jobs, {sessions['job_sessions']:,} sessions, {sessions['task_sessions']:,} task sessions;"
          " each job's newest session vs every session (module processes)")
    print(f"   {'':<34} {'newest':>14} {'newest + tasks':>16} {'every session':>15}   newest / every")
    rows = (("sessions returned", "sessions", "{:,}"), ("requests", "requests", "{:,}"), ("XML received (MB)", "xml_bytes", None))
    for name, key, form in rows:
        values = [cases[case][key] for case in ("latest", "latest_tasks", "every_session")]
        shown = [form.format(value) if form else f"{value / 2**20:.1f}" for value in values]
        ratio = f"{values[0] / values[2]:.3f}" if key != "sessions" else ""
        print(f"   {name:<34} {shown[0]:>14} {shown[1]:>16} {shown[2]:>15}   {ratio}")
    seconds = [cases[case]["seconds"]["median"] for case in ("latest", "latest_tasks", "every_session")]
    print(f"   {'module process wall time (s, median)':<34} {seconds[0]:>14.2f} {seconds[1]:>16.2f} {seconds[2]:>15.2f}   "
          f"{sessions['latest_vs_every']['seconds']:.3f}")
    rss = [cases[case]["peak_rss_mb"]["median"] for case in ("latest", "latest_tasks", "every_session")]
    print(f"   {'module process peak RSS (MB)':<34} {rss[0]:>14.0f} {rss[1]:>16.0f} {rss[2]:>15.0f}")
    print(f"   a GET per session would be {cases['every_session']['sessions']:,} requests, plus one per task list")
    print("   cost bounds of the job-session issue (requests, logon and logoff included; never a GET per session or task):")
    for bound in sessions["bounds"]:
        print(f"   {bound['call']:<52} {bound['requests']:>3} (at most {bound['limit']}; {bound['sessions']:,} sessions on EM)")


def _fmt(figure: dict, unit: str) -> str:
    return f"{figure['median']:.3f} {unit} ({figure['min']:.3f}-{figure['max']:.3f})"


if __name__ == "__main__":
    sys.exit(main())
