#!/usr/bin/env node
/**
 * Checks the public surfaces of the @mllm packages, from what a consumer actually imports: the
 * built declaration file of every `exports` subpath in each package.json (run after
 * `nx run-many -t build`).
 *
 * Fails when
 * - one name is exported by two packages (a re-export of the very same binding too: a name has
 *   one home, and a consumer imports it from there);
 * - one package exports one name from two of its entries bound to two different declarations;
 * - a package's main entry (`.`) exports more names than its limit below;
 * - a subpath entry has no `paths` entry in tsconfig.base.json (type checks would read a stale dist).
 *
 * Usage: node tools/check-exports.mjs [--list]   (--list prints every entry's names)
 * CI: after the build step, `node tools/check-exports.mjs` (exit code 1 on a finding).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Most names each package's main entry may export. A limit sits a little above today's count, so
 * a new export is a decision (raise the limit in the same change) rather than a drift. Why each
 * package needs about this many:
 */
const LIMITS = {
  // the toolkit components are built from: backend, Module, nn layers, MoE, checkpoints, registry, plug-point interfaces
  // (among them the size-estimator types a component registers with its build function, and
  // NotRegularFileError, which every reader of user files throws for a FIFO, device or folder,
  // and LinearAdapter, the plug point LoRA adds to a Linear's output, and ConnectorText, the
  // tokenizer as a connector that writes words sees it)
  // and ImageAttentionBoost, the LLM forward option of PAI's image-attention boost
  '@mllm/core': 106,
  // word/BPE/HF tokenizers and the chat template; the TextTokenizer interface the pipeline takes,
  // the byte-level BPE tokenizer, its training options and its chat template (HF export compares it)
  '@mllm/tokenizer': 22,
  // the Shapes world (scenes, language, questions, preference pairs), LLaVA files, image preprocessing
  // (with PIL's decode, resize and rescale as steps of their own, for the playground and tools)
  // (and M-ICL: interleaved sequences and few-shot episodes with their task names and types)
  // and the survey's extended techniques' data: reasoning chains with their consistency check, tool-use traces and the tool logic they are written with, interleaved few-shot sequences
  // and instruction data: the phrasings of every task, the held-in / held-out plan and its evaluation questions, self-instruction,
  // the coarse web caption source (its pool, words and labelled pair types), and the chains' carry option
  '@mllm/data': 148,
  // ViT, high-res tiling, HF vision import
  '@mllm/encoders': 24,
  // one class, schema and config per connector, and its register function
  '@mllm/connector-projection': 8,
  '@mllm/connector-query': 8,
  '@mllm/connector-fusion': 12,
  // the expert bridge: its connector, the detector it reads images with, the text it writes
  '@mllm/connector-expert': 12,
  // backbones, generation, HF causal LM import
  '@mllm/llm': 36,
  // the assembled model, its config and batching
  // and the multimodal generation options with VCD's image noise, and the mitigation options'
  // schema a run config's eval.decoding and `mllm eval` share
  '@mllm/model': 26,
  // stages, optimizer, data parallelism, alignment losses and reward model; training at size
  // (the frozen-feature cache, the LoRA config schema, a stage's throughput record)
  // and the chain-of-thought and expert-bridge options
  // and the align stage's caption report (web noise, CLIP filter, recaptions)
  '@mllm/training': 72,
  // POPE, CHAIR, closed-set and reasoning scorers, the evaluation runner, reports and charts;
  // open-set scoring (FaithScore's atomic facts and their check, attribute CHAIR), which
  // post-correction and judges build on; accuracy per object attribute (its scorer, judge and
  // result types, the expert text's report); judges (agreement metrics, rubric prompt and score
  // parsing, the judge report and the evaluation's judge hook); M-ICL (demonstrations in answer
  // requests, the few-shot scorer, its set and result types, its report section and curve)
  // (every open-set and extended-technique scorer has its result type here, so reports and sweeps can read them)
  // and the Shapes spatial rule on cell names, which FaithScore and post-correction share
  // and zero-shot held-in / held-out accuracy (tasks and phrasings) with its item and result types
  // and factText, a fact's words, which the HaELM-style judge reads a response in
  '@mllm/eval': 103,
  // export, exporter registry, graph building, the runtime: the plugin-author surface, kept whole;
  // the manifest's schema and limits, for tools that write or check an export folder
  '@mllm/onnx': 45,
  // running configs, reopening runs, plugins, deployment, size estimates and their limits
  // writeHfStandin with its catalog (stand-ins for released checkpoints), and HfExportError
  // (what `format: "hf"` export throws for a part with no LLaVA equivalent); eval.judges' runner
  // and its OpenAI-compatible endpoint client, for tools that judge a finished run; few-shot
  // prompts (demonstrations in answer and chat, their checks) and the few-shot evaluation set
  // and the vision-tool registry contract with tool chat
  // and post-correction of a run's answers (the detector as Woodpecker's expert, LURE's revising
  // answerer, their log), for `mllm chat --correct` and for wrapping any answerer; the describer
  // a judge trains on the judged model's descriptions with
  '@mllm/run': 90,
  // the post-correction pipeline, its stages and the expert interface, and the rewrite's
  // options (the confidence below which the expert does not overrule the answer)
  '@mllm/correct': 14,
};

