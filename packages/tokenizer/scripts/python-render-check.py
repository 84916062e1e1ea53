"""Renders every fixture chat template with Python's jinja2 as transformers compiles chat templates
(ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols, raise_exception).
Reads {"template": name, "messages": [...], "add_generation_prompt": bool, ...variables} lines on
stdin, writes one JSON string per line (the render, or "ERROR <message>")."""
import json
import sys
from pathlib import Path

from jinja2 import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

FIXTURES = Path(__file__).resolve().parent.parent / 'src' / 'fixtures' / 'chat-templates'
env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=['jinja2.ext.loopcontrols'])


def raise_exception(message):
    raise TemplateError(message)


env.globals['raise_exception'] = raise_exception

for line in sys.stdin:
    job = json.loads(line)
    template = env.from_string((FIXTURES / f"{job.pop('template')}.jinja").read_text())
    try:
        out = template.render(**job)
    except Exception as error:  # the template's own raise_exception included
        out = f'ERROR {error}'
    print(json.dumps(out), flush=True)
