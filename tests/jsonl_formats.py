"""The two training-data formats tools/export_feedback.py writes, as validators the tests share.

(a) TRL's "standard preference" format (huggingface.co/docs/trl, "Dataset formats"):
    one JSON object per line with exactly the strings prompt, chosen, rejected.
(b) JumpStart text-generation instruction tuning (aws/amazon-sagemaker-examples,
    jumpstart-foundation-models/falcon-7b-instruction-domain-adaptation-finetuning.ipynb):
    a folder of .jsonl lines with instruction, context and response, and a template.json
    whose prompt/completion placeholders name those fields.
"""

from __future__ import annotations

import json
import string
from pathlib import Path

import jsonschema

# (a) TRL's standard preference format: exactly these three strings.
PREFERENCE_SCHEMA = {
    "type": "object", "additionalProperties": False, "required": ["prompt", "chosen", "rejected"],
    "properties": {k: {"type": "string", "minLength": 1} for k in ("prompt", "chosen", "rejected")},
}
# (b) JumpStart instruction tuning: instruction/context/response strings (context may be empty).
INSTRUCTION_SCHEMA = {
    "type": "object", "additionalProperties": False, "required": ["instruction", "context", "response"],
    "properties": {"instruction": {"type": "string", "minLength": 1}, "context": {"type": "string"},
                   "response": {"type": "string", "minLength": 1}},
}
TEMPLATE_SCHEMA = {
    "type": "object", "additionalProperties": False, "required": ["prompt", "completion"],
    "properties": {"prompt": {"type": "string"}, "completion": {"type": "string"}},
}


def validate_preferences(path: Path) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    for row in rows:
        jsonschema.validate(row, PREFERENCE_SCHEMA)
        assert row["chosen"] != row["rejected"]
    return rows


def validate_instructions(folder: Path) -> list[dict]:
    """train.jsonl + template.json as JumpStart's text-generation fine-tuning reads its train channel:
    every placeholder of the template is a field of every line, and each line renders."""
    assert sorted(p.name for p in folder.iterdir()) == ["template.json", "train.jsonl"]
    template = json.loads((folder / "template.json").read_text("utf-8"))
    jsonschema.validate(template, TEMPLATE_SCHEMA)
    placeholders = {name for text in template.values() for _, name, _, _ in string.Formatter().parse(text) if name}
    assert placeholders == {"instruction", "context", "response"}
    assert "{response}" in template["completion"] and "{response}" not in template["prompt"]
    rows = [json.loads(line) for line in (folder / "train.jsonl").read_text("utf-8").splitlines()]
    for row in rows:
        jsonschema.validate(row, INSTRUCTION_SCHEMA)
        assert template["prompt"].format_map(row) and template["completion"].format_map(row) == row["response"]
    return rows
