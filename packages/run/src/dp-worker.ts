// Entry of a data-parallel worker (thread or process) of `run`: the model is built from the
// built-in types plus the plugins the run config names (already absolute paths).
import { serveDataParallel } from '@mllm/training/internal';
import { createRegistry } from './registry';
import { loadPlugins } from './plugins';

void serveDataParallel({ registry: (spec) => loadPlugins(createRegistry(), (spec.config.plugins as string[] | undefined) ?? []) });
