"""The built-in emulated GSM modem: an AT-command modem on a pseudo-terminal.

:class:`EmulatedModem` sits on the master side of ``os.openpty()`` and exposes the slave side
through a stable symlink, so the daemon, ``sms1708 simulate`` / ``sms1708 demo`` and the tests open
it with pyserial exactly as they would open a USB modem at ``/dev/serial/by-id/...``. It behaves
like a SIMCom/Huawei-class modem in PDU mode: echo (on at power-up), CMEE, SIM PIN/PUK gating,
SM/ME/SR storage with per-index status, ``+CMTI``/``+CMT``/``+CDSI``/``+CDS``, ``^SMMEMFULL`` and
``AT+CMGS`` with the ``> `` prompt. Behaviour worth knowing:

- ``AT+CMGF=1`` answers OK, but read/list/send commands then answer ``+CMS ERROR: 302``: the
  emulator speaks PDU mode only. Lines not starting with ``AT`` are echoed and otherwise ignored.
- Power-up (start, replug, ``AT+CFUN=1,1``) means echo on, CMEE 0, CNMI ``2,1,0,0,0`` (SIMCom's
  default: ``+CMTI`` for new SMS), CPMS ``"SM","SM","SM"`` and the PIN asked again.
- URCs are never written inside a command response; they wait for its final result code.
- The "network" holds an SMS back while mem3 is full or the modem is unplugged (or not started)
  and stores it as soon as it can.

Usage::

    with EmulatedModem("/tmp/modem0") as modem:
        ser = serial.Serial(modem.port, 115200, timeout=1)
        modem.deliver("0791...")                        # store + "+CMTI" (or "+CMT" when mt=2)
        modem.wait_until(lambda: bool(modem.sent), 5)   # condition-based waiting, no sleeps

Test hooks: :meth:`race_next_urc`, :meth:`burst_cmti`, :meth:`write_raw`, :meth:`unplug` /
:meth:`replug`, :meth:`hang`, :meth:`stop_reading` / :meth:`resume_reading` (a modem whose
input is stuck: the DTE's writes block), ``reset_on_send`` (a stick that resets right after an
SMS's Ctrl-Z), ``swallow`` (commands read but never answered), :meth:`refuse_delete` (a slot
whose ``AT+CMGD`` answers ``+CMS ERROR: 500`` N times), ``memories`` (a modem without "SR":
``AT+CPMS="SR"`` answers ``+CMS ERROR: 302``), ``unlistable`` (memories whose ``AT+CMGL``
answers ``+CMS ERROR: 302``), ``latency`` / ``cmgs_latency`` (a real ``AT+CMGS`` takes 2-6 s;
the line is blocked meanwhile and URCs wait for its answer) / ``baudrate`` pacing, the SIM's size
(``sm_capacity``), ``network_retry`` (the network holds SMS while the SIM is full and offers them
again only after that many seconds; each such SMS counts in ``sim_full_events``) and
``before_delete``; observation through ``log``, ``commands``,
``sent``, :meth:`stored` and :meth:`wait_until`. It runs in-process with one reader thread per
pty; public methods are thread-safe. Only the stdlib is used (:meth:`receive_sms` imports
``encode_deliver`` lazily).

The package, one module per job: ``modem`` (the :class:`EmulatedModem` face, its settings and
life on a pty), ``line`` (pty, reader thread, baud-rate pacing, URC timing, log), ``commands``
and ``storage`` (the AT command table and its handlers), ``reply`` (result codes), ``sim``
(storage memories, PIN), ``network`` (SMS arriving and leaving, SIM-full holding and retry,
network time), ``hooks`` (fault injection) and ``console`` (``sms1708 simulate``).
"""

from sms1708.modem.emulator.line import LogEvent
from sms1708.modem.emulator.modem import EmulatedModem
from sms1708.modem.emulator.network import SentSms
from sms1708.modem.emulator.sim import tpdu_length

__all__ = ["EmulatedModem", "LogEvent", "SentSms", "tpdu_length"]
