"""The operator console: its own process (`sms1708 web`), reading and writing the same store
through the Store API while the daemon runs. Pages are server-rendered forms; no script is
needed for any flow (one small served script only adds a live SMS character counter)."""
