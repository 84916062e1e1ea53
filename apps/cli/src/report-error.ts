import { describeError, type ErrorContext } from './describe-error';

/** `--debug` anywhere before a `--` operand separator, or MLLM_DEBUG=1 in the environment. */
export function debugRequested(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): boolean {
  const end = argv.indexOf('--');
  const options = end === -1 ? argv : argv.slice(0, end);
  return options.includes('--debug') || env.MLLM_DEBUG === '1' || env.MLLM_DEBUG === 'true';
}

const STACK_FRAME = /^\s+at .+$/;

/**
 * Keeps a message to what it says: a library that wrapped another error's stack into its
 * message (a worker's report, say) would otherwise print stack frames without --debug.
 */
function withoutStackFrames(text: string): string {
  return text
    .split('\n')
    .filter((line) => !STACK_FRAME.test(line))
    .join('\n');
}

/** The stack of `e` and of each error it wraps (`cause`), for --debug. */
function stacks(e: unknown): string {
  const parts: string[] = [];
  const seen = new Set<unknown>();
  for (let c: unknown = e; c !== undefined && c !== null && !seen.has(c); c = (c as { cause?: unknown }).cause) {
    seen.add(c);
    const text = c instanceof Error ? (c.stack ?? `${c.name}: ${c.message}`) : String(c);
    parts.push(parts.length === 0 ? text : `caused by: ${text}`);
  }
  return parts.join('\n');
}

/**
 * The lines mllm prints for a failure: `error: <what> (<where>)`, a `hint:` where one helps, and
 * with `debug` the stack (with causes) below them.
 */
export function formatError(e: unknown, context: ErrorContext & { debug: boolean }): { text: string; exitCode: 1 | 2 } {
  const report = describeError(e, context);
  const what = context.debug ? report.what : withoutStackFrames(report.what);
  const lines = [`error: ${what}`];
  if (report.hint && !(context.debug && report.internal)) lines.push(`hint: ${report.hint}`);
  if (context.debug) lines.push(stacks(e));
  return { text: `${lines.join('\n')}\n`, exitCode: report.exitCode };
}

/** Prints a failure on stderr as formatError has it; returns the exit code for it. */
export function reportError(e: unknown, argv: readonly string[]): 1 | 2 {
  const { text, exitCode } = formatError(e, { argv, debug: debugRequested(argv) });
  process.stderr.write(text);
  return exitCode;
}
