"""AWS Marketplace model packages as a model source, resolved and refused at synth.

An endpoint names a package (`endpoints[].model_package: ai21-j2-ultra`) instead of a
JumpStart model. The pinned catalog (config/catalog/marketplace.yaml) says which packages
exist, which AI21 still lists, on which instance types they run (and with which context
window), and their model package ARN per region. Synth needs neither network nor
credentials; whether the account is subscribed is a deploy-time fact `make preflight`
checks (tools/preflight/).

Refusal order, most basic first: package known -> still listed -> fields a package takes
-> instance supported -> instance priced (config/catalog/instances.yaml) -> region has an ARN.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from stacks.config import AppConfig, ConfigError, EndpointConfig, catalog
from stacks.config.marketplace_catalog import (
    DOWNLOAD_TIMEOUT_S,
    HEALTH_CHECK_TIMEOUT_S,
    MarketplaceCatalog,
    PackageFacts,
    packages,
)
from stacks.models import sizing
from stacks.models.resolved import EndpointCapacity, NamedModel


@dataclass(frozen=True)
class ResolvedPackage(NamedModel, EndpointCapacity):
    """Everything a MarketplaceEndpoint construct needs, already validated. Shares the
    fields of `stacks.models.jumpstart.ResolvedEndpoint` that every consumer reads (name,
    family, kind, instance, capacity, token limits, timeouts, settings); has no image,
    artifacts or weights: the seller's package carries them."""

    name: str
    model_id: str  # the catalog key, e.g. ai21-j2-ultra
    model_version: str  # the package version, e.g. v2-1-000
    family: str
    kind: str
    region: str
    instance_type: str
    instance: catalog.InstanceFacts
    model_package_arn: str
    package: PackageFacts = field(repr=False)
    context_tokens: int
    model_data_download_timeout_seconds: int
    startup_health_check_timeout_seconds: int
    is_default: bool
    settings: EndpointConfig = field(repr=False)
    instance_note: str = ""
    # The family's lifecycle (e.g. Jurassic-2's end of life at AI21); the summary prints it.
    lifecycle_note: str = ""

    environment: dict[str, str] = field(default_factory=dict)  # packages take none
    weights_gib = None  # not published by the seller: no GPU-memory fit to compute
    sm_num_gpus = None
    gated = False

    @property
    def max_total_tokens(self) -> int:
        return self.context_tokens

    @property
    def max_input_length(self) -> int:
        # J2 counts prompt and completion against one window; leave room for one token.
        return self.context_tokens - 1


def _listed_phrase(cat: MarketplaceCatalog, region: str) -> str:
    here = cat.listed(region)
    return f"listed packages in {region}: {', '.join(here)}" if here else (
        f"no listed package has an ARN in {region}; listed packages: {', '.join(cat.listed()) or 'none'}")


def _instances_phrase(p: PackageFacts) -> str:
    return ", ".join(f"{t} ({i.context_tokens}-token context)" for t, i in p.instances.items())


