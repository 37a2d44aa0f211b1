# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Release checks on the artifact users get: the tarball `ansible-galaxy collection build` makes
from the work tree, installed the way users install it.

- no development files in the tarball (galaxy.yml's build_ignore);
- ansible-doc works from the installed collection;
- ansible-builder finds the collection's Python requirements (meta/execution-environment.yml);
- antsibull-docs lints the plugin docs and the docs site (docs/docsite/) clean;
- the troubleshooting guide quotes messages the code really produces;
- galaxy-importer (when installed) imports the tarball without an error or a warning.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from conftest import BIN_DIR, COLLECTIONS_PATH, TESTS_DIR

REPO = TESTS_DIR.parent
#: The collection under test, as `make collection` copies it (it has galaxy.yml: antsibull-docs needs that).
COLLECTION_COPY = Path(COLLECTIONS_PATH) / "ansible_collections" / "veeam_em" / "rest"
#: The one lint error that antsibull-docs' own temporary directory name can cause (see the lint test).
ANTSIBULL_TEMP_DIR_AS_REFERENCE = re.compile(r'\(ERROR/3\) Unknown target name: "antsibull-docs-[0-9a-z_]+"\.$')
GALAXY = yaml.safe_load((REPO / "galaxy.yml").read_text(encoding="utf-8"))
TARBALL_NAME = f"{GALAXY['namespace']}-{GALAXY['name']}-{GALAXY['version']}.tar.gz"

#: Development files that must stay out of the tarball, as fnmatch patterns on its member names.
DEV_FILES = [
    ".venv", ".venv*/*", ".ci", ".ci/*", "build", "build/*", "tests/output", "tests/output/*", "Makefile",
    "requirements-dev*.txt", "mk", "mk/*", "bench", "bench/*", ".pytest_cache*", ".ansible", ".ansible/*", ".git", ".git/*",
    "*__pycache__*", "*.py[cod]", "*.tar.gz", "tests/integration/inventory", "changelogs/.plugin-cache.yaml",
]
#: What users and tools need from the tarball.
SHIPPED = [
    "README.md", "LICENSE", "requirements.txt", "meta/runtime.yml", "meta/execution-environment.yml",
    "changelogs/changelog.yaml", "plugins/modules/veeam_em_backup_info.py", "plugins/lookup/veeam_em_backup.py",
    "plugins/inventory/veeam_em.py", "extensions/awx/credential_type_veeam_em.yml", "docs/docsite/extra-docs.yml", "docs/docsite/links.yml",
    "docs/docsite/rst/guide_connection.rst", "docs/docsite/rst/guide_awx.rst", "docs/docsite/rst/guide_backup_health.rst",
    "docs/docsite/rst/guide_troubleshooting.rst", "plugins/module_utils/_restore_points.py", "plugins/module_utils/_inventory.py",
    "plugins/modules/veeam_em_vm_restore_point_info.py", "plugins/lookup/veeam_em_vm_restore_point.py",
    "plugins/module_utils/_vm_restore_points.py", "plugins/plugin_utils/_lookup.py", "docs/docsite/rst/guide_protection_gate.rst",
    "plugins/modules/veeam_em_backup_session_info.py", "plugins/lookup/veeam_em_backup_session.py", "plugins/filter/failed_jobs.py",
    "plugins/module_utils/_sessions.py", "plugins/module_utils/_job_health.py",
]

#: The run-time requirements as requirements.txt states them (tested floors).
RUNTIME_REQUIREMENTS = ("requests>=2.25.1", "urllib3>=1.26,<3", "xmltodict>=0.13")


def tool_env(home: Path, collections_path: Path | str) -> dict[str, str]:
    """Environment of the tools: the venv's bin first, no VEEAM_EM_* or ANSIBLE_* leaking in."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("VEEAM_EM_", "ANSIBLE_"))}
    env.update(PATH=f"{BIN_DIR}{os.pathsep}{env.get('PATH', '')}", ANSIBLE_HOME=str(home / "ansible-home"),
               ANSIBLE_LOCAL_TEMP=str(home / "ansible-tmp"), ANSIBLE_COLLECTIONS_PATH=str(collections_path), ANSIBLE_NOCOLOR="True")
    return env


def run(command: list[str], env: dict[str, str], cwd: Path | None = None, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    """The tarball built from the work tree, and the collections dir it is installed into."""
    base = tmp_path_factory.mktemp("release")
    env = tool_env(base, base / "collections")
    built = run([str(BIN_DIR / "ansible-galaxy"), "collection", "build", "--output-path", str(base / "dist"), str(REPO)], env)
    assert built.returncode == 0, built.stdout + built.stderr
    tarball = base / "dist" / TARBALL_NAME
    installed = run([str(BIN_DIR / "ansible-galaxy"), "collection", "install", "--offline", str(tarball), "-p", str(base / "collections")], env)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    collection = base / "collections" / "ansible_collections" / GALAXY["namespace"] / GALAXY["name"]
    assert (collection / "MANIFEST.json").is_file()
    return {"base": base, "tarball": tarball, "collections": base / "collections", "collection": collection, "env": env}


def test_tarball_has_what_users_need_and_no_development_files(release):
    with tarfile.open(release["tarball"]) as tar:
        names = [name.removeprefix("./").rstrip("/") for name in tar.getnames()]
    dev_files = sorted(name for name in names if any(fnmatch.fnmatch(name, pattern) for pattern in DEV_FILES))
    top_level = sorted({name.split("/")[0] for name in dev_files})
    assert not dev_files, f"development files in {TARBALL_NAME}: {dev_files}; add to galaxy.yml build_ignore: {top_level}"
    assert not [path for path in SHIPPED if path not in names], names


def test_ansible_doc_works_from_the_installed_collection(release):
    for plugin_type, name in (("module", "veeam_em.rest.veeam_em_backup_info"), ("lookup", "veeam_em.rest.veeam_em_backup"),
                              ("inventory", "veeam_em.rest.veeam_em")):
        process = run([str(BIN_DIR / "ansible-doc"), "-t", plugin_type, "--json", name], release["env"])
        assert process.returncode == 0, process.stderr
        assert "[WARNING]" not in process.stderr and "[ERROR]" not in process.stderr, process.stderr
        doc = json.loads(process.stdout)[name]["doc"]
        assert doc["filename"].startswith(str(release["collection"])), doc["filename"]
        assert {"url", "username", "password", "ca_path"} <= set(doc["options"])


def test_execution_environment_builds_get_the_python_requirements(release):
    """What ansible-builder (and galaxy-importer) read from an installed collection: meta/execution-environment.yml,
    whose dependency file is relative to the collection root."""
    collection = release["collection"]
    ee = yaml.safe_load((collection / "meta" / "execution-environment.yml").read_text(encoding="utf-8"))
    assert ee["version"] == 3
    assert ee["dependencies"] == {"python": "requirements.txt"}, "ansible-builder's introspection takes a file name here, not a list"
    requirements = [line.split("#")[0].strip() for line in (collection / "requirements.txt").read_text().splitlines()]
    assert set(RUNTIME_REQUIREMENTS) <= set(requirements)

    # 1. The introspection an EE build runs on its collections (`ansible-builder introspect`).
    pip_file = release["base"] / "introspected-requirements.txt"
    process = run([str(BIN_DIR / "ansible-builder"), "introspect", "--sanitize", "--write-pip", str(pip_file), str(release["collections"])], release["env"])
    assert process.returncode == 0, process.stdout + process.stderr
    found = yaml.safe_load(process.stdout.split("---", 1)[1])
    assert {f"{requirement}  # from collection veeam_em.rest" for requirement in RUNTIME_REQUIREMENTS} <= set(found["python"])

    # 2. `ansible-builder create` from the file, placed at the collection root that its paths are relative to.
    root = release["base"] / "ee-root"
    root.mkdir()
    shutil.copy(collection / "meta" / "execution-environment.yml", root)
    shutil.copy(collection / "requirements.txt", root)
    context = release["base"] / "ee-context"
    process = run([str(BIN_DIR / "ansible-builder"), "create", "-f", str(root / "execution-environment.yml"), "-c", str(context),
                   "--output-filename", "Containerfile"], release["env"])
    assert process.returncode == 0, process.stdout + process.stderr
    context_requirements = (context / "_build" / "requirements.txt").read_text()
    assert all(requirement in context_requirements for requirement in RUNTIME_REQUIREMENTS), context_requirements
    assert "requirements.txt" in (context / "Containerfile").read_text()


def test_antsibull_docs_lint_is_clean(release):
    """Plugin docs and the docs site, references to every collection included (ansible.builtin too)."""
    command = [str(BIN_DIR / "antsibull-docs"), "lint-collection-docs", "--plugin-docs", "--check-extra-docs-refs",
               "--validate-collection-refs", "all", "--disallow-unknown-collection-refs", "."]
    process = run(command, tool_env(release["base"], COLLECTIONS_PATH), cwd=COLLECTION_COPY)
    if process.returncode and all(ANTSIBULL_TEMP_DIR_AS_REFERENCE.search(line) for line in process.stdout.splitlines()):
        # antsibull-docs copies the collection to a mkdtemp() directory "antsibull-docs-XXXXXXXX" and writes
        # its path into each plugin's RST; when the random part ends in "_", docutils reads the name as a
        # reference (about one run in 37). Not a fault of our docs: a new directory name settles it.
        process = run(command, tool_env(release["base"], COLLECTIONS_PATH), cwd=COLLECTION_COPY)
    assert process.returncode == 0 and not process.stdout.strip(), process.stdout + process.stderr


def test_troubleshooting_guide_quotes_messages_the_code_produces():
    """Each entry's title is the fixed part of a message: it must still be in the code that makes it."""
    import ansible.module_utils.basic
    import ansible.module_utils.common.validation

    sources = [*sorted((REPO / "plugins").rglob("*.py")),
               Path(ansible.module_utils.basic.__file__), Path(ansible.module_utils.common.validation.__file__)]
    code = "\n".join(path.read_text(encoding="utf-8") for path in sources)
    lines = (REPO / "docs" / "docsite" / "rst" / "guide_troubleshooting.rst").read_text(encoding="utf-8").splitlines()
    titles = [title for title, underline in zip(lines, lines[1:]) if re.fullmatch(r"~{3,}", underline)]
    quoted = [match.group(1) for title in titles for match in [re.fullmatch(r"``(.+)``", title)] if match]
    assert len(quoted) == len(titles) >= 15, titles
    assert not [message for message in quoted if message not in code]


def test_galaxy_importer_imports_the_tarball_cleanly(release):
    """galaxy-importer exits 0 even when it cannot read a plugin's docs: its log and result are checked instead."""
    workdir = release["base"] / "galaxy-importer"
    workdir.mkdir()
    env = {**release["env"], "GALAXY_IMPORTER_ANSIBLE_LOCAL_TMP": str(workdir / "ansible-tmp"), "GALAXY_IMPORTER_TMP_ROOT_DIR": str(workdir)}
    process = run([sys.executable, "-m", "galaxy_importer.main", str(release["tarball"])], env, cwd=workdir, timeout=300)
    log = process.stdout + process.stderr
    assert process.returncode == 0, log
    assert "Importer processing completed successfully" in log, log
    assert not [line for line in log.splitlines() if line.startswith(("ERROR", "WARNING", "Traceback"))], log
    result = json.loads((workdir / "importer_result.json").read_text())
    contents = result["docs_blob"]["contents"]
    # An action plugin has no docs of its own: they are its module's, which must have them.
    plugins = [item for item in contents if item["content_type"] not in ("doc_fragments", "module_utils", "role", "action")]
    actions = {item["content_name"] for item in contents if item["content_type"] == "action"}
    assert actions and actions <= {item["content_name"] for item in plugins if item["content_type"] == "module"}
    shipped = {("module", "veeam_em_backup_info"), ("lookup", "veeam_em_backup"), ("inventory", "veeam_em"), ("module", "backup_report"),
               ("module", "veeam_em_vm_restore_point_info"), ("lookup", "veeam_em_vm_restore_point"), ("filter", "stale_backups")}
    assert {(item["content_type"], item["content_name"]) for item in plugins} >= shipped
    assert not [item["content_name"] for item in plugins if not item.get("doc_strings")], "plugins whose docs galaxy-importer could not read"
    assert result["requires_ansible"] == yaml.safe_load((REPO / "meta" / "runtime.yml").read_text())["requires_ansible"]
