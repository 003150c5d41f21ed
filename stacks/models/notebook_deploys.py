"""What a Studio notebook may deploy (config `studio.deploy`, issue 21): the instance-type
allow-list IAM enforces, the JumpStart images the notebook model role may pull, and the
hourly cost bound the synth summary states. Pure and offline, from the pinned JumpStart
specs (config/jumpstart) and the catalog (config/catalog).

The default allow-list is, for each catalog model with an inference image in the
deployment's region, the cheapest instance JumpStart supports for it whose memory fits its
weights (`stacks.models.sizing.fits`, the rule the platform's own endpoints use) among
those with at most `studio.deploy.max_gpus` GPUs; a model that fits nothing that small
adds nothing. A notebook is thus never refused the instance the platform would choose,
and never offered a bigger one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from stacks.config import AppConfig, ConfigError, catalog
from stacks.models import sizing
from stacks.models.pinned import METADATA_DIR, read_manifest, read_spec, regions_with_image, supported_models


@dataclass(frozen=True)
class NotebookChoice:
    """One catalog model and the instance the default allow-list holds for it."""

    model_id: str
    instance_type: str
    usd_per_hour: float
    note: str


@dataclass(frozen=True)
class NotebookDeploys:
    """The resolved `studio.deploy` of a deployment with notebook deploys on."""

    instance_types: tuple[str, ...]
    # Default allow-list only: why each type is on it (empty for a configured list).
    choices: tuple[NotebookChoice, ...]
    # (registry account, repository) of every catalog model's image in the region.
    image_repositories: tuple[tuple[str, str], ...]
    max_endpoints_per_user: int

    @property
    def dearest(self) -> tuple[str, float]:
        """(instance type, us-east-1 $/h) of the allow-list's most expensive instance."""
        known = catalog.instances().instances
        return max(((t, known[t].usd_per_hour) for t in self.instance_types), key=lambda p: (p[1], p[0]))

    @property
    def max_usd_per_hour_per_user(self) -> float:
        """The dearest instance x the per-user endpoint cap (one instance per endpoint, the
        SDK's default; IAM can bound neither the count of endpoints nor of instances)."""
        return self.dearest[1] * self.max_endpoints_per_user


def _regional_models(region: str, metadata_dir: Path) -> list[tuple[str, dict]]:
    """(model id, pinned spec) of each catalog model with an inference image in `region`."""
    manifest = read_manifest(metadata_dir)
    specs = [(m, read_spec(metadata_dir, manifest[m]["spec_key"])) for m in supported_models(metadata_dir)]
    return [(m, spec) for m, spec in specs if region in regions_with_image(spec)]


def _repositories(region: str, models: list[tuple[str, dict]]) -> tuple[tuple[str, str], ...]:
    """The ECR repositories of the models' images in `region`, from the specs' regional aliases."""
    found = set()
    for _, spec in models:
        for uri in spec["hosting_instance_type_variants"]["regional_aliases"][region].values():
            host, _, rest = uri.partition("/")
            found.add((host.split(".")[0], rest.split(":")[0].split("@")[0]))
    return tuple(sorted(found))


def _default_choices(max_gpus: int, models: list[tuple[str, dict]]) -> list[NotebookChoice]:
    known = catalog.instances().instances
    facts = catalog.models().models
    choices = []
    for model_id, spec in models:
        fitting = sorted(
            (known[t].usd_per_hour, t)
            for t in spec["supported_inference_instance_types"]
            if t in known and known[t].gpus <= max_gpus and sizing.fits(facts[model_id], known[t])
        )
        chosen, note = sizing.choose_instance(
            None, fitting, fallback=("", ""),
            chosen_note=lambda t, p: (f"the cheapest supported instance with <= {max_gpus} GPUs whose "
                                      f"{known[t].memory_kind} fits ({known[t].model_memory_gib:g} GiB, "
                                      f"{catalog.usd(p)}/h us-east-1)"),
            cheaper_note=lambda t, p, saved: "",
        )
        if chosen:  # "": nothing with so few GPUs fits this model
            choices.append(NotebookChoice(model_id, chosen, known[chosen].usd_per_hour, note))
    return choices


def notebook_deploys(config: AppConfig, metadata_dir: Path = METADATA_DIR) -> NotebookDeploys | None:
    """The allow-list and images of `studio.deploy`, or None when Studio or notebook deploys
    are off. Refuses a configured instance type the catalog has no price for (the cost bound
    needs one) and an allow-list that would be empty."""
    deploy = config.studio.deploy
    if not (config.studio.enabled and deploy.enabled):
        return None
    models = _regional_models(config.region, metadata_dir)
    known = catalog.instances().instances
    if deploy.instance_types is not None:
        for i, t in enumerate(deploy.instance_types):
            if t not in known:
                raise ConfigError(
                    f"studio.deploy.instance_types[{i}]",
                    f"no pinned facts for {t!r} (config/catalog/instances.yaml), so no cost bound; "
                    f"known: {', '.join(sorted(known))}",
                )
        choices: list[NotebookChoice] = []
        types = tuple(sorted(set(deploy.instance_types)))
    else:
        choices = _default_choices(deploy.max_gpus, models)
        types = tuple(sorted({c.instance_type for c in choices}))
    if not types:
        raise ConfigError(
            "studio.deploy.instance_types" if deploy.instance_types is not None else "studio.deploy.max_gpus",
            f"the allow-list is empty: no catalog model fits an instance with at most {deploy.max_gpus} GPUs; "
            "raise max_gpus, list instance_types, or set studio.deploy.enabled: false",
        )
    return NotebookDeploys(
        instance_types=types,
        choices=tuple(choices),
        image_repositories=_repositories(config.region, models),
        max_endpoints_per_user=deploy.max_endpoints_per_user,
    )
