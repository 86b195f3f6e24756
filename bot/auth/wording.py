"""When a refusal is about authentication or reverse DNS: by its reason, or by what the remote's reply says.

Shared by the store diagnosis (bot.diagnosis.authentication) and the explained bounce (bot.bounce_auth).
"""

from __future__ import annotations

import re

AUTH_REASONS = frozenset({"authfailure", "requireptr"})

#: What a reply says when it refuses for authentication or reverse DNS. Sources: Gmail's 5.7.26/5.7.25
#: ("Unauthenticated email", "DMARC policy", "PTR record"), Microsoft's 5.7.515 ("does not meet the required
#: authentication level"), Yahoo's "not authenticated", Postfix's reject_unknown_client_hostname ("cannot find
#: your hostname"), RFC 7372's enhanced codes 5.7.20-5.7.27.
AUTH_WORDING = re.compile(
    r"\b(?:spf|dkim|dmarc|unauthenticated|not authenticated|authentication (?:fail\w*|level|required|check\w*)"
    r"|sender policy framework|domainkeys|reverse dns|reverse lookup|rdns|ptr record|fcrdns"
    r"|cannot find your (?:reverse )?hostname|[45]\.7\.2[0-7]|5\.7\.515)\b", re.IGNORECASE)


def names_authentication(reason: str | None, texts: list[str] | tuple[str, ...]) -> bool:
    """An authentication refusal: its reason is authfailure/requireptr, or a reply text names such a failure."""
    if reason in AUTH_REASONS:
        return True
    return any(AUTH_WORDING.search(text or "") for text in texts)
