#!/usr/bin/env node
// Installs the repository's dependencies when they are missing or older than package-lock.json,
// so that on a fresh clone `npm start` and `npm test` alone do all the set-up (root `prestart`
// and `pretest` run this before nx, which needs node_modules to exist).
//
// ONNXRUNTIME_NODE_INSTALL_CUDA=skip stops onnxruntime-node's postinstall from downloading CUDA
// binaries from GitHub (it does on every Linux x64 install, and the install fails where GitHub
// cannot be reached); the CPU binaries the repository uses ship inside the npm package.
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const mtime = (path) => {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
};

// npm writes node_modules/.package-lock.json at the end of every install, after package-lock.json
const installed = mtime(join(root, 'node_modules', '.package-lock.json'));
const locked = mtime(join(root, 'package-lock.json'));
if (installed !== undefined && locked !== undefined && installed >= locked) process.exit(0);

console.log(installed === undefined ? 'setup: node_modules is missing; running npm ci' : 'setup: package-lock.json is newer than node_modules; running npm ci');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const result = spawnSync(npm, ['ci', '--no-audit', '--no-fund'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, ONNXRUNTIME_NODE_INSTALL_CUDA: 'skip' },
  shell: process.platform === 'win32',
});
if (result.error) throw result.error;
process.exit(result.status ?? 1);
