#!/usr/bin/env node
import { main } from '../dist/index.js';

// `mllm chat --help | head`: the reader left, so there is nobody to write to
process.stdout.on('error', (e) => {
  if (e.code !== 'EPIPE') throw e;
  process.exit(process.exitCode ?? 0);
});

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  // main prints every mistake a user can fix in one line; what reaches here is a bug in mllm
  process.stderr.write(`${e instanceof Error && e.stack ? e.stack : String(e)}\nthis is a bug in mllm: please report it with the command that caused it\n`);
  process.exitCode = 1;
}
