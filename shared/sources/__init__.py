"""One module per SaaS source: parse, validate and normalize its webhooks. Pure: no I/O."""
