import type { Worker } from 'node:worker_threads';
import type { ChildProcess } from 'node:child_process';
import type { ToWorker } from './data-parallel';

/** A worker thread or child process, seen the same way from the main thread. */
export interface Channel {
  /** Resolves once the message has left this process (a child's pipe drains only while our event loop runs). */
  send(msg: ToWorker): Promise<void>;
  /** Whether the worker keeps this process alive (only while a reply is awaited). */
  hold(on: boolean): void;
  stop(): Promise<void>;
}

export function threadChannel(worker: Worker): Channel {
  return {
    send: async (msg) => worker.postMessage(msg),
    hold: (on) => (on ? worker.ref() : worker.unref()),
    stop: async () => {
      worker.postMessage({ type: 'stop' } satisfies ToWorker);
      await worker.terminate();
    },
  };
}

export function processChannel(child: ChildProcess): Channel {
  return {
    send: (msg) => new Promise<void>((resolve, reject) => void child.send(msg, (e) => (e ? reject(e) : resolve()))),
    hold: (on) => {
      if (on) {
        child.ref();
        child.channel?.ref();
      } else {
        child.unref();
        child.channel?.unref();
      }
    },
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      // an unreferenced child would let this process exit before its exit event arrives
      child.ref();
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill();
      await exited;
    },
  };
}
