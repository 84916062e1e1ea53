#!/usr/bin/env node
import { main, reportError } from '../dist/index.js';

const argv = process.argv.slice(2);

// `mllm chat --help | head`: the reader left, so there is nobody to write to
process.stdout.on('error', (e) => {
  if (e.code !== 'EPIPE') throw e;
  process.exit(process.exitCode ?? 0);
});

// a failure outside the command's await chain (an emitter's 'error', a forgotten promise) is
// printed as main prints the others: one `error:` line, the stack only with --debug
const fatal = (e) => process.exit(reportError(e, argv));
process.on('uncaughtException', fatal);
process.on('unhandledRejection', fatal);

process.exitCode = await main(argv);