/** Every publishable workspace package: name, folder and its `exports` subpaths with their declaration files. */
function packages() {
  return readdirSync(join(root, 'packages')).flatMap((dir) => {
    const pkgPath = join(root, 'packages', dir, 'package.json');
    if (!existsSync(pkgPath)) return [];
    const pkg = JSON.parse(readFileSync(pkgPath, 'utf8'));
    const entries = Object.entries(pkg.exports ?? {}).flatMap(([subpath, target]) => {
      const types = typeof target === 'object' ? (target.import?.types ?? target.types) : undefined;
      return types ? [{ subpath, file: join(root, 'packages', dir, types) }] : [];
    });
    return [{ name: pkg.name, dir, entries }];
  });
}

/** The names a declaration file exports, each with the declaration it binds to (aliases followed). */
function exportedNames(checker, sourceFile) {
  const moduleSymbol = checker.getSymbolAtLocation(sourceFile);
  if (!moduleSymbol) return new Map();
  return new Map(
    checker.getExportsOfModule(moduleSymbol).map((symbol) => {
      const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      const declaration = target.declarations?.[0];
      const where = declaration ? `${declaration.getSourceFile().fileName}:${declaration.pos}` : symbol.name;
      return [symbol.name, where];
    }),
  );
}

function main() {
  const list = process.argv.includes('--list');
  const all = packages();
  const missing = all.flatMap((p) => p.entries.filter((e) => !existsSync(e.file)).map((e) => `${p.name}${e.subpath.slice(1)}: ${e.file}`));
  if (missing.length) {
    console.error(`check-exports: declaration files missing (run \`npx nx run-many -t build\` first):\n  ${missing.join('\n  ')}`);
    process.exit(1);
  }
  const program = ts.createProgram(
    all.flatMap((p) => p.entries.map((e) => e.file)),
    { moduleResolution: ts.ModuleResolutionKind.Bundler, module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, skipLibCheck: true, noEmit: true, types: [] },
  );
  const checker = program.getTypeChecker();
  const problems = [];
  /** name -> the packages that export it */
  const homes = new Map();
  for (const p of all) {
    /** name -> declaration, over all of this package's entries */
    const bindings = new Map();
    for (const entry of p.entries) {
      const names = exportedNames(checker, program.getSourceFile(entry.file));
      const label = `${p.name}${entry.subpath.slice(1)}`;
      if (list) console.log(`${label} (${names.size}): ${[...names.keys()].sort().join(', ')}`);
      if (entry.subpath === '.') {
        const limit = LIMITS[p.name];
        if (limit === undefined) problems.push(`${p.name}: no export limit set; add one to LIMITS in tools/check-exports.mjs`);
        else if (names.size > limit) problems.push(`${p.name}: its index exports ${names.size} names, over its limit of ${limit}; move internals behind a subpath or raise the limit in tools/check-exports.mjs saying why`);
        console.log(`${p.name.padEnd(28)} ${String(names.size).padStart(4)} / ${limit ?? '-'}${p.entries.length > 1 ? `   (+ ${p.entries.filter((e) => e.subpath !== '.').map((e) => e.subpath.slice(2)).join(', ')})` : ''}`);
      }
      for (const [name, where] of names) {
        const earlier = bindings.get(name);
        if (earlier && earlier.where !== where) problems.push(`${p.name}: "${name}" means two things in ${earlier.label} and ${label}`);
        bindings.set(name, { where, label });
        if (!homes.has(name)) homes.set(name, new Map());
        if (!homes.get(name).has(p.name)) homes.get(name).set(p.name, label);
      }
    }
  }
  const paths = ts.readConfigFile(join(root, 'tsconfig.base.json'), ts.sys.readFile).config?.compilerOptions?.paths ?? {};
  for (const p of all)
    for (const entry of p.entries)
      if (entry.subpath !== '.' && !paths[`${p.name}${entry.subpath.slice(1)}`])
        problems.push(`${p.name}${entry.subpath.slice(1)}: no "paths" entry in tsconfig.base.json; add one pointing at its source file`);
  for (const [name, byPackage] of homes)
    if (byPackage.size > 1) problems.push(`"${name}" is exported by ${[...byPackage.values()].join(' and ')}: give it one home (import it from there) or names that say what each is`);
  if (problems.length) {
    console.error(`\ncheck-exports: ${problems.length} problem(s)\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }
  console.log('check-exports: ok');
}

main();
