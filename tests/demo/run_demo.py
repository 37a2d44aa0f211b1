# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Demo of veeam_em.rest against the EM emulator: what `make demo` runs.

1. starts the emulator (tests/emulator) in the background on a free loopback port;
2. reads the connection settings it prints (one JSON line) and passes them to
   Ansible as VEEAM_EM_URL, VEEAM_EM_USERNAME, VEEAM_EM_PASSWORD and
   VEEAM_EM_CA_PATH, which the module reads when no option is given;
3. runs tests/demo/demo.yml (modules, lookups, the failed jobs), then the module as an ad-hoc command,
   then `ansible-inventory --graph` on tests/demo/demo.veeam_em.yml (the inventory plugin),
   then tests/demo/demo_report.yml (the health filters and the backup_report role), and
   prints where the report's four files are (build/demo_report/);
4. always stops the emulator, whatever happened before.

Run it with the tool-chain venv's python from the repository root, with
ANSIBLE_COLLECTIONS_PATH pointing at a directory that holds
ansible_collections/veeam_em/rest (make does all of this).
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
STATE_DIR = ROOT / 'build' / 'demo'
LOG = STATE_DIR / 'emulator.log'
REPORT_DIR = ROOT / 'build' / 'demo_report'
BACKUP_ID = 'c213fbfa-7b9e-4772-9ddc-3ecbdcc3fc70'
START_TIMEOUT = 30.0
SETTINGS = {  # emulator's JSON key -> environment variable the plugins read
    'url': 'VEEAM_EM_URL',
    'username': 'VEEAM_EM_USERNAME',
    'password': 'VEEAM_EM_PASSWORD',
    'ca_path': 'VEEAM_EM_CA_PATH',
}


def start_emulator():
    """Start the emulator in the background; its output goes to LOG."""
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    (STATE_DIR / 'emulator.json').unlink(missing_ok=True)
    cmd = [sys.executable, '-m', 'emulator', '--host', '127.0.0.1', '--port', '0',
           '--state-dir', str(STATE_DIR)]
    print('$ (cd tests && %s) &' % ' '.join(cmd), flush=True)
    # A file, not a pipe: a pipe that nobody reads would block the emulator.
    with LOG.open('wb') as log:
        return subprocess.Popen(cmd, cwd=ROOT / 'tests', stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)


def wait_for_settings(proc):
    """Return the settings dict the emulator prints as its first JSON line."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        settings = first_json_line(LOG.read_text(encoding='utf-8', errors='replace'))
        if settings:
            return settings
        if proc.poll() is not None:
            raise RuntimeError('the emulator exited with code %s before it was ready' % proc.returncode)
        time.sleep(0.1)
    raise RuntimeError('the emulator printed no settings within %.0f s' % START_TIMEOUT)


def first_json_line(text):
    """Return the first complete line of text that is a JSON object, else None."""
    for line in text.splitlines(keepends=True):
        if not line.endswith('\n'):
            break
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


def stop_emulator(proc):
    """Stop the emulator and anything it started: SIGTERM, then SIGKILL after 10 s."""
    if proc.poll() is None:
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(wait)
                break
            except subprocess.TimeoutExpired:
                continue
    print('emulator stopped (exit code %s)' % proc.returncode, flush=True)


def run(cmd, env):
    """Echo and run one command; raise if it fails."""
    print('\n$ %s' % ' '.join(cmd), flush=True)
    subprocess.run(cmd, env=env, cwd=ROOT, check=True, stdin=subprocess.DEVNULL)


def ansible_env(settings):
    """The environment for ansible: connection settings and no localhost warnings."""
    missing = [key for key in SETTINGS if not settings.get(key)]
    if missing:
        raise RuntimeError('the emulator printed no %s' % ', '.join(missing))
    env = dict(os.environ)
    env.update({var: str(settings[key]) for key, var in SETTINGS.items()})
    env.update({
        'ANSIBLE_LOCALHOST_WARNING': 'False',  # no inventory: implicit localhost is meant
        'ANSIBLE_INVENTORY_UNPARSED_WARNING': 'False',
    })
    return env


def tool(name):
    """Path of an Ansible command next to this interpreter (the venv), else from PATH."""
    here = pathlib.Path(sys.executable).parent / name
    return str(here) if here.exists() else (shutil.which(name) or name)


def main():
    if not os.environ.get('ANSIBLE_COLLECTIONS_PATH'):
        sys.exit('ANSIBLE_COLLECTIONS_PATH is not set: run this through `make demo`.')
    # A plain SIGTERM would skip the finally below and leave the emulator running.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    proc = None
    try:
        proc = start_emulator()
        settings = wait_for_settings(proc)
        print('emulator at %s (pid %s)' % (settings.get('url'), proc.pid), flush=True)
        env = ansible_env(settings)
        run([tool('ansible-playbook'), 'tests/demo/demo.yml'], env)
        run([tool('ansible'), 'localhost', '-m', 'veeam_em.rest.veeam_em_backup_info',
             '-a', 'id=%s' % BACKUP_ID], env)
        # A source that fails to parse fails the demo, instead of an empty inventory and a warning.
        run([tool('ansible-inventory'), '-i', 'tests/demo/demo.veeam_em.yml', '--graph'],
            {**env, 'ANSIBLE_INVENTORY_UNPARSED_FAILED': 'True'})
        run([tool('ansible-playbook'), 'tests/demo/demo_report.yml', '-e', 'report_dest=%s' % REPORT_DIR], env)
        print('\nThe backup report, in four formats (open the HTML in a browser):')
        for path in sorted(REPORT_DIR.iterdir()):
            print('  %s' % (path.as_uri() if path.suffix == '.html' else path))
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        print('\ndemo FAILED: %s' % exc, file=sys.stderr)
        if LOG.exists():
            print('--- %s ---\n%s' % (LOG, LOG.read_text(encoding='utf-8', errors='replace')[-4000:]),
                  file=sys.stderr)
        return 1
    finally:
        if proc is not None:
            stop_emulator(proc)
    print('\ndemo OK')
    return 0


if __name__ == '__main__':
    sys.exit(main())
