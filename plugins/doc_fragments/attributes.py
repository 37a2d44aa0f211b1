# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """Attributes shared by the collection's modules."""

    # Read-only modules: they change nothing, so check mode runs them fully.
    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    support: full
    details: The module only reads from EM, so it runs normally in check mode.
  diff_mode:
    support: N/A
    details: The module changes nothing.
"""

    # Modules of the action group, so module_defaults can set the connection once.
    ACTIONGROUP_VEEAM_EM = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/veeam_em.rest.veeam_em) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - veeam_em.rest.veeam_em
"""
