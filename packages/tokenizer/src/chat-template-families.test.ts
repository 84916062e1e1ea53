/**
 * Golden tests: the real chat templates of released model families (fixtures/chat-templates),
 * each with its real special tokens. The expected renders and trained text are written by hand
 * from each family's documented prompt format, not produced by the code under test; the mask
 * convention is TRL's assistant_only_loss: each assistant turn's content and the special token
 * that ends it, nothing of the next header.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HfTokenizer, type HfTokenizerOptions } from './hf-tokenizer';
import { applyChatTemplate, type ChatTurn } from './chat-template';
import { ChatTemplateError } from './bounded-template';
import { byteLevelFiles, type FamilyTokens } from './byte-level.test-helper';

const template = (name: string) => readFileSync(join(__dirname, 'fixtures', 'chat-templates', `${name}.jinja`), 'utf8');

function tokenizer(name: string, family: FamilyTokens, options: HfTokenizerOptions = {}): HfTokenizer {
  const { tokenizer, config } = byteLevelFiles(family, template(name));
  return HfTokenizer.fromJson(tokenizer, config, { source: name, ...options });
}

/** The trained tokens, decoded run by run (special tokens kept). */
function trainedRuns(tok: HfTokenizer, conversation: readonly ChatTurn[], addGenerationPrompt = false): string[] {
  const { ids, lossMask } = applyChatTemplate(tok, conversation, { addGenerationPrompt });
  expect(lossMask).toHaveLength(ids.length);
  const runs: string[] = [];
  let run: number[] = [];
  ids.forEach((id, i) => {
    if (lossMask[i] === 1) run.push(id);
    else if (run.length) (runs.push(tok.decode(run, { skipSpecial: false })), (run = []));
  });
  if (run.length) runs.push(tok.decode(run, { skipSpecial: false }));
  return runs;
}

const SYSTEM: ChatTurn = { from: 'system', value: 'You answer briefly.' };
const CHAT: ChatTurn[] = [
  { from: 'human', value: '<image>\nWhat colour is the square?' },
  { from: 'gpt', value: 'The square is red.' },
  { from: 'human', value: 'And the circle?' },
  { from: 'gpt', value: 'Blue.' },
];

const LLAMA3: FamilyTokens = { specials: ['<|begin_of_text|>', '<|end_of_text|>', '<|start_header_id|>', '<|end_header_id|>', '<|eot_id|>'], bos: '<|begin_of_text|>', eos: '<|eot_id|>' };
const CHATML: FamilyTokens = { specials: ['<|endoftext|>', '<|im_start|>', '<|im_end|>'], eos: '<|im_end|>', pad: '<|endoftext|>' };
const QWEN3: FamilyTokens = { ...CHATML, plain: ['<think>', '</think>'] };
const SMOLLM2: FamilyTokens = { specials: ['<|endoftext|>', '<|im_start|>', '<|im_end|>'], bos: '<|im_start|>', eos: '<|im_end|>' };
const MISTRAL: FamilyTokens = { specials: ['<unk>', '<s>', '</s>', '[INST]', '[/INST]', '[TOOL_CALLS]', '[AVAILABLE_TOOLS]', '[/AVAILABLE_TOOLS]'], bos: '<s>', eos: '</s>' };
const GEMMA: FamilyTokens = { specials: ['<pad>', '<eos>', '<bos>', '<start_of_turn>', '<end_of_turn>'], bos: '<bos>', eos: '<eos>', pad: '<pad>' };
const PHI3: FamilyTokens = { specials: ['<unk>', '<s>', '</s>', '<|endoftext|>', '<|assistant|>', '<|end|>', '<|system|>', '<|user|>'], bos: '<s>', eos: '<|endoftext|>' };

const LLAMA3_TURNS =
  '<|start_header_id|>user<|end_header_id|>\n\n<image>\nWhat colour is the square?<|eot_id|>' +
  '<|start_header_id|>assistant<|end_header_id|>\n\nThe square is red.<|eot_id|>' +
  '<|start_header_id|>user<|end_header_id|>\n\nAnd the circle?<|eot_id|>' +
  '<|start_header_id|>assistant<|end_header_id|>\n\nBlue.<|eot_id|>';
