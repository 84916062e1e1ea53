import { isUserError } from './errors';
import { explainSystemError, isSystemError } from './system-errors';

/** One failure as the user reads it: what went wrong and where, what to do, and the exit code. */
export interface ErrorReport {
  /** `<what> (<file or JSON path>)`; may span lines (a config error lists each path). */
  what: string;
  hint?: string;
  /** 2: the user can fix it (a path, a file, a config, a flag); 1: a bug in mllm or a library under it. */
  exitCode: 1 | 2;
  /** A bug: the user is asked to rerun with --debug and report it. */
  internal?: boolean;
}

/** What was running when it failed: the command line, to name in errors that carry no file. */
export interface ErrorContext {
  argv: readonly string[];
}

const REPORT_IT = 'rerun with --debug for the stack and report it';

const firstLine = (text: string) => text.split('\n')[0]!.trim();

/** `mllm chat --model exports/x --image a.png`, shortened: what the user typed, without --debug. */
export function commandLine(argv: readonly string[]): string {
  const words = argv.filter((a) => a !== '--debug').map((a) => (/[\s"']/.test(a) ? JSON.stringify(a) : a));
  const line = ['mllm', ...words].join(' ');
  return line.length > 120 ? `${line.slice(0, 117)}...` : line;
}

/** The value of `--flag v` or `--flag=v` in argv. */
function flagValue(argv: readonly string[], flag: string): string | undefined {
  for (const [i, a] of argv.entries()) {
    if (a === flag) return argv[i + 1];
    if (a.startsWith(`${flag}=`)) return a.slice(flag.length + 1);
  }
  return undefined;
}

/** Arguments that look like files or folders the command reads, to name when the error does not. */
function pathsIn(argv: readonly string[]): string[] {
  return argv.filter((a, i) => i > 0 && !a.startsWith('-') && /[./\\]/.test(a) && !/\s/.test(a));
}

const LIBRARY = {
  sharp: /node_modules[\\/]sharp[\\/]/,
  onnxruntime: /node_modules[\\/]onnxruntime-(node|common|web)[\\/]/,
  tfjs: /node_modules[\\/]@tensorflow[\\/]/,
};

/** sharp / libvips decode failures: the file is not an image, or not one libvips can read. */
const SHARP_MESSAGE = /^(Input (file|buffer|image)\b|Vips\w*:|\w+load(_buffer)?:|Image (too large|exceeds)|Expected .* for (width|height))/;
const ONNXRUNTIME_MESSAGE = /\[ErrorCode:|ONNXRuntimeError|Non-zero status code returned|Load model from .* failed/;
const OUT_OF_MEMORY = /Array buffer allocation failed|Invalid (typed )?array length|Invalid string length|out of memory|Aborted\(OOM\)|Cannot enlarge memory/i;

/**
 * Sorts a failure into the kinds a user can act on. mllm's own errors already say what, where
 * and how to fix it; OS, JSON, image-decoding and runtime errors are named with the path or the
 * command that hit them; anything else is a bug: one line, and --debug for the stack.
 */
export function describeError(e: unknown, context: ErrorContext): ErrorReport {
  if (!(e instanceof Error)) return { what: `internal error: ${String(e)}`, hint: REPORT_IT, exitCode: 1, internal: true };
  const during = commandLine(context.argv);
  if (isUserError(e)) return { what: e.message, exitCode: 2 };
  if (isSystemError(e)) return { ...explainSystemError(e, during), exitCode: 2 };
  const stack = e.stack ?? '';
  const message = firstLine(e.message);
  if (SHARP_MESSAGE.test(e.message) || LIBRARY.sharp.test(stack)) {
    const image = flagValue(context.argv, '--image');
    return image
      ? { what: `cannot decode image ${image} (${message})`, hint: 'pass a PNG, JPEG, WebP, GIF, TIFF or AVIF file (mllm scene --out scene.png makes one)', exitCode: 2 }
      : { what: `cannot decode an image (${message}; during ${during})`, hint: 'a file named as an image is not one libvips can read; mllm lint-data names each bad file of a data set', exitCode: 2 };
  }
  if (e instanceof SyntaxError && /JSON/.test(e.message)) {
    const files = pathsIn(context.argv);
    return { what: `not valid JSON: ${message} (reading ${files.length ? files.join(', ') : 'the input'})`, hint: 'fix the JSON at the position the message gives (an editor with JSON support marks it)', exitCode: 2 };
  }
  if (OUT_OF_MEMORY.test(e.message)) {
    return { what: `out of memory: ${message} (during ${during})`, hint: 'a size in the config (batch size, dim, layers, vocabulary, image size) is likely too large; make it smaller', exitCode: 2 };
  }
  if (ONNXRUNTIME_MESSAGE.test(e.message) || LIBRARY.onnxruntime.test(stack)) {
    // reading a user's export folder (--model): its files are the likely cause; elsewhere (the
    // matMul engine of training) onnxruntime only runs graphs mllm built, so it is a bug
    const model = flagValue(context.argv, '--model');
    if (model) return { what: `onnxruntime failed on ${model}: ${message} (during ${during})`, hint: `the ONNX files may be damaged or come from different exports: export the run again with mllm export; if that does not help, ${REPORT_IT}`, exitCode: 2 };
    return { what: `internal error in onnxruntime: ${message} (during ${during})`, hint: REPORT_IT, exitCode: 1, internal: true };
  }
  if (LIBRARY.tfjs.test(stack)) return { what: `internal error in tfjs: ${message} (during ${during})`, hint: REPORT_IT, exitCode: 1, internal: true };
  return { what: `internal error: ${message} (during ${during})`, hint: REPORT_IT, exitCode: 1, internal: true };
}
