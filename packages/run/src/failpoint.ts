/**
 * Fault injection for crash tests (etcd / TiKV "failpoints"): `MLLM_FAILPOINT=<name>:<a>:<b>`
 * kills this process with SIGKILL when `failpoint(name, a, b)` is reached, so a test can stop a
 * run at an exact point instead of racing a timer. Points in run.ts: `after-metrics:<stage>:<step>`
 * (a step's metrics line appended), `after-checkpoint:<stage>:<finished steps>` (a mid-stage
 * checkpoint swapped in), `after-stage:<stage>` (the checkpoint at a stage's end).
 * Unset (always, outside tests), it costs one string comparison.
 */
export function failpoint(name: string, ...at: number[]): void {
  const armed = process.env.MLLM_FAILPOINT;
  if (armed !== undefined && armed === [name, ...at].join(':')) process.kill(process.pid, 'SIGKILL');
}
