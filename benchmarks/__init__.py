"""sms1708 benchmarks: ``python -m benchmarks`` (``make bench``); see ``__main__.py``.

- ``drain``: a full SIM drained by ``sms1708 run`` over the emulated modem at 115200 baud
  (line-limit ratio) and unpaced (CPU ceiling);
- ``latency``: ``+CMTI`` to committed, at 115200 baud;
- ``backlog``: N queued complaints forwarded to the local StandIn; rate and peak RSS;
- ``idle``: the daemon with nothing to do: RSS, CPU per minute, database writes.

Everything runs on temporary directories and is stopped and removed on exit.
"""
