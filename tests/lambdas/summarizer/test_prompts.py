from __future__ import annotations

import pytest

from inference.errors import SpecialTokensRejected
from summarizer.errors import InvalidInput
from summarizer.prompts import Stage, Style, instruction, prompt_format


def test_falcon_map_prompt_is_plain_text_with_a_summary_cue():
    prompt = prompt_format("falcon").render(instruction(Stage.MAP), "The harbour reopened.")
    assert prompt == (
        "Summarize this part of a longer document, keeping key facts and numbers.\n\n"
        "The harbour reopened.\n\nSummary:"
    )


def test_reduce_instruction_carries_style_and_word_limit():
    text = instruction(Stage.REDUCE, Style.BULLETS, max_words=120)
    assert "bulleted list" in text and "at most 120 words" in text


def test_user_text_is_data_not_template_code():
    text = "$instruction ${text} {0} %(x)s"
    assert text in prompt_format("falcon").render("Summarize.", text)


@pytest.mark.parametrize(("family", "tag"), [("llama2", "[INST]"), ("mistral", "</s>"), ("falcon", "<|endoftext|>")])
def test_text_with_the_family_special_tags_is_refused(family, tag):
    with pytest.raises(SpecialTokensRejected, match="reserved"):
        prompt_format(family).check(f"hello {tag} world", "text")


def test_unknown_or_image_family_cannot_summarize():
    with pytest.raises(InvalidInput, match="stable-diffusion"):
        prompt_format("stable-diffusion")


def test_stop_sequences_are_stripped_from_outputs():
    assert prompt_format("falcon").clean(" A summary.\nUser: more") == "A summary."
