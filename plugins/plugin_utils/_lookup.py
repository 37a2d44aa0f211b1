# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every lookup of the collection does around its own work.

Private to veeam_em.rest: not a public API, may change without notice.

Options come through ``set_options``/``get_option`` (keywords, then variables, then the
environment, as the ``veeam_em.rest.connection.plugins`` doc fragment declares them); a
keyword that is no option is refused before any request; the connection options go
through the same ``connection_settings`` as a module's; the collection's errors become
``AnsibleLookupError`` with their message, and the client's warnings are shown once
the session is over, also after a failure or a signal that ends the process.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Any, Iterable, Iterator, Optional

from ansible.errors import AnsibleLookupError
from ansible.module_utils.basic import missing_required_lib
from ansible.plugins.lookup import LookupBase
from ansible.utils.display import Display

from ansible_collections.veeam_em.rest.plugins.module_utils._client import EMClient, missing_libraries
from ansible_collections.veeam_em.rest.plugins.module_utils._connection_options import (
    CONNECTION_ARGUMENT_SPEC,
    connection_settings,
)
from ansible_collections.veeam_em.rest.plugins.module_utils._errors import VeeamEMError
from ansible_collections.veeam_em.rest.plugins.module_utils._signals import logged_off_on_signals

display = Display()


class EMLookupBase(LookupBase):
    """Base of the collection's lookups; ``LOOKUP_NAME`` names the lookup in messages."""

    LOOKUP_NAME = ""

    def set_em_options(self, variables: Optional[dict[str, Any]], keywords: dict[str, Any]) -> None:
        """Refuse unknown keywords, then read the options; fail when a required library is missing."""
        self._refuse_unknown_options(keywords)
        self.set_options(var_options=variables, direct=keywords)
        for library, _error in missing_libraries():
            raise AnsibleLookupError(missing_required_lib(library))

    @contextmanager
    def em_session(self) -> Iterator[EMClient]:
        """A client logged on to EM (or on the given session) for the body; logged off after it, also on failure.

        Also on Ctrl-C: the worker process that runs a lookup is ended by a signal
        (see ``logged_off_on_signals``), which logs off first.
        """
        options = {name: self.get_option(name) for name in CONNECTION_ARGUMENT_SPEC}
        # A str option expanded here: as a path, an empty VEEAM_EM_CA_PATH would become the current directory.
        options["ca_path"] = os.path.expanduser(options["ca_path"]) if options["ca_path"] else None
        client = EMClient(connection_settings(options))
        try:
            with logged_off_on_signals(client):
                yield client
        finally:
            for warning in client.warnings:
                display.warning(warning)

    def _refuse_unknown_options(self, keywords: dict[str, Any]) -> None:
        """Fail on a keyword that is no option, before any request.

        Ansible passes such keywords through silently: a typo (``restore_point=true``)
        would otherwise return other data than asked for.
        """
        known = sorted(name for name in self.option_definitions if not name.startswith("_"))
        unknown = [name for name in keywords if name not in known]
        if unknown:
            raise AnsibleLookupError(
                f"Unknown option{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} for the "
                f"{self.LOOKUP_NAME} lookup; its options are: {', '.join(known)}."
            )


@contextmanager
def lookup_errors() -> Iterator[None]:
    """The collection's errors as lookup errors, with their message and without a traceback."""
    try:
        yield
    except VeeamEMError as error:
        raise AnsibleLookupError(str(error)) from None


def flatten(terms: Iterable[Any]) -> Iterator[Any]:
    """Terms as given, with a list term (``query(..., ids)``) taken item by item."""
    for term in terms:
        if isinstance(term, (list, tuple)):
            yield from term
        else:
            yield term
