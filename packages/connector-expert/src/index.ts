// The expert-model bridge: a region detector writes a caption that a text-only LLM reads.
export { ExpertBridge, buildExpertBridge, expertBridgeSchema, type ExpertBridgeConfig } from './expert-bridge';
export { RegionDetector, REGION_LOGITS } from './region-detector';
export { renderExpertText, EXPERT_TEXT_TOKENS, EXPERT_WORDS, NOTHING_FOUND, type RegionDetection } from './expert-text';
export { registerExpertConnectors } from './register';
