import { packageTests } from '../../tools/vitest.base';

export default packageTests();
