"""The Slack surface: listeners per surface (commands, events, actions, views, home), each with register(app).

Thin by design: parse, authorize, call one bot/ service, render with bot/render. No SQL, no Block Kit assembly.
"""
