/**
 * Composition root (placeholder): the engineer who owns main.ts replaces these with the real
 * wiring of config, store, collector and server.
 */
import type { Logger } from 'pino';
import type { Config } from './config.ts';

export function runServe(_config: Config, _log: Logger): Promise<void> {
  return Promise.reject(new Error('not implemented yet'));
}

export function runCollect(_config: Config, _log: Logger, _options: { readonly once: boolean }): Promise<void> {
  return Promise.reject(new Error('not implemented yet'));
}

export function runDemo(_argv: readonly string[]): Promise<void> {
  return Promise.reject(new Error('not implemented yet'));
}
