"""Investigation and source tracing: cases, contacts, co-presence, chains, clusters."""
