"""Several outputs of one prompt (``candidates``) and several inputs in one request (batch
routes): the sampling plan, the bounded pool, and both end to end over HTTP."""

from __future__ import annotations

import threading
import time

import pytest

from frontdoor.errors import status_of
from frontdoor.services.batch import MAX_WORKERS, PER_INSTANCE, run_bounded, workers_for
from frontdoor.services.generation import SEED_SPACE, sampling_plans
from inference.catalog import ModelSpec
from inference.errors import BadRequest, ModelTimeout, NotFound


def assert_error(reply, status: int, code: str | None = None) -> None:
    """An error is JSON with the response's request id (as in test_api_e2e)."""
    assert reply.status == status, reply.body
    assert reply.body["request_id"] == reply.request_id
    if code:
        assert reply.body["error"] == code


def spec(family="falcon", instances=1):
    return ModelSpec("m", "id", "ep-m", family, "text", 1024, 2048, None, instances, True)


# ------------------------------------------------------------------ sampling plan
def test_one_candidate_is_one_ordinary_call():
    [(requested, defaults, seed)] = sampling_plans(spec(), {"seed": 3}, {"do_sample": False}, 1, lambda n: 0)
    assert requested == {"seed": 3} and defaults == {"do_sample": False} and seed == 3


def test_candidates_sample_with_consecutive_seeds_from_the_callers():
    plans = sampling_plans(spec(), {"seed": SEED_SPACE - 1, "temperature": 0.7}, None, 3, lambda n: 0)
    assert [p[2] for p in plans] == [SEED_SPACE - 1, 0, 1]  # wraps inside the schema's seed range
    assert all(p[0]["do_sample"] is True and p[0]["temperature"] == 0.7 and p[0]["seed"] == p[2] for p in plans)


def test_candidates_without_a_seed_draw_one_and_stay_distinct():
    plans = sampling_plans(spec(), {}, None, 4, lambda n: 41)
    assert [p[2] for p in plans] == [41, 42, 43, 44]


def test_a_templates_greedy_default_yields_to_sampling():
    [(requested, defaults, _), _] = sampling_plans(spec(), {}, {"do_sample": False, "temperature": 0,
                                                                "max_new_tokens": 9}, 2, lambda n: 0)
    assert defaults == {"max_new_tokens": 9} and requested["do_sample"] is True


@pytest.mark.parametrize("requested", [{"temperature": 0}, {"do_sample": False}])
def test_greedy_candidates_are_refused_with_422(requested):
    with pytest.raises(BadRequest, match="need sampling") as err:
        sampling_plans(spec(), requested, None, 2, lambda n: 0)
    assert status_of(err.value) == 422 and err.value.details == [{"field": "candidates", "type": "needs_sampling"}]


def test_families_without_seed_knobs_sample_by_temperature_alone():
    plans = sampling_plans(spec("ai21-j2"), {"temperature": 0.8}, None, 2, lambda n: 0)
    assert plans == [({"temperature": 0.8}, {}, None)] * 2


# ------------------------------------------------------------------ bounded pool
def test_workers_follow_the_endpoints_instances_within_the_client_pool():
    assert workers_for(1, 16) == PER_INSTANCE
    assert workers_for(None, 16) == PER_INSTANCE
    assert workers_for(3, 16) == MAX_WORKERS
    assert workers_for(4, 2) == 2


def test_results_keep_input_order_and_each_failure_stays_its_own():
    in_flight, peak, lock = [0], [0], threading.Lock()

    def call(i):
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        time.sleep(0.02 * (5 - i % 5))  # later inputs finish first
        with lock:
            in_flight[0] -= 1
        if i == 3:
            raise NotFound("no such thing")
        return i * 10

    outcomes = run_bounded(call, list(range(10)), workers=4)
    assert [o.value for o in outcomes] == [0, 10, 20, None, 40, 50, 60, 70, 80, 90]
    assert isinstance(outcomes[3].error, NotFound)
    assert peak[0] == 4


def test_inputs_not_started_by_the_deadline_fail_alone_with_504():
    now = [0.0]

    def call(i):
        now[0] += 1.0  # each call takes a second of the fake clock
        return i

    outcomes = run_bounded(call, [0, 1, 2, 3], workers=1, start_by=1.5, clock=lambda: now[0])
    assert [o.value for o in outcomes[:2]] == [0, 1]
    assert all(isinstance(o.error, ModelTimeout) and status_of(o.error) == 504 for o in outcomes[2:])


# ------------------------------------------------------------------ candidates over HTTP
def test_generate_returns_candidates_with_ids_and_distinct_seeds(api, emulator):
    reply = api.post("/v1/generate", {"inputs": "Name a river.", "candidates": 3,
                                      "parameters": {"max_new_tokens": 8, "seed": 100}})
    assert reply.status == 200, reply.body
    candidates = reply.body["candidates"]
    assert [c["id"] for c in candidates] == ["c0", "c1", "c2"]
    assert [c["seed"] for c in candidates] == [100, 101, 102]
    assert len({c["output"] for c in candidates}) == 3  # different seeds, different samples
    assert reply.body["output"] == candidates[0]["output"]
    assert reply.body["usage"]["generated_tokens"] == sum(c["usage"]["generated_tokens"] for c in candidates) == 24
    sent = sorted((c["body"]["parameters"] for c in emulator.calls()), key=lambda p: p["seed"])
    assert [(p["do_sample"], p["seed"]) for p in sent] == [(True, 100), (True, 101), (True, 102)]


