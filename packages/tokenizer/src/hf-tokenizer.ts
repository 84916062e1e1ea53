import { Tokenizer } from '@huggingface/tokenizers';
import { mkdir, writeFile } from 'node:fs/promises';
import { readTextFile } from './read-text-file';
import { BoundedTemplate, ChatTemplateError } from './bounded-template';
import { join } from 'node:path';
import type { SpecialIds } from './special-tokens';
import type { ChatTemplateOptions, ChatTurn, TemplatedIds } from './chat-template';
import { WordTokenizer } from './word-tokenizer';
import type { DecodeOptions, TextTokenizer } from './text-tokenizer';
import { BpeTokenizer } from './bpe-tokenizer';
import { TOKENIZER_KIND_KEY } from './bpe-files';
import { TokenizerFileError, readFailure } from './tokenizer-file-error';
import { AssistantSpanError, assistantSpans, foldTurnDependentText, sentinel } from './assistant-spans';
import { spanMask } from './span-mask';

const IMAGE = '<image>';
/** Written into the saved tokenizer_config.json so a reopened run builds the same embedding size. */
const MODEL_VOCAB_KEY = 'mllm_model_vocab_size';
/** End-of-turn markers of common chat templates (Llama 3, ChatML, ours, Gemma); else the eos token ends a turn. */
const END_OF_TURN = ['<|eot_id|>', '<|im_end|>', '<|end|>', '<end_of_turn>'];

export interface HfTokenizerOptions {
  /** Rows of the LLM's embedding (config.json vocab_size); vocabSize is at least this. */
  modelVocabSize?: number;
  /** Where tokenizer_config.json was read, for errors about its chat_template (load sets it). */
  source?: string;
  /**
   * Extra variables for every render of the chat template, as keyword arguments to transformers'
   * apply_chat_template: e.g. `{ enable_thinking: false }` (Qwen 3) or `{ date_string: '26 Jul 2024' }`
   * (Llama 3.1/3.2, which otherwise print today's date).
   */
  templateVariables?: Record<string, unknown>;
}

/** The conversation every chat template is rendered on once, when the tokenizer is made: an image, an answer, a follow-up. */
const PROBE: readonly ChatTurn[] = [
  { from: 'human', value: '<image>\nWhat colour is the square?' },
  { from: 'gpt', value: 'The square is red.' },
  { from: 'human', value: 'And the circle?' },
];

/**
 * A HuggingFace tokenizer (tokenizer.json + tokenizer_config.json with its chat_template) behind
 * the interface the pipeline uses (TextTokenizer): encode/decode, role ids in `special`, and chat
 * templating with a loss mask on assistant turns. The `<image>` placeholder keeps its id when the vocabulary has it, otherwise it is
 * given the first id past the tokenizer's (the LLM's embedding grows to match, as LLaVA does).
 * Roles without a token of their own (user, assistant) point at the image id, which is never
 * generated; `end` is the template's end-of-turn token, else eos.
 */
export class HfTokenizer implements TextTokenizer {
  readonly special: Readonly<SpecialIds>;
  private readonly imageAdded: boolean;
  private readonly size: number;
  private readonly template?: BoundedTemplate;
  private readonly templateVariables: Record<string, unknown>;
  /** Contents of the added tokens marked special: a template closes each turn with one. */
  private readonly specialTokens: readonly string[];

  private constructor(
    private readonly hf: Tokenizer,
    private readonly files: { tokenizer: Record<string, unknown>; config: Record<string, unknown> },
    options: HfTokenizerOptions,
  ) {
    // the id-indexed token array (added tokens included), read in O(1): Math.max(...ids) over a
    // 128k+ vocabulary overflowed V8's stack (Llama 3, Qwen), and get_vocab() copies it into a Map
    const count = hf.model?.vocab.length ?? 0;
    if (count === 0) throw new Error('HfTokenizer: tokenizer.json has an empty vocabulary');
    this.templateVariables = options.templateVariables ?? {};
    this.specialTokens = [...hf.get_added_tokens_decoder().values()].filter((t) => t.special).map((t) => t.content);
    const id = (field: string): number | undefined => {
      const value = files.config[field];
      const content = typeof value === 'string' ? value : (value as { content?: unknown } | null)?.content;
      return typeof content === 'string' ? hf.token_to_id(content) : undefined;
    };
    const eos = id('eos_token');
    if (eos === undefined) throw new Error('HfTokenizer: tokenizer_config.json has no eos_token found in the vocabulary; generation could never stop');
    const imageId = hf.token_to_id(IMAGE);
    this.imageAdded = imageId === undefined;
    const image = imageId ?? count;
    this.size = Math.max(count + (this.imageAdded ? 1 : 0), options.modelVocabSize ?? 0);
    this.special = {
      pad: id('pad_token') ?? eos,
      bos: id('bos_token') ?? eos,
      eos,
      unk: id('unk_token') ?? image,
      image,
      user: hf.token_to_id('<|user|>') ?? image,
      assistant: hf.token_to_id('<|assistant|>') ?? image,
      end: END_OF_TURN.map((t) => hf.token_to_id(t)).find((v) => v !== undefined) ?? eos,
    };
    const template = chatTemplateText(files.config.chat_template);
    if (template !== undefined) {
      this.template = new BoundedTemplate(template, options.source ?? 'tokenizer_config.json');
      // rendered once now, bounded: a template that raises, loops or floods fails here, before any run writes a file
      this.render(PROBE, { addGenerationPrompt: true });
      this.render(PROBE.slice(0, 2));
    }
  }

