"""A pasted or attached bounce message, explained: each failed recipient with its status, reason and cause."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot import bounce
from bot.answers import Answer
from bot.diagnosis.runbook import cause_info
from bot.render.blocks import context, escape, section
from bot.render.mrkdwn import fit

MAX_RECIPIENTS = 20


def explain_text(text: str) -> Answer:
    return _answer(lambda: bounce.explain_text(text), "the pasted bounce")


def explain_bytes(data: bytes, *, name: str) -> Answer:
    return _answer(lambda: bounce.explain_bytes(data), name)


def _answer(analyze: Callable[[], Sequence[bounce.RecipientResult]], name: str) -> Answer:
    try:
        results = list(analyze())
    except (bounce.BadMessage, bounce.NotABounce) as exc:
        return Answer(f"{fit(name, 200)}: {fit(str(exc), 1000)}",
                      [section(f":thinking_face: `{fit(name, 200)}`: {fit(str(exc), 1000)}")])
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
    first = results[0]
    return Answer(f"Bounce explained: {fit(first.address, 300)} {first.reason} ({first.cause})", blocks)
