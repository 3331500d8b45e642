"""One family of errors: each is a failure the user can act on, its text the Chinese message to show.

exit_code tells the command line how it ended: 2 — the input or the request (a roster with a mistake, an
output over an input, a form description that does not check); 1 — the world (a mail server down, a disk).
The command line catches PerftablesError once; anything else is a bug of ours (a report file, exit 1)."""
from __future__ import annotations


class PerftablesError(Exception):
    exit_code = 2


class WorldError(PerftablesError):
    """Nothing wrong with what was asked: a server, a network or the machine failed."""
    exit_code = 1