  /** Reads tokenizer.json and tokenizer_config.json from an HF model folder. */
  static async load(dir: string, options: HfTokenizerOptions = {}): Promise<HfTokenizer> {
    const read = async (name: string): Promise<Record<string, unknown>> => {
      const path = join(dir, name);
      let text: string;
      try {
        text = await readTextFile(path);
      } catch (cause) {
        throw new TokenizerFileError(path, `${readFailure(cause)}; an HF model folder needs tokenizer.json and tokenizer_config.json (tokenizer.save_pretrained)`, { cause });
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (cause) {
        throw new TokenizerFileError(path, `is not valid JSON (${(cause as Error).message})`, { cause });
      }
      if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new TokenizerFileError(path, 'is not a JSON object');
      return json as Record<string, unknown>;
    };
    const tokenizer = await read('tokenizer.json');
    const config = await read('tokenizer_config.json');
    try {
      return HfTokenizer.fromJson(tokenizer, config, { source: join(dir, 'tokenizer_config.json'), ...options });
    } catch (cause) {
      if (cause instanceof ChatTemplateError) throw cause; // its own message names the template and what failed
      // @huggingface/tokenizers and the template parser throw TypeErrors on shapes they do not expect
      const reason = (cause as Error).message.split('\n')[0];
      throw new TokenizerFileError(join(dir, 'tokenizer.json'), `with tokenizer_config.json, not a tokenizer @huggingface/tokenizers can load (${reason}); save it again with tokenizer.save_pretrained`, { cause });
    }
  }

  static fromJson(tokenizer: Record<string, unknown>, config: Record<string, unknown>, options: HfTokenizerOptions = {}): HfTokenizer {
    const saved = config[MODEL_VOCAB_KEY];
    const modelVocabSize = Math.max(options.modelVocabSize ?? 0, typeof saved === 'number' ? saved : 0);
    return new HfTokenizer(new Tokenizer(tokenizer, config), { tokenizer, config }, { ...options, modelVocabSize });
  }

  get vocabSize(): number {
    return this.size;
  }

  /** All tokens, index = id ('' for ids the tokenizer leaves unused); O(vocabulary), built on each call. */
  tokens(): readonly string[] {
    const out = new Array<string>(this.size);
    for (let i = 0; i < this.size; i++) out[i] = this.idToToken(i) ?? '';
    return out;
  }

  tokenToId(token: string): number | undefined {
    return token === IMAGE ? this.special.image : this.hf.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    return id === this.special.image ? IMAGE : this.hf.id_to_token(id);
  }

  /** Text -> ids without added bos/eos (templates and callers add those); `<image>` maps to its id. */
  encode(text: string): number[] {
    const out: number[] = [];
    text.split(IMAGE).forEach((piece, i) => {
      if (i > 0) out.push(this.special.image);
      // a loop, not push(...ids): a long document has more ids than V8 takes as arguments
      if (piece) for (const id of this.hf.encode(piece, { add_special_tokens: false }).ids) out.push(id);
    });
    return out;
  }

  /** Always empty: a subword tokenizer spells a word it has never seen from smaller pieces instead of dropping it. */
  unknownWords(_text: string): string[] {
    return [];
  }

  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    const skipSpecial = options.skipSpecial ?? true;
    const kept = this.imageAdded ? ids.filter((id) => id !== this.special.image) : [...ids];
    // @huggingface/tokenizers throws on an empty list; transformers decodes it to ''
    return kept.length === 0 ? '' : this.hf.decode(kept, { skip_special_tokens: skipSpecial });
  }

  /**
   * Renders the chat_template exactly as transformers' apply_chat_template(tokenize=False), with
   * HF roles system / user / assistant. A template without a system role does what it does in
   * Python: Gemma 2 raises (a ChatTemplateError here), Gemma 3 and Mistral merge it into a user turn.
   */
  render(conversation: readonly ChatTurn[], options: ChatTemplateOptions = {}): string {
    return this.renderContents(conversation, conversation.map((t) => t.value), options);
  }

