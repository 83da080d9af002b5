// Worker entry when vscope runs from its TypeScript sources: Node 20 loads a worker's entry
// without the parent's loader hooks (neither an inherited `--import tsx` nor bin/vscope.js's
// programmatic `register()`), so the worker registers tsx itself, then imports the entry
// given as its first argument. The compiled build (dist/*.js) does not need it.
import { register } from 'tsx/esm/api';

register();
const entry = process.argv[2];
if (entry === undefined) throw new Error('worker-bootstrap.mjs needs the entry module URL as its first argument');
await import(entry);
