"""The `tepat` command dispatches each subcommand to its handler and returns the handler's exit code."""

from __future__ import annotations

from pathlib import Path

import jwt
import pytest

from services.cli import main


def test_token_prints_a_token_for_the_role_and_wilayah(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["token", "--role", "tksk", "--wilayah", "13.71.01", "--data-dir", str(tmp_path)])
    claims = jwt.decode(capsys.readouterr().out.strip(), options={"verify_signature": False})
    assert code == 0
    assert (claims["role"], claims["wilayah"]) == ("tksk", "13.71.01")


def test_an_unknown_job_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["jobs", "run", "no-such-job"]) == 2
    assert "unknown or ambiguous job" in capsys.readouterr().err


def test_schemas_writes_the_event_schemas(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schemas", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "envelope.schema.json").is_file()
    assert str(tmp_path / "envelope.schema.json") in capsys.readouterr().out


def test_a_missing_subcommand_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2
