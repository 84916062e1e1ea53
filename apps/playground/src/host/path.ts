/** Browser stand-in for node:path's join and dirname (POSIX), for the runtime's file names. */

export function join(...parts: string[]): string {
  const joined = parts.filter((p) => p !== '').join('/');
  const out: string[] = [];
  for (const piece of joined.split('/')) {
    if (piece === '..') out.pop();
    else if (piece !== '.' && piece !== '') out.push(piece);
  }
  return `${joined.startsWith('/') ? '/' : ''}${out.join('/')}`;
}

export function dirname(path: string): string {
  const i = path.replace(/\/+$/, '').lastIndexOf('/');
  return i <= 0 ? (path.startsWith('/') ? '/' : '.') : path.slice(0, i);
}

export function basename(path: string): string {
  return path.replace(/\/+$/, '').split('/').pop() ?? '';
}

export function extname(path: string): string {
  const name = basename(path);
  const i = name.lastIndexOf('.');
  return i <= 0 ? '' : name.slice(i);
}

export function isAbsolute(path: string): boolean {
  return path.startsWith('/');
}

export function resolve(...parts: string[]): string {
  const from = parts.reduceRight((acc, p) => (isAbsolute(acc) ? acc : `${p}/${acc}`), '');
  return join(isAbsolute(from) ? from : `/${from}`);
}

export function normalize(path: string): string {
  return join(path);
}

export function relative(from: string, to: string): string {
  const a = resolve(from).split('/').filter(Boolean);
  const b = resolve(to).split('/').filter(Boolean);
  let common = 0;
  while (common < a.length && a[common] === b[common]) common++;
  return [...a.slice(common).map(() => '..'), ...b.slice(common)].join('/');
}

export const sep = '/';

const path = { join, dirname, basename, extname, isAbsolute, resolve, normalize, relative, sep };
export const posix = path;
export default path;
