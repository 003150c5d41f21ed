"""docs/config-reference.md is generated from the config schema and kept current."""

from __future__ import annotations

from tools import config_reference


def test_the_committed_config_reference_is_what_the_schema_generates():
    assert config_reference.main(["--check"]) == 0, "run: python -m tools.config_reference"


def test_every_config_field_has_a_row():
    # Given the generated reference
    text = config_reference.render()
    # Then every field of every config model appears in its section's table
    for path, model in config_reference.sections():
        section = text.split(f"## `{path or 'top level'}` ({model.__name__})", 1)[1].split("\n## ", 1)[0]
        for name in model.model_fields:
            assert f"| `{name}` |" in section, f"{path}.{name} has no row"


def test_bounds_and_literals_come_from_the_schema():
    text = config_reference.render()
    assert "| `sampling_percentage` | int | `20` | >= 1; <= 100 |" in text
    assert "`GOVERNANCE` \\| `COMPLIANCE`" in text


def test_a_default_that_differs_from_its_sections_defaults_says_so():
    # A shared model's data capture defaults to disabled; the section's table (DataCaptureConfig) says enabled.
    assert "| `data_capture` | DataCaptureConfig | see below, except `enabled: false` |" in config_reference.render()
