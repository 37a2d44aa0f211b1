# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Typed errors of the collection.

Private to veeam_em.rest: not a public API, may change without notice.

Every error carries a complete, user-facing message: plugins show ``str(error)``
as it is (``fail_json(msg=...)``, ``AnsibleLookupError``). Messages name what
went wrong and how to fix it, and never contain a password, an Authorization
header or a session token.
"""

from __future__ import annotations


class VeeamEMError(Exception):
    """Base of every error the collection raises on purpose."""


class InvalidInputError(VeeamEMError):
    """An option or id is not usable; raised before any request is sent."""


class CommunicationError(VeeamEMError):
    """EM could not be reached: refused, unresolvable, reset, timed out."""


class CertificateError(CommunicationError):
    """EM's TLS certificate could not be verified."""


class RedirectError(CommunicationError):
    """EM's address answered with a redirect, which is never followed (it would carry the session away)."""


class AuthenticationError(VeeamEMError):
    """EM refused the credentials or the session (HTTP 401)."""


class UnreadableResponseError(VeeamEMError):
    """EM answered, but not with a document this collection can read."""


class APIError(VeeamEMError):
    """EM answered with an HTTP error status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class NotFoundError(APIError):
    """EM answered 404: the resource does not exist."""


class MalformedXMLError(ValueError):
    """A body is not well-formed, or uses XML features EM never sends (DTDs).

    Raised by the XML layer without request context; the client turns it into
    an ``UnreadableResponseError`` that names the status and URL.
    """
