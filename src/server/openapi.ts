/**
 * GET /api/openapi.json: the OpenAPI 3.1 description of every route, written by hand beside
 * the types of src/shared/api.ts (a test checks every declared route appears here).
 */

type Schema = Readonly<Record<string, unknown>>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const arrayOf = (items: Schema): Schema => ({ type: 'array', items });

const scalar = (spec: string): Schema => (spec.endsWith('?') ? { type: [spec.slice(0, -1), 'null'] } : { type: spec });

/**
 * Compact object schema: `'number?'` is a nullable number, `'string[]'` an array of strings,
 * `'number?[]'` an array of nullable numbers,
 * other values are used as schemas. Every listed property is required (null carries "unknown").
 */
function obj(properties: Readonly<Record<string, string | Schema>>): Schema {
  const props: Record<string, Schema> = {};
  for (const [key, spec] of Object.entries(properties)) {
    if (typeof spec !== 'string') {
      props[key] = spec;
      continue;
    }
    const nullable = spec.endsWith('?');
    const base = nullable ? spec.slice(0, -1) : spec;
    const schema: Schema = base.endsWith('[]') ? arrayOf(scalar(base.slice(0, -2))) : { type: base };
    props[key] = nullable ? { ...schema, type: [schema.type as string, 'null'] } : schema;
  }
  return { type: 'object', properties: props, required: Object.keys(properties) };
}

const figures = (keys: readonly string[]): Record<string, string> => Object.fromEntries(keys.map((key) => [key, 'number?']));

