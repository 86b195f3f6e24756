"""Live authentication and DNS-health checks of a sending domain and IP: SPF, DMARC, DKIM, PTR/FCrDNS, MX.

One module per check; `runner.AuthChecker` runs them concurrently on the configured resolver (the one the
block lists use), each within its own time limit, and caches the results briefly. Unknown (timeout,
SERVFAIL) is never reported as a failure. Library choices: docs/authentication.md.
"""

from bot.auth.report import AuthReport, AuthRequest
from bot.auth.runner import AuthChecker, auth_checker_for

__all__ = ["AuthChecker", "AuthReport", "AuthRequest", "auth_checker_for"]
