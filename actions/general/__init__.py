"""General conversation: session start, fallbacks, slot-mapping checks."""
