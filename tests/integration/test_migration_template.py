"""The revision template (`script.py.mako`): what `alembic revision` writes loads, and chains."""

import ast
import shutil
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from gatehouse.adapters.sqlalchemy.migrate import MIGRATIONS


@pytest.fixture
def scripts(tmp_path: Path) -> Config:
    """A copy of the shipped migrations, for Alembic to write a new revision into."""
    folder = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    config = Config()
    config.set_main_option("script_location", str(folder))
    return config


@pytest.mark.parametrize(
    "message",
    ['Rename the "legacy" column', "A path ends in a backslash\\", 'Three quotes """ inside', "Plain words"],
)
def test_a_new_revision_parses_with_its_message_as_the_docstring(scripts: Config, message: str) -> None:
    written = command.revision(scripts, message=message, rev_id="9001")
    assert written is not None
    assert not isinstance(written, list)

    module = ast.parse(Path(written.path).read_text())

    assert ast.get_docstring(module) == message


def test_a_new_revision_follows_the_newest_and_carries_a_branch_label_only_when_given(
    scripts: Config,
) -> None:
    newest = ScriptDirectory.from_config(scripts).get_current_head()
    plain = command.revision(scripts, message="Plain", rev_id="9001")
    labelled = command.revision(scripts, message="Labelled", rev_id="9002", head="9001", branch_label="side")
    assert plain is not None
    assert not isinstance(plain, list)
    assert labelled is not None
    assert not isinstance(labelled, list)

    chain = ScriptDirectory.from_config(scripts)

    assert chain.get_revision("9001").down_revision == newest
    assert chain.get_revision("9002").down_revision == "9001"
    assert "branch_labels" not in Path(plain.path).read_text()
    assert chain.get_revision("9002").branch_labels == {"side"}
    assert [r.revision for r in chain.walk_revisions()][-1] == "0001"