  private renderContents(conversation: readonly ChatTurn[], contents: readonly string[], options: ChatTemplateOptions): string {
    if (!this.template) throw new Error('HfTokenizer: tokenizer_config.json has no chat_template; conversations cannot be formatted');
    const token = (field: string) => {
      const v = this.files.config[field];
      return typeof v === 'string' ? v : ((v as { content?: string } | null)?.content ?? '');
    };
    return this.template.render({
      ...this.templateVariables,
      messages: conversation.map((t, i) => ({ role: hfRole(t.from, i), content: contents[i] })),
      add_generation_prompt: options.addGenerationPrompt ?? false,
      bos_token: token('bos_token'),
      eos_token: token('eos_token'),
      pad_token: token('pad_token'),
      unk_token: token('unk_token'),
    });
  }

  /**
   * Ids and loss mask of a conversation through the chat template: the ids of the whole render
   * (what inference sees), 1 on each assistant turn's content and the special token that ends
   * it, 0 elsewhere (system and user turns, role headers, the next turn's header). See
   * assistant-spans.ts for the convention (TRL's assistant_only_loss) and how turns are located.
   */
  templated(conversation: readonly ChatTurn[], options: ChatTemplateOptions = {}): TemplatedIds {
    if (conversation.length === 0) throw new Error('chat template: the conversation is empty; pass at least one human turn');
    conversation.forEach((t, i) => {
      hfRole(t.from, i);
    });
    const full = this.render(conversation, options);
    const sentinels = conversation.map((_, i) => sentinel(i));
    const skeleton = this.renderContents(conversation, sentinels, options);
    const eos = this.idToToken(this.special.eos);
    const input = {
      full,
      skeleton,
      turns: conversation.map((t) => ({ content: t.value, assistant: t.from === 'gpt' })),
      specialTokens: this.specialTokens,
      ...(!options.addGenerationPrompt && eos !== undefined && { eosToken: eos }),
    };
    let spans: [number, number][];
    try {
      spans = assistantSpans(input);
    } catch (error) {
      if (!(error instanceof AssistantSpanError)) throw error;
      // text around a turn that changes with the turn (Qwen 3's reasoning block): one render per
      // answer with only its own text real shows what the template writes for it
      const alone = new Map<number, string>();
      conversation.forEach((t, i) => {
        if (t.from === 'gpt') alone.set(i, this.renderContents(conversation, sentinels.map((s, j) => (j === i ? t.value : s)), options));
      });
      const folded = foldTurnDependentText(skeleton, alone, conversation.map((t) => t.value));
      if (!folded) throw error;
      try {
        spans = assistantSpans({ ...input, ...folded });
      } catch {
        throw error; // the first failure names what the template does
      }
    }
    const ids = this.encode(full);
    return { ids, lossMask: spanMask(full, ids, spans, (text) => this.encode(text)) };
  }

  /** The HF files as loaded, plus the model vocabulary size this run trained with. */
  toFiles(): Record<string, string> {
    return {
      'tokenizer.json': `${JSON.stringify(this.files.tokenizer)}\n`,
      'tokenizer_config.json': `${JSON.stringify({ ...this.files.config, [MODEL_VOCAB_KEY]: this.size }, null, 2)}\n`,
    };
  }

  async save(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    for (const [name, text] of Object.entries(this.toFiles())) await writeFile(join(dir, name), text);
  }
}

/** HF's role for a turn; a bad `from` is refused (a typo must not silently become a user turn). */
function hfRole(from: ChatTurn['from'], index: number): string {
  if (from === 'gpt') return 'assistant';
  if (from === 'human') return 'user';
  if (from === 'system') return 'system';
  throw new Error(`chat template: turn ${index} has from="${String(from)}"; use "human", "gpt" or "system"`);
}

function chatTemplateText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  // newer exports store several named templates; "default" is the one apply_chat_template uses
  if (Array.isArray(value)) {
    const named = value as { name?: unknown; template?: unknown }[];
    const pick = named.find((t) => t.name === 'default') ?? named[0];
    return typeof pick?.template === 'string' ? pick.template : undefined;
  }
  return undefined;
}

/**
 * A run or export folder's tokenizer, of the kind that saved it: an HF one the run started from
 * (its config records the model's vocabulary size), our byte-level BPE (recorded by
 * TOKENIZER_KIND_KEY), else the word tokenizer (WordLevel with our specials).
 */
export async function loadTokenizer(dir: string): Promise<TextTokenizer> {
  let config: Record<string, unknown> = {};
  try {
    config = JSON.parse(await readTextFile(join(dir, 'tokenizer_config.json'))) as Record<string, unknown>;
  } catch {
    // WordTokenizer.load names the missing file
  }
  if (MODEL_VOCAB_KEY in config) return HfTokenizer.load(dir);
  return config[TOKENIZER_KIND_KEY] === 'bpe' ? BpeTokenizer.load(dir) : WordTokenizer.load(dir);
}
