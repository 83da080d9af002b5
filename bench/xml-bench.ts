/**
 * XML benchmark: the measured reason why src/vsphere/xml.ts is our own scanner and not
 * fast-xml-parser (which the stack names and which stays installed), and the speed of the plain
 * readers (src/vsphere/plain-xml.ts) that read the two large answers of a cycle before it.
 *
 *   node --import tsx bench/xml-bench.ts [--vms 5000] [--runs 10] [--page FILE] [--save FILE] [--perf FILE] [--save-perf FILE]
 *
 * The page: one real RetrievePropertiesEx response for every VM, with the collector's own
 * property paths (discovery.ts `vmPaths`), captured over HTTP from a vcsim of about `--vms`
 * VMs (vcsim ignores `maxObjects`, so it is one page; it writes `XMLSchema-instance:type`).
 * `--page FILE` reads a saved response instead (e.g. one from a real vCenter, saved with any
 * SOAP tool); `--save FILE` keeps the captured one. vcsim declares the XMLSchema-instance
 * namespace again on every `<val>`, which vCenter does not: every variant is also measured on
 * the same page rewritten vCenter-style (`xsi:type`, declared once on the envelope).
 * The QueryPerf answer: one call as the collector makes it in a steady cycle (50 VMs of the
 * page, the collector's VM counters, realtime, the newest 3 samples), captured from the same
 * vcsim; `--perf FILE` reads a saved one instead (with `--page`, no simulator is started; without
 * `--perf`, the QueryPerf part is left out), `--save-perf FILE` keeps the captured one.
 *
 * What is timed, each variant `--runs` times after 2 warm-up runs, interleaved so that every
 * variant sees the same machine load; medians of wall time and of process CPU time
 * (process.cpuUsage, user + system, so GC threads count):
 * - `ours`: parseXml as the transport calls it (soap.ts `responseParsing`: `returnval` read
 *   straight into values) + the client's RetrievePropertiesEx reading (client.ts
 *   `parseRetrieveResult`, called here) down to the ObjectContent values the client returns;
 * - `oursParseOnly`: parseXml alone, as a whole element tree (what `ours` no longer builds);
 * - `fxp`: fast-xml-parser configured for SOAP: attributes kept, prefixes kept (it has no
 *   namespace resolution: a caller would still have to resolve them, not timed here), no value
 *   auto-parsing, producing its raw tree. Not even the values the client needs: a lower bound;
 * - `fxpValidated`: the same with its validator on (`parse(text, true)`), the only way it
 *   refuses a truncated document;
 * - `fxpOrdered`: `preserveOrder: true`, the mode that keeps repeated children in order;
 * - `plain`: plain-xml.ts `scanRetrieveResponse`, what the client tries first (the page is plain).
 * On the QueryPerf answer: `plain` (`scanQueryPerfResponse`) and `generic` (parseXml as the
 * transport calls it, then the client's `parsePerfEntityMetric` per `returnval`).
 * Each variant's first call (the process's first use of that code) is timed apart: `firstCpuMs`;
 * `MBps` is the document's size over the median CPU time.
 * Heap: bytes retained by one result (heapUsed after a full GC, with and without it).
 * Truncation: the page cut right after one `</objects>` in its middle (a well-formed prefix,
 * as a dropped connection leaves it) and at half its length, given to each parser.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { XMLParser } from 'fast-xml-parser';
import { request } from 'undici';
import { vmPaths } from '../src/collector/discovery.ts';
import { startVcsim } from '../src/simulator/vcsim.ts';
import type { ObjectContent } from '../src/vsphere/client.ts';
import { parsePerfEntityMetric, parseRetrieveResult, VsphereClient } from '../src/vsphere/client.ts';
import { scanQueryPerfResponse, scanRetrieveResponse } from '../src/vsphere/plain-xml.ts';
import { resolveMetrics } from '../src/collector/performance.ts';
import { responseParsing } from '../src/vsphere/soap.ts';
import { asMoRef, asRecord, moRefXml, textXml } from '../src/vsphere/values.ts';
import { SOAP_ENV_NS, child, childrenNamed, elementValue, envelope, parseXml, type XmlElement } from '../src/vsphere/xml.ts';
import { shapeFor } from './collector-bench.ts';
import { median } from './stats.ts';

export interface XmlBenchOptions {
  /** About how many VMs the simulator holds; default 5000. */
  readonly vms?: number;
  /** Timed runs per variant; default 10. */
  readonly runs?: number;
  /** A saved RetrievePropertiesEx response to use instead of a vcsim capture. */
  readonly pageFile?: string;
  /** Where to save the captured page. */
  readonly saveFile?: string;
  /** A saved QueryPerf response to use instead of a vcsim capture. */
  readonly perfFile?: string;
  /** Where to save the captured QueryPerf response. */
  readonly savePerfFile?: string;
}

