"""``python -m infra.ops.transfer``: a hand-made OpenAI-format file imported under its ids, exported back
equal, imported again into a fresh table equal, and each bad input refused with its sentence and exit code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import ROOT, Aws, Result
from tests.cli.forked import zygote
from tests.contract.schemas import assert_valid
from tests.openai_export import THREAD, message, openai_file, text

pytestmark = [pytest.mark.process, pytest.mark.usefixtures("aws")]


def _transfer(env: dict[str, str], *args: str) -> Result:
    done = zygote.run("infra.ops.transfer", list(args), env, ROOT)
    return Result(done.code, done.stdout, done.stderr)


def _on(env: dict[str, str], aws: Aws, table: str) -> dict[str, str]:
    return env | aws.env() | {"TABLE_NAME": aws.table(table)}


def _exported(env: dict[str, str], path: Path) -> list[dict[str, Any]]:
    done = _transfer(env, "export", "--project", "p", "--out", str(path))
    assert done.code == 0, done.output
    assert "Exported 1 assistants, 1 threads and 5 messages of project 'p'" in done.stderr
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_an_openai_file_imports_under_its_ids_and_exports_back_and_round_trips(
    tmp_path: Path, env: dict[str, str], aws: Aws
) -> None:
    given = openai_file(tmp_path / "openai.jsonl")
    first = _on(env, aws, "transfer-first")
    done = _transfer(first, "import", "--project", "p", str(tmp_path / "openai.jsonl"))
    assert done.code == 0, done.output
    assert "Imported 1 threads (5 messages) and 1 assistants into project 'p'" in done.stderr
    assert "skipped 0" in done.stderr

    exported = _exported(first, tmp_path / "export.jsonl")
    assert [o["id"] for o in exported] == [o["id"] for o in given]  # the messages in the thread's order
    assert exported == given
    for value in exported:
        assert_valid(
            value, {"assistant": "AssistantObject", "thread": "ThreadObject"}.get(value["object"], "MessageObject")
        )

    again = _transfer(first, "import", "--project", "p", str(tmp_path / "openai.jsonl"))  # re-run: all skipped
    assert again.code == 0, again.output
    assert "Imported 0 threads (0 messages) and 0 assistants" in again.stderr
    assert "skipped 2" in again.stderr

    fresh = _on(env, aws, "transfer-fresh")
    done = _transfer(fresh, "import", "--project", "p", str(tmp_path / "export.jsonl"))
    assert done.code == 0, done.output
    assert _exported(fresh, tmp_path / "back.jsonl") == exported


def test_a_thread_id_of_another_project_is_refused_without_naming_it(
    tmp_path: Path, env: dict[str, str], aws: Aws
) -> None:
    openai_file(tmp_path / "openai.jsonl")
    on = _on(env, aws, "transfer-other")
    assert _transfer(on, "import", "--project", "secret-team", str(tmp_path / "openai.jsonl")).code == 0
    done = _transfer(on, "import", "--project", "p", str(tmp_path / "openai.jsonl"))
    assert done.code == 1, done.output
    assert f"thread {THREAD}: this id is taken in this table, by another project" in done.stderr
    assert "secret-team" not in done.output
    assert "Imported 0 threads (0 messages) and 1 assistants" in done.stderr  # the rest goes in


def test_a_changed_object_is_refused_unless_overwrite(tmp_path: Path, env: dict[str, str], aws: Aws) -> None:
    given = openai_file(tmp_path / "openai.jsonl")
    on = _on(env, aws, "transfer-changed")
    assert _transfer(on, "import", "--project", "p", str(tmp_path / "openai.jsonl")).code == 0
    given[1]["metadata"] = {"user": "43"}
    given[-1]["content"] = [text("Hi again")]
    (tmp_path / "changed.jsonl").write_text("\n".join(json.dumps(o) for o in given) + "\n")
    done = _transfer(on, "import", "--project", "p", str(tmp_path / "changed.jsonl"))
    assert done.code == 1, done.output
    assert f"line 2: thread {THREAD} is already in the project with other content" in done.stderr
    done = _transfer(on, "import", "--project", "p", "--overwrite", str(tmp_path / "changed.jsonl"))
    assert done.code == 0, done.output
    assert _exported(on, tmp_path / "export.jsonl") == given


@pytest.mark.parametrize(
    ("lines", "code", "sentence"),
    [
        (["{not json"], 1, "line 1: not valid JSON"),
        ([{"object": "thread.run", "id": "run_1"}], 1, "line 1: unknown object type 'thread.run'"),
        ([message(0, [text("orphan")])], 1, f"belongs to thread {THREAD}, which is not in the file"),
        (
            [
                {"id": THREAD, "object": "thread", "created_at": 1, "metadata": {}, "tool_resources": None},
                message(0, [text("a")]),
                message(0, [text("b")]),
            ],
            1,
            "line 3: thread.message msg_000000000000000000000000 appears again (first on line 2) with other content",
        ),
        (
            [{"id": "thread_1", "object": "thread", "created_at": "yesterday", "metadata": {}}],
            1,
            "line 1: not a valid thread",
        ),
        (
            [{"id": "thread.1", "object": "thread", "created_at": 1, "metadata": {}, "tool_resources": None}],
            1,
            "line 1: id 'thread.1'",
        ),
    ],
)
def test_bad_input_is_a_sentence_and_nothing_is_imported(
    tmp_path: Path, env: dict[str, str], lines: list[Any], code: int, sentence: str
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n")
    done = _transfer(env, "import", "--project", "p", str(path))  # checked before any table is looked for
    assert done.code == code, done.output
    assert sentence in done.stderr, done.stderr
    assert "nothing was imported" in done.stderr
    assert "Traceback" not in done.output


def test_a_file_that_does_not_exist(tmp_path: Path, env: dict[str, str]) -> None:
    done = _transfer(env, "import", "--project", "p", str(tmp_path / "missing.jsonl"))
    assert done.code == 2, done.output
    assert f"There is no file {tmp_path / 'missing.jsonl'} to import." in done.stderr


def test_a_whole_file_list_envelope_is_read(tmp_path: Path, env: dict[str, str], aws: Aws) -> None:
    given = openai_file(tmp_path / "openai.jsonl")
    whole = {"object": "list", "data": given[:2]}
    (tmp_path / "whole.json").write_text(json.dumps(whole, indent=2))
    on = _on(env, aws, "transfer-whole")
    done = _transfer(on, "import", "--project", "p", str(tmp_path / "whole.json"))
    assert done.code == 0, done.output
    assert "Imported 1 threads (0 messages) and 1 assistants" in done.stderr
