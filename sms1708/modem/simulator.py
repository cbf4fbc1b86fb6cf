"""`sms1708 simulate`'s control socket; it lives in :mod:`sms1708.modem.emulator.console`."""

from sms1708.modem.emulator.console import control_path, send_control, serve_control

__all__ = ["control_path", "send_control", "serve_control"]
