/**
 * The one validated configuration of vscope, from a YAML file (`--config FILE` or
 * `VSCOPE_CONFIG`) and environment variables (which override the file's scalar settings and
 * describe one more vCenter). Every problem becomes a ConfigError naming the field and what is
 * allowed; no message ever contains a password (or any other received value).
 */
import { existsSync, readFileSync } from 'node:fs';
import type { z } from 'zod';

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

export interface VcenterConfig {
  /** Short URL-safe id ([A-Za-z0-9._-]); default: the URL's host name. */
  readonly id: string;
  /** SDK endpoint, normalized: `https://HOST/sdk` for a bare host name. */
  readonly url: string;
  readonly username: string;
  /** Never log it. */
  readonly password: string;
  /** Skip certificate verification. */
  readonly insecure: boolean;
  /** PEM file of the CA(s) to trust, or null for the system store. */
  readonly caFile: string | null;
}

export interface CollectorTuning {
  /** Entities per QueryPerf call. Default 50. */
  readonly perfEntitiesPerQuery: number;
  /** Metric ids per entity per QueryPerf call. Default 64. */
  readonly perfMetricsPerQuery: number;
  /** QueryPerf calls in flight. Default 4. */
  readonly perfConcurrency: number;
  /** RetrievePropertiesEx maxObjects. Default 1000. */
  readonly pageSize: number;
}

export interface Config {
  /** Where the SQLite database lives. Default `./data`. */
  readonly dataDir: string;
  /** Web server address. Default 127.0.0.1:8080. */
  readonly listen: { readonly host: string; readonly port: number };
  /** Collection cycle in seconds, 20..900. Default 120. */
  readonly intervalSec: number;
  readonly logLevel: LogLevel;
  /**
   * Web sessions: end after `idleSec` unused (default 8 h) and `maxSec` in any case (24 h); what
   * each person may see is asked of vCenter again every `scopeRefreshSec` (default 600, at most 900).
   */
  readonly session: { readonly idleSec: number; readonly maxSec: number; readonly scopeRefreshSec: number };
  /** Serve https when set. */
  readonly tls: { readonly certFile: string; readonly keyFile: string } | null;
  readonly collector: CollectorTuning;
  /** May be empty (the demo fills one in; see `withVcenters`). */
  readonly vcenters: readonly VcenterConfig[];
  /** Prometheus endpoint: served when enabled; with a token, only to `Authorization: Bearer TOKEN`. */
  readonly metrics: { readonly enabled: boolean; readonly token: string | null };
  /** A Prometheus-compatible engine for the samples instead of SQLite's tiers; null: SQLite. */
  readonly engine: EngineConfig | null;
  /** PostgreSQL for the shared state (inventory, statuses, sessions...) instead of SQLite; null: SQLite. */
  readonly database: DatabaseConfig | null;
  /** Things to log as warnings at start (e.g. certificate verification disabled). */
  readonly warnings: readonly string[];
}

/** Where samples go (remote write) and come back from (PromQL), and how to authenticate. */
export interface EngineConfig {
  /** e.g. `http://prometheus:9090/api/v1/write`, `http://vm:8428/api/v1/write`, Mimir's `/api/v1/push`. */
  readonly remoteWriteUrl: string;
  /** The PromQL API root, e.g. `http://prometheus:9090` (vscope adds `/api/v1/query_range`). */
  readonly promqlUrl: string;
  /** Never log it. */
  readonly auth: { readonly bearerToken: string } | { readonly username: string; readonly password: string } | null;
  /** Extra headers on every request, e.g. `X-Scope-OrgID` for a Mimir tenant. */
  readonly headers: Readonly<Record<string, string>>;
}

/** The shared database of several vscope processes. */
export interface DatabaseConfig {
  /** `postgres://USER@HOST:PORT/DATABASE` (no password in it: see `password`). */
  readonly url: string;
  /** Never log it; null for trust or peer authentication. */
  readonly password: string | null;
  /** Connections each process keeps at most. Default 10. */
  readonly poolSize: number;
}

/** A vCenter as written in the file or passed programmatically. */
export interface VcenterInput {
  readonly id?: string;
  readonly url: string;
  readonly username: string;
  readonly password?: string;
  readonly passwordFile?: string;
  readonly insecure?: boolean;
  readonly caFile?: string;
}