def resolve_package(config: AppConfig, index: int) -> ResolvedPackage:
    """Validate one endpoint that names a model package and resolve it."""
    ep = config.endpoints[index]
    path = f"endpoints[{index}]"
    cat = packages()
    key = ep.model_package
    p = cat.packages.get(key)
    if p is None:
        raise ConfigError(f"{path}.model_package", f"unknown package {key!r}; listed: {', '.join(cat.listed())}")
    _check_package_fields(config, path, ep, p)
    known = catalog.instances().instances
    priced = sorted((known[t].usd_per_hour, t) for t in p.instances if t in known)
    instance_type, note = _choose_instance(ep, key, p, priced)
    if instance_type not in p.instances:
        cheapest = (f" (the cheapest is {priced[0][1]}, {catalog.usd(priced[0][0])}/h)" if priced else "")
        raise ConfigError(
            f"{path}.instance_type",
            f"{instance_type!r} is not supported by {key}; supported: {_instances_phrase(p)}{cheapest}",
        )
    if instance_type not in known:
        raise ConfigError(f"{path}.instance_type", f"no pinned facts for {instance_type!r} "
                                                   f"(config/catalog/instances.yaml); known: {', '.join(sorted(known))}")
    if config.region not in p.regions:
        raise ConfigError(
            "region",
            f"{key} has no model package in {config.region}; regions with one: {', '.join(sorted(p.regions))}",
        )
    override = ep.startup_health_check_timeout_seconds
    return ResolvedPackage(
        name=ep.name or p.short_name,
        model_id=key,
        model_version=p.version,
        family=p.family,
        kind=p.kind,
        region=config.region,
        instance_type=instance_type,
        instance=known[instance_type],
        model_package_arn=p.regions[config.region],
        package=p,
        context_tokens=p.instances[instance_type].context_tokens,
        model_data_download_timeout_seconds=override or DOWNLOAD_TIMEOUT_S,
        startup_health_check_timeout_seconds=override or HEALTH_CHECK_TIMEOUT_S,
        is_default=ep.default,
        settings=ep,
        instance_note=note,
        lifecycle_note=cat.family_notes.get(p.family, ""),
    )


def _check_package_fields(config: AppConfig, path: str, ep: EndpointConfig, p: PackageFacts) -> None:
    """Refuse a package its seller no longer lists, and the fields a package does not take."""
    key = ep.model_package
    if p.status != "listed":
        raise ConfigError(
            f"{path}.model_package",
            f"{key!r} ({p.title}) is no longer listed by its seller ({p.status_note}); use {p.replaced_by}; "
            f"{_listed_phrase(packages(), config.region)}",
        )
    if ep.model_version is not None and ep.model_version != p.version:
        raise ConfigError(f"{path}.model_version", f"version {ep.model_version!r} of {key} is not pinned; "
                                                   f"pinned: {p.version} (config/catalog/marketplace.yaml)")
    if ep.environment:
        # SageMaker refuses an Environment map on a model package container unless the
        # listing allows overrides; the J2 listings document none.
        raise ConfigError(f"{path}.environment", f"a model package takes no container environment; "
                                                 f"remove environment ({', '.join(sorted(ep.environment))})")
    if ep.accept_eula:
        raise ConfigError(f"{path}.accept_eula", f"{key} is accepted with its AWS Marketplace subscription "
                                                 f"({p.listing}), not in the config; remove accept_eula")


def _choose_instance(ep: EndpointConfig, key: str, p: PackageFacts, priced: list[tuple[float, str]]) -> tuple[str, str]:
    """(instance type, note): `catalog.choose_instance` over the instances the seller supports
    (pinned us-east-1 list prices); a package has no weights to fit, its seller names the
    instances. A named, costlier instance may be chosen for its longer context: the note
    says what the cheapest would save."""
    def chosen_note(cheapest: str, price: float) -> str:
        context = p.instances[cheapest].context_tokens
        longest = max(p.instances.items(), key=lambda kv: kv[1].context_tokens)
        more = (f"; {longest[0]} serves {longest[1].context_tokens}" if longest[1].context_tokens > context else "")
        return (f"{cheapest}: the cheapest instance {key} supports ({catalog.usd(price)}/h us-east-1 "
                f"list price; {context}-token context{more})")

    def cheaper_note(cheapest: str, price: float, saved: str) -> str:
        named = ep.instance_type
        if named not in p.instances:  # refused right after, by the support check
            return ""
        return (f"{cheapest} is also supported ({catalog.usd(price)}/h, {p.instances[cheapest].context_tokens}-token "
                f"context against {p.instances[named].context_tokens}): {saved}/month less per instance than {named}")

    # No supported instance priced: the first listed, and the support check names the list.
    return sizing.choose_instance(ep.instance_type, priced, fallback=(next(iter(p.instances)), ""),
                                  chosen_note=chosen_note, cheaper_note=cheaper_note)
