"""xueji contracts: the only code services share — envelope, topics, payloads, claims, calendar, policy."""
