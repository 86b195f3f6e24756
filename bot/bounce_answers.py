"""A pasted or attached bounce message, explained: each failed recipient with its status, reason and cause,
and, when one was refused for authentication or reverse DNS, the live checks' verdicts (bot.bounce_auth)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot import bounce
from bot.answers import Answer
from bot.bounce_auth import NOT_RUN, BounceAuth
from bot.diagnosis.runbook import cause_info
from bot.render.auth import auth_mrkdwn
from bot.render.blocks import context, escape, section
from bot.render.mrkdwn import fit

MAX_RECIPIENTS = 20

#: Runs the authentication checks of the explained bounces (the Slack services give one on the resolver
#: configured; without one, none run).
AuthCheck = Callable[[Sequence[bounce.Bounce]], BounceAuth]


def explain_text(text: str, *, check: AuthCheck | None = None) -> Answer:
    return _answer(lambda: bounce.explain_bounces(text.encode("utf-8", errors="replace")), "the pasted bounce",
                   check)


def explain_bytes(data: bytes, *, name: str, check: AuthCheck | None = None) -> Answer:
    return _answer(lambda: bounce.explain_bounces(data), name, check)


def _answer(analyze: Callable[[], Sequence[bounce.Bounce]], name: str, check: AuthCheck | None) -> Answer:
    try:
        bounces = list(analyze())
    except (bounce.BadMessage, bounce.NotABounce) as exc:
        return Answer(f"{fit(name, 200)}: {fit(str(exc), 1000)}",
                      [section(f":thinking_face: `{fit(name, 200)}`: {fit(str(exc), 1000)}")])
    results = [r for b in bounces for r in b.recipients]
    blocks = [section(f"*Bounce explained* (`{fit(name, 200)}`): {len(results)} recipient(s)")]
    for r in results[:MAX_RECIPIENTS]:
        info = cause_info(r.cause)
        code = " ".join(str(x) for x in (r.smtp_code, r.status) if x)
        lines = [f"*{escape(r.address)}* — {escape(info.title)} `{r.cause}` / `{r.reason}` {escape(code)}"]
        if r.text:
            lines.append("> " + fit(r.text, 600))
        if info.next_steps:
            lines.append("*Next:* " + escape(" ".join(info.next_steps[:2])))
        blocks.append(section("\n".join(lines)))
    if len(results) > MAX_RECIPIENTS:
        blocks.append(context(f"and {len(results) - MAX_RECIPIENTS} more recipients"))
    auth = check(bounces) if check is not None else NOT_RUN
    if auth.report is not None:
        blocks.append(section(auth_mrkdwn(auth.report)))
    if auth.note:
        blocks.append(context(fit(auth.note, 1000)))
    first = results[0]
    return Answer(f"Bounce explained: {fit(first.address, 300)} {first.reason} ({first.cause})", blocks)
