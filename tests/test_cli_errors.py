"""Top-level error handling of the msme-stats command line: one line, exit status, --debug."""

from __future__ import annotations

import errno

import pytest

from msme_stats import cli
from msme_stats.errors import BuildError, OptionError


@pytest.fixture
def failing(monkeypatch):
    """Make ``msme-stats list`` raise the given exception."""

    def set_exc(exc):
        def boom(args):
            raise exc

        monkeypatch.setattr(cli, "_cmd_list", boom)

    return set_exc


@pytest.mark.parametrize(
    ("exc", "status", "expected"),
    [
        (BuildError("input 'wbes': cannot read data/wbes/KEN.dta (truncated); replace it."), 1,
         "msme-stats: error: input 'wbes': cannot read data/wbes/KEN.dta (truncated); replace it."),
        (OptionError("--only 'x' is not registered;\n see `msme-stats list`."), 2,
         "msme-stats: error: --only 'x' is not registered; see `msme-stats list`."),
        (OSError(errno.ENOSPC, "No space left on device", "/tmp/o/a.png"), 1,
         "msme-stats: error: No space left on device: /tmp/o/a.png; check the path"),
        (RuntimeError("unexpected state"), 1,
         "msme-stats: error: unexpected RuntimeError: unexpected state (this is a bug"),
        (KeyboardInterrupt(), 130, "msme-stats: interrupted (SIGINT)"),
    ],
    ids=["msme-error", "usage-error", "os-error", "bug", "ctrl-c"],
)
def test_one_line_and_exit_status(failing, capsys, exc, status, expected):
    failing(exc)
    assert cli.main(["list"]) == status
    err = capsys.readouterr().err
    assert err.startswith(expected) and err.count("\n") == 1 and "Traceback" not in err
    with pytest.raises(type(exc)):  # --debug: the exception itself, with its traceback
        cli.main(["--debug", "list"])


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["build", "--wait", "soon"])
    assert exc.value.code == 2
    assert "--wait: invalid float value: 'soon'" in capsys.readouterr().err
