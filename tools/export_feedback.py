"""Export human feedback as training data: preference pairs and JumpStart instruction tuning.

    python -m tools.export_feedback --table <feedback table> [--region us-east-1] \
        [--since 2026-11-01] [--until 2026-12-01] [--model falcon-7b-instruct ...] \
        --preferences preferences.jsonl --instructions-dir sft/

Reads the front door's feedback table (``FeedbackTable`` of the Api stack; the deployment
must store generations: ``api.feedback.store_generations: true``) with a paginated Scan,
keeps the generations made in ``[since, until)`` by the given models and the feedback on
them, joins the two by request (docs/feedback-loop.md), and writes:

(a) ``--preferences``: one JSON line per ranked pair, ``{"prompt", "chosen", "rejected"}``:
    the exact prompt the model got, the better and the worse output. A ranking of n
    outputs gives its n(n-1)/2 ordered pairs; ratings of several candidates of one request
    give the pairs their mean ratings order. This is TRL's "standard preference" format
    (huggingface.co/docs/trl, "Dataset formats": ``{"prompt", "chosen", "rejected"}``),
    which its DPO trainer takes as is.
(b) ``--instructions-dir``: ``train.jsonl`` with one ``{"instruction", "context",
    "response"}`` line per preferred output (ranked first, or rated >= ``--min-rating``),
    and ``template.json`` (``{"prompt", "completion"}`` with ``{instruction}``, ``{context}``,
    ``{response}`` placeholders): the layout JumpStart's Falcon instruction fine-tuning
    reads from its ``train`` channel (aws/amazon-sagemaker-examples,
    introduction_to_amazon_algorithms/jumpstart-foundation-models/
    falcon-7b-instruction-domain-adaptation-finetuning.ipynb: "The training data must be
    formatted in JSON lines (.jsonl) format ... The training folder can also contain a
    template.json file describing the input and output formats ... the data in the JSON
    lines entries must include instruction, context, and response fields"; hyperparameter
    ``instruction_tuned="True"``).

Needs ``dynamodb:Scan`` on the table (and ``kms:Decrypt`` on its key). Standard library +
boto3; the item shapes come from the front door (``frontdoor.services.feedback``).
"""

from __future__ import annotations

import argparse
import json
import string
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator

from frontdoor.adapters.feedback_store import from_item
from frontdoor.services.feedback import FEEDBACK_SK_PREFIX, GENERATION_SK, TIME_FORMAT

PREFERENCE_FIELDS = ("prompt", "chosen", "rejected")
INSTRUCTION_FIELDS = ("instruction", "context", "response")
# JumpStart's default instruction template (the notebook above), with a response marker so
# the completion starts where the model's answer does; written as template.json so the
# training job does not depend on the container's default.
JUMPSTART_TEMPLATE = {
    "prompt": "Below is an instruction that describes a task, paired with an input that provides further "
              "context. Write a response that appropriately completes the request.\n\n"
              "### Instruction:\n{instruction}\n\n### Input:\n{context}\n\n### Response:\n",
    "completion": "{response}",
}
DEFAULT_MIN_RATING = 4
DEFAULT_PAGE_SIZE = 500


@dataclass
class Request:
    """One generation request with the feedback given on it."""

    generation: dict[str, Any] | None = None
    feedback: list[dict[str, Any]] = field(default_factory=list)

    @property
    def outputs(self) -> dict[str, str]:
        return {str(c["id"]): c.get("output", "") for c in (self.generation or {}).get("candidates", [])}

    @property
    def prompt(self) -> str:
        g = self.generation or {}
        return g.get("prompt") or g.get("inputs") or ""


@dataclass
class Stats:
    pages: int = 0
    items: int = 0
    generations: int = 0
    feedback: int = 0
    joined: int = 0
    preference_pairs: int = 0
    instructions: int = 0
    skipped_identical: int = 0


def _moment(text: str | None, default: str) -> str:
    """An ISO date or time (naive = UTC) in the items' ``created_at`` format, which sorts as time."""
    if not text:
        return default
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime(TIME_FORMAT)


