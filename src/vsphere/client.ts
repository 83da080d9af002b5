/**
 * vim25 SOAP client: session (login, cookie, transparent re-login once on NotAuthenticated),
 * PropertyCollector retrieval through ContainerViews with paging, and PerformanceManager
 * queries. Values are schema-less (see xml.ts); read them with the helpers of values.ts.
 */
import type { Logger } from 'pino';
import { chunk, mapConcurrent } from './batch.ts';
import { NotAuthenticated, TaskFailed, TransportError } from './errors.ts';
import { scanQueryPerfResponse, scanRetrieveResponse } from './plain-xml.ts';
import { SoapTransport } from './soap.ts';
import { asArray, asBoolean, asMoRef, asNumber, asRecord, asString, dateTimeXml, moRefXml, textXml, xmlEscape, type MoRef } from './values.ts';
import { childrenNamed, elementValue, type XmlElement } from './xml.ts';

export type { MoRef } from './values.ts';

export interface ConnectOptions {
  /** SDK endpoint, e.g. `https://vc/sdk` or `http://127.0.0.1:1234/sdk`. */
  readonly url: string;
  readonly username: string;
  readonly password: string;
  /** Skip certificate verification. */
  readonly insecure?: boolean;
  /** PEM file of the CA(s) to trust. */
  readonly caFile?: string;
  /** TCP/TLS connect timeout. Default 10000. */
  readonly connectTimeoutMs?: number;
  /** Timeout of one SOAP call. Default 120000. */
  readonly callTimeoutMs?: number;
  /** RetrievePropertiesEx `maxObjects`. Default 1000. */
  readonly pageSize?: number;
  /** Entities per QueryPerf call. Default 50. */
  readonly perfEntitiesPerQuery?: number;
  /** QueryPerf calls in flight at once. Default 4. */
  readonly perfConcurrency?: number;
  /**
   * Log in again, once, when vCenter says the session is gone (default true: the collector's
   * service account). False for a person's session: the password is forgotten after the login,
   * and a lost session stays lost (NotAuthenticated).
   */
  readonly relogin?: boolean;
  readonly log?: Logger;
}

/** The session a login opened (vim25 UserSession). */
export interface UserSession {
  /** Session key: what AuthorizationManager's session-based checks take. */
  readonly key: string;
  /** The user's name as vCenter knows it (e.g. `VSPHERE.LOCAL\alice`): what its user-based checks take. */
  readonly userName: string;
}

/** Privileges of a user on one entity, as AuthorizationManager answers (HasUserPrivilegeOnEntities). */
export interface EntityPrivileges {
  readonly entity: MoRef;
  /** Privilege id -> granted. */
  readonly granted: ReadonlyMap<string, boolean>;
}

/** One object's properties, keyed by property path (`'summary.quickStats'`). */
export interface ObjectContent {
  readonly obj: MoRef;
  readonly props: Readonly<Record<string, unknown>>;
  /** Paths the server could not read for this object (e.g. no permission). */
  readonly missing: readonly string[];
}

export interface PerfCounter {
  readonly id: number;
  readonly group: string;
  readonly name: string;
  readonly rollup: string;
  readonly unit: string;
  readonly statsType: string;
  /** Statistics level (1..4) at which vCenter keeps the counter; 0 when not given. */
  readonly level: number;
}

export interface HistoricalInterval {
  readonly key: number;
  readonly samplingPeriodSec: number;
  readonly name: string;
  readonly lengthSec: number;
  readonly level: number;
  readonly enabled: boolean;
}

export interface PerfQuerySpec {
  readonly entity: MoRef;
  /** Instance `''` is the aggregate; vcsim does not expand `'*'`: name instances. */
  readonly metricIds: readonly { readonly counterId: number; readonly instance: string }[];
  /** 20 for realtime, else a historical interval's samplingPeriodSec. */
  readonly intervalSec: number;
  /** Exclusive start, unix seconds. */
  readonly startSec?: number;
  /** Inclusive end, unix seconds. */
  readonly endSec?: number;
  readonly maxSample?: number;
}

export interface PerfEntityMetric {
  readonly entity: MoRef;
  /** Ascending by time. */
  readonly samples: readonly { readonly tsSec: number; readonly intervalSec: number }[];
  /** `values[i]` belongs to `samples[i]`; vSphere uses -1 for "no value". */
  readonly series: readonly { readonly counterId: number; readonly instance: string; readonly values: readonly number[] }[];
}

