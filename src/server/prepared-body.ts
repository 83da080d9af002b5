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
  /** The same, gzipped; null when not worth it (bodies under minGzipBytes). May compress on first call; asked before `json` when the client accepts gzip, so that `json` may be made only when it is sent. */
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
  const gzip = acceptsGzip(request) ? body.gzip() : null;
  if (gzip === null) return body.json;
  void reply.header('content-encoding', 'gzip');
  return gzip;
}
