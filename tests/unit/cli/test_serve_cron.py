"""``rasonwatch serve``: a bad cron is refused in one line before anything starts."""

from __future__ import annotations

import pytest

from pipeline.cli.app import main
from pipeline.flows import DEFAULT_CRON, check_cron


@pytest.mark.parametrize("cron", ["0 3 * *", "61 3 * * *", "every night"])
def test_serve_rejects_a_bad_cron(cron: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--cron", cron]) == 2
    err = capsys.readouterr().err
    assert "--cron" in err
    assert len(err.strip().splitlines()) == 1


def test_default_cron_is_valid() -> None:
    assert check_cron(DEFAULT_CRON) == "0 3 * * *"
