/**
 * Starts a worker thread on one of vscope's modules, whether vscope runs compiled (dist/*.js)
 * or from its TypeScript sources (through worker-bootstrap.mjs, which registers tsx first).
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * @param entry the worker module, e.g. `moduleBeside(import.meta.url, 'list-worker')`
 */
export function startWorker(entry: URL, options: WorkerOptions = {}): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, options);
  return new Worker(new URL('./worker-bootstrap.mjs', import.meta.url), { ...options, argv: [entry.href] });
}

/** The URL of module `name` in the folder of `moduleUrl`, with the same extension (.ts from sources, .js compiled). */
export function moduleBeside(moduleUrl: string, name: string): URL {
  const extension = moduleUrl.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./${name}${extension}`, moduleUrl);
}
