export { STANDIN_MODELS, STANDIN_NAMES, type StandinModel } from './catalog';
export { writeHfStandin, findStandinModel, type WriteStandinOptions, type WrittenStandin } from './write-standin';
export type { StandinDtype } from './safetensors-writer';
