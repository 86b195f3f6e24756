"""Answer "why did mail from X bounce?": findings, a verdict, evidence and next steps (see service.diagnose)."""

from bot.diagnosis.live import Checker
from bot.diagnosis.model import Contact, Diagnosis, Evidence, Finding, Verdict
from bot.diagnosis.service import diagnose

__all__ = ["Checker", "Contact", "Diagnosis", "Evidence", "Finding", "Verdict", "diagnose"]