export interface VariantResult {
  /** Median wall time of one parse, ms. */
  readonly wallMs: number;
  /** Median process CPU time (user + system) of one parse, ms. */
  readonly cpuMs: number;
  readonly minCpuMs: number;
  readonly maxCpuMs: number;
  /** CPU time of the variant's first call in this process (its code not yet optimized), ms. */
  readonly firstCpuMs: number;
  /** Document size over the median CPU time, MB/s (1 MB = 10^6 bytes). */
  readonly MBps: number;
  /** Heap retained by one result after a full GC, MB. */
  readonly retainedHeapMB: number;
  /** VM objects found in the page. */
  readonly objects: number;
}

export interface PageResult {
  readonly source: string;
  readonly bytes: number;
  /** VM objects in the page. */
  readonly objects: number;
  readonly variants: {
    readonly ours: VariantResult;
    readonly oursParseOnly: VariantResult;
    readonly fxp: VariantResult;
    readonly fxpValidated: VariantResult;
    readonly fxpOrdered: VariantResult;
    readonly plain: VariantResult;
  };
  /** CPU medians divided: fast-xml-parser's over ours. */
  readonly cpuRatio: { readonly fxpVsOurs: number; readonly fxpValidatedVsOurs: number; readonly fxpOrderedVsOurs: number; readonly fxpVsOursParseOnly: number; readonly oursVsPlain: number };
}

/** One QueryPerf answer read by the plain reader and the generic way. */
export interface PerfAnswerResult {
  readonly source: string;
  readonly bytes: number;
  readonly entities: number;
  readonly samplesPerEntity: number;
  /** Each timed run reads the answer `readsPerRun` times (a steady cycle's answers at 5,000 VMs): times and MB/s are for all of them. */
  readonly readsPerRun: number;
  readonly variants: { readonly plain: VariantResult; readonly generic: VariantResult };
  /** The plain reader's values equal the generic ones. */
  readonly sameValues: boolean;
  /** The answer cut at half its length: the plain reader returns null (the generic reader then throws). */
  readonly plainRefusesTruncated: boolean;
}

export interface XmlBenchResult {
  readonly machine: { readonly cpu: string; readonly cores: number; readonly node: string; readonly loadAvgStart: number[]; readonly loadAvgEnd: number[] };
  readonly runs: number;
  readonly propertyPaths: number;
  readonly pages: {
    /** The page as vcsim writes it: `XMLSchema-instance` declared again on every `<val>`. */
    readonly vcsim: PageResult;
    /**
     * The same page as vCenter writes it: `xsi:type` with the prefix the envelope declares
     * (the per-value declarations removed). Our parser gives identical values on both.
     */
    readonly vcenterStyle: PageResult;
  };
  /** null when `--page` was given without `--perf`. */
  readonly queryPerf: PerfAnswerResult | null;
  /** Our ObjectContent values are the same for both pages. */
  readonly sameValuesOnBothPages: boolean;
  /** On the vcsim page. */
  readonly truncated: {
    /** Cut right after a `</objects>` halfway through: well-formed up to there. */
    readonly cleanCut: TruncationResult;
    /** Cut at half the length, inside whatever is there. */
    readonly midCut: TruncationResult;
  };
  /** True when fast-xml-parser (no validator) returned a tree for a truncated document. */
  readonly fxpAcceptsTruncated: boolean;
  /** True when our parser threw on every truncated document. */
  readonly oursRejectsTruncated: boolean;
  readonly verdict: string;
}

export interface TruncationResult {
  readonly atByte: number;
  /** null when it threw; else how many VM objects it returned. */
  readonly fxpObjects: number | null;
  readonly fxpValidatedRejects: boolean;
  readonly oursError: string | null;
}

// Allocation-heavy parses make heap figures meaningless without a full GC before reading them.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const round1 = (n: number): number => Math.round(n * 10) / 10;
const round2 = (n: number): number => Math.round(n * 100) / 100;

