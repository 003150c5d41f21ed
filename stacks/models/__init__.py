"""Model resolution: the pinned catalogs -> JumpStart / Marketplace / shared-endpoint resolution -> the `Resolved*` values constructs build from."""
