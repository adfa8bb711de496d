import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Operation, ServiceModel, Shape, ShapeRef } from '../src/api/model/service-model.ts';

/** The services whose botocore models opentrail speaks, with where their compact form is kept. */
export const MODEL_SOURCES = [
  { service: 'cloudtrail', version: '2013-11-01', out: 'src/api/model/cloudtrail.generated.json' },
  { service: 'cloudtrail-data', version: '2021-08-11', out: 'src/api/model/cloudtrail-data.generated.json' },
] as const;

export function botocoreDataDir(): string {
  const dir = execFileSync('python3', ['-c', 'import botocore,os;print(os.path.dirname(botocore.__file__))'], {
    encoding: 'utf8',
  }).trim();
  return join(dir, 'data');
}

export function readBotocoreModel(service: string, version: string): BotocoreModel {
  const raw = gunzipSync(readFileSync(join(botocoreDataDir(), service, version, 'service-2.json.gz')));
  return JSON.parse(raw.toString('utf8')) as BotocoreModel;
}

export function generatedModelText(service: string, version: string): string {
  const model: ServiceModel = compactModel(readBotocoreModel(service, version));
  return `${JSON.stringify(model, null, 1)}\n`;
}

/** Reduces a botocore service model to what validation and routing need (no documentation). */
export function compactModel(botocore: BotocoreModel): ServiceModel {
  const operations: Record<string, Operation> = {};
  for (const [name, op] of Object.entries(botocore.operations)) {
    operations[name] = {
      http: { method: op.http.method, requestUri: op.http.requestUri },
      ...(op.input ? { input: op.input.shape } : {}),
      ...(op.output ? { output: op.output.shape } : {}),
      errors: (op.errors ?? []).map((e) => e.shape),
    };
  }
  const shapes: Record<string, Shape> = {};
  const keep = ['type', 'required', 'min', 'max', 'pattern', 'enum', 'exception'] as const;
  for (const [name, raw] of Object.entries(botocore.shapes)) {
    const shape: Record<string, unknown> = {};
    for (const k of keep) if (raw[k] !== undefined) shape[k] = raw[k];
    const ref = (r: BotocoreRef): ShapeRef => ({
      shape: r.shape,
      ...(r.location ? { location: r.location } : {}),
      ...(r.locationName ? { locationName: r.locationName } : {}),
    });
    if (raw.members) shape['members'] = Object.fromEntries(Object.entries(raw.members).map(([m, r]) => [m, ref(r)]));
    if (raw.member) shape['member'] = ref(raw.member);
    if (raw.key) shape['key'] = ref(raw.key);
    if (raw.value) shape['value'] = ref(raw.value);
    shapes[name] = shape as unknown as Shape;
  }
  const md = botocore.metadata;
  return {
    metadata: {
      apiVersion: md.apiVersion,
      protocol: md.protocol,
      signingName: md.signingName ?? md.endpointPrefix,
      ...(md.targetPrefix ? { targetPrefix: md.targetPrefix } : {}),
      uid: md.uid,
    },
    operations,
    shapes,
  };
}

interface BotocoreRef {
  shape: string;
  location?: string;
  locationName?: string;
}

interface BotocoreModel {
  metadata: {
    apiVersion: string;
    protocol: string;
    endpointPrefix: string;
    signingName?: string;
    targetPrefix?: string;
    uid: string;
  };
  operations: Record<
    string,
    { http: { method: string; requestUri: string }; input?: BotocoreRef; output?: BotocoreRef; errors?: BotocoreRef[] }
  >;
  shapes: Record<
    string,
    {
      type: string;
      required?: string[];
      members?: Record<string, BotocoreRef>;
      member?: BotocoreRef;
      key?: BotocoreRef;
      value?: BotocoreRef;
      min?: number;
      max?: number;
      pattern?: string;
      enum?: string[];
      exception?: boolean;
    }
  >;
}