export interface About {
  readonly name: string;
  readonly fullName: string;
  readonly version: string;
  readonly build: string;
  readonly apiVersion: string;
  readonly apiType: string;
  readonly instanceUuid: string;
}

export interface ServiceContent {
  readonly rootFolder: MoRef;
  readonly propertyCollector: MoRef;
  readonly viewManager: MoRef;
  readonly perfManager: MoRef;
  readonly sessionManager: MoRef;
  /** Every other manager reference by its ServiceContent field name. */
  readonly all: Readonly<Record<string, MoRef>>;
}

const serviceInstance: MoRef = { type: 'ServiceInstance', value: 'ServiceInstance' };

function requiredRef(record: Readonly<Record<string, unknown>>, field: string): MoRef {
  const ref = asMoRef(record[field]);
  if (!ref) throw new TransportError('notVsphere', `the server's ServiceContent has no ${field}: it does not look like a vCenter`);
  return ref;
}

function parseServiceContent(response: XmlElement): { about: About; serviceContent: ServiceContent } {
  const returnval = childrenNamed(response, 'returnval')[0];
  const record = returnval ? asRecord(elementValue(returnval)) : null;
  if (!record) throw new TransportError('notVsphere', 'RetrieveServiceContent returned nothing: not a vCenter');
  const aboutRecord = asRecord(record['about']) ?? {};
  const text = (field: string): string => asString(aboutRecord[field]) ?? '';
  const about: About = {
    name: text('name'),
    fullName: text('fullName'),
    version: text('version'),
    build: text('build'),
    apiVersion: text('apiVersion'),
    apiType: text('apiType'),
    instanceUuid: text('instanceUuid'),
  };
  const all: Record<string, MoRef> = {};
  for (const [key, value] of Object.entries(record)) {
    const ref = asMoRef(value);
    if (ref) all[key] = ref;
  }
  return {
    about,
    serviceContent: {
      rootFolder: requiredRef(record, 'rootFolder'),
      propertyCollector: requiredRef(record, 'propertyCollector'),
      viewManager: requiredRef(record, 'viewManager'),
      perfManager: requiredRef(record, 'perfManager'),
      sessionManager: requiredRef(record, 'sessionManager'),
      all,
    },
  };
}

/** One page of RetrievePropertiesEx / ContinueRetrievePropertiesEx. */
export interface RetrievePage {
  readonly objects: ObjectContent[];
  readonly token: string | null;
}

/**
 * The objects (and the paging token) of a RetrievePropertiesEx response element, read from the
 * value of its `returnval` (built while scanning, see soap.ts); exported for bench/xml-bench.ts.
 */
export function parseRetrieveResult(response: XmlElement): RetrievePage {
  const returnval = childrenNamed(response, 'returnval')[0];
  if (!returnval) return { objects: [], token: null };
  const result = asRecord(elementValue(returnval));
  const objects: ObjectContent[] = [];
  for (const raw of asArray(result?.['objects'])) {
    const content = asRecord(raw);
    const obj = asMoRef(content?.['obj']);
    if (!content || !obj) continue;
    const props: Record<string, unknown> = {};
    for (const rawProp of asArray(content['propSet'])) {
      const prop = asRecord(rawProp);
      const name = asString(first(prop?.['name']));
      if (prop && name !== null && prop['val'] !== undefined) props[name] = prop['val'];
    }
    const missing: string[] = [];
    for (const rawMissing of asArray(content['missingSet'])) {
      const missingRecord = asRecord(rawMissing);
      const path = asString(first(missingRecord?.['path'])) ?? '';
      const fault = asRecord(first(missingRecord?.['fault']) ?? missingRecord);
      const inner = asRecord(fault?.['fault']);
      // vcsim reports an expired session per property instead of as a SOAP fault.
      if (inner?.['$type'] === 'NotAuthenticated') throw new NotAuthenticated(`the session is not authenticated (reading ${path})`);
      missing.push(path);
    }
    objects.push({ obj, props, missing });
  }
  const token = asString(first(result?.['token']));
  return { objects, token: token === '' ? null : token };
}

/** The first of a child that repeated (as reading the elements did), or the value itself; never for `val`, whose value may be an array. */
function first(v: unknown): unknown {
  return Array.isArray(v) ? v[0] : v;
}

