import { describe, expect, it } from 'vitest';
import { WordTokenizer } from './word-tokenizer';
import { Template } from '@huggingface/jinja';
import { applyChatTemplate, renderChatTemplate, CHAT_TEMPLATE_JINJA } from './chat-template';
import type { ChatTurn } from './chat-template';

const tok = WordTokenizer.train(['what color is the circle ? red', 'how many objects are there ? two']);

const conversation: ChatTurn[] = [
  { from: 'human', value: '<image>\nwhat color is the circle ?' },
  { from: 'gpt', value: 'red' },
  { from: 'human', value: 'how many objects are there ?' },
  { from: 'gpt', value: 'two' },
];

describe('applyChatTemplate', () => {
  it('golden: exactly the assistant answers, their <|end|> and <eos> are trained', () => {
    const { ids, lossMask } = applyChatTemplate(tok, conversation);
    const tokens = ids.map((id) => tok.idToToken(id));
    expect(tokens).toEqual([
      '<bos>',
      '<|user|>', '<image>', 'what', 'color', 'is', 'the', 'circle', '?', '<|end|>',
      '<|assistant|>', 'red', '<|end|>',
      '<|user|>', 'how', 'many', 'objects', 'are', 'there', '?', '<|end|>',
      '<|assistant|>', 'two', '<|end|>',
      '<eos>',
    ]);
    const trained = tokens.filter((_, i) => lossMask[i] === 1);
    expect(trained).toEqual(['red', '<|end|>', 'two', '<|end|>', '<eos>']);
    expect(lossMask).toHaveLength(ids.length);
  });

  it('ids equal encode(render(...)) (no tokenization mismatch)', () => {
    const cases: [ChatTurn[], boolean][] = [
      [conversation, false],
      [conversation.slice(0, 3), true],
      [conversation.slice(0, 1), false],
      [[{ from: 'human', value: '<image>\nWhat color is the circle?' }, { from: 'gpt', value: 'Red.' }], false],
    ];
    for (const [conv, addGenerationPrompt] of cases) {
      const { ids } = applyChatTemplate(tok, conv, { addGenerationPrompt });
      expect(ids).toEqual(tok.encode(renderChatTemplate(conv, { addGenerationPrompt })));
    }
  });

  it('ends with <|assistant|> and trains nothing with addGenerationPrompt', () => {
    const { ids, lossMask } = applyChatTemplate(tok, conversation.slice(0, 1), { addGenerationPrompt: true });
    expect(ids[ids.length - 1]).toBe(tok.special.assistant);
    expect(lossMask.every((m) => m === 0)).toBe(true);
    expect(renderChatTemplate(conversation.slice(0, 1), { addGenerationPrompt: true })).toBe(
      '<bos> <|user|> <image>\nwhat color is the circle ? <|end|> <|assistant|>',
    );
  });

  it('opens the first human turn with a leading system turn, untrained; the Jinja template renders the same', () => {
    const withSystem: ChatTurn[] = [{ from: 'system', value: 'answer in one word .' }, ...conversation];
    const { ids, lossMask } = applyChatTemplate(tok, withSystem);
    const tokens = ids.map((id) => tok.idToToken(id));
    expect(tokens.slice(0, 6)).toEqual(['<bos>', '<|user|>', '<unk>', '<unk>', '<unk>', '<unk>']);
    expect(tokens.filter((_, i) => lossMask[i] === 1)).toEqual(['red', '<|end|>', 'two', '<|end|>', '<eos>']);
    expect(renderChatTemplate(withSystem)).toBe(
      '<bos> <|user|> answer in one word .\n\n<image>\nwhat color is the circle ? <|end|> <|assistant|> red <|end|> <|user|> how many objects are there ? <|end|> <|assistant|> two <|end|> <eos>',
    );
    expect(ids).toEqual(tok.encode(renderChatTemplate(withSystem)));
    const jinja = new Template(CHAT_TEMPLATE_JINJA);
    const messages = (turns: ChatTurn[]) => turns.map((t) => ({ role: { human: 'user', gpt: 'assistant', system: 'system' }[t.from], content: t.value }));
    for (const turns of [withSystem, conversation]) {
      expect(jinja.render({ messages: messages(turns), bos_token: '<bos>', eos_token: '<eos>', add_generation_prompt: false })).toBe(renderChatTemplate(turns));
    }
  });

  it('rejects empty conversations, bad roles and a generation prompt after gpt', () => {
    expect(() => applyChatTemplate(tok, [])).toThrow(/empty/);
    expect(() => applyChatTemplate(tok, [{ from: 'user' as 'human', value: 'x' }])).toThrow(/turn 0/);
    expect(() => applyChatTemplate(tok, [conversation[0]!, { from: 'system', value: 'x' }])).toThrow(/turn 1 is a system turn; a system turn may only come first/);
    expect(() => applyChatTemplate(tok, [{ from: 'system', value: 'x' }, conversation[1]!])).toThrow(/must be followed by a human turn/);
    expect(() => applyChatTemplate(tok, conversation, { addGenerationPrompt: true })).toThrow(/end with a human turn/);
  });
});
