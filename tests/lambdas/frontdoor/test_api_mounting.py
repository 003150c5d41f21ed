"""The resolver mounts route modules on demand (``frontdoor.api.resolve``): the table it
reads (``ROUTES``) is the routers' own rules, and every route that can match a path
belongs to a module the path mounts, so a request answers as it would with every module
mounted. Which modules a cold start leaves unimported: tests/lambdas/frontdoor/test_cold_start.py.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from frontdoor import api

ROUTES_DIR = Path(api.__file__).resolve().parent / "routes"


def _rules(name: str) -> set[tuple[str, str]]:
    router = importlib.import_module(f"frontdoor.routes.{name}").router
    return {(key[0], method) for key in router._routes for method in key[1]}


def test_the_table_lists_every_route_module_and_exactly_its_rules():
    modules = {p.stem for p in ROUTES_DIR.glob("*.py")
               if p.stem != "__init__" and "router = Router()" in p.read_text(encoding="utf-8")}
    assert set(api.ROUTES) == modules
    for name, rules in api.ROUTES.items():
        assert {rule for rule, _ in _rules(name)} == set(rules), name


def _samples() -> list[str]:
    paths = [rule.replace("<", "").replace(">", "") for rules in api.ROUTES.values() for rule in rules]
    return paths + [p + "/" for p in paths] + [p + "//" for p in paths] + ["/v1/templates/caf%C3%A9", "/v1/models/a.b-c"]


@pytest.mark.parametrize("path", _samples())
def test_every_route_that_matches_a_path_is_in_a_module_the_path_mounts(path):
    mounted = api.modules_for(path)
    for name in api.ROUTES:
        for rule, _ in _rules(name):
            if APIGatewayRestResolver._compile_regex(rule).match(path):
                assert name in mounted, (path, rule)


@pytest.mark.parametrize(("path", "modules"), [
    ("/v1/templates", ("catalog",)),
    ("/v1/templates/", ("catalog",)),
    ("/v1/templates/sentiment", ("generation",)),
    ("/v1/templates/sentiment/stream", ("generation_stream",)),
    ("/v1/models", ("catalog",)),
    ("/v1/models/falcon-7b-instruct", ("openai_media",)),
    ("/v1/chat/completions", ("openai_text",)),
    ("/v1/images/generations", ("openai_media",)),
    ("/v1/jobs/abc", ("summarize",)),
])
def test_a_path_mounts_only_the_modules_that_serve_it(path, modules):
    assert api.modules_for(path) == modules


@pytest.mark.parametrize("path", ["/", "", "/v1", "/v1/nope", "/v1/templates/a/b/c", "/v1/models//x", None, 3])
def test_a_path_no_rule_matches_mounts_every_module_so_its_404_is_unchanged(path):
    assert api.modules_for(path) == tuple(api.ROUTES)


def test_app_is_the_resolver_with_every_route_mounted():
    app = api.app
    mounted = {(r.rule.pattern, r.method) for r in app._static_routes + app._dynamic_routes}
    expected = {(APIGatewayRestResolver._compile_regex(rule).pattern, method)
                for name in api.ROUTES for rule, method in _rules(name)}
    assert mounted == expected
