// Entry of a data-parallel worker thread (DataParallel.start runs this file).
import { serveDataParallel } from './dp-worker-serve';

void serveDataParallel();
