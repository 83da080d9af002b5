/**
 * HTTP transport for vim25 SOAP: one keep-alive agent of node:http or node:https, the session
 * cookie, timeouts, and the mapping of everything that can go wrong on the wire to typed
 * errors. It never logs or reports request bodies (Login carries the password).
 *
 * Node's own http client rather than undici: a `vscope collect --once` process makes about 150
 * calls, and loading undici cost about 0.15 CPU-s of a process whose whole steady cycle should
 * take about one second of CPU at 5,000 VMs (issue #12).
 */
import { readFileSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { TransportError, faultToError, type SoapFault } from './errors.ts';
import { SOAP_ENV_NS, child, elementValue, envelope, parseXml, xsiType, type ParseOptions, type XmlElement } from './xml.ts';

export interface TransportOptions {
  readonly url: string;
  readonly insecure?: boolean;
  readonly caFile?: string;
  readonly connectTimeoutMs?: number;
  readonly callTimeoutMs?: number;
  readonly log?: Logger;
}

const certificateCodes = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'HOSTNAME_MISMATCH',
]);
const unreachableCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE']);
/** Our own codes for the two timeouts (node's http client has neither built in). */
const connectTimeoutCode = 'VSCOPE_CONNECT_TIMEOUT';
const callTimeoutCode = 'VSCOPE_CALL_TIMEOUT';
const timeoutCodes = new Set([callTimeoutCode, 'ETIMEDOUT']);

class WireError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function errorCode(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const { code, name } = current as { code?: unknown; name?: unknown };
    if (typeof code === 'string') return code;
    if (name === 'TimeoutError') return 'ETIMEDOUT';
    current = (current as { cause?: unknown }).cause;
  }
  return '';
}

/** Strips user info so a URL can go in messages. */
export function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return '(invalid URL)';
  }
}

function resolveLocation(location: string, base: string): string {
  try {
    return safeUrl(new URL(location, base).toString());
  } catch {
    return '(an invalid address)';
  }
}

/** Every result of a vim25 call is in `returnval` elements: read as values, never as a tree. */
export const responseParsing: ParseOptions = { valueElements: new Set(['returnval']) };

interface WireResponse {
  readonly status: number;
  readonly contentType: string;
  readonly location: string;
  readonly text: string;
}

/**
 * Byte buffers that answers are read into, kept from call to call (one per call in flight).
 * An answer takes hundreds of ms to arrive: held meanwhile as the socket's buffers or as
 * decoded pieces, it lived through young-generation collections and reached V8's old
 * generation, where it waited for a full collection; at 5,000 VMs the history import's 2.26 GB
 * of answers were then most of that garbage, and the peak RSS of a first start (bench/RESULTS.md,
 * issue 12). Now each socket buffer dies young, and an answer's text is made once it is whole.
 */
class AnswerBuffers {
  /** Buffers kept for the next calls: as many as the calls usually in flight (QueryPerf's 4). */
  private static readonly kept = 4;
  /** A larger buffer (a page of thousands of objects) is dropped after its answer. */
  private static readonly keptBytes = 4 << 20;
  private static readonly firstBytes = 256 << 10;
  /**
   * Kept for a run of calls only (an import, a cycle, a login's questions): dropped once none
   * ended for this long, so that a person's idle session or a collector between cycles holds none.
   */
  private static readonly idleMs = 5000;
  private readonly free: Buffer[] = [];
  private idle: NodeJS.Timeout | undefined;

  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafe(AnswerBuffers.firstBytes);
  }

  /** Gives a buffer back once its answer is decoded (a failed call just drops its buffer). */
  give(buffer: Buffer): void {
    if (buffer.length <= AnswerBuffers.keptBytes && this.free.length < AnswerBuffers.kept) this.free.push(buffer);
    if (this.idle === undefined) this.idle = setTimeout(() => this.drop(), AnswerBuffers.idleMs).unref();
    else this.idle.refresh();
  }

  /** Lets every kept buffer go. */
  drop(): void {
    clearTimeout(this.idle);
    this.idle = undefined;
    this.free.length = 0;
  }

  /** A buffer of at least `bytes` holding the first `used` bytes of `buffer`. */
  static grown(buffer: Buffer, used: number, bytes: number): Buffer {
    const larger = Buffer.allocUnsafe(Math.max(bytes, 2 * buffer.length));
    buffer.copy(larger, 0, 0, used);
    return larger;
  }
}

export class SoapTransport {
  readonly url: string;
  /** SOAPAction version; the client sets it from `about.apiVersion` after the first call. */
  apiVersion = '6.5';
  private cookie: string | null = null;
  private readonly target: URL;
  private readonly agent: HttpAgent;
  private readonly send_: typeof httpRequest;
  private readonly callTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly log: Logger | undefined;
  private readonly buffers = new AnswerBuffers();