/** One RetrievePropertiesEx page of every VM, as the collector asks for it, and one QueryPerf answer of 50 of them, straight off the wire. */
async function capture(vms: number): Promise<{ page: string; perf: string }> {
  const sim = await startVcsim(shapeFor(vms), 300_000);
  try {
    const client = await VsphereClient.connect({ url: sim.url, username: 'bench', password: 'bench' });
    try {
      const { viewManager, propertyCollector, rootFolder } = client.serviceContent;
      const view = asMoRef(
        await client.call('CreateContainerView', viewManager, moRefXml('container', rootFolder) + textXml('type', 'VirtualMachine') + textXml('recursive', true)),
      );
      if (!view) throw new Error('CreateContainerView returned no view');
      // The same specSet as VsphereClient.retrieve, sent by hand to keep the response text.
      const specSet =
        `<specSet><propSet>${textXml('type', 'VirtualMachine')}${textXml('all', false)}${vmPaths.map((p) => textXml('pathSet', p)).join('')}</propSet>` +
        `<objectSet>${moRefXml('obj', view)}${textXml('skip', true)}<selectSet xsi:type="TraversalSpec">${textXml('name', 'view')}` +
        `${textXml('type', 'ContainerView')}${textXml('path', 'view')}${textXml('skip', false)}</selectSet></objectSet></specSet>`;
      const response = await request(sim.url, {
        method: 'POST',
        headers: {
          'content-type': 'text/xml; charset=utf-8',
          soapaction: `urn:vim25/${client.about.apiVersion}`,
          cookie: client.sessionCookie ?? '',
        },
        body: envelope('RetrievePropertiesEx', moRefXml('_this', propertyCollector) + specSet + `<options>${textXml('maxObjects', 100_000)}</options>`),
      });
      const text = await response.body.text();
      if (response.statusCode !== 200) throw new Error(`RetrievePropertiesEx answered HTTP ${String(response.statusCode)}`);
      await client.call('DestroyView', view);
      // A steady cycle's QueryPerf call: 50 VMs, the collector's VM counters, the newest 3 realtime samples.
      const metrics = resolveMetrics(await client.perfCounters()).vm;
      const metricIds = metrics.map((m) => `<metricId>${textXml('counterId', m.counterId)}${textXml('instance', m.instances ? '*' : '')}</metricId>`).join('');
      const entities = (scanRetrieveResponse(text, 'RetrievePropertiesEx')?.objects ?? []).slice(0, 50).map((o) => o.obj);
      const querySpecs = entities.map((entity) => `<querySpec>${moRefXml('entity', entity)}${textXml('maxSample', 3)}${metricIds}${textXml('intervalId', 20)}</querySpec>`).join('');
      const perfResponse = await request(sim.url, {
        method: 'POST',
        headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: `urn:vim25/${client.about.apiVersion}`, cookie: client.sessionCookie ?? '' },
        body: envelope('QueryPerf', moRefXml('_this', client.serviceContent.perfManager) + querySpecs),
      });
      const perf = await perfResponse.body.text();
      if (perfResponse.statusCode !== 200) throw new Error(`QueryPerf answered HTTP ${String(perfResponse.statusCode)}`);
      return { page: text, perf };
    } finally {
      await client.logout();
    }
  } finally {
    await sim.stop();
  }
}

/** The client's own parsing of a RetrievePropertiesEx response, down to its ObjectContent values. */
function objectContents(response: XmlElement): readonly ObjectContent[] {
  return parseRetrieveResult(response).objects;
}

/** The `<RetrievePropertiesExResponse>` element, located as SoapTransport does. */
function responseElement(root: XmlElement): XmlElement {
  const body = root.name === 'Envelope' && root.ns === SOAP_ENV_NS ? child(root, 'Body') : undefined;
  const first = body?.children[0];
  if (first?.name !== 'RetrievePropertiesExResponse') throw new Error('not a RetrievePropertiesEx response');
  return first;
}

const soapOptions = {
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  removeNSPrefix: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
} as const;
const fxpParser = new XMLParser(soapOptions);
const fxpOrderedParser = new XMLParser({ ...soapOptions, preserveOrder: true });

/** Counts `objects` under the response in fast-xml-parser's tree (prefixes kept, so found by local name). */
function fxpObjectCount(tree: unknown): number {
  const byLocal = (node: unknown, local: string): unknown => {
    const record = asRecord(node);
    if (!record) return undefined;
    const key = Object.keys(record).find((k) => k === local || k.endsWith(`:${local}`));
    return key === undefined ? undefined : record[key];
  };
  const returnval = byLocal(byLocal(byLocal(byLocal(tree, 'Envelope'), 'Body'), 'RetrievePropertiesExResponse'), 'returnval');
  const objects = byLocal(returnval, 'objects');
  return objects === undefined ? 0 : Array.isArray(objects) ? objects.length : 1;
}

