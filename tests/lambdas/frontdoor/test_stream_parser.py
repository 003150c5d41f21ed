"""Token streams without HTTP: TGI's stream parser, incremental stop handling and the
events a prepared generation streams (issue 12). Pure: no emulator, no AWS.

TGI's wire format: text-generation-inference ``router/src/server.rs`` (``generate_stream``,
``StreamResponse``/``StreamDetails``: ``data:{"index","token":{"id","text","logprob",
"special"},"generated_text","details"}`` lines, errors ``data:{"error","error_type"}``);
SageMaker cuts those bytes into PayloadParts anywhere (API Reference, "PayloadPart").
"""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from frontdoor.services import token_stream
from frontdoor.services.generation import TextService
from frontdoor.services.templating import TemplateRegistry
from inference.catalog import Catalog
from inference.codecs import StreamEnd, StreamToken, TgiCodec, TgiStreamParser
from inference.errors import BadRequest, ModelFailed, ModelInputRejected, Throttled
from inference.params import TextParams
from inference.prompts import StopFilter, strip_stops

TOKENS = [" Bonjour", ",", " ça", " va", " très", " bien", " 🙂", "\n", "User", ":", " ok"]


def tgi_lines(tokens: list[str], *, eos: bool = True, details: bool = True, space: bool = False,
              crlf: bool = False, keepalive: bool = False) -> bytes:
    """What TGI streams for ``tokens`` (the last one carrying generated_text and details)."""
    events = [{"index": i + 1, "token": {"id": 100 + i, "text": t, "logprob": -0.5, "special": False},
               "generated_text": None, "details": None} for i, t in enumerate(tokens)]
    if eos:
        events.append({"index": len(events) + 1, "token": {"id": 2, "text": "</s>", "logprob": -0.1, "special": True},
                       "generated_text": None, "details": None})
    events[-1]["generated_text"] = "".join(tokens)
    if details:
        events[-1]["details"] = {"finish_reason": "eos_token" if eos else "length", "generated_tokens": len(events),
                                 "seed": 7, "input_length": 12}
    sep = b"\r\n" if crlf else b"\n"
    out = b""
    for i, event in enumerate(events):
        if keepalive and i == 2:
            out += b":" + sep + sep
        out += b"data:" + (b" " if space else b"") + json.dumps(event, ensure_ascii=False).encode() + sep + sep
    return out


def parse(parts: list[bytes], family: str = "mistral") -> list:
    parser = TgiStreamParser(family)
    events = []
    for part in parts:
        events += parser.feed(part)
    return events + parser.close()


def cuts(data: bytes, rng: random.Random, n: int) -> list[bytes]:
    points = sorted(rng.sample(range(1, len(data)), n))
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)])]


# -- the parser --------------------------------------------------------------------------


def test_one_part_gives_every_token_then_the_end():
    events = parse([tgi_lines(TOKENS)])
    tokens = [e for e in events if isinstance(e, StreamToken)]
    assert [t.text for t in tokens] == [*TOKENS, "</s>"] and [t.index for t in tokens] == list(range(len(TOKENS) + 1))
    assert tokens[-1].special and not any(t.special for t in tokens[:-1])
    assert events[-1] == StreamEnd("".join(TOKENS), "eos_token", len(TOKENS) + 1, 12)


@pytest.mark.parametrize("seed", range(20))
def test_lines_and_utf8_characters_split_anywhere_across_parts(seed):
    """SageMaker's parts end anywhere: inside `data:`, inside the JSON, inside a multi-byte
    character (ç, 🙂); a part may hold the end of one event and the start of the next."""
    data = tgi_lines(TOKENS, space=seed % 2 == 0, crlf=seed % 3 == 0, keepalive=seed % 4 == 0)
    rng = random.Random(seed)
    assert parse(cuts(data, rng, rng.randint(1, 60))) == parse([tgi_lines(TOKENS)])


