"""Block Kit action, block and callback ids: one place, shared by the renderers (bot/) and listeners (handlers/).

Button values are JSON objects (at most 2000 characters), e.g. {"kind": "address", "value": "a@b.example"}.
"""

from __future__ import annotations

PREFIX = "bouncebot"

# Buttons on a diagnosis
ACTION_APPROVE_SENDER = f"{PREFIX}.approve_sender"
ACTION_OPEN_CASE = f"{PREFIX}.open_case"
ACTION_RECHECK_BLACKLISTS = f"{PREFIX}.recheck_blacklists"
ACTION_SHOW_EVENTS = f"{PREFIX}.show_events"

# Buttons on a case message
ACTION_CLOSE_CASE = f"{PREFIX}.close_case"
ACTION_REOPEN_CASE = f"{PREFIX}.reopen_case"

# Buttons in App Home and /bounce approved
ACTION_REMOVE_APPROVAL = f"{PREFIX}.remove_approval"

# Digest: "Why?" next to each top sender
ACTION_DIGEST_WHY = f"{PREFIX}.digest_why"

# Modals (callback ids) and their inputs (block id / action id pairs)
VIEW_APPROVE_SENDER = f"{PREFIX}.view.approve_sender"
VIEW_OPEN_CASE = f"{PREFIX}.view.open_case"

BLOCK_DIAGNOSIS_ACTIONS = f"{PREFIX}.diagnosis_actions"