export class ConfigError extends Error {
  readonly code = 'CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const idPattern = /^[A-Za-z0-9._-]+$/;
const idMaxLength = 64;
/** An HTTP header name (RFC 9110 token). */
const headerNamePattern = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * The schemas of the file and of vCenters passed in, made with zod when first needed: a
 * configuration from the environment alone (validated by hand below, as every variable is)
 * never loads zod, nor yaml, which cost `vscope collect --once` 0.15 CPU-s to load (issue 12).
 */
function makeSchemas(zod: typeof z) {
  const positiveInt = (max: number): z.ZodNumber => zod.number().int().min(1).max(max);
  const vcenter = zod.strictObject({
    id: zod.string().regex(idPattern, { error: 'must use only letters, digits, ".", "_" and "-"' }).max(idMaxLength).optional(),
    url: zod.string().min(1),
    username: zod.string().min(1),
    password: zod.string().min(1).optional(),
    passwordFile: zod.string().min(1).optional(),
    insecure: zod.boolean().optional(),
    caFile: zod.string().min(1).optional(),
  });
  const intervalRule = { error: 'must be a whole number from 20 to 900' };
  const file = zod.strictObject({
    dataDir: zod.string().min(1).optional(),
    listen: zod.union([zod.string().min(1), zod.number().int()]).optional(),
    intervalSec: zod.number(intervalRule).int(intervalRule).min(20, intervalRule).max(900, intervalRule).optional(),
    logLevel: zod.enum(logLevels).optional(),
    session: zod
      .strictObject({
        idleSec: positiveInt(31_536_000).optional(),
        maxSec: positiveInt(31_536_000).optional(),
        scopeRefreshSec: zod.number().int().min(10).max(900).optional(),
      })
      .optional(),
    tls: zod.strictObject({ certFile: zod.string().min(1), keyFile: zod.string().min(1) }).optional(),
    collector: zod
      .strictObject({
        perfEntitiesPerQuery: positiveInt(1000).optional(),
        perfMetricsPerQuery: positiveInt(10_000).optional(),
        perfConcurrency: positiveInt(64).optional(),
        pageSize: positiveInt(100_000).optional(),
      })
      .optional(),
    metrics: zod.strictObject({ enabled: zod.boolean().optional(), token: zod.string().min(16).optional(), tokenFile: zod.string().min(1).optional() }).optional(),
    engine: zod
      .strictObject({
        remoteWriteUrl: zod.string().min(1).optional(),
        promqlUrl: zod.string().min(1).optional(),
        bearerToken: zod.string().min(1).optional(),
        bearerTokenFile: zod.string().min(1).optional(),
        username: zod.string().min(1).optional(),
        password: zod.string().min(1).optional(),
        passwordFile: zod.string().min(1).optional(),
        headers: zod.record(zod.string().regex(headerNamePattern, { error: 'must be an HTTP header name' }), zod.string().max(1024)).optional(),
      })
      .optional(),
    database: zod
      .strictObject({
        url: zod.string().min(1).optional(),
        password: zod.string().min(1).optional(),
        passwordFile: zod.string().min(1).optional(),
        poolSize: positiveInt(100).optional(),
      })
      .optional(),
    vcenters: zod.array(vcenter).optional(),
  });
  return { vcenter, file };
}

type Schemas = ReturnType<typeof makeSchemas>;
type FileConfig = z.infer<Schemas['file']>;

/** Made per configuration read (a few ms, once or twice per process); the module loader keeps zod. */
const configSchemas = async (): Promise<Schemas> => makeSchemas((await import('zod')).z);

/** `vcenters[1].url` from a zod path. */
function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${String(part)}]` : `${out ? '.' : ''}${String(part)}`;
  return out || '(top level)';
}

/** Describes an issue without the received value (zod's default messages do not echo it). */
function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown field(s) ${issue.keys.join(', ')}`;
  if (issue.code === 'invalid_type' && issue.message.endsWith('received undefined')) return `required (${issue.expected})`;
  return issue.message;
}

