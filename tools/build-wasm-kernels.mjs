#!/usr/bin/env node
// Assembles packages/core/src/kernels/*.wat into base64 TypeScript modules (committed, so
// installs need no assembler): node tools/build-wasm-kernels.mjs
import { readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import initWabt from 'wabt';

const dir = 'packages/core/src/kernels';
const wabt = await initWabt();
for (const file of readdirSync(dir).filter((f) => f.endsWith('.wat'))) {
  const module = wabt.parseWat(file, readFileSync(join(dir, file), 'utf8'), { simd: true });
  module.validate();
  const { buffer } = module.toBinary({});
  const name = file.replace(/\.wat$/, '');
  writeFileSync(
    join(dir, `${name}-wasm.ts`),
    `// Generated from ${file} by tools/build-wasm-kernels.mjs; do not edit.\nexport const ${name.replace(/-(\w)/g, (_, c) => c.toUpperCase())}WasmBase64 =\n  '${Buffer.from(buffer).toString('base64')}';\n`,
  );
  console.log(`${file}: ${buffer.length} bytes`);
}
