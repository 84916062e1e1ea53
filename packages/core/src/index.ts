export { Rng } from './rng';
export { MllmError, ConfigError, CheckpointError, type ConfigIssue } from './errors';
export { silentLogger, type Logger } from './logger';
export { initBackend, backendInfo, BACKENDS, type BackendInfo, type BackendRequest } from './backend';
export { ModuleList, ModuleGroup } from './module-list';
export { Module, describeLoadReport, type Parameter, type LoadReport } from './module';
export { normalInit, fanInUniform } from './init';
export { Linear, linear, matMulConstant, type LinearOptions } from './nn/linear';
export { Embedding, embeddingLookup } from './nn/embedding';
export { LayerNorm, RMSNorm, makeNorm, type NormKind } from './nn/norms';
export { GeluMLP, SwiGLU, PreNormFeedForward, gelu } from './nn/mlp';
export { RotaryEmbedding, type RopeTables } from './nn/rope';
export { buildAttentionMask, MASKED, type AttentionPattern, type MaskOptions } from './nn/masks';
export { Attention, type AttentionConfig, type AttentionInputs, type AttentionPrefix, type AttentionRouting } from './nn/attention';
export { TransformerBlock, type TransformerBlockConfig, type BlockStyle, type FeedForward, type ModalityRouting, type BlockInputs } from './nn/transformer-block';
export { SparseMoeBlock, MixtralExpert, gatherRows, scatterAddRows, dispatchTokens, loadBalancingLoss, routerZLoss, moeAux, moeStats, type MoeOptions, type MoeRouting, type MoeAux, type MoeLossOptions } from './nn/moe';
export { maskedCrossEntropy } from './losses';
export { encodeSafetensors, decodeSafetensors, saveSafetensors, loadSafetensors, writeFileAtomic, MAX_HEADER_BYTES, type EncodeOptions } from './safetensors';
export { loadHfFolder, saveHfFolder, parseHfSpec, type HfFolder, type SaveHfFolderOptions } from './hf-folder';
export { Registry, zodIssues, type RegistryEntry, type RegisterOptions, type PretrainedSource, type FromSourceResolver } from './registry';
export { batchMatMul, batchMatMulNT, batchMatMulTN, setFastKernels, fastKernelsEnabled, installFastKernels, setMatMulEngine, matMulEngineInfo, MATMUL_ENGINES, type MatMulEngine } from './kernels/batch-matmul';
export { checkGradients, checkParameterGradients, gradientMismatches, type GradCheckResult, type GradCheckOptions } from './grad-check';
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
  KvCache,
  EncoderContext,
  ConnectorContext,
  LlmContext,
  ComponentRegistry,
} from './components';
