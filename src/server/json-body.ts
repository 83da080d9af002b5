/**
 * Sending prepared JSON bodies: gzipped for the clients that accept it (every browser), as they
 * are for the others. The bodies come from caches (lists, series), so that a body is compressed
 * once and sent many times.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

export interface JsonBody {
  /** UTF-8 JSON. */
  readonly json: Buffer;
  /** The same, gzipped; null when not worth it (small bodies). May compress on first call. */
  gzip(): Buffer | null;
}

/** Bodies under this many bytes are sent as they are. */
export const minGzipBytes = 1024;

export function sendJsonBody(request: FastifyRequest, reply: FastifyReply, body: JsonBody): Buffer {
  void reply.header('vary', 'accept-encoding').type('application/json; charset=utf-8');
  if (body.json.length < minGzipBytes || !/\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''))) return body.json;
  const gzip = body.gzip();
  if (gzip === null) return body.json;
  void reply.header('content-encoding', 'gzip');
  return gzip;
}