/** Counts `<objects>` elements in an ordered (preserveOrder) tree. */
function fxpOrderedObjectCount(tree: unknown): number {
  let count = 0;
  const walk = (nodes: unknown): void => {
    if (!Array.isArray(nodes)) return;
    for (const node of nodes) {
      const record = asRecord(node);
      if (!record) continue;
      for (const [key, value] of Object.entries(record)) {
        if (key === 'objects') count++;
        else if (key !== ':@') walk(value);
      }
    }
  };
  walk(tree);
  return count;
}

interface Variant {
  readonly name: keyof PageResult['variants'];
  readonly run: (text: string) => unknown;
  readonly count: (result: unknown) => number;
}

const variants: readonly Variant[] = [
  { name: 'ours', run: (text) => objectContents(responseElement(parseXml(text, responseParsing))), count: (r) => (r as unknown[]).length },
  { name: 'oursParseOnly', run: (text) => parseXml(text), count: (r) => childrenNamed(childrenNamed(responseElement(r as XmlElement), 'returnval')[0] ?? (r as XmlElement), 'objects').length },
  { name: 'fxp', run: (text) => fxpParser.parse(text) as unknown, count: fxpObjectCount },
  { name: 'fxpValidated', run: (text) => fxpParser.parse(text, true) as unknown, count: fxpObjectCount },
  { name: 'fxpOrdered', run: (text) => fxpOrderedParser.parse(text) as unknown, count: fxpOrderedObjectCount },
  { name: 'plain', run: (text) => scanRetrieveResponse(text, 'RetrievePropertiesEx')?.objects ?? null, count: (r) => (r as unknown[] | null)?.length ?? -1 },
];

/** The client's generic reading of a QueryPerf answer (what it does when the plain reader returns null). */
function genericPerf(text: string): unknown[] {
  const root = parseXml(text, responseParsing);
  const response = root.name === 'Envelope' && root.ns === SOAP_ENV_NS ? child(root, 'Body')?.children[0] : undefined;
  if (response?.name !== 'QueryPerfResponse') throw new Error('not a QueryPerf response');
  return childrenNamed(response, 'returnval').flatMap((element) => parsePerfEntityMetric(elementValue(element)) ?? []);
}

interface TimedVariant {
  readonly name: string;
  readonly run: (text: string) => unknown;
  readonly count: (result: unknown) => number;
}

/** Each variant timed `runs` times after its first call and 2 warm-ups, interleaved: medians. */
function timeVariants(text: string, runs: number, list: readonly TimedVariant[], readsPerRun = 1): Record<string, VariantResult> {
  const bytes = Buffer.byteLength(text) * readsPerRun;
  const samples = new Map<string, { wall: number[]; cpu: number[]; objects: number; firstCpuMs: number }>();
  for (const variant of list) {
    gc();
    const cpu0 = process.cpuUsage();
    const result = variant.run(text);
    const cpu = process.cpuUsage(cpu0);
    samples.set(variant.name, { wall: [], cpu: [], objects: variant.count(result), firstCpuMs: (cpu.user + cpu.system) / 1000 });
  }
  for (let i = 0; i < runs + 2; i++) {
    for (const variant of list) {
      gc();
      const cpu0 = process.cpuUsage();
      const wall0 = performance.now();
      variant.run(text);
      const wallMs = performance.now() - wall0;
      const cpu = process.cpuUsage(cpu0);
      if (i < 2) continue;
      const entry = samples.get(variant.name);
      entry?.wall.push(wallMs);
      entry?.cpu.push((cpu.user + cpu.system) / 1000);
    }
  }
  const results: Record<string, VariantResult> = {};
  for (const variant of list) {
    const entry = samples.get(variant.name);
    if (!entry) continue;
    const cpuMs = median(entry.cpu);
    results[variant.name] = {
      wallMs: Math.round(median(entry.wall)),
      cpuMs: Math.round(cpuMs),
      minCpuMs: Math.round(Math.min(...entry.cpu)),
      maxCpuMs: Math.round(Math.max(...entry.cpu)),
      firstCpuMs: Math.round(entry.firstCpuMs),
      MBps: Math.round(bytes / 1e6 / (cpuMs / 1000)),
      retainedHeapMB: retainedHeapMB(() => variant.run(text)),
      objects: entry.objects,
    };
  }
  return results;
}