  constructor(options: TransportOptions) {
    let parsed: URL;
    try {
      parsed = new URL(options.url);
    } catch {
      throw new TransportError('unreachable', `invalid vCenter URL ${JSON.stringify(options.url)}: expected e.g. https://vcenter.example.com/sdk`);
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
      throw new TransportError('unreachable', `invalid vCenter URL scheme ${parsed.protocol}: use https://HOST/sdk`);
    }
    this.url = safeUrl(options.url);
    this.target = new URL(this.url);
    this.callTimeoutMs = options.callTimeoutMs ?? 120_000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.log = options.log;
    let ca: Buffer | undefined;
    if (options.caFile !== undefined) {
      try {
        ca = readFileSync(options.caFile);
      } catch (error) {
        throw new TransportError('certificate', `cannot read the CA file ${options.caFile}: ${(error as Error).message}`);
      }
    }
    // Idle sockets close after 30 s, before a server's own idle timeout can cut one being reused.
    const agentOptions = { keepAlive: true, timeout: 30_000, maxSockets: 16, maxFreeSockets: 16, scheduling: 'lifo' as const };
    if (parsed.protocol === 'https:') {
      this.agent = new HttpsAgent({ ...agentOptions, rejectUnauthorized: options.insecure !== true, ...(ca ? { ca } : {}) });
      this.send_ = httpsRequest;
    } else {
      this.agent = new HttpAgent(agentOptions);
      this.send_ = httpRequest;
    }
  }

  /** Drops the session cookie (before logging in again). */
  clearSession(): void {
    this.cookie = null;
  }

  /** The `vmware_soap_session` cookie, `name=value`, or null before login. */
  get sessionCookie(): string | null {
    return this.cookie;
  }

  /** Closes the connections; calls still in flight fail (close comes after the logout, or on a stop). */
  close(): Promise<void> {
    this.agent.destroy();
    this.buffers.drop();
    return Promise.resolve();
  }

  /**
   * Sends one call and returns the `<methodResponse>` element.
   * Throws SoapFault subclasses for SOAP faults, TransportError for everything else.
   */
  async send(method: string, inner: string): Promise<XmlElement> {
    const response = await this.exchange(method, inner);
    return this.parseResponse(method, response.status, response.contentType, response.text);
  }

  /**
   * Sends one call and returns the response's text when it is a 200 answer that looks like SOAP
   * (for a caller's own reading of a large result, `parse` its fallback), else throws as `send`.
   */
  async sendForText(method: string, inner: string): Promise<string> {
    const response = await this.exchange(method, inner);
    if (response.status === 200 && !response.contentType.includes('html')) return response.text;
    this.parseResponse(method, response.status, response.contentType, response.text);
    throw new TransportError('notVsphere', `${this.url} answered ${method} with HTTP ${String(response.status)}`);
  }

  /** The `<methodResponse>` element of a text `sendForText` returned. */
  parse(method: string, text: string): XmlElement {
    return this.parseResponse(method, 200, 'text/xml', text);
  }

  private async exchange(method: string, inner: string): Promise<WireResponse> {
    const started = Date.now();
    const body = envelope(method, inner);
    const headers: Record<string, string | number> = {
      'content-type': 'text/xml; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      soapaction: `urn:vim25/${this.apiVersion}`,
    };
    if (this.cookie !== null) headers['cookie'] = this.cookie;
    let response: WireResponse;
    try {
      response = await this.post(headers, body);
    } catch (error) {
      throw this.transportError(error, method);
    }
    this.log?.debug({ method, status: response.status, ms: Date.now() - started }, 'vsphere call');
    if (response.status >= 300 && response.status < 400) {
      throw new TransportError(
        'notVsphere',
        `${this.url} redirects (HTTP ${String(response.status)})${response.location ? ` to ${resolveLocation(response.location, this.url)}` : ''}: set the vCenter URL to its https://HOST/sdk address`,
      );
    }
    return response;
  }