/** One change of an ObjectUpdate (vim25 PropertyChange); `val` is undefined when the change carries none. */
export interface PropertyChange {
  /** A property path of the filter, or an element of one (`config.network.pnic["key-vmnic0"]`). */
  readonly name: string;
  /** `assign`, `add`, `remove` or `indirectRemove`. */
  readonly op: string;
  readonly val: unknown;
}

/** A property the server could not read for an object (vim25 MissingProperty). */
export interface MissingProperty {
  readonly path: string;
  /** The fault's type (`NoPermission`...), null when the answer names none. */
  readonly faultType: string | null;
}

/** What changed for one object (vim25 ObjectUpdate). */
export interface ObjectUpdate {
  /** `enter`, `modify` or `leave`. */
  readonly kind: string;
  readonly obj: MoRef;
  readonly changes: readonly PropertyChange[];
  readonly missing: readonly MissingProperty[];
}

/** What changed under one filter (vim25 PropertyFilterUpdate). */
export interface FilterUpdate {
  readonly filter: MoRef;
  readonly objects: readonly ObjectUpdate[];
  /** Objects of the filter's object set the server could not reach (vim25 MissingObject). */
  readonly missingObjects: readonly MoRef[];
}

/** One answer of WaitForUpdatesEx (vim25 UpdateSet). */
export interface UpdateSet {
  /** Opaque: pass it to the next call. */
  readonly version: string;
  /** More updates wait: call again at once with `version`. */
  readonly truncated: boolean;
  readonly filters: readonly FilterUpdate[];
}

/** One type's properties in a filter. */
export interface PropertySpec {
  readonly type: string;
  readonly paths: readonly string[];
}

function faultTypeOf(raw: unknown): string | null {
  const fault = asRecord(first(raw));
  return asString(asRecord(fault?.['fault'])?.['$type']) ?? asString(fault?.['$type']);
}

/** The UpdateSet of a WaitForUpdatesEx answer's value; exported for tests. */
export function parseUpdateSet(value: unknown): UpdateSet | null {
  const record = asRecord(value);
  if (!record) return null;
  const filters: FilterUpdate[] = [];
  for (const rawFilter of asArray(record['filterSet'])) {
    const filterRecord = asRecord(rawFilter);
    const filter = asMoRef(filterRecord?.['filter']);
    if (!filterRecord || !filter) continue;
    const objects: ObjectUpdate[] = [];
    for (const rawObject of asArray(filterRecord['objectSet'])) {
      const objectRecord = asRecord(rawObject);
      const obj = asMoRef(objectRecord?.['obj']);
      const kind = asString(first(objectRecord?.['kind']));
      if (!objectRecord || !obj || kind === null) continue;
      const changes: PropertyChange[] = [];
      for (const rawChange of asArray(objectRecord['changeSet'])) {
        const change = asRecord(rawChange);
        const name = asString(first(change?.['name']));
        if (!change || name === null) continue;
        changes.push({ name, op: asString(first(change['op'])) ?? 'assign', val: change['val'] });
      }
      const missing: MissingProperty[] = [];
      for (const rawMissing of asArray(objectRecord['missingSet'])) {
        const missingRecord = asRecord(rawMissing);
        const path = asString(first(missingRecord?.['path'])) ?? '';
        const faultType = faultTypeOf(missingRecord?.['fault']);
        // As in RetrievePropertiesEx answers: vcsim reports an expired session per property.
        if (faultType === 'NotAuthenticated') throw new NotAuthenticated(`the session is not authenticated (an update of ${path})`);
        missing.push({ path, faultType });
      }
      objects.push({ kind, obj, changes, missing });
    }
    const missingObjects: MoRef[] = [];
    for (const rawMissing of asArray(filterRecord['missingSet'])) {
      const ref = asMoRef(asRecord(rawMissing)?.['obj']);
      if (ref) missingObjects.push(ref);
    }
    filters.push({ filter, objects, missingObjects });
  }
  return { version: asString(first(record['version'])) ?? '', truncated: asBoolean(first(record['truncated'])) ?? false, filters };
}

/** An object set that starts at `view` and selects the objects it lists (ContainerView.view). */
function viewObjectSetXml(view: MoRef): string {
  return (
    `<objectSet>${moRefXml('obj', view)}${textXml('skip', true)}` +
    `<selectSet xsi:type="TraversalSpec">${textXml('name', 'view')}${textXml('type', 'ContainerView')}${textXml('path', 'view')}${textXml('skip', false)}</selectSet>` +
    `</objectSet>`
  );
}

