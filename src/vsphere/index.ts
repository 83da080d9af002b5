/** Public surface of the vSphere client. */
export * from './client.ts';
export * from './errors.ts';
export * from './values.ts';
export { chunk, mapConcurrent } from './batch.ts';
