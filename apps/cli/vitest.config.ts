import { packageTests } from '../../tools/vitest.base';

export default packageTests({ testTimeout: 300_000 });
