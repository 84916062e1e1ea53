#!/usr/bin/env node
// Writes configs/mllm.schema.json, the JSON Schema that shipped configs name in "$schema" so
// editors complete and check them, from the zod schemas of every built-in component type.
// Run after changing a component's options: npm run build && node tools/write-config-schema.mjs
// (packages/run/src/shipped-configs.test.ts fails while the shipped file is stale).
import { writeFileSync } from 'node:fs';
import { createRegistry, runConfigJsonSchema } from '@mllm/run';

const file = new URL('../configs/mllm.schema.json', import.meta.url);
writeFileSync(file, `${JSON.stringify(runConfigJsonSchema(createRegistry()), null, 2)}\n`);
process.stdout.write(`written ${file.pathname}\n`);
