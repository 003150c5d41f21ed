"""Request and response models of the API; they also generate its OpenAPI document.

Requests are strict (no "5" -> 5 coercion) and forbid unknown fields, so a typo
in a parameter name is a 400 instead of a silently ignored knob. Whatever a
request must satisfy is in its schema, cross-field rules included (``oneOf``):
a body the document accepts is never a 400. What the schema cannot know, the
deployment's models and templates, is a 422 (see ``responses.error_responses``).

One module per area: ``base`` (the model bases and shared field types),
``responses`` (the error body and an operation's documented responses),
``generation``, ``streams`` (the token streams' events), ``images``,
``feedback``, ``catalog`` and ``summarize``. Routes import from these modules.
"""