const schemas: Record<string, Schema> = {
  ApiError: obj({ error: obj({ code: 'string', message: 'string' }) }),
  LoginRequest: {
    type: 'object',
    properties: {
      username: { type: 'string', minLength: 1, maxLength: 256 },
      password: { type: 'string', minLength: 1, maxLength: 1024 },
      vcenter: { type: 'string', description: 'vCenter id; when absent each configured vCenter is tried in order.' },
    },
    required: ['username', 'password'],
  },
  SessionInfo: obj({ username: 'string', vcenterId: 'string', expiresAtSec: 'integer' }),
  VcenterSummary: obj({ id: 'string', name: 'string' }),
  DatacenterRow: obj({
    id: 'string',
    name: 'string',
    vcenterId: 'string',
    clusters: 'integer',
    hosts: 'integer',
    vms: 'integer',
    datastores: 'integer',
    collectedAt: 'integer?',
  }),
  NicRow: obj({
    id: 'string',
    device: 'string',
    linkSpeedMbps: 'number?',
    mac: 'string?',
    ...figures(['netRxKBps', 'netTxKBps', 'netRxPps', 'netTxPps']),
  }),
  HostRow: obj({
    id: 'string',
    name: 'string',
    clusterId: 'string?',
    clusterName: 'string?',
    connectionState: { enum: ['connected', 'disconnected', 'notResponding'] },
    powerState: 'string',
    inMaintenanceMode: 'boolean',
    overallStatus: { enum: ['green', 'yellow', 'red', 'gray'] },
    cpuModel: 'string?',
    cpuCores: 'integer',
    cpuThreads: 'integer',
    vcpusAllocated: 'integer',
    vms: 'integer',
    vmsPoweredOn: 'integer',
    cpuCapacityMhz: 'number',
    memoryCapacityMB: 'number',
    ...figures(['cpuUsedMhz', 'cpuUsagePct', 'memConsumedMB', 'memUsagePct', 'netRxKBps', 'netTxKBps']),
    esxVersion: 'string?',
    uptimeSec: 'integer?',
    nics: arrayOf(ref('NicRow')),
    removed: 'boolean',
    collectedAt: 'integer?',
  }),
  VmRow: obj({
    id: 'string',
    name: 'string',
    powerState: 'string',
    overallStatus: 'string',
    hostId: 'string?',
    hostName: 'string?',
    clusterId: 'string?',
    clusterName: 'string?',
    guestOs: 'string?',
    ipAddress: 'string?',
    toolsRunningStatus: 'string?',
    toolsVersionStatus: 'string?',
    toolsVersion: 'string?',
    numCpu: 'integer',
    memoryMB: 'number',
    diskProvisionedGB: 'number',
    diskUsedGB: 'number',
    datastores: arrayOf(obj({ id: 'string', name: 'string' })),
    faultToleranceState: 'string',
    snapshotCount: 'integer',
    ...figures([
      'cpuUsagePct',
      'cpuUsedMhz',
      'cpuReadyMs',
      'cpuReadyPctPerVcpu',
      'memUsagePct',
      'netRxKBps',
      'netTxKBps',
      'netRxPps',
      'netTxPps',
      'diskReadIops',
      'diskWriteIops',
      'diskReadKBps',
      'diskWriteKBps',
      'diskReadLatencyMs',
      'diskWriteLatencyMs',
      'diskMaxLatencyMs',
    ]),
    isTemplate: 'boolean',
    removed: 'boolean',
    collectedAt: 'integer?',
  }),
  DatastoreRow: obj({
    id: 'string',
    name: 'string',
    type: 'string',
    vms: 'integer',
    hosts: 'integer',
    capacityGB: 'number',
    usedGB: 'number',
    freeGB: 'number',
    provisionedGB: 'number',
    usedPct: 'number',
    provisionedPct: 'number',
    accessible: 'boolean',
    maintenanceMode: 'string?',
    overallStatus: 'string',
    ...figures(['readKBps', 'writeKBps', 'readLatencyMs', 'writeLatencyMs']),
    removed: 'boolean',
    collectedAt: 'integer?',
  }),
  EntityLink: obj({ id: 'string', kind: { enum: ['datacenter', 'cluster', 'host', 'nic', 'vm', 'datastore'] }, name: 'string' }),
  EntityDetail: obj({
    id: 'string',
    kind: 'string',
    name: 'string',
    datacenter: { oneOf: [ref('EntityLink'), { type: 'null' }] },
    row: { oneOf: [ref('HostRow'), ref('VmRow'), ref('DatastoreRow'), ref('NicRow'), { type: 'null' }] },
    related: { type: 'object', additionalProperties: arrayOf(ref('EntityLink')) },
    metrics: arrayOf(obj({ metric: 'string', unit: 'string', label: 'string' })),
  }),
  SeriesResponse: obj({
    entity: ref('EntityLink'),
    period: { enum: ['day', 'week', 'month', 'year', 'custom'] },
    stepSec: 'integer',
    from: { type: 'integer', description: 'Start of the first bucket, unix seconds.' },
    to: { type: 'integer', description: 'End of the last bucket, unix seconds.' },
    ts: { type: 'array', items: { type: 'integer' }, description: 'Bucket starts, ascending.' },
    series: arrayOf(
      obj({ metric: 'string', unit: 'string', label: 'string', avg: 'number?[]', min: 'number?[]', max: 'number?[]' }),
    ),
  }),
  StatusResponse: obj({
    version: 'string',
    intervalSec: 'integer',
    nowSec: 'integer',
    vcenters: arrayOf(
      obj({
        id: 'string',
        name: 'string',
        lastStart: 'integer?',
        lastEnd: 'integer?',
        lastDurationMs: 'number?',
        lastSuccess: 'integer?',
        lastError: 'string?',
        stale: 'boolean',
        counts: { type: 'object', additionalProperties: { type: 'integer' } },
        import: obj({ state: 'string', percentDone: 'number', problem: 'string?' }),
      }),
    ),
  }),
};
// Capacity, Contention, Compare (issue 13): src/shared/api.ts, capacity.ts, contention.ts, vm-rightsizing.ts.
const nullable = (name: string): Schema => ({ oneOf: [ref(name), { type: 'null' }] });
const progressSchema: Schema = {
  oneOf: [obj({ vmsRead: 'integer', vmsToRead: 'integer' }), { type: 'null' }],
  description: 'Set while the VMs\' buckets are being read; ask again for the rest.',
};
const consolidation = { cpuCores: 'integer', vcpus: 'integer', vms: 'integer', vcpuPerCore: 'number?', vmsPerCore: 'number?' } as const;
const nPlusOne = (unit: 'Mhz' | 'MB'): Schema =>
  obj({
    survives: 'boolean?',
    biggestHostId: 'string?',
    [`remainingCapacity${unit}`]: 'number',
    [`peakDemand${unit}`]: 'number?',
    peakBucketSec: 'integer?',
    [`margin${unit}`]: 'number?',
    marginPct: 'number?',
  });
