export { main } from './main';
export { reportError } from './report-error';
