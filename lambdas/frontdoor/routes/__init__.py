"""Route modules, one Router each; ``frontdoor.api`` mounts them."""