/** QueryPerf answers a steady cycle reads at 5,000 VMs and 240 hosts (50 entities each): each timed run reads the answer this many times. */
const perfAnswersPerCycle = 100;

function measurePerfAnswer(source: string, text: string, runs: number): PerfAnswerResult {
  const plain = scanQueryPerfResponse(text);
  if (!plain) throw new Error('the QueryPerf answer is not plain: the plain reader returned null');
  const cycle = (read: (t: string) => unknown[] | null) => (t: string): unknown[] | null => {
    let result: unknown[] | null = null;
    for (let i = 0; i < perfAnswersPerCycle; i++) result = read(t);
    return result;
  };
  const results = timeVariants(text, runs, [
    { name: 'plain', run: cycle(scanQueryPerfResponse), count: (r) => (r as unknown[] | null)?.length ?? -1 },
    { name: 'generic', run: cycle(genericPerf), count: (r) => (r as unknown[]).length },
  ], perfAnswersPerCycle);
  const pick = (name: string): VariantResult => {
    const result = results[name];
    if (!result) throw new Error(`no result for ${name}`);
    return result;
  };
  return {
    source,
    bytes: Buffer.byteLength(text),
    entities: plain.length,
    samplesPerEntity: round2(plain.reduce((sum, e) => sum + e.samples.length, 0) / Math.max(1, plain.length)),
    readsPerRun: perfAnswersPerCycle,
    variants: { plain: pick('plain'), generic: pick('generic') },
    sameValues: JSON.stringify(plain) === JSON.stringify(genericPerf(text)),
    plainRefusesTruncated: scanQueryPerfResponse(text.slice(0, Math.floor(text.length / 2))) === null,
  };
}

function retainedHeapMB(run: () => unknown): number {
  gc();
  const before = process.memoryUsage().heapUsed;
  const result = run();
  gc();
  const after = process.memoryUsage().heapUsed;
  // Keeps the result alive until after the second reading.
  if (result === undefined) throw new Error('no result');
  return round1((after - before) / 1024 / 1024);
}

function truncation(text: string, atByte: number): TruncationResult {
  const cut = text.slice(0, atByte);
  let fxpObjects: number | null;
  try {
    fxpObjects = fxpObjectCount(fxpParser.parse(cut));
  } catch {
    fxpObjects = null;
  }
  let fxpValidatedRejects = false;
  try {
    fxpParser.parse(cut, true);
  } catch {
    fxpValidatedRejects = true;
  }
  let oursError: string | null = null;
  try {
    objectContents(responseElement(parseXml(cut, responseParsing)));
  } catch (error) {
    oursError = (error as Error).message;
  }
  return { atByte, fxpObjects, fxpValidatedRejects, oursError };
}

function measurePage(source: string, text: string, runs: number): PageResult {
  const timed = timeVariants(text, runs, variants);
  const results = {} as Record<keyof PageResult['variants'], VariantResult>;
  for (const variant of variants) {
    const result = timed[variant.name];
    if (result) results[variant.name] = result;
  }
  const ours = results.ours.cpuMs;
  return {
    source,
    bytes: Buffer.byteLength(text),
    objects: results.ours.objects,
    variants: results,
    cpuRatio: {
      fxpVsOurs: round2(results.fxp.cpuMs / ours),
      fxpValidatedVsOurs: round2(results.fxpValidated.cpuMs / ours),
      fxpOrderedVsOurs: round2(results.fxpOrdered.cpuMs / ours),
      fxpVsOursParseOnly: round2(results.fxp.cpuMs / results.oursParseOnly.cpuMs),
      oursVsPlain: round2(ours / results.plain.cpuMs),
    },
  };
}

/** vcsim's page rewritten the way vCenter writes values: `xsi:type`, xsi declared once on the envelope. */
function vcenterStyle(text: string): string {
  if (!/<soapenv:Envelope [^>]*xmlns:xsi="http:\/\/www\.w3\.org\/2001\/XMLSchema-instance"/.test(text)) {
    throw new Error('the page does not declare xsi on its envelope: cannot rewrite it vCenter-style');
  }
  return text.replaceAll(' xmlns:XMLSchema-instance="http://www.w3.org/2001/XMLSchema-instance"', '').replaceAll(' XMLSchema-instance:type="', ' xsi:type="');
}