function zodToConfigError(error: z.ZodError, where: string): ConfigError {
  const lines = error.issues.map((issue) => {
    const path = formatPath(issue.path);
    return `${where}${path}: ${describeIssue(issue)}`;
  });
  return new ConfigError(lines.length === 1 ? `invalid configuration: ${lines[0] ?? ''}` : `invalid configuration:\n  ${lines.join('\n  ')}`);
}

/** Normalizes a vCenter URL: bare host -> https://HOST/sdk, missing path -> /sdk. */
export function normalizeVcenterUrl(raw: string, field: string): URL {
  const text = raw.trim();
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`);
  } catch {
    throw new ConfigError(`invalid configuration: ${field}: not a URL or host name (expected e.g. https://vcenter.example.com/sdk)`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(`invalid configuration: ${field}: scheme must be https or http (expected e.g. https://vcenter.example.com/sdk)`);
  }
  if (url.username || url.password) {
    throw new ConfigError(`invalid configuration: ${field}: must not contain credentials (use the username and password settings)`);
  }
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/sdk';
  return url;
}

function readSecretFile(path: string, field: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`invalid configuration: ${field}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const password = text.replace(/\r?\n$/, '');
  if (!password) throw new ConfigError(`invalid configuration: ${field}: ${path} is empty`);
  return password;
}

function requireFile(path: string, field: string): void {
  if (!existsSync(path)) throw new ConfigError(`invalid configuration: ${field}: file ${path} does not exist`);
}

/** Validates and normalizes one vCenter given in code; `field` prefixes error messages (e.g. `vcenters(added)[0]`). */
function parseVcenter(schemas: Schemas, input: VcenterInput, field: string): VcenterConfig {
  const parsed = schemas.vcenter.safeParse(input);
  if (!parsed.success) throw zodToConfigError(parsed.error, `${field}.`);
  return normalizeVcenter(parsed.data, field);
}

/** Normalizes one vCenter whose fields have been validated (schema or environment). */
function normalizeVcenter(value: z.output<Schemas['vcenter']>, field: string): VcenterConfig {
  const url = normalizeVcenterUrl(value.url, `${field}.url`);
  if (value.password !== undefined && value.passwordFile !== undefined) {
    throw new ConfigError(`invalid configuration: ${field}: set password or passwordFile, not both`);
  }
  let password: string;
  if (value.passwordFile !== undefined) password = readSecretFile(value.passwordFile, `${field}.passwordFile`);
  else if (value.password !== undefined) password = value.password;
  else throw new ConfigError(`invalid configuration: ${field}.password: required (or passwordFile)`);
  if (value.caFile !== undefined) requireFile(value.caFile, `${field}.caFile`);
  const id = value.id ?? url.hostname.replace(/[^A-Za-z0-9._-]/g, '-');
  return { id, url: url.toString(), username: value.username, password, insecure: value.insecure ?? false, caFile: value.caFile ?? null };
}

function parseListen(raw: string | number, field: string): { host: string; port: number } {
  const text = String(raw).trim();
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text) ?? (/^(\d+)$/.exec(text) ? [text, undefined, '', text] : null);
  const port = match ? Number(match[3]) : NaN;
  if (!match || !Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new ConfigError(`invalid configuration: ${field}: expected HOST:PORT (e.g. 127.0.0.1:8080 or 0.0.0.0:8443), port 0..65535`);
  }
  return { host: match[1] ?? (match[2] || '127.0.0.1'), port };
}

function validateVcenters(vcenters: readonly VcenterConfig[]): void {
  const seen = new Set<string>();
  for (const [index, vcenter] of vcenters.entries()) {
    if (!idPattern.test(vcenter.id)) {
      throw new ConfigError(`invalid configuration: vcenters[${String(index)}].id: must use only letters, digits, ".", "_" and "-"`);
    }
    if (seen.has(vcenter.id)) {
      throw new ConfigError(`invalid configuration: vcenters[${String(index)}].id: "${vcenter.id}" is used twice; ids must be unique`);
    }
    seen.add(vcenter.id);
  }
}

/** Returns `config` with `vcenters` appended (a vCenter with an existing id replaces it). */
export async function withVcenters(config: Config, vcenters: readonly VcenterInput[]): Promise<Config> {
  const merged = [...config.vcenters];
  const warnings = [...config.warnings];
  const schemas = await configSchemas();
  for (const [index, input] of vcenters.entries()) {
    const vcenter = parseVcenter(schemas, input, `vcenters(added)[${String(index)}]`);
    const at = merged.findIndex((v) => v.id === vcenter.id);
    if (at >= 0) merged[at] = vcenter;
    else merged.push(vcenter);
    if (vcenter.insecure) warnings.push(insecureWarning(vcenter.id));
  }
  validateVcenters(merged);
  return { ...config, vcenters: merged, warnings };
}

function insecureWarning(id: string): string {
  return `certificate verification is disabled for vCenter ${id}: prefer a CA file (caFile / VSCOPE_VCENTER_CA_FILE)`;
}

type Env = Readonly<Record<string, string | undefined>>;

function envInt(env: Env, name: string, min: number, max: number): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = Number(raw.trim());
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`invalid configuration: ${name}: must be a whole number from ${String(min)} to ${String(max)}`);
  }
  return value;
}

function envBool(env: Env, name: string): boolean | undefined {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return undefined;
  if (['true', '1', 'yes', 'on'].includes(raw)) return true;
  if (['false', '0', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(`invalid configuration: ${name}: must be true or false`);
}

function envString(env: Env, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
}

async function readFileConfig(path: string): Promise<FileConfig> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read the configuration file ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const [{ parse: parseYaml }, { file }] = await Promise.all([import('yaml'), configSchemas()]);
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (error) {
    // The YAML parser's message quotes the line, which could hold a password: keep position only.
    const linePos = (error as { linePos?: { line: number; col: number }[] }).linePos?.[0];
    throw new ConfigError(`${path}: invalid YAML${linePos ? ` at line ${String(linePos.line)}, column ${String(linePos.col)}` : ''}`);
  }
  const parsed = file.safeParse(raw);
  if (!parsed.success) throw zodToConfigError(parsed.error, `${path}: `);
  return parsed.data;
}

/** An engine URL: http or https, no credentials in it (they go in their own settings). */
function engineUrl(raw: string, field: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`invalid configuration: ${field}: not a URL (e.g. http://prometheus:9090/api/v1/write)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`invalid configuration: ${field}: must be http or https`);
  if (url.username !== '' || url.password !== '') {
    throw new ConfigError(`invalid configuration: ${field}: must not hold credentials; use the engine's username/password or bearer token settings`);
  }
  return url.toString();
}

/** `Name: value; Other: value` (VSCOPE_ENGINE_HEADERS). */
function parseHeaderList(raw: string, field: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const part of raw.split(';')) {
    if (part.trim() === '') continue;
    const at = part.indexOf(':');
    const name = at < 0 ? '' : part.slice(0, at).trim();
    if (!headerNamePattern.test(name)) throw new ConfigError(`invalid configuration: ${field}: expected "Name: value; Other: value"`);
    headers[name] = part.slice(at + 1).trim();
  }
  return headers;
}