Object.assign(schemas, {
  TimeWindow: obj({ fromSec: 'integer', toSec: 'integer' }),
  BucketWindow: obj({
    tier: { enum: ['5m', '30m', '2h', '1d'] },
    stepSec: 'integer',
    fromSec: { type: 'integer', description: 'Start of the first bucket, unix seconds.' },
    toSec: { type: 'integer', description: 'End of the window (exclusive), unix seconds.' },
  }),
  CpuReading: obj({ bucketSec: 'integer', usedMhz: 'number', headroomMhz: 'number', headroomPct: 'number?' }),
  MemoryReading: obj({ bucketSec: 'integer', usedMB: 'number', headroomMB: 'number', headroomPct: 'number?' }),
  DatastoreFillForecast: obj({
    status: { enum: ['filling', 'notFilling', 'full', 'insufficientData'] },
    window: ref('TimeWindow'),
    stepSec: 'integer',
    points: 'integer',
    firstBucketSec: 'integer?',
    lastBucketSec: 'integer?',
    capacityGB: 'number',
    latestUsedGB: 'number?',
    fittedUsedGB: 'number?',
    growthGBPerDay: 'number?',
    growthLowGBPerDay: 'number?',
    growthHighGBPerDay: 'number?',
    growthPctOfCapacityPerDay: 'number?',
    levelShifts: arrayOf(obj({ bucketSec: 'integer', changeGB: 'number' })),
    daysUntilFull: 'number?',
    daysUntilFullEarliest: 'number?',
    daysUntilFullLatest: 'number?',
    fullAtSec: 'integer?',
    fullEarliestAtSec: 'integer?',
    fullLatestAtSec: 'integer?',
  }),
  DatastoreProvisioning: obj({
    collectedAtSec: 'integer',
    capacityGB: 'number',
    provisionedGB: 'number',
    provisionedPctOfCapacity: 'number?',
    overcommitRatio: 'number?',
    overcommittedGB: 'number',
  }),
  DatastoreCapacityRow: obj({
    id: 'string',
    name: 'string',
    type: 'string',
    capacityGB: 'number',
    usedGB: 'number',
    usedPct: 'number',
    forecast: ref('DatastoreFillForecast'),
    provisioning: ref('DatastoreProvisioning'),
  }),
  HostCapacityRow: obj({
    hostId: 'string',
    name: 'string',
    clusterId: 'string?',
    clusterName: 'string?',
    connectionState: { enum: ['connected', 'disconnected', 'notResponding'] },
    inMaintenanceMode: 'boolean',
    window: ref('TimeWindow'),
    stepSec: 'integer',
    cpuCapacityMhz: 'number',
    memoryCapacityMB: 'number',
    ...consolidation,
    cpuNow: nullable('CpuReading'),
    cpuPeak: nullable('CpuReading'),
    memoryNow: nullable('MemoryReading'),
    memoryPeak: nullable('MemoryReading'),
  }),
  ClusterCapacityRow: obj({
    clusterId: 'string',
    name: 'string',
    window: ref('TimeWindow'),
    stepSec: 'integer',
    hostIds: 'string[]',
    hostsWithoutData: 'string[]',
    hostsLeftOut: 'string[]',
    bucketsWithGaps: 'integer',
    cpuCapacityMhz: 'number',
    memoryCapacityMB: 'number',
    ...consolidation,
    cpuNow: nullable('CpuReading'),
    cpuPeak: nullable('CpuReading'),
    cpuSumOfHostPeaksMhz: 'number?',
    memoryNow: nullable('MemoryReading'),
    memoryPeak: nullable('MemoryReading'),
    memorySumOfHostPeaksMB: 'number?',
    nPlusOne: obj({ cpu: nPlusOne('Mhz'), memory: nPlusOne('MB') }),
  }),
  VmHint: {
    oneOf: [
      obj({
        kind: { const: 'idle' },
        coveragePct: 'number',
        busiestCpuUsagePct: 'number',
        busiestCpuBucketSec: 'integer',
        busiestDiskKBps: 'number',
        busiestDiskBucketSec: 'integer',
        busiestNetKBps: 'number',
        busiestNetBucketSec: 'integer',
      }),
      obj({
        kind: { const: 'tooManyVcpus' },
        severity: { enum: ['warning', 'critical'] },
        numCpu: 'integer',
        suggestedVcpus: 'integer',
        coveragePct: 'number',
        meanReadyPctPerVcpu: 'number',
        peakReadyPctPerVcpu: 'number',
        peakReadyBucketSec: 'integer',
        busiestCpuUsagePct: 'number',
        busiestCpuBucketSec: 'integer',
      }),
      obj({
        kind: { const: 'memoryNeverUsed' },
        memoryMB: 'number',
        suggestedMemoryMB: 'number',
        coveragePct: 'number',
        peakMemUsagePct: 'number',
        peakBucketSec: 'integer',
        peakActiveMB: 'number',
      }),
    ],
  },
  VmHintRow: obj({
    id: 'string',
    name: 'string',
    hostId: 'string?',
    hostName: 'string?',
    clusterId: 'string?',
    clusterName: 'string?',
    powerState: 'string',
    numCpu: 'integer',
    memoryMB: 'number',
    coveragePct: 'number',
    hints: arrayOf(ref('VmHint')),
  }),
  CapacityResponse: obj({
    datacenter: ref('EntityLink'),
    period: { enum: ['day', 'week', 'month'] },
    nowSec: 'integer',
    datastores: obj({ window: ref('BucketWindow'), rows: arrayOf(ref('DatastoreCapacityRow')) }),
    clusters: obj({ window: ref('BucketWindow'), rows: arrayOf(ref('ClusterCapacityRow')) }),
    hosts: obj({ window: ref('BucketWindow'), rows: arrayOf(ref('HostCapacityRow')) }),
    vms: obj({
      window: ref('BucketWindow'),
      analysed: 'integer',
      withoutEnoughData: 'integer',
      progress: progressSchema,
      rows: arrayOf(ref('VmHintRow')),
      rules: { type: 'object', additionalProperties: { type: 'number' }, description: 'The levels the hints use.' },
    }),
  }),
  ContentionRowView: obj({
    rank: 'integer',
    vmId: 'string',
    name: 'string',
    hostId: 'string?',
    hostName: 'string?',
    datastoreIds: 'string[]',
    datastores: arrayOf(obj({ id: 'string', name: 'string' })),
    peak: 'number',
    peakBucketSec: 'integer',
    timeAboveSec: 'number',
    timeAboveByMaxSec: 'number',
    coveredSec: 'number',
  }),
  SharedPlaceView: obj({ id: 'string', name: 'string', topVms: 'integer', vmIds: 'string[]' }),
  ContentionResponse: obj({
    datacenter: ref('EntityLink'),
    period: { enum: ['day', 'week', 'month'] },
    nowSec: 'integer',
    metric: { enum: ['cpuReady', 'diskLatency', 'balloon', 'swap', 'netDrops'] },
    label: 'string',
    unit: 'string',
    threshold: 'number',
    thresholdNote: 'string',
    rankBy: { enum: ['peak', 'timeAbove'] },
    window: ref('BucketWindow'),
    vmsRanked: 'integer',
    vmsQuiet: 'integer',
    vmsWithoutData: 'integer',
    reason: 'string?',
    progress: progressSchema,
    rows: arrayOf(ref('ContentionRowView')),
    shared: obj({ topVmIds: 'string[]', hosts: arrayOf(ref('SharedPlaceView')), datastores: arrayOf(ref('SharedPlaceView')) }),
  }),
  CompareResponse: obj({
    kind: { enum: ['host', 'vm', 'datastore', 'nic'] },
    metric: 'string',
    unit: 'string',
    label: 'string',
    period: { enum: ['day', 'week', 'month', 'year', 'custom'] },
    stepSec: 'integer',
    from: 'integer',
    to: 'integer',
    ts: { type: 'array', items: { type: 'integer' }, description: 'Bucket starts, ascending, shared by every series.' },
    series: arrayOf(obj({ entity: ref('EntityLink'), numCpu: 'integer?', avg: 'number?[]', min: 'number?[]', max: 'number?[]' })),
  }),
});

