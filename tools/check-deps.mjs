#!/usr/bin/env node
// Honest dependencies: every package that a workspace's source (tests excluded) imports is
// declared in its package.json (dependencies, peerDependencies or optionalDependencies), and
// every declared one is used. An undeclared import breaks a user's install (or tsup silently
// bundles it); an unused one costs every user a download.
//
//   node tools/check-deps.mjs        exits 1 and lists what is wrong
//
// Imports come from TypeScript's own pre-processor (static, dynamic, require, `export from`,
// type-only). Packages loaded by a name held in a string (optional engines tried at run time)
// count as used when the source names them in a string literal.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const builtins = new Set(builtinModules);

// Relative imports that reach into another package, allowed for the stated reason only.
const crossPackageImports = {};
const usedExceptions = new Set();

// Tests and their helpers may use devDependencies.
const isTestFile = (file) => /\.test(-helper)?\.[cm]?[jt]sx?$/.test(file) || /(^|[\\/])(test-setup|__tests__)/.test(file);

function sourceFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.[cm]?[jt]sx?$/.test(name) && !name.endsWith('.d.ts') && !isTestFile(path)) out.push(path);
  }
  return out;
}

/** `@scope/name/sub` -> `@scope/name`, `name/sub` -> `name`. */
const packageOf = (specifier) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');

function workspaces() {
  return rootPkg.workspaces.flatMap((pattern) => {
    const base = join(root, pattern.replace(/\/\*$/, ''));
    return readdirSync(base).map((name) => join(base, name)).filter((dir) => {
      try {
        return statSync(join(dir, 'package.json')).isFile();
      } catch {
        return false;
      }
    });
  });
}

function check(dir) {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const declared = new Set([
    ...Object.keys(pkg.dependencies ?? {}),
    ...Object.keys(pkg.peerDependencies ?? {}),
    ...Object.keys(pkg.optionalDependencies ?? {}),
  ]);
  const dev = new Set(Object.keys(pkg.devDependencies ?? {}));
  const roots = ['src', 'bin'].map((d) => join(dir, d)).filter((d) => {
    try {
      return statSync(d).isDirectory();
    } catch {
      return false;
    }
  });
  const imported = new Map(); // package -> first file that imports it
  const named = new Set(); // declared packages named in a string literal
  const problems = [];
  for (const file of roots.flatMap(sourceFiles)) {
    const text = readFileSync(file, 'utf8');
    const at = relative(root, file);
    for (const { fileName: spec } of ts.preProcessFile(text, true, true).importedFiles) {
      if (spec.startsWith('.')) {
        // a relative import that leaves the package reaches into another package's files
        const target = resolve(dirname(file), spec);
        if (target === dir || target.startsWith(dir + sep)) continue;
        if (at.split(sep).join('/') in crossPackageImports) usedExceptions.add(at.split(sep).join('/'));
        else problems.push(`${at}: imports "${spec}" outside the package; import the package by name`);
        continue;
      }
      if (spec.startsWith('node:') || builtins.has(packageOf(spec))) continue;
      const name = packageOf(spec);
      if (name === pkg.name) continue;
      if (!imported.has(name)) imported.set(name, at);
    }
    for (const m of text.matchAll(/(['"`])((?:@[\w.-]+\/)?[\w.-]+)(?:\/[\w./-]*)?\1/g)) if (declared.has(m[2])) named.add(m[2]);
  }
  for (const [name, at] of imported) {
    if (declared.has(name)) continue;
    problems.push(dev.has(name) ? `${at}: imports "${name}", a devDependency; move it to dependencies` : `${at}: imports "${name}", which package.json does not declare`);
  }
  for (const name of declared) if (!imported.has(name) && !named.has(name)) problems.push(`package.json: declares "${name}", which no source file uses; remove it`);
  return { name: pkg.name, problems };
}

let failed = 0;
for (const dir of workspaces()) {
  const { name, problems } = check(dir);
  for (const p of problems) console.error(`${name} (${relative(root, dir)}): ${p}`);
  failed += problems.length;
}
for (const file of Object.keys(crossPackageImports))
  if (!usedExceptions.has(file)) console.warn(`check-deps: ${file} no longer imports another package's files; remove its entry from crossPackageImports`);
if (failed) {
  console.error(`check-deps: ${failed} problem(s)`);
  process.exit(1);
}
console.log('check-deps: every workspace declares what its source imports, and nothing more');