/** The engine settings, or null when neither URL is set (samples stay in SQLite). */
function engineConfig(env: Env, file: FileConfig['engine']): EngineConfig | null {
  const remoteWrite = envString(env, 'VSCOPE_REMOTE_WRITE_URL') ?? file?.remoteWriteUrl;
  const promql = envString(env, 'VSCOPE_PROMQL_URL') ?? file?.promqlUrl;
  if (remoteWrite === undefined && promql === undefined) return null;
  if (remoteWrite === undefined || promql === undefined) {
    throw new ConfigError('invalid configuration: VSCOPE_REMOTE_WRITE_URL / VSCOPE_PROMQL_URL (engine.remoteWriteUrl / engine.promqlUrl): set both or neither');
  }
  const tokenFile = envString(env, 'VSCOPE_ENGINE_BEARER_TOKEN_FILE') ?? file?.bearerTokenFile;
  const token = envString(env, 'VSCOPE_ENGINE_BEARER_TOKEN') ?? file?.bearerToken ?? (tokenFile === undefined ? undefined : readSecretFile(tokenFile, 'engine.bearerTokenFile'));
  const username = envString(env, 'VSCOPE_ENGINE_USERNAME') ?? file?.username;
  const passwordFile = envString(env, 'VSCOPE_ENGINE_PASSWORD_FILE') ?? file?.passwordFile;
  const password = env['VSCOPE_ENGINE_PASSWORD'] || file?.password || (passwordFile === undefined ? undefined : readSecretFile(passwordFile, 'engine.passwordFile'));
  if (token !== undefined && username !== undefined) {
    throw new ConfigError('invalid configuration: engine: set a bearer token or a username and password, not both');
  }
  if ((username === undefined) !== (password === undefined)) {
    throw new ConfigError('invalid configuration: VSCOPE_ENGINE_USERNAME / VSCOPE_ENGINE_PASSWORD (engine.username / engine.password): set both or neither');
  }
  const envHeaders = envString(env, 'VSCOPE_ENGINE_HEADERS');
  return {
    remoteWriteUrl: engineUrl(remoteWrite, 'VSCOPE_REMOTE_WRITE_URL (engine.remoteWriteUrl)'),
    promqlUrl: engineUrl(promql, 'VSCOPE_PROMQL_URL (engine.promqlUrl)'),
    auth: token !== undefined ? { bearerToken: token } : username !== undefined && password !== undefined ? { username, password } : null,
    headers: { ...file?.headers, ...(envHeaders === undefined ? {} : parseHeaderList(envHeaders, 'VSCOPE_ENGINE_HEADERS')) },
  };
}

