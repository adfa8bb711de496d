/**
 * The compact form of a botocore service model that opentrail validates requests against.
 * `scripts/generate-model.ts` writes it from botocore's `service-2.json.gz`; a test checks it for drift.
 */
export interface ShapeRef {
  shape: string;
  location?: string;
  locationName?: string;
}

export interface Shape {
  type:
    | 'structure'
    | 'list'
    | 'map'
    | 'string'
    | 'boolean'
    | 'integer'
    | 'long'
    | 'float'
    | 'double'
    | 'timestamp'
    | 'blob';
  required?: string[];
  members?: Record<string, ShapeRef>;
  member?: ShapeRef;
  key?: ShapeRef;
  value?: ShapeRef;
  min?: number;
  max?: number;
  pattern?: string;
  enum?: string[];
  exception?: boolean;
}

export interface Operation {
  http: { method: string; requestUri: string };
  input?: string;
  output?: string;
  errors: string[];
}

export interface ServiceModel {
  metadata: { apiVersion: string; protocol: string; signingName: string; targetPrefix?: string; uid: string };
  operations: Record<string, Operation>;
  shapes: Record<string, Shape>;
}
