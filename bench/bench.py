# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make bench`: what listing backups costs, side by side with the floor, in one run.

Against the EM emulator over HTTPS on loopback (bulk data set), it measures:

- the module process listing every backup (wall time, HTTP requests, TCP
  connections, peak RSS), run as Ansible runs it on localhost, from its
  arguments file, so the process measured is the module's alone;
- the floor: the same pages fetched with plain ``requests`` and parsed with
  ``xml.etree.ElementTree.fromstring``, in a process of its own;
- a process that only imports the module's libraries (the memory floor);
- normalizing the pages' XML in process, against ``ElementTree.fromstring``
  and a bare expat pass over the same bytes.

Every figure is the median of several runs, with min and max; ratios are taken
between figures of the same run. Results go to bench/results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from xml.etree import ElementTree
from xml.parsers import expat

ROOT = Path(__file__).resolve().parents[1]
COLLECTIONS = Path(os.environ.get("ANSIBLE_COLLECTIONS_PATH", ROOT / "build" / "collections"))
sys.path[:0] = [str(ROOT / "tests"), str(COLLECTIONS)]

from emulator import Emulator  # noqa: E402

from ansible_collections.veeam_em.rest.plugins.module_utils import _backups  # noqa: E402
from ansible_collections.veeam_em.rest.plugins.module_utils._normalize import normalize_backup, query_entities  # noqa: E402
from ansible_collections.veeam_em.rest.plugins.module_utils._xml import parse_document  # noqa: E402

MODULE = COLLECTIONS / "ansible_collections/veeam_em/rest/plugins/modules/veeam_em_backup_info.py"
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backups", type=int, default=10_000, help="bulk backups in the emulator (default 10000)")
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (default 5)")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results.json")
    options = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(COLLECTIONS), os.environ.get("PYTHONPATH", "")])}
    with tempfile.TemporaryDirectory() as state_dir, Emulator(state_dir, username=USERNAME, password=PASSWORD, bulk=options.backups) as em:
        results = {
            "backups": len(em.data.backups),
            "page_size": _backups.PAGE_SIZE,
            "module_listing": bench_module_listing(em, env, options.runs),
            "floor_listing": bench_floor(em, env, options.runs),
            "import_only": bench_import_only(env, options.runs),
            "parsing": bench_parsing(em, options.runs),
        }
    module, floor = results["module_listing"], results["floor_listing"]
    results["module_vs_floor_seconds"] = module["seconds"]["median"] / floor["seconds"]["median"]
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(json.dumps(results, indent=2) + "\n")
    print_table(results)
    return 0


def print_table(results: dict) -> None:
    module, floor, parsing = results["module_listing"], results["floor_listing"], results["parsing"]
    rows = [
        ("backups listed", f"{results['backups']}", f"page size {results['page_size']}"),
        ("module: wall time", _fmt(module["seconds"], "s"), f"{results['module_vs_floor_seconds']:.2f}x the floor"),
        ("floor (requests + ElementTree)", _fmt(floor["seconds"], "s"), ""),
        ("module: requests / connections", f"{module['requests']} / {module['connections']}", f"floor: {floor['requests']} requests"),
        ("module: peak RSS", _fmt(module["peak_rss_mb"], "MB"), f"XML received: {floor['xml_bytes'] / 2**20:.1f} MB"),
        ("imports only: peak RSS", _fmt(results["import_only"]["peak_rss_mb"], "MB"), ""),
        ("normalize all, in process", _fmt(parsing["normalize_seconds"], "s"), f"{parsing['normalize_vs_elementtree']['median']:.1f}x ElementTree"),
        ("ElementTree.fromstring", _fmt(parsing["elementtree_seconds"], "s"), f"{parsing['normalize_vs_expat']['median']:.1f}x bare expat (normalize)"),
        ("bare expat pass", _fmt(parsing["expat_seconds"], "s"), ""),
    ]
    width = max(len(row[0]) for row in rows)
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:<28}  {note}")


def _fmt(figure: dict, unit: str) -> str:
    return f"{figure['median']:.3f} {unit} ({figure['min']:.3f}-{figure['max']:.3f})"


if __name__ == "__main__":
    sys.exit(main())
