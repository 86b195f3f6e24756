"""The traffic report: pflogsumm's figures computed from the tracking store, for any source and any period."""
