// Backend: the tfjs engine, chosen once at start, and which one runs.
export { initBackend, backendInfo, BACKENDS, type BackendInfo, type BackendRequest } from './backend';

// Errors, logging and seeded randomness (Rng is also `@mllm/core/rng`, the errors `@mllm/core/errors`:
// both load without tfjs).
export { MllmError, ConfigError, CheckpointError, type ConfigIssue } from './errors';
export { silentLogger, type Logger } from './logger';
export { Rng } from './rng';

// User data files: opened only when they are regular files (a FIFO or device would block or never end).
export { NotRegularFileError } from './regular-file';

// Modules: parameters named by HF path, state dicts, freezing, initialisation.
export { Module, describeLoadReport, type Parameter, type LoadReport } from './module';
export { ModuleList, ModuleGroup } from './module-list';
export { normalInit, fanInUniform } from './init';

// Layers a component is built from.
export { Linear, linearForward, type LinearAdapter, type LinearOptions } from './nn/linear';
export { Embedding } from './nn/embedding';
export { LayerNorm, RMSNorm, makeNorm, type NormKind } from './nn/norms';
export { GeluMLP, SwiGLU, PreNormFeedForward, geluErf } from './nn/mlp';
export { RotaryEmbedding, type RopeTables } from './nn/rope';
export { buildAttentionMask, MASKED, type AttentionPattern, type MaskOptions } from './nn/masks';
export { Attention, type AttentionConfig, type AttentionInputs, type AttentionPrefix, type AttentionRouting } from './nn/attention';
export { TransformerBlock, type TransformerBlockConfig, type BlockStyle, type FeedForward, type ModalityRouting, type BlockInputs } from './nn/transformer-block';
export { maskedCrossEntropy } from './losses';

// Mixture of experts: the sparse block, its routing and auxiliary losses.
export { SparseMoeBlock, loadBalancingLoss, routerZLoss, moeAux, moeStats, type MoeOptions, type MoeRouting, type MoeAux, type MoeLossOptions } from './nn/moe';

// Checkpoints: safetensors files and HF model folders.
export { encodeSafetensors, decodeSafetensors, saveSafetensors, loadSafetensors, readSafetensorsHeader, type EncodeOptions, type ValidEntry as SafetensorsEntry } from './safetensors';
export { loadHfFolder, saveHfFolder, parseHfSpec, type HfFolder, type SaveHfFolderOptions } from './hf-folder';

// Registry: component types by exact key, with their zod schemas and `from` resolvers.
export { type ComponentSize, type EstimateContext, type SizeEstimator } from './size-estimate';
export { Registry, zodIssues, type RegistryEntry, type RegisterOptions, type PretrainedSource, type FromSourceResolver } from './registry';

// Plug points: what an encoder, a connector and an LLM implement.
export type {
  VisionEncoder,
  TokenGrid,
  TokenConnector,
  FusionConnector,
  FusionPoint,
  FusionStep,
  LayerFusion,
  MediaSlot,
  LanguageModel,
  LmForwardOptions,
  ImageAttentionBoost,
  KvCache,
  EncoderContext,
  ConnectorContext,
  ConnectorText,
  LlmContext,
  ComponentRegistry,
} from './components';

// Matrix multiplication: which engine runs the matMuls, and the batched products layers call.
export { batchMatMul, batchMatMulNT, setFastKernels, setMatMulEngine, matMulEngineInfo, MATMUL_ENGINES, type MatMulEngine } from './kernels/batch-matmul';
