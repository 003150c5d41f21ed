"""What every function needs to talk to a model, and nothing about HTTP.

The model catalog from the environment, prompt formats and payload codecs per
family, parameter rules, token estimation and stop handling (pure), and the
SageMaker runtime and control clients with one error taxonomy (``errors``),
wake logic and the shared observability setup. ``frontdoor`` and ``summarizer``
import this package; it imports neither.
"""
