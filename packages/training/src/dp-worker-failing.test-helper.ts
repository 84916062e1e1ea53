// A data-parallel worker that throws (MLLM_TEST_FAIL_AT) or exits (MLLM_TEST_EXIT_AT) at a given step: tests of failure handling.
import { serveDataParallel } from './dp-worker-serve';

const failAt = Number(process.env.MLLM_TEST_FAIL_AT ?? -1);
const exitAt = Number(process.env.MLLM_TEST_EXIT_AT ?? -1);
await serveDataParallel({
  beforeStep: (step) => {
    if (step === failAt) throw new Error(`injected failure at step ${step}`);
    if (step === exitAt) process.exit(3);
  },
});
