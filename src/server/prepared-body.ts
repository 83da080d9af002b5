/**
 * Sending prepared bodies (JSON, or the Prometheus text): gzipped for the clients that accept it
 * (every browser, Prometheus), as they are for the others. The bodies come from caches (lists,
 * series) or from a worker thread (lists, metrics), so that a body is compressed once, off the
 * request path or for many requests.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

export interface PreparedBody {
  /** UTF-8 text: JSON unless said otherwise. */
  readonly json: Buffer;
  /** The same, gzipped; null when not worth it (small bodies). May compress on first call. */
  gzip(): Buffer | null;
}

/** Bodies under this many bytes are sent as they are. */
export const minGzipBytes = 1024;

/** Whether the client accepts gzip (Accept-Encoding names it). */
export function acceptsGzip(request: FastifyRequest): boolean {
  return /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
}

export function sendPrepared(
  request: FastifyRequest,
  reply: FastifyReply,
  body: PreparedBody,
  contentType = 'application/json; charset=utf-8',
): Buffer {
  void reply.header('vary', 'accept-encoding').type(contentType);
  if (body.json.length < minGzipBytes || !acceptsGzip(request)) return body.json;
  const gzip = body.gzip();
  if (gzip === null) return body.json;
  void reply.header('content-encoding', 'gzip');
  return gzip;
}