/** The PostgreSQL settings, or null when no URL is set (the state stays in SQLite). */
function databaseConfig(env: Env, file: FileConfig['database']): DatabaseConfig | null {
  const url = envString(env, 'VSCOPE_DATABASE_URL') ?? file?.url;
  const passwordFile = envString(env, 'VSCOPE_DATABASE_PASSWORD_FILE') ?? file?.passwordFile;
  const inline = env['VSCOPE_DATABASE_PASSWORD'] || file?.password;
  if (url === undefined) {
    if (passwordFile !== undefined || inline !== undefined) throw new ConfigError('invalid configuration: VSCOPE_DATABASE_URL (database.url): required with a database password');
    return null;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError('invalid configuration: VSCOPE_DATABASE_URL (database.url): not a URL; expected postgres://USER@HOST:PORT/DATABASE');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new ConfigError('invalid configuration: VSCOPE_DATABASE_URL (database.url): must start with postgres://');
  }
  if (parsed.password !== '') {
    throw new ConfigError('invalid configuration: VSCOPE_DATABASE_URL (database.url): must not hold the password; use VSCOPE_DATABASE_PASSWORD_FILE (database.passwordFile)');
  }
  if (passwordFile !== undefined && inline !== undefined) throw new ConfigError('invalid configuration: database: set the password or the password file, not both');
  const password = passwordFile !== undefined ? readSecretFile(passwordFile, 'database.passwordFile') : (inline ?? null);
  return { url, password, poolSize: envInt(env, 'VSCOPE_DATABASE_POOL_SIZE', 1, 100) ?? file?.poolSize ?? 10 };
}

