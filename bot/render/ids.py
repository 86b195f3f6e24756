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

# Inputs of the approve-sender modal
BLOCK_APPROVE_SCOPE = f"{PREFIX}.approve.scope"
ACTION_APPROVE_SCOPE = f"{PREFIX}.approve.scope_input"
BLOCK_APPROVE_REASON = f"{PREFIX}.approve.reason"
ACTION_APPROVE_REASON = f"{PREFIX}.approve.reason_input"
BLOCK_APPROVE_EXPIRY = f"{PREFIX}.approve.expiry"
ACTION_APPROVE_EXPIRY = f"{PREFIX}.approve.expiry_input"

# Inputs of the open-case modal
BLOCK_CASE_TITLE = f"{PREFIX}.case.title"
ACTION_CASE_TITLE = f"{PREFIX}.case.title_input"
BLOCK_CASE_DESCRIPTION = f"{PREFIX}.case.description"
ACTION_CASE_DESCRIPTION = f"{PREFIX}.case.description_input"

# Blocks the Slack app adds to messages it updates
BLOCK_APPROVAL_NOTICE = f"{PREFIX}.approval_notice"
BLOCK_CASE_ACTIONS = f"{PREFIX}.case_actions"