export async function benchXml(options: XmlBenchOptions = {}): Promise<XmlBenchResult> {
  const vms = options.vms ?? 5000;
  const runs = Math.max(1, options.runs ?? 10);
  const loadAvgStart = os.loadavg().map(round2);
  const captured = options.pageFile !== undefined ? null : await capture(vms);
  const text = options.pageFile !== undefined ? readFileSync(options.pageFile, 'utf8') : (captured?.page ?? '');
  const perfText = options.perfFile !== undefined ? readFileSync(options.perfFile, 'utf8') : (captured?.perf ?? null);
  if (options.saveFile !== undefined) writeFileSync(options.saveFile, text);
  if (options.savePerfFile !== undefined && perfText !== null) writeFileSync(options.savePerfFile, perfText);
  const vcenterText = vcenterStyle(text);
  const sameValuesOnBothPages =
    JSON.stringify(objectContents(responseElement(parseXml(text, responseParsing)))) ===
    JSON.stringify(objectContents(responseElement(parseXml(vcenterText, responseParsing))));

  const pages = {
    vcsim: measurePage(options.pageFile ?? `vcsim capture (${String(vms)} VMs asked)`, text, runs),
    vcenterStyle: measurePage('the same, vCenter-style xsi:type', vcenterText, runs),
  };
  const queryPerf = perfText === null ? null : measurePerfAnswer(options.perfFile ?? `vcsim capture (50 VMs, 3 samples asked)`, perfText, runs);

  const closes = [...text.matchAll(/<\/objects>/g)];
  const middle = closes[Math.floor(closes.length / 2)];
  const cleanCutAt = middle ? (middle.index ?? 0) + '</objects>'.length : Math.floor(text.length / 2);
  const truncated = { cleanCut: truncation(text, cleanCutAt), midCut: truncation(text, Math.floor(text.length / 2)) };
  const fxpAcceptsTruncated = truncated.cleanCut.fxpObjects !== null || truncated.midCut.fxpObjects !== null;
  const oursRejectsTruncated = truncated.cleanCut.oursError !== null && truncated.midCut.oursError !== null;

  const ratios = [pages.vcsim.cpuRatio.fxpVsOurs, pages.vcenterStyle.cpuRatio.fxpVsOurs];
  const low = Math.min(...ratios);
  const range = `${String(low)}x to ${String(Math.max(...ratios))}x`;
  const speed =
    low >= 1.5
      ? `fast-xml-parser's raw tree alone took ${range} the CPU of our parser producing ObjectContent values`
      : low > 0.67
        ? `fast-xml-parser is comparable in CPU (${range} ours): speed alone does not justify our parser`
        : `fast-xml-parser is faster (${range} ours): speed does not justify our parser`;
  const safety = fxpAcceptsTruncated
    ? `without its validator fast-xml-parser returned ${String(truncated.cleanCut.fxpObjects ?? 0)} of ${String(pages.vcsim.objects)} objects from a page cut after an element, ` +
      `and with it costs ${String(pages.vcsim.cpuRatio.fxpValidatedVsOurs)}x / ${String(pages.vcenterStyle.cpuRatio.fxpValidatedVsOurs)}x our CPU; ` +
      `ours ${oursRejectsTruncated ? 'refused every truncated page' : 'did NOT refuse every truncated page'}`
    : 'fast-xml-parser refused the truncated pages too';

  return {
    machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, node: process.version, loadAvgStart, loadAvgEnd: os.loadavg().map(round2) },
    runs,
    propertyPaths: vmPaths.length,
    pages,
    queryPerf,
    sameValuesOnBothPages,
    truncated,
    fxpAcceptsTruncated,
    oursRejectsTruncated,
    verdict: `${speed}; ${safety}.`,
  };
}

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const vms = argValue('--vms');
  const runs = argValue('--runs');
  const pageFile = argValue('--page');
  const saveFile = argValue('--save');
  const perfFile = argValue('--perf');
  const savePerfFile = argValue('--save-perf');
  const result = await benchXml({
    ...(vms === undefined ? {} : { vms: Number(vms) }),
    ...(runs === undefined ? {} : { runs: Number(runs) }),
    ...(pageFile === undefined ? {} : { pageFile }),
    ...(saveFile === undefined ? {} : { saveFile }),
    ...(perfFile === undefined ? {} : { perfFile }),
    ...(savePerfFile === undefined ? {} : { savePerfFile }),
  });
  console.log(JSON.stringify(result));
}