function propSpecXml(type: string, paths: readonly string[]): string {
  return `<propSet>${textXml('type', type)}${textXml('all', false)}${paths.map((p) => textXml('pathSet', p)).join('')}</propSet>`;
}

function dateToSec(v: unknown): number {
  const text = asString(v);
  const ms = text === null ? NaN : Date.parse(text);
  return Number.isNaN(ms) ? NaN : Math.floor(ms / 1000);
}

/** One PerfEntityMetric the generic way (the value of a QueryPerf `returnval`); exported for plain-xml.test.ts, which compares both readers. */
export function parsePerfEntityMetric(value: unknown): PerfEntityMetric | null {
  const record = asRecord(value);
  const entity = asMoRef(record?.['entity']);
  if (!record || !entity) return null;
  const rawSamples = asArray(record['sampleInfo']).map((s) => {
    const info = asRecord(s) ?? {};
    return { tsSec: dateToSec(info['timestamp']), intervalSec: asNumber(info['interval']) ?? 0 };
  });
  const order = rawSamples.map((_, i) => i).sort((a, b) => (rawSamples[a]?.tsSec ?? 0) - (rawSamples[b]?.tsSec ?? 0));
  const samples = order.map((i) => rawSamples[i] ?? { tsSec: NaN, intervalSec: 0 });
  const series = asArray(record['value']).map((s) => {
    const seriesRecord = asRecord(s) ?? {};
    const id = asRecord(seriesRecord['id']) ?? {};
    const raw = asArray(seriesRecord['value']).map((v) => asNumber(v) ?? -1);
    // Values come in sample order: reorder them like the samples.
    const values = raw.length === rawSamples.length ? order.map((i) => raw[i] ?? -1) : raw;
    return { counterId: asNumber(id['counterId']) ?? -1, instance: asString(id['instance']) ?? '', values };
  });
  return { entity, samples, series };
}

function metricIdsXml(metricIds: PerfQuerySpec['metricIds']): string {
  let xml = '';
  for (const metric of metricIds) xml += `<metricId>${textXml('counterId', Math.floor(metric.counterId))}${textXml('instance', metric.instance)}</metricId>`;
  return xml;
}