const CHATML_TURNS =
  '<|im_start|>user\n<image>\nWhat colour is the square?<|im_end|>\n<|im_start|>assistant\nThe square is red.<|im_end|>\n' +
  '<|im_start|>user\nAnd the circle?<|im_end|>\n<|im_start|>assistant\nBlue.<|im_end|>\n';

interface Golden {
  name: string;
  family: FamilyTokens;
  options?: HfTokenizerOptions;
  conversation: ChatTurn[];
  render: string;
  trained: string[];
}

const GOLDEN: Golden[] = [
  {
    name: 'llama-3-8b-instruct',
    family: LLAMA3,
    conversation: [SYSTEM, ...CHAT],
    render: '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou answer briefly.<|eot_id|>' + LLAMA3_TURNS,
    trained: ['The square is red.<|eot_id|>', 'Blue.<|eot_id|>'],
  },
  {
    name: 'llama-3.1-8b-instruct',
    family: LLAMA3,
    options: { templateVariables: { date_string: '26 Jul 2024' } },
    conversation: [SYSTEM, ...CHAT],
    render: '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\nYou answer briefly.<|eot_id|>' + LLAMA3_TURNS,
    trained: ['The square is red.<|eot_id|>', 'Blue.<|eot_id|>'],
  },
  {
    name: 'llama-3.2-1b-instruct',
    family: LLAMA3,
    options: { templateVariables: { date_string: '06 Dec 2026' } },
    conversation: CHAT,
    render: '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 06 Dec 2026\n\n<|eot_id|>' + LLAMA3_TURNS,
    trained: ['The square is red.<|eot_id|>', 'Blue.<|eot_id|>'],
  },
  {
    name: 'qwen2.5-instruct',
    family: CHATML,
    conversation: CHAT,
    render: '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' + CHATML_TURNS,
    trained: ['The square is red.<|im_end|>', 'Blue.<|im_end|>'],
  },
  {
    name: 'qwen2.5-instruct',
    family: CHATML,
    conversation: [SYSTEM, ...CHAT],
    render: '<|im_start|>system\nYou answer briefly.<|im_end|>\n' + CHATML_TURNS,
    trained: ['The square is red.<|im_end|>', 'Blue.<|im_end|>'],
  },
  {
    // the last turn after the last question gets an empty reasoning block; earlier turns do not
    name: 'qwen3',
    family: QWEN3,
    conversation: [SYSTEM, ...CHAT],
    render:
      '<|im_start|>system\nYou answer briefly.<|im_end|>\n<|im_start|>user\n<image>\nWhat colour is the square?<|im_end|>\n<|im_start|>assistant\nThe square is red.<|im_end|>\n' +
      '<|im_start|>user\nAnd the circle?<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\nBlue.<|im_end|>\n',
    trained: ['The square is red.<|im_end|>', 'Blue.<|im_end|>'],
  },
  {
    // an earlier turn's reasoning is dropped from the render: only its answer is there to train
    name: 'qwen3',
    family: QWEN3,
    conversation: [CHAT[0]!, { from: 'gpt', value: '<think>\nIt looks red.\n</think>\n\nThe square is red.' }, CHAT[2]!, CHAT[3]!],
    render:
      '<|im_start|>user\n<image>\nWhat colour is the square?<|im_end|>\n<|im_start|>assistant\nThe square is red.<|im_end|>\n' +
      '<|im_start|>user\nAnd the circle?<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\nBlue.<|im_end|>\n',
    trained: ['The square is red.<|im_end|>', 'Blue.<|im_end|>'],
  },
  {
    // v0.3 puts the system message into the user turn only when that turn is the conversation's
    // last message (a prompt); after a final answer transformers renders no system text at all
    name: 'mistral-7b-instruct-v0.3',
    family: MISTRAL,
    conversation: [SYSTEM, ...CHAT],
    render: '<s>[INST] <image>\nWhat colour is the square?[/INST] The square is red.</s>[INST] And the circle?[/INST] Blue.</s>',
    trained: ['The square is red.</s>', 'Blue.</s>'],
  },
  {
    name: 'gemma-2-it',
    family: GEMMA,
    conversation: CHAT,
    render:
      '<bos><start_of_turn>user\n<image>\nWhat colour is the square?<end_of_turn>\n<start_of_turn>model\nThe square is red.<end_of_turn>\n' +
      '<start_of_turn>user\nAnd the circle?<end_of_turn>\n<start_of_turn>model\nBlue.<end_of_turn>\n',
    trained: ['The square is red.<end_of_turn>', 'Blue.<end_of_turn>'],
  },
  {
    // Gemma 3 merges the system message into the first user turn
    name: 'gemma-3-it',
    family: GEMMA,
    conversation: [SYSTEM, ...CHAT],
    render:
      '<bos><start_of_turn>user\nYou answer briefly.\n\n<image>\nWhat colour is the square?<end_of_turn>\n<start_of_turn>model\nThe square is red.<end_of_turn>\n' +
      '<start_of_turn>user\nAnd the circle?<end_of_turn>\n<start_of_turn>model\nBlue.<end_of_turn>\n',
    trained: ['The square is red.<end_of_turn>', 'Blue.<end_of_turn>'],
  },
  {
    name: 'smollm2-instruct',
    family: SMOLLM2,
    conversation: CHAT,
    render: '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' + CHATML_TURNS,
    trained: ['The square is red.<|im_end|>', 'Blue.<|im_end|>'],
  },
  {
    name: 'smollm2-instruct',
    family: SMOLLM2,
    conversation: [SYSTEM, ...CHAT],
    render: '<|im_start|>system\nYou answer briefly.<|im_end|>\n' + CHATML_TURNS,
    trained: ['The square is red.<|im_end|>', 'Blue.<|im_end|>'],
  },
  {
    // Phi-3 closes the conversation with eos after the last <|end|>: trained, as the model stops on it
    name: 'phi-3-mini-instruct',
    family: PHI3,
    conversation: [SYSTEM, ...CHAT],
    render:
      '<|system|>\nYou answer briefly.<|end|>\n<|user|>\n<image>\nWhat colour is the square?<|end|>\n<|assistant|>\nThe square is red.<|end|>\n' +
      '<|user|>\nAnd the circle?<|end|>\n<|assistant|>\nBlue.<|end|>\n<|endoftext|>',
    trained: ['The square is red.<|end|>', 'Blue.<|end|>\n<|endoftext|>'],
  },
  {
    name: 'phi-3.5-mini-instruct',
    family: PHI3,
    conversation: CHAT,
    render:
      '<|user|>\n<image>\nWhat colour is the square?<|end|>\n<|assistant|>\nThe square is red.<|end|>\n' +
      '<|user|>\nAnd the circle?<|end|>\n<|assistant|>\nBlue.<|end|>\n<|endoftext|>',
    trained: ['The square is red.<|end|>', 'Blue.<|end|>\n<|endoftext|>'],
  },
];

