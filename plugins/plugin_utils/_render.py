# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backup_report role's four formats, laid out by its templates from plain report data.

Private to veeam_em.rest: not a public API, may change without notice.

The templates (roles/backup_report/templates/report.*.j2) are rendered here by a sandboxed
Jinja environment of their own, over the plain dicts ``_report.build_report`` returns, not by
Ansible's templating: that costs several seconds per format over 10,000 backups (every value
is looked up through Ansible's variable machinery), and a plain environment never templates
a value again, on any ansible-core. The settings are those of Ansible's template module
(trim_blocks, "\\n" line ends, the final line break kept).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ansible_collections.veeam_em.rest.plugins.module_utils._report import markdown_text, xml_text

#: The role's templates, in the same collection as this file.
TEMPLATES = Path(__file__).resolve().parents[2] / "roles" / "backup_report" / "templates"
TEMPLATE_NAMES = {"json": "report.json.j2", "markdown": "report.md.j2", "html": "report.html.j2", "junit": "report.xml.j2"}


def to_nice_json(value) -> str:
    """As Ansible's ``to_nice_json``: sorted keys, indented, non-ASCII kept."""
    return json.dumps(value, indent=2, sort_keys=True, separators=(",", ": "), ensure_ascii=False)


def group_by(items, attribute: str) -> dict:
    """``{value: [items with that value of attribute]}``: a lookup a template builds once instead of
    filtering every item's list again for each row (10,000 jobs made that quadratic: over a minute)."""
    groups: dict = {}
    for item in items:
        groups.setdefault(item.get(attribute), []).append(item)
    return groups


@lru_cache(maxsize=1)
def environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(loader=FileSystemLoader(str(TEMPLATES)), trim_blocks=True, keep_trailing_newline=True,
                                        undefined=StrictUndefined, autoescape=False)
    env.filters.update(markdown_text=markdown_text, xml_text=xml_text, group_by=group_by, to_nice_json=to_nice_json)
    return env


def render(report: dict, report_format: str) -> str:
    """The report in one format (json, markdown, html, junit)."""
    return environment().get_template(TEMPLATE_NAMES[report_format]).render(report=report)
