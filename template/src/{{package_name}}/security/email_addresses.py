"""E-mail addresses: the one form in which they are stored, looked up and compared.

Every way in that takes an address (the JSON bodies of `api/schemas.py`, the login
form, the `create-admin` command) and every service that looks one up passes it
through `normalize_email`, so an address typed differently at registration and at
login (`Kim@EXAMPLE.com` with a full-width `EXAMPLE`, `kim@example.com`) names the
same account:

1. surrounding white space is dropped;
2. Unicode NFKC folds compatibility forms (full-width letters, ligatures) into
   their plain equivalents, as NIST SP 800-63B asks for passwords;
3. `email-validator` checks the syntax (no DNS lookup) and normalises the domain
   (IDNA); an address longer than 254 characters (RFC 5321, section 4.5.3.1.3)
   is refused before anything else looks at it, so no database key can grow
   unbounded;
4. the result is lower-cased (local part included: mailboxes that differ only in
   case are one account here).
"""

import unicodedata

from email_validator import EmailNotValidError, validate_email

# RFC 5321: a path is at most 256 octets, including the two angle brackets.
MAX_EMAIL_LENGTH = 254


class InvalidEmailAddress(ValueError):
    """The text is not an e-mail address this service accepts; the message says why."""


def normalize_email(address: str) -> str:
    """The canonical form of `address`, or `InvalidEmailAddress`.

    Idempotent: the canonical form of a canonical address is itself.
    """
    text = unicodedata.normalize("NFKC", address.strip())
    if len(text) > MAX_EMAIL_LENGTH:
        raise InvalidEmailAddress(f"An e-mail address has at most {MAX_EMAIL_LENGTH} characters.")
    try:
        validated = validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidEmailAddress(str(exc)) from None
    return unicodedata.normalize("NFKC", validated.lower())