const json = (schema: Schema, description = 'OK'): Schema => ({ description, content: { 'application/json': { schema } } });
const errors = (...codes: number[]): Record<string, Schema> =>
  Object.fromEntries(codes.map((code) => [String(code), json(ref('ApiError'), errorText[code] ?? 'Error')]));
const errorText: Record<number, string> = {
  400: 'Invalid input; the message says what is allowed.',
  401: 'No session (or invalid credentials at login).',
  403: 'Cross-origin request refused.',
  404: 'Unknown id, or not visible to this session.',
  429: 'Too many failed logins; see Retry-After.',
  503: 'vCenter unreachable.',
};
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const removedParam = {
  name: 'removed',
  in: 'query',
  required: false,
  schema: { enum: ['true', 'false'] },
  description: 'Include removed entities.',
};
const secured = [{ session: [] }];

const paths: Record<string, Record<string, Schema>> = {
  '/api/session': {
    post: {
      summary: 'Log in with vSphere credentials (checked by vCenter SessionManager.Login); sets the vscope_session cookie.',
      security: [],
      requestBody: { required: true, content: { 'application/json': { schema: ref('LoginRequest') } } },
      responses: { '200': json(ref('SessionInfo')), ...errors(400, 401, 403, 429, 503) },
    },
    get: { summary: 'Who is logged in.', security: secured, responses: { '200': json(ref('SessionInfo')), ...errors(401) } },
    delete: {
      summary: 'Log out (the vSphere session too).',
      security: secured,
      responses: { '204': { description: 'Logged out.' }, ...errors(401, 403) },
    },
  },
  '/api/vcenters': {
    get: { summary: 'Configured vCenters, for the login form.', security: [], responses: { '200': json(arrayOf(ref('VcenterSummary'))) } },
  },
  '/api/datacenters': {
    get: {
      summary: "Datacenters of the session's vCenter.",
      security: secured,
      responses: { '200': json(arrayOf(ref('DatacenterRow'))), ...errors(401) },
    },
  },
  '/api/datacenters/{id}/hosts': {
    get: {
      summary: 'Hosts of a datacenter with their latest figures and NICs.',
      security: secured,
      parameters: [idParam, removedParam],
      responses: { '200': json(arrayOf(ref('HostRow'))), ...errors(400, 401, 404) },
    },
  },
  '/api/datacenters/{id}/vms': {
    get: {
      summary: 'Virtual machines of a datacenter with their latest figures.',
      security: secured,
      parameters: [idParam, removedParam],
      responses: { '200': json(arrayOf(ref('VmRow'))), ...errors(400, 401, 404) },
    },
  },
  '/api/datacenters/{id}/datastores': {
    get: {
      summary: 'Datastores of a datacenter (the Filer).',
      security: secured,
      parameters: [idParam, removedParam],
      responses: { '200': json(arrayOf(ref('DatastoreRow'))), ...errors(400, 401, 404) },
    },
  },
  '/api/entities/{id}': {
    get: {
      summary: 'One entity of any kind with its relations.',
      security: secured,
      parameters: [idParam],
      responses: { '200': json(ref('EntityDetail')), ...errors(401, 404) },
    },
  },
  '/api/entities/{id}/series': {
    get: {
      summary: 'History of an entity: average, minimum and maximum per bucket; null for gaps.',
      security: secured,
      parameters: [
        idParam,
        { name: 'period', in: 'query', required: false, schema: { enum: ['day', 'week', 'month', 'year'] }, description: 'Default day.' },
        { name: 'from', in: 'query', required: false, schema: { type: 'string', pattern: '^[0-9]+$' }, description: 'Unix seconds; with to.' },
        { name: 'to', in: 'query', required: false, schema: { type: 'string', pattern: '^[0-9]+$' }, description: 'Unix seconds; with from; at most two years after it.' },
        { name: 'metrics', in: 'query', required: false, schema: { type: 'string' }, description: "Comma-separated metric keys (the entity's metrics by default)." },
      ],
      responses: { '200': json(ref('SeriesResponse')), ...errors(400, 401, 404) },
    },
  },
  '/api/datacenters/{id}/capacity': {
    get: {
      summary:
        'Capacity of a datacenter: datastores filling (30-day robust trend), cluster and host headroom now and at the period\'s peak with N+1, VM right-sizing hints. Only what the session may read.',
      security: secured,
      parameters: [idParam, { name: 'period', in: 'query', required: false, schema: { enum: ['day', 'week', 'month'] }, description: 'Default month.' }],
      responses: { '200': json(ref('CapacityResponse')), ...errors(400, 401, 404) },
    },
  },
  '/api/datacenters/{id}/contention': {
    get: {
      summary: 'The VMs that suffered most on one metric over a period, ranked, with the hosts and datastores the worst share. Only what the session may read.',
      security: secured,
      parameters: [
        idParam,
        { name: 'period', in: 'query', required: false, schema: { enum: ['day', 'week', 'month'] }, description: 'Default week.' },
        { name: 'metric', in: 'query', required: false, schema: { enum: ['cpuReady', 'diskLatency', 'balloon', 'swap', 'netDrops'] }, description: 'Default cpuReady.' },
        { name: 'rankBy', in: 'query', required: false, schema: { enum: ['peak', 'timeAbove'] }, description: 'Default peak (the stored maximum); timeAbove: time whose bucket average is above the threshold.' },
        { name: 'limit', in: 'query', required: false, schema: { type: 'string', pattern: '^[0-9]+$' }, description: 'Rows, 1 to 200; default 25.' },
      ],
      responses: { '200': json(ref('ContentionResponse')), ...errors(400, 401, 404) },
    },
  },
  '/api/compare': {
    get: {
      summary: 'One metric of several entities of one kind over the same buckets (average, minimum, maximum); null for gaps. Every id must be visible to the session (else 404, like an unknown id).',
      security: secured,
      parameters: [
        { name: 'ids', in: 'query', required: true, schema: { type: 'string' }, description: 'Comma-separated entity ids of one kind, 1 to 20.' },
        { name: 'metric', in: 'query', required: true, schema: { type: 'string' }, description: 'One metric key of that kind.' },
        { name: 'period', in: 'query', required: false, schema: { enum: ['day', 'week', 'month', 'year'] }, description: 'Default day.' },
        { name: 'from', in: 'query', required: false, schema: { type: 'string', pattern: '^[0-9]+$' }, description: 'Unix seconds; with to.' },
        { name: 'to', in: 'query', required: false, schema: { type: 'string', pattern: '^[0-9]+$' }, description: 'Unix seconds; with from.' },
      ],
      responses: { '200': json(ref('CompareResponse')), ...errors(400, 401, 404) },
    },
  },
  '/api/status': {
    get: { summary: 'Collection status.', security: secured, responses: { '200': json(ref('StatusResponse')), ...errors(401) } },
  },
  '/api/openapi.json': {
    get: { summary: 'This document.', security: secured, responses: { '200': json({ type: 'object' }), ...errors(401) } },
  },
  '/healthz': {
    get: {
      summary: 'Liveness: the store answers.',
      security: [],
      responses: { '200': json(obj({ ok: 'boolean' })), '503': json(obj({ ok: 'boolean' }), 'The store does not answer.') },
    },
  },
  '/metrics': {
    get: {
      summary: 'Prometheus text exposition of the latest figures (when enabled in the config).',
      security: [],
      responses: { '200': { description: 'OK', content: { 'text/plain': { schema: { type: 'string' } } } } },
    },
  },
};

/** The document; `version` is vscope's. */
export function openApiDocument(version: string): Schema {
  return {
    openapi: '3.1.0',
    info: {
      title: 'vscope API',
      version,
      description: 'Inventory, latest figures and history of vSphere infrastructure. Units are in field names; times are unix seconds.',
    },
    components: {
      schemas,
      securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: 'vscope_session' } },
    },
    security: secured,
    paths,
  };
}