  /** One POST: the whole response, within the call timeout (and the connect timeout for a new socket). */
  private post(headers: Record<string, string | number>, body: string): Promise<WireResponse> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (error: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(callTimer);
        clearTimeout(connectTimer);
        req.destroy(error);
        reject(error);
      };
      const req = this.send_(this.target, { method: 'POST', agent: this.agent, headers }, (res: IncomingMessage) => {
        // Copied into a buffer reused from call to call (see AnswerBuffers), decoded at the end.
        let body = this.buffers.take();
        let length = 0;
        res.on('data', (chunk: Buffer) => {
          if (length + chunk.length > body.length) body = AnswerBuffers.grown(body, length, length + chunk.length);
          chunk.copy(body, length);
          length += chunk.length;
        });
        res.on('error', fail);
        res.on('close', () => {
          if (!res.complete) fail(new WireError('ECONNRESET', 'the connection closed before the response ended'));
        });
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(callTimer);
          const text = body.toString('utf8', 0, length);
          this.buffers.give(body);
          for (const line of res.headers['set-cookie'] ?? []) {
            const match = /^\s*(vmware_soap_session=[^;]*)/.exec(line);
            if (match?.[1]) this.cookie = match[1];
          }
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            location: String(res.headers['location'] ?? ''),
            text,
          });
        });
      });
      const callTimer = setTimeout(() => fail(new WireError(callTimeoutCode, 'call timeout')), this.callTimeoutMs);
      let connectTimer: NodeJS.Timeout | undefined;
      req.on('socket', (socket: Socket) => {
        if (!socket.connecting) return;
        connectTimer = setTimeout(() => fail(new WireError(connectTimeoutCode, 'connect timeout')), this.connectTimeoutMs);
        socket.once(this.target.protocol === 'https:' ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
      });
      req.on('error', fail);
      req.end(body);
    });
  }

  private parseResponse(method: string, status: number, contentType: string, text: string): XmlElement {
    const notVsphere = (what: string): TransportError =>
      new TransportError(
        'notVsphere',
        `${this.url} did not answer like a vSphere SOAP endpoint (HTTP ${String(status)}, ${what}): check the URL (a vCenter's is https://HOST/sdk)`,
      );
    if (status === 401 || status === 403) throw notVsphere('access refused before SOAP');
    if (contentType.includes('html') || /^\s*(<!doctype html|<html[\s>])/i.test(text)) throw notVsphere('an HTML page');
    let root: XmlElement;
    try {
      root = parseXml(text, responseParsing);
    } catch {
      throw notVsphere(contentType ? `${contentType.split(';')[0] ?? ''} that is not XML` : 'no XML');
    }
    const body = root.name === 'Envelope' && root.ns === SOAP_ENV_NS ? child(root, 'Body') : undefined;
    if (!body) throw notVsphere(root.name.toLowerCase() === 'html' ? 'an HTML page' : `XML <${root.name}> instead of a SOAP envelope`);
    const first = body.children[0];
    if (!first) throw notVsphere('an empty SOAP body');
    if (first.name === 'Fault') throw this.faultError(first);
    if (status !== 200) throw notVsphere('a SOAP body with an error status');
    if (first.name !== `${method}Response`) throw notVsphere(`<${first.name}> in answer to ${method}`);
    return first;
  }

  private faultError(fault: XmlElement): SoapFault {
    const message = child(fault, 'faultstring')?.text.trim() ?? '';
    const detail = child(fault, 'detail')?.children[0];
    let faultType = 'SoapFault';
    if (detail) faultType = xsiType(detail) ?? detail.name.replace(/Fault$/, '');
    else if (/not authenticated/i.test(message)) faultType = 'NotAuthenticated';
    return faultToError(faultType, message, detail ? elementValue(detail) : undefined);
  }

  private transportError(error: unknown, method: string): TransportError {
    const code = errorCode(error);
    const detail = code || (error instanceof Error ? error.message : String(error));
    if (certificateCodes.has(code)) {
      return new TransportError(
        'certificate',
        `the certificate of ${this.url} is not trusted (${code}): set VSCOPE_VCENTER_CA_FILE to a PEM file of its CA, or VSCOPE_VCENTER_INSECURE=true to skip verification`,
        { cause: error },
      );
    }
    if (code.startsWith('ERR_SSL') || code === 'EPROTO') {
      return new TransportError('notVsphere', `TLS failed with ${this.url} (${code}): check the URL scheme (https for a vCenter)`, { cause: error });
    }
    if (code === connectTimeoutCode) {
      return new TransportError(
        'timeout',
        `could not connect to ${this.url} within ${String(this.connectTimeoutMs)} ms: check the address and the firewall`,
        { cause: error },
      );
    }
    if (timeoutCodes.has(code)) {
      return new TransportError(
        'timeout',
        `${this.url} did not answer ${method} within ${String(this.callTimeoutMs)} ms: check that it is a responsive vCenter`,
        { cause: error },
      );
    }
    if (unreachableCodes.has(code)) {
      return new TransportError('unreachable', `cannot reach ${this.url} (${code}): check the address, the port and that vCenter is up`, {
        cause: error,
      });
    }
    return new TransportError('unreachable', `request to ${this.url} failed (${detail})`, { cause: error });
  }
}
