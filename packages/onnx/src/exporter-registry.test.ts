import { describe, it, expect } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createComponentRegistry, MultimodalModel } from '@mllm/model';
import { createOnnxExporters, type OnnxExporters } from './exporter-registry';
import { registerOnnxExporters } from './register-exporters';
import { exportModel } from './export-model';
import { UnsupportedExportError } from './unsupported-error';
import { tempDir, tinyModel } from './test-model.test-helper';

const builtIns = (): OnnxExporters => {
  const exporters = createOnnxExporters();
  registerOnnxExporters(exporters);
  return exporters;
};

describe('ONNX exporters by component type', () => {
  const components = createComponentRegistry();
  const exporters = builtIns();
  const slots = [
    ['encoders', components.encoders, exporters.encoders],
    ['connectors', components.connectors, exporters.connectors],
    ['llms', components.llms, exporters.llms],
  ] as const;

  it.each(slots)('every built-in %s type has an exporter or a stated reason, and no exporter names a type that does not exist', (_slot, types, onnx) => {
    expect(types.types().length).toBeGreaterThan(0);
    for (const type of types.types()) {
      expect(onnx.has(type), `no ONNX entry for built-in type "${type}": register an exporter or { unsupported: reason } in registerOnnxExporters`).toBe(true);
      const entry = onnx.get(type) as { unsupported?: string };
      if ('unsupported' in entry) expect(entry.unsupported!.length, `${type}: the reason must tell the user what to do`).toBeGreaterThan(40);
    }
    expect(onnx.types()).toEqual(types.types());
  });

  it('an unknown type names itself and the known ones; a duplicate or malformed registration throws', () => {
    const onnx = builtIns();
    expect(() => onnx.connectors.get('c-abstractor')).toThrow(/no ONNX exporter for connector type "c-abstractor"; known: adapter-prompts, expert, gated-cross-attention, linear, mlp, perceiver, qformer, visual-expert/);
    expect(() => onnx.connectors.register('mlp', { imageFeatures: () => ({ features: 'x', tokens: 1 }) })).toThrow(/ONNX connector exporter "mlp" is already registered/);
    expect(() => onnx.encoders.register('my-encoder', { image: () => ({ size: 1, channels: 1, mean: [0], std: [1] }) } as never)).toThrow(/lacks features\(\), hf\(\)/);
    expect(() => onnx.llms.register('my-llm', { unsupported: ' ' })).toThrow(/needs a reason a user can act on/);
    expect(() => onnx.connectors.register('half-fusion', { imageFeatures: () => ({ features: 'x', tokens: 1 }), decoder: () => ({}) })).toThrow(/both decoder\(\).*and fusion\(\)/);
  });

  it('refuses a part whose type has no exporter, naming the type and how a plugin adds one, and writes nothing', async () => {
    const model = tinyModel();
    const onnx = createOnnxExporters();
    registerOnnxExporters({ ...onnx, connectors: createOnnxExporters().connectors }); // built-ins, but the connectors go to a throwaway registry
    const dir = join(tempDir('mllm-onnx-unknown-'), 'out');
    const attempt = exportModel(model, dir, { exporters: onnx });
    await expect(attempt).rejects.toThrow(UnsupportedExportError);
    await expect(exportModel(model, dir, { exporters: onnx })).rejects.toThrow(
      /not supported yet: connector MlpProjector \(type "mlp"\)\. No ONNX exporter is registered for connector type "mlp" \(exported connector types: none\); .*registry\.onnx\.connectors\.register\("mlp", exporter\)/,
    );
    expect(existsSync(dir)).toBe(false);
    model.dispose();
  });

  it('a model assembled without buildModel (no recorded types) gets told how to build one', async () => {
    const built = tinyModel();
    const bare = new MultimodalModel(built.encoder, built.connector, built.llm, built.special);
    await expect(exportModel(bare, join(tempDir('mllm-onnx-bare-'), 'out'))).rejects.toThrow(/does not record the registry type of its parts; build it with @mllm\/model buildModel/);
    built.dispose();
  });
});
