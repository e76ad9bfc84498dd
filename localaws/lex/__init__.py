"""Emulated Amazon Lex V2: build a bot in code (lexv2-models) and talk to it (lexv2-runtime).

moto has no Lex V2 locales, intents or runtime, so localaws keeps the whole service. A
built locale really understands: intents are matched by TF-IDF similarity to their sample
utterances and slot values are resolved against slot types (see nlu.py and dialog.py).
"""
from __future__ import annotations

from ..protocol import front_ends
from .models import LexBackend
from .responses import ModelsResponses, RuntimeResponses


def build(emulator) -> dict:
    backend = LexBackend()
    services = {}
    for service, handlers, variable in (("lexv2-models", ModelsResponses(backend), "AWS_ENDPOINT_URL_LEX_MODELS_V2"),
                                        ("lexv2-runtime", RuntimeResponses(backend), "AWS_ENDPOINT_URL_LEX_RUNTIME_V2")):
        for i, front_end in enumerate(front_ends(service, handlers, strict=emulator.strict)):
            front_end.endpoint_variables = (variable,)
            services[f"{service}-{i}" if i else service] = front_end
    services["lexv2-models"].leftovers = backend.leftovers
    services["lexv2-models"].clear_leftovers = backend.clear_leftovers
    return services
