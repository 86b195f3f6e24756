"""bouncebot: answers "why did mail from X bounce?" from gateway logs and live block-list checks."""

__version__ = "0.1.0"
