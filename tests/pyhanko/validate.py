"""Runs pyHanko's own command line, `pyhanko sign validate OPTIONS FILE`,
for each FILE given after `--`, in this one process (pyHanko takes seconds
to import; a bag has dozens of PDFs). For each file it prints

    <<< FILE
    what `pyhanko sign validate` printed
    >>> exit N

where N is the exit status the command would have had.

    python3 validate.py --trust ca.pem --trust-replace --pretty-print -- a.pdf b.pdf
"""

import contextlib
import io
import sys

import click
from pyhanko.cli import cli_root

split = sys.argv.index("--")
options, files = sys.argv[1:split], sys.argv[split + 1:]
for path in files:
    out = io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            cli_root.main(
                ["sign", "validate", *options, path],
                prog_name="pyhanko",
                standalone_mode=False,
            )
        except click.exceptions.Exit as e:
            code = e.exit_code
        except click.ClickException as e:
            e.show()
            code = e.exit_code
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
        except Exception as e:  # a crash is a failed validation too
            print(f"exception: {e!r}")
            code = 1
    print(f"<<< {path}\n{out.getvalue()}\n>>> exit {code}", flush=True)
