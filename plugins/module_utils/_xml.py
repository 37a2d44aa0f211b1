# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading EM's XML documents safely.

Private to veeam_em.rest: not a public API, may change without notice.

EM bodies are parsed with xmltodict on expat. EM puts everything in one
default namespace (``http://www.veeam.com/ent/v1.0``) without prefixes, so
element names come out plain (``Backup``, ``Link``) without namespace
processing, which would cost a quarter of the parse time of a large page.
Entity declarations are refused by xmltodict; document type declarations are
refused here too, since EM never sends one and a DTD is how entity-expansion
and external-entity attacks arrive.
"""

from __future__ import annotations

import traceback
from typing import Any, Optional
from xml.parsers import expat

from ansible_collections.veeam_em.rest.plugins.module_utils._errors import MalformedXMLError

try:
    import xmltodict
except ImportError:
    XMLTODICT_IMPORT_ERROR: Optional[str] = traceback.format_exc()
else:
    XMLTODICT_IMPORT_ERROR = None

#: Elements that EM repeats: always lists, even when one is present.
_REPEATED_ELEMENTS = frozenset({"Link", "Ref", "Backup", "Repository", "BackupServer", "RestorePoint", "VmRestorePoint", "LogonSession",
                                "Job", "BackupJobSession", "BackupTaskSession"})


class _ExpatWithoutDTD:
    """The expat module as xmltodict uses it, with DOCTYPE declarations refused."""

    @staticmethod
    def ParserCreate(*args: Any, **kwargs: Any) -> Any:  # noqa: N802 - expat's own name
        parser = expat.ParserCreate(*args, **kwargs)
        parser.StartDoctypeDeclHandler = _refuse_doctype
        return parser


def _refuse_doctype(*_args: Any) -> None:
    raise MalformedXMLError("a document type declaration (DTD) is not allowed in an EM response")


def parse_document(body: bytes) -> tuple[str, dict[str, Any]]:
    """Parse one EM document into its root element name and content.

    Attributes keep xmltodict's ``@`` prefix; text content of elements that
    also carry attributes is under ``#text``. Raises ``MalformedXMLError``.
    """
    if not body or not body.strip():
        raise MalformedXMLError("the body is empty")
    try:
        document = xmltodict.parse(body, expat=_ExpatWithoutDTD, force_list=_REPEATED_ELEMENTS, disable_entities=True)
    except MalformedXMLError:
        raise
    except (expat.ExpatError, ValueError) as exc:
        raise MalformedXMLError(str(exc)) from None
    if not isinstance(document, dict) or len(document) != 1:
        raise MalformedXMLError("the body holds no XML element")
    root, content = next(iter(document.items()))
    if isinstance(content, list):  # a root named like a repeated element (<Backup>) is forced into a list too
        content = content[0]
    return root.rpartition(":")[2], content if isinstance(content, dict) else {}


def error_message(body: bytes) -> Optional[str]:
    """Return the ``Message`` of an EM ``<Error>`` body, or None for any other body."""
    try:
        root, content = parse_document(body)
    except MalformedXMLError:
        return None
    if root != "Error":
        return None
    return content.get("@Message") or content.get("FirstChanceExceptionMessage") or None
