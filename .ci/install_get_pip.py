"""Put an offline get-pip stand-in where ansible-test looks for its cache.

ansible-test bootstraps pip into every venv it creates by downloading a
get-pip script from a host these machines cannot reach.  Before downloading it
looks for ~/.ansible/test/cache/get_pip_<ver>.py, <ver> being the pip version
it pins (dots as underscores).  We read that version from the installed
ansible_test and write a stand-in that installs pip from the wheel bundled with
the running Python's ensurepip.

Run it with the tool-chain venv's python: `python .ci/install_get_pip.py`.
"""

import os
import pathlib
import re
import sys

import ansible_test

STUB = '''\
"""Offline stand-in for get-pip.py, written by veeam_em.rest's .ci/install_get_pip.py."""
import ensurepip, glob, os, sys
wheel = sorted(glob.glob(os.path.join(os.path.dirname(ensurepip.__file__), "_bundled", "pip-*.whl")))[-1]
sys.path.insert(0, wheel)
from pip._internal.cli.main import main
sys.exit(main(["install"] + [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]))
'''


def pinned_pip_versions():
    """Return the pip versions ansible-test pins, e.g. ['25.2'].

    Older ansible-test releases pin other versions for old Pythons too; a
    stand-in for each costs nothing.
    """
    source = pathlib.Path(ansible_test.__file__).parent / '_internal' / 'python_requirements.py'
    versions = re.findall(r"""\bpip\s*=\s*['"]([0-9][0-9.]*)['"]""", source.read_text(encoding='utf-8'))
    if not versions:
        sys.exit(f'install_get_pip: no pinned pip version found in {source}')
    return sorted(set(versions))


def main():
    cache = pathlib.Path(os.path.expanduser('~/.ansible/test/cache'))
    cache.mkdir(parents=True, exist_ok=True)
    for version in pinned_pip_versions():
        target = cache / f"get_pip_{version.replace('.', '_')}.py"
        if target.is_file() and target.read_text(encoding='utf-8') == STUB:
            continue
        target.write_text(STUB, encoding='utf-8')
        print(f'install_get_pip: wrote offline stand-in {target}')


if __name__ == '__main__':
    main()
