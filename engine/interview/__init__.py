"""The interview mode's pure core: session records, the room's roles and baton, passwords and
rate limits. No sockets and no Textual here: `tui/serve/` drives these over SSH."""
