"""The daily digest of blocked and bounced mail.

Modules, one job each: period (local days, zones, schedules), rollup (the incremental daily rollup), content
(the sections, from the rollup), ipstatus (our outbound IPs on block lists), render (Block Kit and text),
chart (the PNG), claim (exactly-once posting), post (compute + post, the scheduler's runner).

For the Slack app: `post_digest(store, settings, chat, channel, day)` posts one on demand (`/bounce digest`);
the "Why?" buttons use action id bot.render.ids.ACTION_DIGEST_WHY with value {"kind": ..., "value": ...}.
"""

from __future__ import annotations

from bot.digest.post import DigestRunner, Posted, build_digest, post_digest, publish

__all__ = ["DigestRunner", "Posted", "build_digest", "post_digest", "publish"]
