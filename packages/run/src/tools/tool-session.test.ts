import { describe, expect, it } from 'vitest';
import type { DetectedObject } from '@mllm/data';
import { compareTool, countTool, detectTool } from './builtin-tools';
import { runToolSessions, type ToolController } from './tool-session';
import type { ToolImage, VisionTool } from './vision-tool';

const objects: DetectedObject[] = [
  { shape: 'circle', color: 'red', size: 'large', cell: 'top left' },
  { shape: 'square', color: 'blue', size: 'small', cell: 'bottom right' },
];
const image: ToolImage = { objects: () => objects };
const tools = new Map<string, VisionTool>([detectTool(), countTool(), compareTool()].map((t) => [t.name, t]));

/** A fake LLM that replies from a script, one list of replies per session, and records what it was shown. */
function scripted(scripts: string[][]): ToolController & { seen: string[][] } {
  const seen: string[][] = scripts.map(() => []);
  return {
    seen,
    async reply(sessions) {
      return sessions.map((s) => {
        // the session is known by its question, the first human turn
        const i = Number(s.turns[0]!.value.split(' ')[0]);
        seen[i]!.push(s.turns.at(-1)!.value);
        return scripts[i]!.shift() ?? 'no more script';
      });
    },
  };
}

const ask = (n: number) => ({ imageIndex: 0, history: [], question: `${n} is the red circle above the blue square ?` });

describe('runToolSessions: the controller loop with a scripted LLM', () => {
  it('runs a call, shows the result, and takes the next reply as the answer; the roles are in the trace', async () => {
    const llm = scripted([['call compare red circle above blue square', 'yes']]);
    const [out] = await runToolSessions(llm, tools, [image], [ask(0)], { maxCalls: 3 });
    expect(out!.answer).toBe('yes');
    expect(out!.calls).toBe(1);
    expect(llm.seen[0]).toEqual(['0 is the red circle above the blue square ?', 'result true']);
    expect(out!.trace.map((e) => [e.role, e.text])).toEqual([
      ['user', '0 is the red circle above the blue square ?'],
      ['controller', 'call compare red circle above blue square'],
      ['tool', 'result true'],
      ['decision maker', 'enough , answer now'],
      ['semantics refiner', 'yes'],
    ]);
    expect(out!.turns.map((t) => t.from)).toEqual(['human', 'gpt', 'human', 'gpt']);
  });

  it('answers an unknown tool, bad arguments and an unparseable call with error results the controller reads, then goes on', async () => {
    const llm = scripted([
      ['call zoom red circle', 'call count purple', 'call count red , blue', 'call count red', 'one'],
    ]);
    const [out] = await runToolSessions(llm, tools, [image], [ask(0)], { maxCalls: 4 });
    expect(llm.seen[0]!.slice(1)).toEqual([
      'error unknown tool zoom , tools are detect count compare',
      'error count unreadable purple , arguments are [<colour>] [<shape>]',
      'error unreadable , in the call , write one call with words only',
      'result 1',
    ]);
    expect(out).toMatchObject({ answer: 'one', calls: 4, errors: 3, parseFailures: 1 });
    expect(out!.trace.filter((e) => e.error).map((e) => e.role)).toEqual(['tool', 'tool', 'tool']);
    expect(out!.trace.filter((e) => e.role === 'decision maker').map((e) => e.text)).toEqual(['call again', 'call again', 'call again', 'enough , answer now']);
  });

  it('a tool that throws any error (a plugin bug) becomes an error result, not a crash', async () => {
    const broken: VisionTool = { name: 'broken', usage: '', run: () => { throw new TypeError('cannot read properties of undefined'); } };
    const llm = scripted([['call broken', 'no']]);
    const [out] = await runToolSessions(llm, new Map([['broken', broken]]), [image], [ask(0)], { maxCalls: 2 });
    expect(llm.seen[0]![1]).toBe('error broken cannot read properties of undefined');
    expect(out!.answer).toBe('no');
  });

  it('stops a controller that keeps calling at maxCalls, leaving it unanswered', async () => {
    const llm = scripted([['call count', 'call count', 'call count', 'call count']]);
    const [out] = await runToolSessions(llm, tools, [image], [ask(0)], { maxCalls: 2 });
    expect(out!.answer).toBeUndefined();
    expect(out!.calls).toBe(2);
    expect(llm.seen[0]).toHaveLength(3); // the question, then two results
    expect(out!.turns.at(-1)!.from).toBe('gpt');
  });

  it('answers without a call when the controller decides no tool is needed', async () => {
    const llm = scripted([['no']]);
    const [out] = await runToolSessions(llm, tools, [image], [ask(0)], { maxCalls: 2 });
    expect(out!.trace.slice(1).map((e) => e.role)).toEqual(['decision maker', 'answer']);
    expect(out).toMatchObject({ answer: 'no', calls: 0 });
  });

  it('runs several sessions in lock step, each with its own image and history', async () => {
    const other: ToolImage = { objects: () => [objects[0]!] };
    const llm = scripted([['call count', 'two'], ['call count', 'call count red', 'one']]);
    const out = await runToolSessions(llm, tools, [image, other], [ask(0), { ...ask(1), imageIndex: 1, history: [{ from: 'human', value: '1 earlier' }, { from: 'gpt', value: 'yes' }] }], { maxCalls: 3 });
    expect(out.map((o) => o.answer)).toEqual(['two', 'one']);
    expect(llm.seen[0]).toEqual(['0 is the red circle above the blue square ?', 'result 2']);
    expect(llm.seen[1]).toEqual(['1 is the red circle above the blue square ?', 'result 1', 'result 1']);
    expect(out[1]!.turns).toHaveLength(8);
  });
});