def scan(client: Any, table: str, *, since: str, until: str, models: list[str] | None = None,
         page_size: int = DEFAULT_PAGE_SIZE, stats: Stats | None = None) -> Iterator[dict[str, Any]]:
    """Generations created in [since, until) (of ``models``, when given) and feedback created
    since ``since`` (feedback comes after its generation), page by page: DynamoDB filters
    server side, the paginator follows ``LastEvaluatedKey``."""
    names = {"#sk": "sk", "#ca": "created_at"}
    values: dict[str, Any] = {":gen": {"S": GENERATION_SK}, ":fb": {"S": FEEDBACK_SK_PREFIX},
                              ":since": {"S": since}, ":until": {"S": until}}
    generation = "#sk = :gen AND #ca >= :since AND #ca < :until"
    if models:
        names["#model"] = "model"
        keys = []
        for i, model in enumerate(models):
            values[f":m{i}"] = {"S": model}
            keys.append(f":m{i}")
        generation += f" AND #model IN ({', '.join(keys)})"
    expression = f"({generation}) OR (begins_with(#sk, :fb) AND #ca >= :since)"
    paginator = client.get_paginator("scan")
    for page in paginator.paginate(TableName=table, FilterExpression=expression, ExpressionAttributeNames=names,
                                   ExpressionAttributeValues=values, PaginationConfig={"PageSize": page_size}):
        if stats is not None:
            stats.pages += 1
        for item in page.get("Items", []):
            if stats is not None:
                stats.items += 1
            yield from_item(item)


def collect(items: Iterable[dict[str, Any]], stats: Stats | None = None) -> dict[str, Request]:
    """Requests that have both a generation (in the window) and feedback."""
    requests: dict[str, Request] = defaultdict(Request)
    for item in items:
        request = requests[item["request_id"]]
        if item["sk"] == GENERATION_SK:
            request.generation = item
            if stats is not None:
                stats.generations += 1
        else:
            request.feedback.append(item)
            if stats is not None:
                stats.feedback += 1
    joined = {rid: r for rid, r in requests.items() if r.generation is not None and r.feedback}
    if stats is not None:
        stats.joined = len(joined)
    return joined


def ranked_ids(request: Request, feedback: dict[str, Any]) -> list[str]:
    """A ranking as candidate ids, best first: as the front door resolved it, or from the
    raw items (an index is the i-th candidate); items naming no candidate are left out."""
    if feedback.get("ranked_ids"):
        return [str(i) for i in feedback["ranked_ids"] if str(i) in request.outputs]
    ids = list(request.outputs)
    resolved = []
    for item in feedback.get("ranking", []):
        item = str(item)
        if item.isdigit() and int(item) < len(ids):
            resolved.append(ids[int(item)])
        elif item in request.outputs:
            resolved.append(item)
    return list(dict.fromkeys(resolved))


def mean_ratings(request: Request) -> dict[str, float]:
    """Mean rating per candidate. A rating without ``candidate_id`` rates the only output
    of a one-output request, and nothing otherwise."""
    ids = list(request.outputs)
    ratings: dict[str, list[int]] = defaultdict(list)
    for fb in request.feedback:
        if fb.get("kind") != "rating" or fb.get("rating") is None:
            continue
        target = fb.get("candidate_id") or (ids[0] if len(ids) == 1 else None)
        if target in request.outputs:
            ratings[target].append(int(fb["rating"]))
    return {cid: sum(values) / len(values) for cid, values in ratings.items()}


def preference_pairs(request: Request, stats: Stats | None = None) -> list[dict[str, str]]:
    outputs, prompt = request.outputs, request.prompt
    pairs: list[tuple[str, str]] = []
    for fb in request.feedback:
        if fb.get("kind") == "ranking":
            order = ranked_ids(request, fb)
            pairs += [(order[i], order[j]) for i in range(len(order)) for j in range(i + 1, len(order))]
    means = mean_ratings(request)
    pairs += [(a, b) for a in means for b in means if means[a] > means[b]]
    rows = []
    for chosen, rejected in pairs:
        if outputs[chosen] == outputs[rejected]:  # no preference signal in two equal texts
            if stats is not None:
                stats.skipped_identical += 1
            continue
        rows.append({"prompt": prompt, "chosen": outputs[chosen], "rejected": outputs[rejected]})
    return rows


