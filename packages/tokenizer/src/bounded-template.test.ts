import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from '@huggingface/jinja';
import { BoundedTemplate, ChatTemplateError } from './bounded-template';
import { CHAT_TEMPLATE_JINJA } from './chat-template';
import { HfTokenizer } from './hf-tokenizer';
import { LLAMA2_CHAT_TEMPLATE, tinyHfTokenizerFiles } from './hf-tokenizer.test-helper';

const messages = [
  { role: 'user', content: 'what colour is the square?' },
  { role: 'assistant', content: 'red' },
  { role: 'user', content: 'and the circle?' },
];
const tokens = { bos_token: '<s>', eos_token: '</s>' };

/** The error a render or a construction throws, for assertions on its type and text. */
function caught(f: () => unknown): ChatTemplateError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ChatTemplateError);
    return e as ChatTemplateError;
  }
  throw new Error('expected a ChatTemplateError, nothing was thrown');
}

describe('BoundedTemplate: chat templates rendered with a step and output budget', () => {
  it.each([
    ['ours', CHAT_TEMPLATE_JINJA],
    ['Llama 2', LLAMA2_CHAT_TEMPLATE],
    ['globals', "{{ range(3)|join(',') }} {{ true }} {{ none is none }} {{ strftime_now('%Y')|length }}{% for i in range(2, 8, 3) %}/{{ i }}{% endfor %}"],
  ])('renders the %s template exactly as @huggingface/jinja does', (_name, text) => {
    const items = { messages, add_generation_prompt: true, ...tokens };
    expect(new BoundedTemplate(text, 'test').render(items)).toBe(new Template(text).render(items));
  });

  it('refuses range(1e9) before building it: a ChatTemplateError naming the source, not a V8 abort', () => {
    const error = caught(() => new BoundedTemplate('{% for i in range(1000000000) %}x{% endfor %}', 'models/evil/tokenizer_config.json').render({ messages }));
    expect(error.message).toMatch(/^models\/evil\/tokenizer_config\.json: chat_template: rendering stopped: range\(0, 1000000000, 1\) has 1000000000 items, over the budget of 100000 steps/);
  });

  it('counts loop iterations even when the body evaluates nothing: nested loops stop at the step budget', () => {
    const nested = new BoundedTemplate('{% for i in range(40) %}{% for j in range(40) %}{% endfor %}{% endfor %}ok', 'nested');
    expect(nested.render({}, { maxSteps: 2_000 })).toBe('ok'); // 40 + 40 x 40 items and a few nodes
    expect(caught(() => nested.render({}, { maxSteps: 1_000 })).reason).toMatch(/^rendering stopped: .*over the budget of 1000 steps/);
  });

  it('stops a string that doubles past the output budget as soon as it is built', () => {
    const doubling = new BoundedTemplate("{% set ns = namespace(t='x') %}{% for i in range(60) %}{% set ns.t = ns.t ~ ns.t %}{% endfor %}{{ ns.t }}", 'doubling');
    expect(caught(() => doubling.render({}, { maxOutputChars: 4096 })).reason).toMatch(/a string of 8192 characters, over the output budget of 4096/);
  });

  it('turns a syntax error and raise_exception into ChatTemplateErrors with jinja\'s message', () => {
    expect(caught(() => new BoundedTemplate('{% for m in messages %}{{ m.content }', 'broken')).message).toMatch(/^broken: chat_template: does not parse \(.+\)/);
    const raising = new BoundedTemplate("{{ raise_exception('Conversation roles must alternate user/assistant') }}", 'strict');
    expect(caught(() => raising.render({ messages })).message).toBe('strict: chat_template: rendering failed (Conversation roles must alternate user/assistant)');
  });
});

describe('HfTokenizer renders its chat template once on a probe conversation when it is made', () => {
  const withTemplate = (template: string) => {
    const files = tinyHfTokenizerFiles();
    const config = { ...JSON.parse(files['tokenizer_config.json']), chat_template: template };
    return { tokenizer: JSON.parse(files['tokenizer.json']) as Record<string, unknown>, config };
  };

  it.each([
    ['loops for ever', '{% for i in range(1000000000) %}x{% endfor %}', /range\(0, 1000000000, 1\) has 1000000000 items/],
    ['does not parse', '{% if messages %}never closed', /does not parse/],
    ['raises', "{{ raise_exception('no system role') }}", /rendering failed \(no system role\)/],
  ])('a template that %s is refused by load, naming the tokenizer_config.json it came from', async (_what, template, reason) => {
    const dir = mkdtempSync(join(tmpdir(), 'bounded-template-'));
    const { tokenizer, config } = withTemplate(template);
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizer));
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(config));
    const error = await HfTokenizer.load(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChatTemplateError);
    expect((error as ChatTemplateError).source).toBe(join(dir, 'tokenizer_config.json'));
    expect((error as ChatTemplateError).reason).toMatch(reason);
  });

  it('a well-behaved template loads and renders as before', () => {
    const { tokenizer, config } = withTemplate(LLAMA2_CHAT_TEMPLATE);
    const hf = HfTokenizer.fromJson(tokenizer, config);
    expect(hf.render([{ from: 'human', value: 'hi' }, { from: 'gpt', value: 'red' }])).toBe('<s>[INST] hi [/INST] red </s>');
  });
});