/** A querySpec; `metricsXml` gives the metricId elements (callers cache them: thousands of specs share a few lists). */
function perfQuerySpecXml(spec: PerfQuerySpec, metricsXml: (metricIds: PerfQuerySpec['metricIds']) => string): string {
  let xml = moRefXml('entity', spec.entity);
  if (spec.startSec !== undefined) xml += dateTimeXml('startTime', spec.startSec);
  if (spec.endSec !== undefined) xml += dateTimeXml('endTime', spec.endSec);
  if (spec.maxSample !== undefined) xml += textXml('maxSample', Math.floor(spec.maxSample));
  xml += metricsXml(spec.metricIds);
  xml += textXml('intervalId', Math.floor(spec.intervalSec));
  return `<querySpec>${xml}</querySpec>`;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class VsphereClient {
  readonly about: About;
  readonly serviceContent: ServiceContent;
  private readonly transport: SoapTransport;
  private options: ConnectOptions;
  private readonly log: Logger | undefined;
  /** Bumped on each successful login, so concurrent failures re-login only once. */
  private generation = 0;
  private relogin: Promise<void> | null = null;
  private counters: Promise<ReadonlyMap<string, PerfCounter>> | null = null;
  /** The metricId elements of a metric id list, by the list's identity (the collector shares its lists). */
  private readonly metricIdsXml = new WeakMap<PerfQuerySpec['metricIds'], string>();
  private currentSession: UserSession | null = null;

  private constructor(transport: SoapTransport, options: ConnectOptions, about: About, serviceContent: ServiceContent) {
    this.transport = transport;
    this.options = { ...options };
    this.log = options.log;
    this.about = about;
    this.serviceContent = serviceContent;
  }

  /** RetrieveServiceContent, then SessionManager.Login. Throws InvalidLogin or TransportError. */
  static async connect(options: ConnectOptions): Promise<VsphereClient> {
    const transport = new SoapTransport(options);
    try {
      const response = await transport.send('RetrieveServiceContent', moRefXml('_this', serviceInstance));
      const { about, serviceContent } = parseServiceContent(response);
      if (/^[0-9][0-9.]*$/.test(about.apiVersion)) transport.apiVersion = about.apiVersion;
      const client = new VsphereClient(transport, options, about, serviceContent);
      await client.login();
      // A person's password is not kept a moment longer than the login needs it.
      if (options.relogin === false) client.options = { ...client.options, password: '' };
      return client;
    } catch (error) {
      await transport.close();
      throw error;
    }
  }

  /**
   * RetrieveServiceContent alone (no login, nothing kept): whether a vCenter answers at all, at
   * the cost of one small call. Throws TransportError like `connect`.
   */
  static async probe(options: Pick<ConnectOptions, 'url' | 'insecure' | 'caFile' | 'connectTimeoutMs' | 'callTimeoutMs' | 'log'>): Promise<About> {
    const transport = new SoapTransport(options);
    try {
      return parseServiceContent(await transport.send('RetrieveServiceContent', moRefXml('_this', serviceInstance))).about;
    } finally {
      await transport.close();
    }
  }

  /** The session cookie (`vmware_soap_session=...`); for tests and diagnostics, never log it. */
  get sessionCookie(): string | null {
    return this.transport.sessionCookie;
  }

  /** The SDK URL without user info. */
  get url(): string {
    return this.transport.url;
  }

  /** The session the last login opened. */
  get session(): UserSession {
    if (this.currentSession === null) throw new NotAuthenticated('not logged in');
    return this.currentSession;
  }

  private async login(): Promise<void> {
    this.transport.clearSession();
    const response = await this.transport.send(
      'Login',
      moRefXml('_this', this.serviceContent.sessionManager) + textXml('userName', this.options.username) + textXml('password', this.options.password),
    );
    const returnval = childrenNamed(response, 'returnval')[0];
    const userSession = returnval ? asRecord(elementValue(returnval)) : null;
    this.currentSession = {
      key: asString(userSession?.['key']) ?? '',
      // vCenter canonicalizes the name (domain, case): its own form is the one its checks take.
      userName: asString(userSession?.['userName']) ?? this.options.username,
    };
    this.generation++;
    this.log?.debug({ url: this.transport.url, username: this.options.username }, 'vsphere session established');
  }

  /** Runs `operation`; on NotAuthenticated logs in again (once, shared) and retries it once. */
  private async withSession<T>(operation: () => Promise<T>): Promise<T> {
    const generation = this.generation;
    try {
      return await operation();
    } catch (error) {
      if (!(error instanceof NotAuthenticated) || this.options.relogin === false) throw error;
      if (generation === this.generation) {
        this.log?.info({ url: this.transport.url }, 'vsphere session lost; logging in again');
        this.relogin ??= this.login().finally(() => {
          this.relogin = null;
        });
        await this.relogin;
      }
      return await operation();
    }
  }

  /** Generic invoke; returns the value of `returnval` (an array when several), or undefined. */
  async call(method: string, thisRef: MoRef, args = ''): Promise<unknown> {
    return this.withSession(async () => {
      const response = await this.transport.send(method, moRefXml('_this', thisRef) + args);
      const values = childrenNamed(response, 'returnval').map(elementValue);
      return values.length === 0 ? undefined : values.length === 1 ? values[0] : values;
    });
  }

  /**
   * Properties of every object of `type` under `root` (default: the root folder), through a
   * recursive ContainerView, paging with ContinueRetrievePropertiesEx. `paths` empty: objects only.
   */
  async retrieve(type: string, paths: readonly string[], root?: MoRef): Promise<ObjectContent[]> {
    return this.withSession(async () => {
      const container = root ?? this.serviceContent.rootFolder;
      const viewResponse = await this.transport.send(
        'CreateContainerView',
        moRefXml('_this', this.serviceContent.viewManager) + moRefXml('container', container) + textXml('type', type) + textXml('recursive', true),
      );
      const viewElement = childrenNamed(viewResponse, 'returnval')[0];
      const view = viewElement ? asMoRef(elementValue(viewElement)) : null;
      if (!view) throw new TransportError('notVsphere', 'CreateContainerView returned no view');
      try {
        const objectSet = viewObjectSetXml(view);
        return await this.retrievePaged(`<specSet>${propSpecXml(type, paths)}${objectSet}</specSet>`);
      } finally {
        await this.transport.send('DestroyView', moRefXml('_this', view)).catch((error: unknown) => {
          this.log?.debug({ err: error }, 'DestroyView failed');
        });
      }
    });
  }

  /** Properties of one object (e.g. the PerformanceManager, a task). */
  async properties(ref: MoRef, paths: readonly string[]): Promise<ObjectContent> {
    const [found] = await this.propertiesOf(ref.type, [ref], paths);
    return found ?? { obj: ref, props: {}, missing: [...paths] };
  }

  /**
   * Properties of the objects `refs` (all of `type`), in one RetrievePropertiesEx (and its
   * pages). vCenter fails the whole call with ManagedObjectNotFound (InvalidArgument) when one
   * of them no longer exists.
   */
  async propertiesOf(type: string, refs: readonly MoRef[], paths: readonly string[]): Promise<ObjectContent[]> {
    if (refs.length === 0) return [];
    const objectSet = refs.map((ref) => `<objectSet>${moRefXml('obj', ref)}</objectSet>`).join('');
    return this.withSession(() => this.retrievePaged(`<specSet>${propSpecXml(type, paths)}${objectSet}</specSet>`));
  }

  /**
   * Every object of the given types under `root` (default: the root folder) that this session
   * may see: one recursive ContainerView of all the types, its objects read without properties
   * (paged). vCenter leaves out what the session has no System.View on.
   */
  async visibleObjects(types: readonly string[], root?: MoRef): Promise<MoRef[]> {
    return this.withSession(async () => {
      const container = root ?? this.serviceContent.rootFolder;
      const viewResponse = await this.transport.send(
        'CreateContainerView',
        moRefXml('_this', this.serviceContent.viewManager) +
          moRefXml('container', container) +
          types.map((type) => textXml('type', type)).join('') +
          textXml('recursive', true),
      );
      const viewElement = childrenNamed(viewResponse, 'returnval')[0];
      const view = viewElement ? asMoRef(elementValue(viewElement)) : null;
      if (!view) throw new TransportError('notVsphere', 'CreateContainerView returned no view');
      try {
        const objectSet = viewObjectSetXml(view);
        const propSets = types.map((type) => propSpecXml(type, [])).join('');
        return (await this.retrievePaged(`<specSet>${propSets}${objectSet}</specSet>`)).map((object) => object.obj);
      } finally {
        await this.transport.send('DestroyView', moRefXml('_this', view)).catch((error: unknown) => {
          this.log?.debug({ err: error }, 'DestroyView failed');
        });
      }
    });
  }

  /** Counts the logins of this client: a new value means a new session, whose objects (collectors, filters, views) are not the old one's. */
  get sessionGeneration(): number {
    return this.generation;
  }

  /** PropertyCollector.CreatePropertyCollector: a collector of this session, for filters of one's own. */
  async createPropertyCollector(): Promise<MoRef> {
    const ref = asMoRef(await this.call('CreatePropertyCollector', this.serviceContent.propertyCollector));
    if (!ref) throw new TransportError('notVsphere', 'CreatePropertyCollector returned no collector');
    return ref;
  }

  /** ViewManager.CreateContainerView: a recursive view of the objects of `types` under `container`, kept until `destroyView`. */
  async createContainerView(container: MoRef, types: readonly string[]): Promise<MoRef> {
    const ref = asMoRef(
      await this.call(
        'CreateContainerView',
        this.serviceContent.viewManager,
        moRefXml('container', container) + types.map((type) => textXml('type', type)).join('') + textXml('recursive', true),
      ),
    );
    if (!ref) throw new TransportError('notVsphere', 'CreateContainerView returned no view');
    return ref;
  }

  /**
   * PropertyCollector.CreateFilter on `collector`: the objects `view` lists, with `propSets`;
   * `partialUpdates` false (a change reports the whole property the filter names).
   */
  async createViewFilter(collector: MoRef, view: MoRef, propSets: readonly PropertySpec[]): Promise<MoRef> {
    const spec = `<spec>${propSets.map((p) => propSpecXml(p.type, p.paths)).join('')}${viewObjectSetXml(view)}</spec>`;
    const ref = asMoRef(await this.call('CreateFilter', collector, spec + textXml('partialUpdates', false)));
    if (!ref) throw new TransportError('notVsphere', 'CreateFilter returned no filter');
    return ref;
  }

  /**
   * PropertyCollector.WaitForUpdatesEx: the changes of `collector`'s filters since `version`
   * (`''`: their whole state). Null when nothing changed within `maxWaitSeconds` (0: answer at
   * once); `maxObjectUpdates` bounds one answer (the rest: `truncated`, call again).
   */
  async waitForUpdatesEx(
    collector: MoRef,
    version: string,
    options: { readonly maxWaitSeconds: number; readonly maxObjectUpdates: number },
  ): Promise<UpdateSet | null> {
    const args =
      textXml('version', version) +
      `<options>${textXml('maxWaitSeconds', Math.max(0, Math.floor(options.maxWaitSeconds)))}${textXml('maxObjectUpdates', Math.max(1, Math.floor(options.maxObjectUpdates)))}</options>`;
    return this.withSession(async () => {
      const response = await this.transport.send('WaitForUpdatesEx', moRefXml('_this', collector) + args);
      const returnval = childrenNamed(response, 'returnval')[0];
      return returnval ? parseUpdateSet(elementValue(returnval)) : null;
    });
  }

  /** PropertyCollector.DestroyPropertyCollector: the collector and its filters. */
  async destroyPropertyCollector(collector: MoRef): Promise<void> {
    await this.call('DestroyPropertyCollector', collector);
  }

  /** View.DestroyView. */
  async destroyView(view: MoRef): Promise<void> {
    await this.call('DestroyView', view);
  }

  /**
   * AuthorizationManager.HasUserPrivilegeOnEntities: which of `privIds` `userName` holds on each
   * entity, in calls of at most `perCall` entities. The caller needs System.View on each entity.
   */
  async userPrivileges(entities: readonly MoRef[], userName: string, privIds: readonly string[], perCall = 1000): Promise<EntityPrivileges[]> {
    const manager = this.serviceContent.all['authorizationManager'];
    if (!manager) throw new TransportError('notVsphere', "the server's ServiceContent has no authorizationManager: it does not look like a vCenter");
    const out: EntityPrivileges[] = [];
    for (const batch of chunk(entities, perCall)) {
      const value = await this.call(
        'HasUserPrivilegeOnEntities',
        manager,
        batch.map((entity) => moRefXml('entities', entity)).join('') + textXml('userName', userName) + privIds.map((id) => textXml('privId', id)).join(''),
      );
      for (const raw of asArray(value)) {
        const record = asRecord(raw);
        const entity = asMoRef(record?.['entity']);
        if (!record || !entity) continue;
        const granted = new Map<string, boolean>();
        for (const availability of asArray(record['privAvailability'])) {
          const item = asRecord(availability);
          const privId = asString(item?.['privId']);
          if (item && privId !== null) granted.set(privId, asBoolean(item['isGranted']) ?? false);
        }
        out.push({ entity, granted });
      }
    }
    return out;
  }

  private async retrievePaged(specSetXml: string): Promise<ObjectContent[]> {
    const pc = this.serviceContent.propertyCollector;
    const pageSize = Math.max(1, Math.floor(this.options.pageSize ?? 1000));
    let page = await this.page('RetrievePropertiesEx', moRefXml('_this', pc) + specSetXml + `<options>${textXml('maxObjects', pageSize)}</options>`);
    const objects = [...page.objects];
    while (page.token !== null) {
      page = await this.page('ContinueRetrievePropertiesEx', moRefXml('_this', pc) + textXml('token', page.token));
      for (const object of page.objects) objects.push(object);
    }
    return objects;
  }

  /** One page: the plain answer straight to values (plain-xml.ts), anything else the generic way. */
  private async page(method: 'RetrievePropertiesEx' | 'ContinueRetrievePropertiesEx', inner: string): Promise<RetrievePage> {
    const text = await this.transport.sendForText(method, inner);
    const scanned = scanRetrieveResponse(text, method);
    return scanned ?? parseRetrieveResult(this.transport.parse(method, text));
  }

  /** Performance counters keyed `group.name.rollup` (e.g. `cpu.usage.average`); cached. */
  async perfCounters(): Promise<ReadonlyMap<string, PerfCounter>> {
    this.counters ??= this.loadCounters().catch((error: unknown) => {
      this.counters = null;
      throw error;
    });
    return this.counters;
  }

  private async loadCounters(): Promise<ReadonlyMap<string, PerfCounter>> {
    const content = await this.properties(this.serviceContent.perfManager, ['perfCounter']);
    const map = new Map<string, PerfCounter>();
    for (const raw of asArray(content.props['perfCounter'])) {
      const info = asRecord(raw);
      if (!info) continue;
      const key = (field: string): string => asString(asRecord(info[field])?.['key']) ?? '';
      const counter: PerfCounter = {
        id: asNumber(info['key']) ?? -1,
        group: key('groupInfo'),
        name: key('nameInfo'),
        rollup: asString(info['rollupType']) ?? '',
        unit: key('unitInfo'),
        statsType: asString(info['statsType']) ?? '',
        level: asNumber(info['level']) ?? 0,
      };
      map.set(`${counter.group}.${counter.name}.${counter.rollup}`, counter);
    }
    return map;
  }

  /** The PerformanceManager's historical intervals (5 min/day, 30 min/week...). */
  async historicalIntervals(): Promise<HistoricalInterval[]> {
    const content = await this.properties(this.serviceContent.perfManager, ['historicalInterval']);
    return asArray(content.props['historicalInterval']).flatMap((raw) => {
      const info = asRecord(raw);
      if (!info) return [];
      return [
        {
          key: asNumber(info['key']) ?? -1,
          samplingPeriodSec: asNumber(info['samplingPeriod']) ?? 0,
          name: asString(info['name']) ?? '',
          lengthSec: asNumber(info['length']) ?? 0,
          level: asNumber(info['level']) ?? 0,
          enabled: asBoolean(info['enabled']) ?? false,
        },
      ];
    });
  }

  /**
   * QueryPerf, split into calls of `perfEntitiesPerQuery` specs (default 50) with at most
   * `perfConcurrency` (default 4) in flight. Entities without data are simply absent.
   */
  async queryPerf(
    specs: readonly PerfQuerySpec[],
    options: { readonly entitiesPerQuery?: number; readonly concurrency?: number } = {},
  ): Promise<PerfEntityMetric[]> {
    const batches = chunk(specs, options.entitiesPerQuery ?? this.options.perfEntitiesPerQuery ?? 50);
    const results = await mapConcurrent(batches, options.concurrency ?? this.options.perfConcurrency ?? 4, (batch) =>
      this.withSession(async () => {
        const text = await this.transport.sendForText('QueryPerf', moRefXml('_this', this.serviceContent.perfManager) + batch.map((spec) => perfQuerySpecXml(spec, this.cachedMetricIdsXml)).join(''));
        // The plain answer straight to values; anything else (a CSV result, a fault...) the generic way.
        const scanned: PerfEntityMetric[] | null = scanQueryPerfResponse(text);
        if (scanned) return scanned;
        const response = this.transport.parse('QueryPerf', text);
        return childrenNamed(response, 'returnval').flatMap((element) => parsePerfEntityMetric(elementValue(element)) ?? []);
      }),
    );
    return results.flat();
  }

  private readonly cachedMetricIdsXml = (metricIds: PerfQuerySpec['metricIds']): string => {
    let xml = this.metricIdsXml.get(metricIds);
    if (xml === undefined) {
      xml = metricIdsXml(metricIds);
      this.metricIdsXml.set(metricIds, xml);
    }
    return xml;
  };

  /** Polls the task until it ends; returns `info.result`, throws TaskFailed on error. */
  async waitForTask(task: MoRef, timeoutMs = 300_000): Promise<unknown> {
    const deadline = Date.now() + timeoutMs;
    let delayMs = 100;
    for (;;) {
      const { props } = await this.properties(task, ['info.state', 'info.error', 'info.result']);
      const state = asString(props['info.state']);
      if (state === 'success') return props['info.result'];
      if (state === 'error') {
        const fault = asRecord(props['info.error']);
        const faultType = asString(asRecord(fault?.['fault'])?.['$type']);
        const message = asString(fault?.['localizedMessage']) || faultType || 'unknown error';
        throw new TaskFailed(`task ${task.value} failed: ${message}`, faultType);
      }
      if (Date.now() > deadline) throw new TaskFailed(`task ${task.value} did not finish within ${String(timeoutMs)} ms`, null);
      await sleep(delayMs);
      delayMs = Math.min(delayMs * 2, 1000);
    }
  }

  /** SessionManager.Logout, then closes the HTTP agent. Never throws. */
  async logout(): Promise<void> {
    try {
      await this.transport.send('Logout', moRefXml('_this', this.serviceContent.sessionManager));
    } catch (error) {
      this.log?.debug({ err: error }, 'vsphere logout failed');
    }
    await this.transport.close();
  }
}

export { xmlEscape };
