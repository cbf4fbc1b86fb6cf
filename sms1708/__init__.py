"""sms1708: an SMS-first complaint gateway.

Citizens text complaints to a GSM modem; sms1708 stores every SMS in SQLite before it is
deleted from the SIM, turns it into a complaint record, answers the citizen and forwards the
record upstream when the link is up.
"""

__version__ = "0.1.0"
