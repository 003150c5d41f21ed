from __future__ import annotations

import math

import pytest

from inference.tokens import TokenEstimator, base_units, parse_true_input_tokens

TOTAL_422 = (
    "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 2048. "
    "Given: 1900 `inputs` tokens and 200 `max_new_tokens`"
)
INPUT_422 = "Input validation error: `inputs` must have less than 1024 tokens. Given: 1187"
WRAPPED_424 = (
    'Received client error (422) from primary with message "{\\"error\\":\\"' + TOTAL_422 + '\\",'
    '\\"error_type\\":\\"validation\\"}". See https://us-east-1.console.aws.amazon.com/cloudwatch/...'
)


@pytest.mark.parametrize(
    ("message", "expected"),
    [(TOTAL_422, 1900), (INPUT_422, 1187), (WRAPPED_424, 1900), ("ThrottlingException: slow down", None)],
)
def test_true_input_tokens_are_parsed_from_every_tgi_variant(message, expected):
    assert parse_true_input_tokens(message) == expected


def test_base_units_are_additive_over_whitespace_joins():
    a, b = "The committee approved 12.5 percent.", "Internationalization costs rose!"
    assert base_units(a + " " + b) == base_units(a) + base_units(b)


def test_long_words_digits_and_punctuation_cost_more_than_short_words():
    assert base_units("cat dog") == 2
    assert base_units("internationalization") == 3
    assert base_units("2024, ok.") == 4 + 1 + 1 + 1


def test_estimate_includes_the_safety_margin():
    estimator = TokenEstimator(scale=1.0, margin=0.1)
    assert estimator.count(" ".join(["word"] * 100)) == 110


def test_units_within_never_overshoots_the_budget():
    estimator = TokenEstimator(scale=1.37, margin=0.08)
    for budget in range(1, 3000, 7):
        units = estimator.units_within(budget)
        assert estimator.from_units(units) <= budget
        assert estimator.from_units(units + 1) > budget


def test_given_a_true_count_above_the_estimate_when_observed_then_later_estimates_cover_it():
    estimator = TokenEstimator()
    text = "Section 4: the reservoir reported maintenance costs. " * 20
    true = int(base_units(text) * 1.4)
    assert estimator.observe(text, true) is True
    assert estimator.count(text) >= true
    assert estimator.recalibrations == 1


def test_a_true_count_below_the_estimate_does_not_lower_the_scale():
    estimator = TokenEstimator(scale=1.2)
    assert estimator.observe("a b c d e f g h i j", 5) is False
    assert estimator.scale == 1.2


# -- after a 422 the estimate is the model's own count: a smaller margin, never a smaller estimate ----------

PROSE = "Section 4: the reservoir reported maintenance costs by 12.5 percent. " * 20


def test_given_a_422_when_observed_then_the_margin_drops_to_the_calibrated_one_and_the_estimate_hugs_the_true_count():
    estimator = TokenEstimator()
    assert estimator.margin == 0.08 and not estimator.calibrated
    true = estimator.count(PROSE) + 3  # the model refused it: a few tokens over our estimate
    assert estimator.observe(PROSE, true)
    assert estimator.calibrated and estimator.margin == 0.02
    assert true <= estimator.count(PROSE) <= math.ceil(true * 1.02) + 1


def test_a_calibration_never_shrinks_any_estimate_even_when_the_observed_ratio_is_barely_above_the_scale():
    texts = [PROSE, "cat dog", "internationalization 2024, ok.", "x" * 500]
    for ratio in (1.01, 1.05, 1.09, 1.3):
        estimator = TokenEstimator()
        before = [estimator.count(t) for t in texts]
        estimator.observe(PROSE, math.ceil(base_units(PROSE) * ratio))
        assert all(a >= b for a, b in zip((estimator.count(t) for t in texts), before)), ratio
        assert 0.02 <= estimator.margin <= 0.08


def test_a_second_422_after_calibration_raises_the_scale_again():
    estimator = TokenEstimator()
    estimator.observe(PROSE, math.ceil(base_units(PROSE) * 1.1))
    denser = PROSE.upper()
    true = math.ceil(estimator.count(denser) * 1.3)  # later text tokenizes worse than the first
    assert estimator.observe(denser, true)
    assert estimator.recalibrations == 2 and estimator.count(denser) >= true


@pytest.mark.parametrize(("saved", "scale", "margin"), [(None, 1.0, 0.08), (1.0, 1.0, 0.08), (1.13, 1.13, 0.02)])
def test_a_resumed_job_keeps_the_calibrated_margin_only_for_a_scale_a_run_observed(saved, scale, margin):
    estimator = TokenEstimator.resume(saved)
    assert estimator.scale == scale and estimator.margin == margin


def test_a_resumed_job_rebuilds_the_estimate_of_the_run_that_saved_it_even_when_its_margin_stayed_above_2_percent():
    # A 422 stating a ratio under the 8%-margin estimate (1.03 < 1.08): the scale becomes 1.03 and, as no
    # estimate shrinks, the margin stays ~4.9%. A resume at 1.03 * 1.02 would cut other chunks (other prompts).
    first = TokenEstimator()
    assert first.observe(PROSE, math.ceil(base_units(PROSE) * 1.03))
    assert first.margin > first.calibrated_margin
    resumed = TokenEstimator.resume(*first.state())
    assert resumed.tokens_per_unit == first.tokens_per_unit
    assert resumed.scale == first.scale and resumed.margin == first.margin and resumed.calibrated


def test_a_job_saved_without_a_margin_resumes_as_before():
    assert TokenEstimator.resume(1.13, None).margin == 0.02
    assert TokenEstimator.resume(None, None).margin == 0.08