def test_byte_by_byte():
    data = tgi_lines(TOKENS)
    assert parse([data[i:i + 1] for i in range(len(data))]) == parse([data])


def test_without_details_the_end_counts_the_tokens_it_saw():
    end = parse([tgi_lines(["a", "b"], eos=False, details=False)])[-1]
    assert end == StreamEnd("ab", None, 2, None)


def test_a_stream_cut_before_its_end_is_a_model_failure():
    data = tgi_lines(TOKENS)
    with pytest.raises(ModelFailed, match="ended before the answer was complete"):
        parse([data[: len(data) // 2]])


@pytest.mark.parametrize("error_type, message, expected", [
    ("validation", "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 2048. "
                   "Given: 2100 `inputs` tokens and 20 `max_new_tokens`", ModelInputRejected),
    ("generation", "Request failed during generation: Server error: CUDA out of memory", ModelFailed),
    ("incomplete_generation", "Incomplete generation", ModelFailed),
    ("overloaded", "Model is overloaded", Throttled),
])
def test_tgi_errors_in_the_stream_map_like_the_buffered_answers(error_type, message, expected):
    line = b"data:" + json.dumps({"error": message, "error_type": error_type}).encode() + b"\n\n"
    with pytest.raises(expected) as info:
        parse([tgi_lines(["a"])[:0], line[:7], line[7:]])
    if expected is ModelInputRejected:
        # As the buffered route answers TGI's 422: TGI's message and its true input count.
        assert info.value.message == message and info.value.input_tokens == 2100
        assert info.value.details == [{"model_status": 422}]


def test_an_error_after_tokens_comes_after_them():
    parser = TgiStreamParser("falcon")
    first = parser.feed(tgi_lines(["a", "b"])[:-200].split(b"\n\n")[0] + b"\n\n")
    assert first == [StreamToken(0, "a")]
    with pytest.raises(ModelFailed):
        parser.feed(b'data:{"error":"boom","error_type":"generation"}\n\n')


def test_a_container_that_does_not_stream_answers_one_token():
    body = json.dumps([{"generated_text": " whole answer", "details": {"finish_reason": "length",
                                                                        "generated_tokens": 2}}]).encode()
    assert parse([body[:5], body[5:]]) == [StreamToken(0, " whole answer"), StreamEnd(" whole answer", "length", 2)]


def test_stream_requests_are_the_buffered_request_with_stream_true():
    params = TextParams(max_new_tokens=20, input_tokens_estimate=3, options={"temperature": 0.5}, stop=("###",))
    codec = TgiCodec("falcon")
    buffered, streamed = json.loads(codec.build("hi", params).body), json.loads(codec.build_stream("hi", params).body)
    assert streamed == {**buffered, "stream": True}


# -- stop handling -----------------------------------------------------------------------


def released(pieces: list[str], stops: list[str]) -> tuple[list[str], StopFilter]:
    f = StopFilter(stops)
    out = [f.push(p) for p in pieces]
    out.append(f.finish())
    return out, f


def test_a_stop_split_across_tokens_is_never_shown():
    out, f = released([" Hello", " there", "\nUs", "er", ":", " more"], ["\nUser:"])
    assert "".join(out) == " Hello there" and f.stopped
    assert out[2] == "" and out[3] == ""  # "\nUs", "er" held back: they may be the stop


def test_held_back_text_is_released_when_it_does_not_become_a_stop():
    out, f = released([" a", "\nUs", "ually", " b"], ["\nUser:"])
    assert out == [" a", "", "\nUsually", " b", ""] and not f.stopped


def test_the_earliest_of_several_stops_wins_and_a_held_tail_comes_out_at_the_end():
    out, _ = released(["x#", "#y"], ["##", "#y"])
    assert "".join(out) == "x"
    out, f = released(["ends with #"], ["##"])
    assert out == ["ends with ", "#"] and not f.stopped


def test_a_completed_stop_waits_while_an_earlier_longer_one_may_still_complete():
    """strip_stops cuts at the earliest *start*: "#" completes at 1, but "a#a" (starting at 0)
    may still complete, so nothing is released until it does (or cannot)."""
    out, f = released(["a", "#", "a:a"], ["#", "a#a", "#:#"])
    assert out == ["", "", "", ""] and f.stopped and f.cut == 0
    out, f = released(["a", "#", "b"], ["#", "a#a"])
    assert "".join(out) == "a" and out[:2] == ["", ""] and f.stopped


@settings(max_examples=500, deadline=None)
@given(text=st.text(alphabet="ab#\nUs:ç ", max_size=40),
       stops=st.lists(st.text(alphabet="ab#\nUs:ç", min_size=1, max_size=4), max_size=3),
       seed=st.integers(0, 2**16))
def test_what_is_released_equals_strip_stops_for_any_split(text, stops, seed):
    rng = random.Random(seed)
    points = sorted({rng.randint(0, len(text)) for _ in range(rng.randint(0, 8))})
    pieces = [text[a:b] for a, b in zip([0, *points], [*points, len(text)])]
    out, f = released(pieces, stops)
    expected, stopped = strip_stops(text, stops)
    assert "".join(out) == expected and f.stopped == stopped


# -- a prepared generation's events --------------------------------------------------------


MODELS = json.dumps([
    {"name": "mistral", "model_id": "m", "endpoint_name": "ep-m", "family": "mistral", "kind": "text",
     "max_input_length": 4095, "max_total_tokens": 4096, "default": True},
    {"name": "j2", "model_id": "j", "endpoint_name": "ep-j", "family": "ai21-j2", "kind": "text",
     "max_input_length": 8000, "max_total_tokens": 8191},
])


@pytest.fixture(scope="module")
def text() -> TextService:
    return TextService(Catalog.from_json(MODELS), TemplateRegistry.load(), invoker=None)


def test_events_skip_special_tokens_cut_stops_and_end_with_the_buffered_text(text):
    call = text.prepare_generate(None, "Say hello", {"stop": ["\nUser:"], "max_new_tokens": 30})
    rng = random.Random(3)
    items = list(token_stream.events(call, cuts(tgi_lines(TOKENS), rng, 25)))
    tokens, done = items[:-1], items[-1]
    assert all(isinstance(t, token_stream.TokenEvent) for t in tokens)
    assert "".join(t.text for t in tokens) == done.text == strip_stops("".join(TOKENS), ["\nUser:"])[0]
    assert "</s>" not in done.text and done.finish_reason == "stop_sequence"
    assert done.usage == {"input_tokens_estimate": call.params.input_tokens_estimate, "max_new_tokens": 30,
                          "generated_tokens": len(TOKENS) + 1, "input_tokens": 12}
    assert [t.index for t in tokens] == sorted(t.index for t in tokens)


def test_label_templates_end_with_their_label(text):
    call = text.prepare_template("sentiment", None, {"tweet": "I love it"}, {})
    done = list(token_stream.events(call, [tgi_lines([" Pos", "itive", "\n"], eos=False)]))[-1]
    assert done.template == "sentiment" and done.label == "positive" and done.text == " Positive"


def test_families_that_do_not_stream_and_candidates_are_refused_before_any_call(text):
    with pytest.raises(BadRequest, match="does not stream"):
        token_stream.check_streamable(text.prepare_generate("j2", "hi", {}), None)
    with pytest.raises(BadRequest, match="one answer"):
        token_stream.check_streamable(text.prepare_generate(None, "hi", {}), 2)
    token_stream.check_streamable(text.prepare_generate(None, "hi", {}), 1)


def test_sse_encoding_is_one_event_and_one_json_data_line():
    assert token_stream.encode(token_stream.TokenEvent("a\nb", 4)) == b'event: token\ndata: {"text":"a\\nb","index":4}\n\n'