describe('chat templates of released families: render and loss mask', () => {
  for (const g of GOLDEN) {
    const system = g.conversation[0]!.from === 'system' ? ' with a system turn' : '';
    it(`${g.name}${system}`, () => {
      const tok = tokenizer(g.name, g.family, g.options);
      expect(tok.render(g.conversation)).toBe(g.render);
      const { ids } = applyChatTemplate(tok, g.conversation);
      expect(ids).toEqual(tok.encode(g.render));
      expect(trainedRuns(tok, g.conversation)).toEqual(g.trained);
    });
  }

  it('trains earlier answers and nothing after a generation prompt (Llama 3.1)', () => {
    const tok = tokenizer('llama-3.1-8b-instruct', LLAMA3, { templateVariables: { date_string: '26 Jul 2024' } });
    const asked = CHAT.slice(0, 3);
    expect(tok.render(asked, { addGenerationPrompt: true }).endsWith('And the circle?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n')).toBe(true);
    expect(trainedRuns(tok, asked, true)).toEqual(['The square is red.<|eot_id|>']);
  });

  it('Mistral v0.3 opens the last user turn with the system message when the conversation asks for an answer', () => {
    const tok = tokenizer('mistral-7b-instruct-v0.3', MISTRAL);
    const asked = [SYSTEM, ...CHAT.slice(0, 3)];
    expect(tok.render(asked, { addGenerationPrompt: true })).toBe('<s>[INST] <image>\nWhat colour is the square?[/INST] The square is red.</s>[INST] You answer briefly.\n\nAnd the circle?[/INST]');
    expect(trainedRuns(tok, asked, true)).toEqual(['The square is red.</s>']);
  });

  it('trains the text the template renders: Llama 3 and Gemma trim answers, ChatML keeps them', () => {
    const padded: ChatTurn[] = [CHAT[0]!, { from: 'gpt', value: '  The square is red. \n' }];
    expect(trainedRuns(tokenizer('llama-3-8b-instruct', LLAMA3), padded)).toEqual(['The square is red.<|eot_id|>']);
    expect(trainedRuns(tokenizer('gemma-2-it', GEMMA), padded)).toEqual(['The square is red.<end_of_turn>']);
    expect(trainedRuns(tokenizer('smollm2-instruct', SMOLLM2), padded)).toEqual(['  The square is red. \n<|im_end|>']);
  });

  it('finds an answer whose text also occurs earlier in the conversation', () => {
    const echo: ChatTurn[] = [{ from: 'human', value: 'Say "Blue." please' }, { from: 'gpt', value: 'Blue.' }, { from: 'human', value: 'Blue.' }, { from: 'gpt', value: 'Blue.' }];
    const tok = tokenizer('qwen2.5-instruct', CHATML);
    const { ids, lossMask } = applyChatTemplate(tok, echo);
    expect(trainedRuns(tok, echo)).toEqual(['Blue.<|im_end|>', 'Blue.<|im_end|>']);
    // what lies before and between the two trained runs: the question quoting the answer, and the user's "Blue." turn
    const untrained = (from: number, to: number) => tok.decode(ids.slice(from, to), { skipSpecial: false });
    const firstRun = lossMask.indexOf(1);
    const gap = lossMask.indexOf(0, firstRun);
    const secondRun = lossMask.indexOf(1, gap);
    expect(untrained(0, firstRun).endsWith('<|im_start|>user\nSay "Blue." please<|im_end|>\n<|im_start|>assistant\n')).toBe(true);
    expect(untrained(gap, secondRun)).toBe('\n<|im_start|>user\nBlue.<|im_end|>\n<|im_start|>assistant\n');
  });

  it('Gemma 2 has no system role: a system turn raises as in transformers', () => {
    const tok = tokenizer('gemma-2-it', GEMMA);
    expect(() => applyChatTemplate(tok, [SYSTEM, ...CHAT])).toThrow(ChatTemplateError);
    expect(() => applyChatTemplate(tok, [SYSTEM, ...CHAT])).toThrow(/System role not supported/);
  });

  it('trains a final Qwen 3 answer with its reasoning block, which the template writes only for that turn', () => {
    const tok = tokenizer('qwen3', QWEN3);
    const answer = '<think>\nIt looks red.\n</think>\n\nThe square is red.';
    const thinking: ChatTurn[] = [CHAT[0]!, { from: 'gpt', value: answer }];
    expect(tok.render(thinking)).toBe('<|im_start|>user\n<image>\nWhat colour is the square?<|im_end|>\n<|im_start|>assistant\n' + answer + '<|im_end|>\n');
    expect(trainedRuns(tok, thinking)).toEqual([answer + '<|im_end|>']);
    // an earlier answer loses its reasoning in the render; the last keeps it
    const twice: ChatTurn[] = [CHAT[0]!, { from: 'gpt', value: answer }, CHAT[2]!, { from: 'gpt', value: '<think>\nSky colour.\n</think>\n\nBlue.' }];
    expect(trainedRuns(tok, twice)).toEqual(['The square is red.<|im_end|>', '<think>\nSky colour.\n</think>\n\nBlue.<|im_end|>']);
  });

  it('refuses, naming the turn, a template that renders an answer twice', () => {
    const twice = "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n' }}{% if m['role'] == 'assistant' %}{{ '(' + m['content'] + ')' }}{% endif %}{% endfor %}";
    const { tokenizer: files, config } = byteLevelFiles(CHATML, twice);
    const tok = HfTokenizer.fromJson(files, config);
    expect(() => applyChatTemplate(tok, CHAT.slice(0, 2))).toThrow(/renders turn 1's text more than once/);
  });

  it('refuses a bad role instead of rendering it as a user turn', () => {
    const tok = tokenizer('qwen2.5-instruct', CHATML);
    expect(() => applyChatTemplate(tok, [{ from: 'user' as 'human', value: 'hi' }])).toThrow(/turn 0 has from="user"; use "human", "gpt" or "system"/);
  });
});
