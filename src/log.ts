/** The process logger: pino, JSON lines, with every password-like field redacted. */
import { pino, type Logger } from 'pino';

export type { Logger };

/** Paths pino blanks out wherever they appear in a log object (up to three levels deep). */
export const redactPaths: readonly string[] = [
  'password',
  'passwordFile',
  'cookie',
  '*.password',
  '*.cookie',
  '*.*.password',
  '*.*.*.password',
  'vcenters[*].password',
  '*.vcenters[*].password',
  'req.headers.cookie',
  'req.headers.authorization',
  'res.headers["set-cookie"]',
];

/** A logger at `level` (a LogLevel of config.ts), writing to `destination` (default stdout). */
export function createLogger(level: string = 'info', destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = { level, redact: { paths: [...redactPaths], censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}
