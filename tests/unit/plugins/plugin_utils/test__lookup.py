# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every lookup shares: list terms taken item by item, the collection's errors as lookup errors."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleLookupError

from ansible_collections.veeam_em.rest.plugins.module_utils._errors import InvalidInputError
from ansible_collections.veeam_em.rest.plugins.plugin_utils._lookup import flatten, lookup_errors


def test_list_terms_are_taken_item_by_item_and_nothing_else_is_split():
    assert list(flatten(["web01", ["db 01", "app01"], ("x",), "a,b"])) == ["web01", "db 01", "app01", "x", "a,b"]


def test_errors_become_lookup_errors_with_their_message_only():
    with pytest.raises(AnsibleLookupError) as caught, lookup_errors():
        raise InvalidInputError("Invalid VM name '': expected ...")
    assert str(caught.value) == "Invalid VM name '': expected ..."
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_other_errors_pass_through():
    with pytest.raises(KeyError), lookup_errors():
        raise KeyError("not ours")