def instruction_rows(request: Request, min_rating: int = DEFAULT_MIN_RATING) -> list[dict[str, str]]:
    """The preferred outputs of a request (ranked first by someone, or a mean rating of at
    least ``min_rating``), as instruction-tuning examples."""
    g = request.generation or {}
    preferred: list[str] = []
    for fb in request.feedback:
        if fb.get("kind") == "ranking":
            order = ranked_ids(request, fb)
            if order:
                preferred.append(order[0])
    preferred += [cid for cid, mean in mean_ratings(request).items() if mean >= min_rating]
    instruction = g.get("inputs") or ""
    if g.get("system"):
        instruction = f"{g['system']}\n\n{instruction}"
    rows = []
    for cid in dict.fromkeys(preferred):
        response = request.outputs[cid].strip()
        if instruction.strip() and response:
            rows.append({"instruction": instruction, "context": "", "response": response})
    return rows


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count


def template_fields(template: dict[str, str]) -> set[str]:
    """The ``{field}`` placeholders of a JumpStart template.json."""
    return {name for text in template.values() for _, name, _, _ in string.Formatter().parse(text) if name}


def export(client: Any, table: str, *, since: str | None = None, until: str | None = None,
           models: list[str] | None = None, preferences: Path | None = None, instructions_dir: Path | None = None,
           min_rating: int = DEFAULT_MIN_RATING, page_size: int = DEFAULT_PAGE_SIZE) -> Stats:
    stats = Stats()
    items = scan(client, table, since=_moment(since, "0000"), until=_moment(until, "9999"), models=models,
                 page_size=page_size, stats=stats)
    requests = [r for _, r in sorted(collect(items, stats).items())]
    if preferences is not None:
        stats.preference_pairs = write_jsonl(preferences, (row for r in requests for row in preference_pairs(r, stats)))
    if instructions_dir is not None:
        stats.instructions = write_jsonl(instructions_dir / "train.jsonl",
                                         (row for r in requests for row in instruction_rows(r, min_rating)))
        (instructions_dir / "template.json").write_text(json.dumps(JUMPSTART_TEMPLATE, indent=1) + "\n",
                                                        encoding="utf-8")
    return stats


def main(argv: list[str] | None = None, client: Any = None) -> int:
    parser = argparse.ArgumentParser(description="Export feedback as preference pairs and JumpStart instruction data.")
    parser.add_argument("--table", required=True, help="the feedback table (Api stack output / FEEDBACK_TABLE_NAME)")
    parser.add_argument("--region", help="default: the AWS config's")
    parser.add_argument("--endpoint-url", help="a DynamoDB endpoint (local runs: moto)")
    parser.add_argument("--since", help="generations created at or after (ISO date or time, UTC)")
    parser.add_argument("--until", help="generations created before (ISO date or time, UTC)")
    parser.add_argument("--model", action="append", dest="models", help="only this model's generations (repeatable)")
    parser.add_argument("--preferences", type=Path, help="write the preference JSONL here")
    parser.add_argument("--instructions-dir", type=Path, help="write train.jsonl + template.json here")
    parser.add_argument("--min-rating", type=int, default=DEFAULT_MIN_RATING, choices=range(1, 6),
                        help="ratings at least this high make instruction examples (default %(default)s)")
    parser.add_argument("--page-size", type=int, default=DEFAULT_PAGE_SIZE, help="items per Scan page")
    args = parser.parse_args(argv)
    if args.preferences is None and args.instructions_dir is None:
        parser.error("nothing to write: give --preferences and/or --instructions-dir")
    if client is None:
        import boto3

        client = boto3.client("dynamodb", region_name=args.region, endpoint_url=args.endpoint_url)
    stats = export(client, args.table, since=args.since, until=args.until, models=args.models,
                   preferences=args.preferences, instructions_dir=args.instructions_dir,
                   min_rating=args.min_rating, page_size=args.page_size)
    print(json.dumps(stats.__dict__), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
