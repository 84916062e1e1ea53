export { main } from './main';
export { runPipeline, evaluateSession, type RunOptions } from './pipeline';
export { openRun, createSession, type Session } from './session';