def test_template_candidates_carry_a_label_each(api):
    reply = api.post("/v1/templates/sentiment", {"variables": {"tweet": "I love it"}, "candidates": 2})
    assert reply.status == 200, reply.body
    assert [c["id"] for c in reply.body["candidates"]] == ["c0", "c1"]
    assert all(c["label"] in {"positive", "negative", "neutral", "unknown"} for c in reply.body["candidates"])


def test_a_plain_call_has_no_candidates_list(api):
    reply = api.post("/v1/generate", {"inputs": "hi", "parameters": {"max_new_tokens": 2}})
    assert reply.status == 200 and reply.body["candidates"] is None


@pytest.mark.parametrize("parameters", [{"temperature": 0}, {"do_sample": False}])
def test_greedy_candidates_are_422_before_any_model_call(api, emulator, parameters):
    reply = api.post("/v1/generate", {"inputs": "hi", "candidates": 2, "parameters": parameters})
    assert_error(reply, 422, "bad_request")
    assert "need sampling" in reply.body["message"] and emulator.calls() == []


@pytest.mark.parametrize("candidates", [0, 5, "2", 2.5])
def test_candidates_out_of_range_are_400(api, candidates):
    assert_error(api.post("/v1/generate", {"inputs": "hi", "candidates": candidates}), 400, "validation_error")


# ------------------------------------------------------------------ batch over HTTP
def test_batch_answers_each_input_in_order_with_its_own_error(api, emulator):
    inputs = ["Name a river.", "stop<|endoftext|>", "hi [[emulator:throttle]]", "Name a mountain."]
    reply = api.post("/v1/generate/batch", {"inputs": inputs, "parameters": {"max_new_tokens": 5}})
    assert reply.status == 200, reply.body
    body = reply.body
    assert body["model"] == "falcon-7b-instruct" and (body["succeeded"], body["failed"]) == (2, 2)
    results = body["results"]
    assert [r["index"] for r in results] == [0, 1, 2, 3]
    assert [r["status"] for r in results] == [200, 422, 429, 200]
    assert results[1]["error"]["error"] == "special_tokens_rejected" and results[1]["output"] is None
    assert results[2]["error"]["error"] == "throttled" and results[2]["retry_after"] == 1
    assert all(r["error"]["request_id"] == reply.request_id for r in results if r["error"])
    # Each success is what POST /v1/generate would have answered for that input alone.
    alone = api.post("/v1/generate", {"inputs": inputs[3], "parameters": {"max_new_tokens": 5}})
    assert results[3]["output"] == alone.body["output"] and results[3]["usage"] == alone.body["usage"]


def test_batch_runs_at_once_within_the_endpoints_capacity(api, emulator):
    # 8 inputs of 300 ms on a one-instance endpoint: 4 at a time, so two rounds, not eight.
    inputs = [f"Count to {i} [[emulator:delay=300]]" for i in range(8)]
    started = time.monotonic()
    reply = api.post("/v1/generate/batch", {"inputs": inputs, "parameters": {"max_new_tokens": 3}})
    elapsed = time.monotonic() - started
    assert reply.status == 200 and reply.body["succeeded"] == 8, reply.body
    assert 0.6 <= elapsed < 2.0, elapsed


def test_template_batch_renders_each_item(api, emulator):
    items = [{"variables": {"tweet": "I love it"}}, {"variables": {"tweet": "   "}}, {"variables": {}}]
    reply = api.post("/v1/templates/sentiment/batch", {"items": items})
    assert reply.status == 200, reply.body
    results = reply.body["results"]
    assert reply.body["template"] == "sentiment" and [r["status"] for r in results] == [200, 422, 200]
    assert results[0]["label"] in {"positive", "negative", "neutral", "unknown"}
    assert "must not be blank" in results[1]["error"]["message"]
    # The blank item never reached the model; the empty one ran on the template's default.
    prompts = [c["body"]["inputs"] for c in emulator.calls()]
    assert len(prompts) == 2 and all(p.endswith("Sentiment:") for p in prompts)


@pytest.mark.parametrize(("path", "body", "status"), [
    ("/v1/generate/batch", {"inputs": ["a"], "model": "nope"}, 404),
    ("/v1/generate/batch", {"inputs": ["a"], "model": "sd-2-1-base"}, 422),
    ("/v1/templates/nope/batch", {"items": [{}]}, 404),
    ("/v1/generate/batch", {"inputs": []}, 400),
    ("/v1/generate/batch", {"inputs": ["a"] * 17}, 400),
    ("/v1/generate/batch", {"inputs": ["a"], "candidates": 2}, 400),
    ("/v1/templates/code/batch", {"items": [{"variables": {}}] * 17}, 400),
])
def test_what_all_inputs_share_fails_the_whole_batch(api, emulator, path, body, status):
    assert_error(api.post(path, body), status)
    assert emulator.calls() == []