/** The vCenter described by VSCOPE_VCENTER_*, validated as the schema would, or null when VSCOPE_VCENTER_URL is unset. */
function envVcenter(env: Env): VcenterInput | null {
  const url = envString(env, 'VSCOPE_VCENTER_URL');
  const related = ['VSCOPE_VCENTER_USER', 'VSCOPE_VCENTER_PASSWORD', 'VSCOPE_VCENTER_PASSWORD_FILE', 'VSCOPE_VCENTER_NAME'];
  if (url === undefined) {
    const set = related.filter((name) => envString(env, name) !== undefined);
    if (set.length > 0) throw new ConfigError(`invalid configuration: VSCOPE_VCENTER_URL: required when ${set.join(', ')} is set`);
    return null;
  }
  const username = envString(env, 'VSCOPE_VCENTER_USER');
  if (username === undefined) throw new ConfigError('invalid configuration: VSCOPE_VCENTER_USER: required with VSCOPE_VCENTER_URL');
  const password = env['VSCOPE_VCENTER_PASSWORD'];
  const passwordFile = envString(env, 'VSCOPE_VCENTER_PASSWORD_FILE');
  if ((password === undefined || password === '') && passwordFile === undefined) {
    throw new ConfigError('invalid configuration: VSCOPE_VCENTER_PASSWORD: required with VSCOPE_VCENTER_URL (or VSCOPE_VCENTER_PASSWORD_FILE)');
  }
  const id = envString(env, 'VSCOPE_VCENTER_NAME');
  if (id !== undefined && !idPattern.test(id)) {
    throw new ConfigError('invalid configuration: VSCOPE_VCENTER_NAME: must use only letters, digits, ".", "_" and "-"');
  }
  if (id !== undefined && id.length > idMaxLength) throw new ConfigError(`invalid configuration: VSCOPE_VCENTER_NAME: at most ${String(idMaxLength)} characters`);
  const insecure = envBool(env, 'VSCOPE_VCENTER_INSECURE');
  const caFile = envString(env, 'VSCOPE_VCENTER_CA_FILE');
  return {
    url,
    username,
    ...(id !== undefined ? { id } : {}),
    ...(passwordFile !== undefined ? { passwordFile } : { password: password ?? '' }),
    ...(insecure !== undefined ? { insecure } : {}),
    ...(caFile !== undefined ? { caFile } : {}),
  };
}

export interface LoadConfigOptions {
  /** `--config FILE`; wins over VSCOPE_CONFIG. */
  readonly argvConfigPath?: string;
  readonly env: Env;
  /** vCenters added programmatically (after the file's and the environment's). */
  readonly vcenters?: readonly VcenterInput[];
}

