# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Results of the collection's filters as data that Ansible never templates again.

Private to veeam_em.rest: not a public API, may change without notice.

The filters build new strings from EM's text (``backup 'NAME' (ID): ...``). ansible-core
2.19 and later template only trusted strings, so those stay literal as they are. 2.16 to
2.18 template any plain ``str`` that holds ``{{``: there the result is wrapped as unsafe,
as Ansible wraps a module's result, so that a backup named ``{{ lookup('pipe', 'id') }}``
stays a name. (2.16 also marks a whole template's result unsafe when it read unsafe data,
such as a registered module result; the wrapping here does not depend on how the input
was marked.)
"""

from __future__ import annotations

try:  # ansible-core 2.19+: only strings marked trusted are templated.
    from ansible.template import trust_as_template  # noqa: F401  pylint: disable=unused-import
except ImportError:  # 2.16-2.18
    from ansible.utils.unsafe_proxy import wrap_var

    def as_data(value):
        """Wrapped as unsafe: never templated again."""
        return wrap_var(value)
else:
    def as_data(value):
        """Untrusted already: returned as it is."""
        return value
