import { Environment, Interpreter, Template } from '@huggingface/jinja';

/**
 * How much one render of a chat template may do. A template is code from a downloaded
 * tokenizer_config.json: `{% for i in range(1000000000) %}` would otherwise allocate a
 * billion-element array and abort V8, and nested loops would spin for hours.
 */
export interface TemplateBudget {
  /** Interpreter steps (one per evaluated node) before the render is refused. */
  maxSteps?: number;
  /** Characters of output before the render is refused. */
  maxOutputChars?: number;
}

/**
 * Default step budget, measured: our template renders a 20-turn conversation in 267 node
 * evaluations and a Llama 3 template in 287 (plus the lengths of the lists they read), hundreds
 * of times below it; the costliest step, a loop iteration (a fresh jinja scope each), takes
 * 10-90 us on this machine's loaded cores, so the budget is seconds at worst.
 */
export const DEFAULT_TEMPLATE_STEPS = 100_000;
/** Output beyond the conversation's own text: roles, markers and system prompts are far below it. */
export const DEFAULT_TEMPLATE_EXTRA_CHARS = 1_000_000;

/** A chat template that does not parse, raises, or goes over its budget; names where it came from. */
export class ChatTemplateError extends Error {
  constructor(
    /** Where the template was read: a tokenizer_config.json path, or a description. */
    readonly source: string,
    /** What went wrong, with jinja's own message. */
    readonly reason: string,
  ) {
    super(`${source}: chat_template: ${reason}`);
    this.name = 'ChatTemplateError';
  }
}

class StepBudgetExceeded extends Error {}

/** Steps left to one render; every evaluated node and every item of a list the template iterates or indexes costs one. */
class StepBudget {
  private used = 0;

  constructor(
    readonly max: number,
    readonly maxChars: number,
  ) {}

  charge(steps: number): void {
    this.used += steps;
    if (this.used > this.max) throw new StepBudgetExceeded(`over the budget of ${this.max} steps (a loop that does not end, or one too long for a chat template)`);
  }

  /** A string the template built: refused as soon as it passes the output budget, before it can grow further. */
  text(length: number): void {
    if (length > this.maxChars) throw new StepBudgetExceeded(`a string of ${length} characters, over the output budget of ${this.maxChars}`);
  }

  get left(): number {
    return this.max - this.used;
  }
}

/**
 * The jinja interpreter, counting against a budget (jinja itself has no limit to set): one step
 * per evaluated node, plus the length of every list or mapping an expression yields, since a for
 * loop's iterations evaluate no node when the body is empty (and each costs a scope of its own);
 * every string it yields is held to the output budget.
 */
class BudgetedInterpreter extends Interpreter {
  constructor(
    env: Environment,
    private readonly budget: StepBudget,
  ) {
    super(env);
  }

  override evaluate(...args: Parameters<Interpreter['evaluate']>): ReturnType<Interpreter['evaluate']> {
    this.budget.charge(1);
    const result = super.evaluate(...args);
    const value: unknown = result.value;
    if (typeof value === 'string') this.budget.text(value.length);
    else if (Array.isArray(value)) this.budget.charge(value.length);
    else if (value instanceof Map) this.budget.charge(value.size);
    return result;
  }
}

/**
 * Python's range, refusing a length the step budget could never iterate before building it:
 * @huggingface/jinja's range fills an array first, which is what aborts V8 at range(1e9).
 */
function boundedRange(budget: StepBudget) {
  return (start: number, stop?: number, step = 1): number[] => {
    if (stop === undefined) [start, stop] = [0, start];
    if (step === 0) throw new Error('range() step must not be zero');
    const length = Math.max(0, Math.ceil((stop - start) / step));
    if (!(length <= budget.left)) throw new StepBudgetExceeded(`range(${start}, ${stop}, ${step}) has ${length} items, over the budget of ${budget.max} steps`);
    return Array.from({ length }, (_, i) => start + i * step);
  };
}

/** strftime_now as @huggingface/jinja defines it (its global is not exported): its own template renders it. */
const strftimeTemplate = new Template('{{ strftime_now(format) }}');
const strftimeNow = (format: string) => strftimeTemplate.render({ format });

/**
 * A parsed Jinja chat template whose renders are bounded: jinja's globals (range bounded), a
 * step budget and an output budget. Parse errors, exceptions the template raises
 * (raise_exception) and budget overruns are ChatTemplateErrors naming `source`.
 */
export class BoundedTemplate {
  private readonly template: Template;

  constructor(
    text: string,
    readonly source: string,
  ) {
    try {
      this.template = new Template(text);
    } catch (e) {
      throw new ChatTemplateError(source, `does not parse (${(e as Error).message})`);
    }
  }

  render(items: Record<string, unknown>, limits: TemplateBudget = {}): string {
    const maxSteps = limits.maxSteps ?? DEFAULT_TEMPLATE_STEPS;
    const maxOutputChars = limits.maxOutputChars ?? DEFAULT_TEMPLATE_EXTRA_CHARS + JSON.stringify(items).length;
    const budget = new StepBudget(maxSteps, maxOutputChars);
    const env = new Environment();
    // the globals Template.render sets (setupGlobals is not exported), with range bounded
    const globals: Record<string, unknown> = {
      false: false,
      true: true,
      none: null,
      False: false,
      True: true,
      None: null,
      raise_exception: (message: unknown) => {
        throw new Error(String(message));
      },
      range: boundedRange(budget),
      strftime_now: strftimeNow,
    };
    for (const [key, value] of Object.entries({ ...globals, ...items })) env.set(key, value);
    let out: unknown;
    try {
      out = new BudgetedInterpreter(env, budget).run(this.template.parsed).value;
    } catch (e) {
      if (e instanceof StepBudgetExceeded) throw new ChatTemplateError(this.source, `rendering stopped: ${e.message}; a chat template must render a conversation in bounded steps and output`);
      // RangeError: a string past V8's length limit, built by repeated concatenation
      throw new ChatTemplateError(this.source, `rendering failed (${(e as Error).message})`);
    }
    return String(out); // held to maxOutputChars above: the whole output is a string the interpreter yielded
  }
}