/** Reads, merges and validates the configuration. Rejects with a ConfigError. */
export async function loadConfig(options: LoadConfigOptions): Promise<Config> {
  const { env } = options;
  const path = options.argvConfigPath ?? envString(env, 'VSCOPE_CONFIG');
  const file: FileConfig = path !== undefined ? await readFileConfig(path) : {};
  const where = path !== undefined ? `${path}: ` : '';

  const vcenters: VcenterConfig[] = (file.vcenters ?? []).map((input, index) => normalizeVcenter(input, `${where}vcenters[${String(index)}]`));
  const fromEnv = envVcenter(env);
  if (fromEnv) {
    const vcenter = normalizeVcenter(fromEnv, 'VSCOPE_VCENTER');
    const at = vcenters.findIndex((v) => v.id === vcenter.id);
    if (at >= 0) vcenters[at] = vcenter;
    else vcenters.push(vcenter);
  }

  const listenRaw = envString(env, 'VSCOPE_LISTEN') ?? file.listen ?? '127.0.0.1:8080';
  const listen = parseListen(listenRaw, envString(env, 'VSCOPE_LISTEN') !== undefined ? 'VSCOPE_LISTEN' : `${where}listen`);

  const logLevelRaw = envString(env, 'VSCOPE_LOG_LEVEL');
  if (logLevelRaw !== undefined && !(logLevels as readonly string[]).includes(logLevelRaw)) {
    throw new ConfigError(`invalid configuration: VSCOPE_LOG_LEVEL: must be one of ${logLevels.join(', ')}`);
  }

  const certFile = envString(env, 'VSCOPE_TLS_CERT_FILE') ?? file.tls?.certFile;
  const keyFile = envString(env, 'VSCOPE_TLS_KEY_FILE') ?? file.tls?.keyFile;
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new ConfigError('invalid configuration: VSCOPE_TLS_CERT_FILE / VSCOPE_TLS_KEY_FILE (tls.certFile / tls.keyFile): set both or neither');
  }
  if (certFile !== undefined) requireFile(certFile, 'tls.certFile');
  if (keyFile !== undefined) requireFile(keyFile, 'tls.keyFile');

  const session = {
    idleSec: envInt(env, 'VSCOPE_SESSION_IDLE_SEC', 1, 31_536_000) ?? file.session?.idleSec ?? 8 * 3600,
    maxSec: envInt(env, 'VSCOPE_SESSION_MAX_SEC', 1, 31_536_000) ?? file.session?.maxSec ?? 24 * 3600,
    // At most 15 minutes: a change of permissions in vCenter shows in vscope within that time.
    scopeRefreshSec: envInt(env, 'VSCOPE_SESSION_SCOPE_REFRESH_SEC', 10, 900) ?? file.session?.scopeRefreshSec ?? 600,
  };
  if (session.idleSec > session.maxSec) {
    throw new ConfigError('invalid configuration: session.idleSec: must not exceed session.maxSec');
  }

  const collector: CollectorTuning = {
    perfEntitiesPerQuery: envInt(env, 'VSCOPE_PERF_ENTITIES_PER_QUERY', 1, 1000) ?? file.collector?.perfEntitiesPerQuery ?? 50,
    perfMetricsPerQuery: envInt(env, 'VSCOPE_PERF_METRICS_PER_QUERY', 1, 10_000) ?? file.collector?.perfMetricsPerQuery ?? 64,
    perfConcurrency: envInt(env, 'VSCOPE_PERF_CONCURRENCY', 1, 64) ?? file.collector?.perfConcurrency ?? 4,
    pageSize: envInt(env, 'VSCOPE_PAGE_SIZE', 1, 100_000) ?? file.collector?.pageSize ?? 1000,
  };

  const metricsEnabledRaw = envString(env, 'VSCOPE_METRICS');
  if (metricsEnabledRaw !== undefined && !['true', 'false'].includes(metricsEnabledRaw)) {
    throw new ConfigError('invalid configuration: VSCOPE_METRICS: must be true or false');
  }
  const metricsTokenFile = envString(env, 'VSCOPE_METRICS_TOKEN_FILE') ?? file.metrics?.tokenFile;
  const metricsToken =
    envString(env, 'VSCOPE_METRICS_TOKEN') ??
    file.metrics?.token ??
    (metricsTokenFile !== undefined ? readSecretFile(metricsTokenFile, 'metrics.tokenFile') : undefined);
  if (metricsToken !== undefined && metricsToken.length < 16) {
    throw new ConfigError('invalid configuration: VSCOPE_METRICS_TOKEN (metrics.token): must be at least 16 characters');
  }
  const metrics = {
    enabled: metricsEnabledRaw !== undefined ? metricsEnabledRaw === 'true' : (file.metrics?.enabled ?? true),
    token: metricsToken ?? null,
  };

  const engine = engineConfig(env, file.engine);
  const database = databaseConfig(env, file.database);
  if (database !== null && engine === null) {
    throw new ConfigError(
      'invalid configuration: VSCOPE_DATABASE_URL (database.url): with the shared state in PostgreSQL, samples go to a Prometheus-compatible engine: set VSCOPE_REMOTE_WRITE_URL and VSCOPE_PROMQL_URL too',
    );
  }

  validateVcenters(vcenters);
  const config: Config = {
    dataDir: envString(env, 'VSCOPE_DATA_DIR') ?? file.dataDir ?? './data',
    listen,
    intervalSec: envInt(env, 'VSCOPE_INTERVAL_SEC', 20, 900) ?? file.intervalSec ?? 120,
    logLevel: (logLevelRaw as LogLevel | undefined) ?? file.logLevel ?? 'info',
    session,
    tls: certFile !== undefined && keyFile !== undefined ? { certFile, keyFile } : null,
    collector,
    metrics,
    engine,
    database,
    vcenters,
    warnings: vcenters.filter((v) => v.insecure).map((v) => insecureWarning(v.id)),
  };
  return options.vcenters && options.vcenters.length > 0 ? await withVcenters(config, options.vcenters) : config;
}

/** The vCenters of `config` named by `ids` (all when empty). @throws ConfigError for an unknown id */
export function vcentersNamed(config: Config, ids: readonly string[]): Config {
  if (ids.length === 0) return config;
  const unknown = ids.filter((id) => !config.vcenters.some((vcenter) => vcenter.id === id));
  if (unknown.length > 0) {
    throw new ConfigError(`unknown vCenter ${unknown.map((id) => JSON.stringify(id)).join(', ')} in --vcenter; configured: ${config.vcenters.map((v) => v.id).join(', ') || 'none'}`);
  }
  return { ...config, vcenters: config.vcenters.filter((vcenter) => ids.includes(vcenter.id)) };
}
