#!/usr/bin/env node
// Scaffolds packages/<name> with the shared build/test recipe: node tools/new-package.mjs <name> "<description>" [dep ...]
import { copyFileSync, mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const [name, description = '', ...deps] = process.argv.slice(2);
if (!name) {
  console.error('usage: node tools/new-package.mjs <name> "<description>" [@mllm/dep ...]');
  process.exit(1);
}
const dir = join('packages', name);
if (existsSync(dir)) {
  console.error(`${dir} already exists; refusing to overwrite it`);
  process.exit(1);
}
mkdirSync(join(dir, 'src'), { recursive: true });
const pkg = {
  name: `@mllm/${name}`,
  version: '0.1.0',
  description,
  license: 'MIT',
  author: 'mllm-ts contributors',
  repository: { type: 'git', url: 'git+https://github.com/mllm-ts/mllm-ts.git', directory: `packages/${name}` },
  homepage: `https://github.com/mllm-ts/mllm-ts/tree/main/packages/${name}#readme`,
  bugs: { url: 'https://github.com/mllm-ts/mllm-ts/issues' },
  keywords: ['multimodal', 'llm', 'mllm', 'vision-language', 'tensorflowjs'],
  engines: { node: '>=20' },
  type: 'module',
  sideEffects: false,
  main: './dist/index.cjs',
  module: './dist/index.js',
  types: './dist/index.d.ts',
  exports: {
    '.': {
      import: { types: './dist/index.d.ts', default: './dist/index.js' },
      require: { types: './dist/index.d.cts', default: './dist/index.cjs' },
    },
    './package.json': './package.json',
  },
  files: ['dist'],
  scripts: { build: 'tsup', test: 'vitest run', lint: 'tsc --noEmit -p tsconfig.json' },
  dependencies: Object.fromEntries(deps.map((d) => [d, '^0.1.0'])),
  peerDependencies: { '@tensorflow/tfjs': '^4.22.0' },
};
const w = (f, s) => writeFileSync(join(dir, f), s);
w('package.json', JSON.stringify(pkg, null, 2) + '\n');
w('tsup.config.ts', "import { defineConfig } from 'tsup';\nimport { packageBuild } from '../../tools/tsup.base';\n\nexport default defineConfig(packageBuild());\n");
w('vitest.config.ts', "import { packageTests } from '../../tools/vitest.base.ts';\n\nexport default packageTests();\n");
w('tsconfig.json', JSON.stringify({ extends: '../../tsconfig.base.json', compilerOptions: { noEmit: true }, include: ['src'] }, null, 2) + '\n');
w('src/index.ts', 'export {};\n');
w('README.md', `# @mllm/${name}\n\n\`\`\`sh\nnpm install @mllm/${name} @tensorflow/tfjs\n\`\`\`\n\n${description}\n`);
// npm pack takes the LICENSE beside package.json; every published package carries the root's
copyFileSync('LICENSE', join(dir, 'LICENSE'));
console.log(`created ${dir}`);
