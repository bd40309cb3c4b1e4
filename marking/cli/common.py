"""What several commands share: who acts, and asking for a passphrase or a password."""

from __future__ import annotations

import getpass
import os
import sys

import click

from marking.errors import MarkingError


def actor() -> str:
    """Who ran a command line action, for the ledger."""
    return f"cli:{getpass.getuser()}"


def read_passphrase(confirm: bool) -> str:
    """A key file's passphrase: from BLINDMARK_KEY_PASSPHRASE, else asked in the terminal."""
    env = os.environ.get("BLINDMARK_KEY_PASSPHRASE")
    if env:
        return env
    if not sys.stdin.isatty():
        raise MarkingError(
            "a passphrase is needed: set BLINDMARK_KEY_PASSPHRASE or run in a terminal"
        )
    value: str = click.prompt("Key file passphrase", hide_input=True, confirmation_prompt=confirm)
    return value


def read_password(from_stdin: bool, *, prompt: str = "Password", confirm: bool = True) -> str:
    """An account's password: one line of standard input, else asked in the terminal."""
    if from_stdin:
        value = sys.stdin.readline().rstrip("\n")
        if not value:
            raise MarkingError("no password on standard input")
        return value
    if not sys.stdin.isatty():
        raise MarkingError("give the password with --password-stdin, or run in a terminal")
    prompted: str = click.prompt(prompt, hide_input=True, confirmation_prompt=confirm)
    return prompted
